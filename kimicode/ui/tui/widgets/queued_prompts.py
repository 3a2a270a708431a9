"""Prompts typed while a turn runs: shown above the prompt, sent in order when it ends.

Up on an empty prompt takes the last one back for editing; a cancelled turn returns
them all to the prompt so nothing typed is lost.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class QueuedPrompts(Static):
    def __init__(self) -> None:
        super().__init__("", id="queued")
        self.items: list[str] = []
        self.display = False

    def add(self, text: str) -> None:
        self.items.append(text)
        self._show()

    def pop_first(self) -> str | None:
        text = self.items.pop(0) if self.items else None
        self._show()
        return text

    def take_last(self) -> str | None:
        text = self.items.pop() if self.items else None
        self._show()
        return text

    def take_all(self) -> list[str]:
        items, self.items = self.items, []
        self._show()
        return items

    def _show(self) -> None:
        self.display = bool(self.items)
        out = Text()
        for i, text in enumerate(self.items):
            first = text.strip().splitlines()[0] if text.strip() else ""
            out.append("queued  " if i == 0 else "\n        ", style="bold yellow")
            out.append(first[:200] + (" …" if len(text.strip().splitlines()) > 1 else ""))
        if self.items:
            out.append("\n        (sent when the turn ends; ↑ on an empty prompt edits it)", "dim")
        self.update(out)
