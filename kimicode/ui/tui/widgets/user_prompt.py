"""The user's message in the transcript, with a chip per attached image or video."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static


class UserPrompt(Static):
    def __init__(self, text: str, attachments: list[str] | None = None) -> None:
        body = Text("› ", style="bold")
        body.append(text.replace("\n", "\n  "))  # lines 2+ line up under the first
        for path in attachments or []:
            body.append("  ")
            body.append(f" 📎 {Path(path).name} ", style="reverse")
        super().__init__(body)
