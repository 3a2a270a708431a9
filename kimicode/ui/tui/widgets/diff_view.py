"""A unified diff with added lines green and removed lines red."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

MAX_LINES = 400


def colour_diff(diff: str) -> Text:
    out = Text()
    lines = diff.splitlines()
    for line in lines[:MAX_LINES]:
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = "dim"
        out.append(line + "\n", style=style)
    if len(lines) > MAX_LINES:
        out.append(f"… {len(lines) - MAX_LINES} more lines\n", style="dim")
    out.rstrip()
    return out


class DiffView(Static):
    def __init__(self, diff: str) -> None:
        super().__init__(colour_diff(diff), classes="diff")
