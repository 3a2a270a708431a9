"""The list of /command or @file completions shown above the prompt."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class CompletionMenu(OptionList):
    """Never focused: the prompt keeps the keyboard and drives the highlight."""

    can_focus = False

    def __init__(self) -> None:
        super().__init__(id="completions")
        self.values: list[str] = []
        self.display = False

    def show(self, items: list[tuple[str, str]]) -> None:
        """`items` are (value to insert, hint)."""
        self.clear_options()
        self.values = [value for value, _ in items]
        options = []
        for value, hint in items:
            label = Text(value, style="bold")
            if hint:
                label.append(f"  {hint}", style="dim")
            options.append(Option(label))
        self.add_options(options)
        self.display = bool(items)
        if items:
            self.highlighted = 0

    def hide(self) -> None:
        self.display = False
        self.values = []

    def move(self, step: int) -> None:
        if self.values:
            current = self.highlighted or 0
            self.highlighted = (current + step) % len(self.values)

    def chosen(self) -> str | None:
        if not self.display or self.highlighted is None or not self.values:
            return None
        return self.values[self.highlighted]
