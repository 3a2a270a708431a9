"""A resumed session drawn as it was: prompts, replies, tool calls with their diffs.

The session log keeps the main agent's events; they are rebuilt and shown by the
same `ChatView` that draws a live turn. A log without events (an older one) falls
back to the user and assistant messages of the history.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Any

from textual.widgets import Markdown

from kimicode import events as ev
from kimicode.ui.tui.chat_view import ChatView
from kimicode.ui.tui.widgets.user_prompt import UserPrompt

if TYPE_CHECKING:
    from kimicode.ui.tui.app import KimicodeApp

SHOWN = {
    cls.type: cls
    for cls in (ev.UserMessage, ev.AssistantMessage, ev.ToolCallStarted, ev.ToolCallFinished)
}


def rebuild(data: dict[str, Any]) -> ev.Event | None:
    """The event a log record holds, for the kinds a transcript shows; None otherwise."""
    cls = SHOWN.get(str(data.get("type")))
    if cls is None or data.get("agent", "main") != "main":
        return None
    names = {f.name for f in dataclasses.fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError:  # a record from another version: skip it, never fail the resume
        return None


async def show_history(app: KimicodeApp) -> None:
    loaded = await asyncio.to_thread(app.session.store.load, app.session.id, events=True)
    events = [e for e in map(rebuild, loaded.events) if e is not None]
    if events:
        view = ChatView(app.add_to_chat, app.show_notice, lambda _: "", {})
        for event in events:
            await view.show(event)
        view.cancel_running()  # a call the old session never finished
        return
    for message in app.session.history:
        text = _text_of(message.get("content"))
        if text and message.get("role") == "user":
            await app.add_to_chat(UserPrompt(text))
        elif text and message.get("role") == "assistant":
            await app.add_to_chat(Markdown(text, classes="answer"))


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict)).strip()
    return ""
