"""A tool call in the transcript: one line when collapsed; arguments, result, diff inside.

The title carries the model's arguments, so it is always plain `Content`, never markup.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.content import Content
from textual.widgets import Collapsible, Static

from kimicode.ui.tui.widgets.diff_view import DiffView

PREVIEW_CHARS = 2_000


def headline(name: str, arguments: dict[str, Any]) -> str:
    first = arguments.get("command") or arguments.get("path") or next(iter(arguments.values()), "")
    text = first if isinstance(first, str) else json.dumps(first, ensure_ascii=False)
    text = " ".join(text.split())
    return f"{name} {text[:80] + '…' if len(text) > 80 else text}".strip()


class ToolCallBlock(Collapsible):
    def __init__(self, call_id: str, name: str, arguments: dict[str, Any]) -> None:
        self.call_id = call_id
        self.tool_name = name
        self.headline = headline(name, arguments)
        args = json.dumps(arguments, indent=2, ensure_ascii=False)
        self._args = Static(Text(args[:PREVIEW_CHARS]), classes="tool-args")
        self._result = Static("", classes="tool-result")
        super().__init__(
            self._args,
            self._result,
            title=Content(f"● {self.headline}  …"),  # type: ignore[arg-type]
            collapsed=True,
            classes="tool-call -running",
        )

    def finish(self, ok: bool, output: str, duration_s: float, diff: str) -> None:
        mark = "✓" if ok else "✗"
        slow = f"  {duration_s:.0f}s" if duration_s >= 1 else ""
        self.title = Content(f"{mark} {self.headline}{slow}")  # type: ignore[assignment]
        self.remove_class("-running")
        self.add_class("-ok" if ok else "-failed")
        preview = output if len(output) <= PREVIEW_CHARS else output[:PREVIEW_CHARS] + "…"
        self._result.update(Text(preview))
        if diff:
            self.query_one(Collapsible.Contents).mount(DiffView(diff))
            self.collapsed = False

    def cancel(self) -> None:
        """The turn was cancelled before this call finished: say so instead of spinning."""
        if not self.has_class("-running"):
            return
        self.title = Content(f"⊘ {self.headline}  cancelled")  # type: ignore[assignment]
        self.remove_class("-running")
        self.add_class("-cancelled")
