"""The bottom line: model, thinking, tokens and approximate cost, directory and branch."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from kimicode.ui.tui.pricing import estimate_cost, format_cost, format_tokens


class StatusBar(Static):
    model: reactive[str] = reactive("")
    thinking: reactive[bool] = reactive(True)
    prompt_tokens: reactive[int] = reactive(0)
    completion_tokens: reactive[int] = reactive(0)
    directory: reactive[str] = reactive("")
    branch: reactive[str] = reactive("")
    busy: reactive[str] = reactive("")

    def render(self) -> Text:
        tokens = self.prompt_tokens + self.completion_tokens
        cost = estimate_cost(self.model, self.prompt_tokens, self.completion_tokens)
        out = Text(no_wrap=True, overflow="ellipsis")
        if self.busy:
            out.append(f" {self.busy} ", style="bold reverse")
            out.append(" ")
        out.append(self.model, style="bold")
        out.append("  thinking " + ("on" if self.thinking else "off"))
        out.append(f"  {format_tokens(tokens)} tokens  {format_cost(cost)}")
        out.append(f"  {self.directory}", style="dim")
        if self.branch:
            out.append(f"  ⎇ {self.branch}", style="dim")
        return out
