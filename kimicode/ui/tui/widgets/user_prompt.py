"""The user's message in the transcript, with a chip per attached image or video.

A long message (a big paste) shows its first lines and how many more there are; a
click shows all of it (and another hides it again). The model always gets it whole.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import events
from textual.widgets import Static

LONG_LINES = 12
"""Messages longer than this are collapsed to their first `HEAD_LINES` lines."""
HEAD_LINES = 8


class UserPrompt(Static):
    def __init__(self, text: str, attachments: list[str] | None = None) -> None:
        self.text = text
        self.attachments = list(attachments or [])
        self.lines = text.splitlines() or [""]
        self.expanded = len(self.lines) <= LONG_LINES
        super().__init__(self._body())

    def _body(self) -> Text:
        shown = self.lines if self.expanded else self.lines[:HEAD_LINES]
        body = Text("› ", style="bold")
        body.append("\n  ".join(shown))  # lines 2+ line up under the first
        if len(self.lines) > LONG_LINES:
            more = len(self.lines) - HEAD_LINES
            hint = "click to hide them" if self.expanded else "click to show them"
            label = "" if self.expanded else f"… {more} more lines "
            body.append(f"\n  {label}({hint})", style="dim")
        for path in self.attachments:
            body.append("  ")
            body.append(f" 📎 {Path(path).name} ", style="reverse")
        return body

    def on_click(self, _: events.Click) -> None:
        if len(self.lines) > LONG_LINES:
            self.expanded = not self.expanded
            self.update(self._body())
