"""The bottom line: permission mode, model, thinking, context left, tokens and approximate
cost, directory and branch. The mode is always shown: yolo must not look like default."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from kimicode.ui.tui.pricing import format_cost, format_tokens

MODE_STYLES = {
    "default": "reverse",
    "accept-edits": "bold black on green",
    "plan": "bold black on cyan",
    "yolo": "bold white on red",
}


class StatusBar(Static):
    model: reactive[str] = reactive("")
    thinking: reactive[bool] = reactive(True)
    tokens: reactive[int] = reactive(0)
    cost: reactive[float | None] = reactive(None)
    """Each turn priced at its own model's rate (the app's `UsageLedger`)."""
    directory: reactive[str] = reactive("")
    branch: reactive[str] = reactive("")
    busy: reactive[str] = reactive("")
    mode: reactive[str] = reactive("default")
    context_used: reactive[int] = reactive(0)
    context_window: reactive[int] = reactive(0)

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        if self.busy:
            out.append(f" {self.busy} ", style="bold reverse")
            out.append(" ")
        out.append(f" {self.mode} ", style=MODE_STYLES.get(self.mode, "reverse"))
        out.append("  ")
        out.append(self.model, style="bold")
        out.append("  thinking " + ("on" if self.thinking else "off"))
        if self.context_window:
            left = max(0, self.context_window - self.context_used) * 100 // self.context_window
            out.append(f"  {left}% context left", style="red" if left < 15 else "")
        out.append(f"  {format_tokens(self.tokens)} tokens  {format_cost(self.cost)}")
        out.append(f"  {self.directory}", style="dim")
        if self.branch:
            out.append(f"  ⎇ {self.branch}", style="dim")
        return out
