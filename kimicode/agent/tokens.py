"""Cheap token estimates, good enough to keep requests under the window.

A real tokenizer per model is not available offline; characters/4 over-counts
code slightly, which errs on the safe side. Images count a fixed budget.
"""

from __future__ import annotations

import json
from typing import Any

IMAGE_TOKENS = 1_000
PER_MESSAGE = 4


def estimate_message(msg: dict[str, Any]) -> int:
    total = PER_MESSAGE
    content = msg.get("content")
    if isinstance(content, str):
        total += len(content) // 4
    elif isinstance(content, list):
        for part in content:
            if part.get("type") == "text":
                total += len(part.get("text", "")) // 4
            else:
                total += IMAGE_TOKENS
    reasoning = msg.get("reasoning_content")
    if reasoning:
        total += len(reasoning) // 4
    for call in msg.get("tool_calls") or ():
        total += (len(call["function"]["name"]) + len(call["function"]["arguments"])) // 4 + 8
    return total


def estimate_messages(messages: list[dict[str, Any]]) -> int:
    return sum(estimate_message(m) for m in messages)


def estimate_tools(tools: list[dict[str, Any]]) -> int:
    return len(json.dumps(tools)) // 4 if tools else 0
