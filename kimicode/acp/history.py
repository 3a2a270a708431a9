"""A saved conversation replayed as session updates, for `session/load`."""

from __future__ import annotations

import json
from typing import Any

import acp

from kimicode.acp.updates import KINDS, MAX_OUTPUT


def replay_updates(messages: list[dict[str, Any]]) -> list[Any]:
    """User and agent messages and the tool calls with their results, in order."""
    updates: list[Any] = []
    for message in messages:
        role = message.get("role")
        if role == "user":
            text = _text(message.get("content"))
            if text:
                updates.append(acp.update_user_message_text(text))
        elif role == "assistant":
            text = _text(message.get("content"))
            if text:
                updates.append(acp.update_agent_message_text(text))
            for call in message.get("tool_calls") or ():
                function = call.get("function", {})
                name = str(function.get("name", ""))
                try:
                    args = json.loads(function.get("arguments") or "{}")
                except ValueError:
                    args = {}
                updates.append(
                    acp.start_tool_call(
                        str(call.get("id", "")),
                        f"{name} {_first(args)}".strip(),
                        kind=KINDS.get(name, "other"),
                        status="completed",
                        raw_input=args,
                    )
                )
        elif role == "tool":
            output = _text(message.get("content"))[:MAX_OUTPUT]
            updates.append(
                acp.update_tool_call(
                    str(message.get("tool_call_id", "")),
                    status="failed" if output.startswith(("Error", "Denied")) else "completed",
                    content=[acp.tool_content(acp.text_block(output))] if output else None,
                )
            )
    return updates


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict)).strip()
    return str(content or "").strip()


def _first(args: Any) -> str:
    if not isinstance(args, dict):
        return ""
    return next((str(v)[:120] for v in args.values() if isinstance(v, str)), "")
