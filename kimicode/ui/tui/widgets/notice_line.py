"""One line for notices, retries and errors: coloured by level, never a crash screen."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

ICONS = {"error": "✗", "warning": "!", "info": "·"}


class NoticeLine(Static):
    def __init__(self, level: str, message: str) -> None:
        level = level if level in ICONS else "info"
        super().__init__(Text(f"{ICONS[level]} {message}"), classes=f"notice -{level}")
        self.level = level
        self.message = message
