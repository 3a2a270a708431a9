"""Turning a scripted turn into what an OpenAI-compatible endpoint sends.

Every SSE chunk of a turn is encoded up front, so streaming it is only writes
and sleeps: the server stays cheap with a hundred streams open.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

_ids = itertools.count(1)


def split(text: str, pieces: int) -> list[str]:
    """`text` cut into at most `pieces` nearly equal parts (none when empty)."""
    if not text:
        return []
    pieces = max(1, min(pieces, len(text)))
    size, extra = divmod(len(text), pieces)
    out, start = [], 0
    for i in range(pieces):
        end = start + size + (1 if i < extra else 0)
        out.append(text[start:end])
        start = end
    return out


def tool_calls(turn: dict[str, Any]) -> list[dict[str, str]]:
    """The turn's tool calls as (id, name, arguments text); object arguments JSON-encoded."""
    calls = []
    for call in turn.get("tool_calls") or []:
        args = call.get("arguments", {})
        calls.append(
            {
                "id": call.get("id") or f"call_{next(_ids)}",
                "name": call["name"],
                "arguments": args if isinstance(args, str) else json.dumps(args),
            }
        )
    return calls


def usage(turn: dict[str, Any], request_bytes: int, calls: list[dict[str, str]]) -> dict[str, int]:
    """The turn's usage, estimated at 4 characters a token where the script gives none."""
    given = turn.get("usage") or {}
    answer_chars = len(turn.get("content") or "") + len(turn.get("reasoning_content") or "")
    answer_chars += sum(len(c["name"]) + len(c["arguments"]) for c in calls)
    prompt = int(given.get("prompt_tokens", max(1, request_bytes // 4)))
    completion = int(given.get("completion_tokens", max(1, answer_chars // 4)))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def finish_reason(turn: dict[str, Any], calls: list[dict[str, str]]) -> str:
    return turn.get("finish_reason") or ("tool_calls" if calls else "stop")


def message_response(
    turn: dict[str, Any], model: str, calls: list[dict[str, str]], used: dict[str, int]
) -> dict[str, Any]:
    """The whole answer for a request made without `stream`."""
    message: dict[str, Any] = {"role": "assistant", "content": turn.get("content") or None}
    if turn.get("reasoning_content"):
        message["reasoning_content"] = turn["reasoning_content"]
    if calls:
        message["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": c["arguments"]},
            }
            for c in calls
        ]
    return {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(turn, calls)}],
        "usage": used,
    }


def stream_chunks(
    turn: dict[str, Any],
    model: str,
    calls: list[dict[str, str]],
    used: dict[str, int],
    *,
    pieces: int,
    usage_style: str,
    include_usage: bool,
) -> list[bytes]:
    """Every SSE event of the turn, encoded, ending with `data: [DONE]`."""
    head: dict[str, Any] = {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    deltas: list[dict[str, Any]] = []
    deltas += [{"reasoning_content": p} for p in split(turn.get("reasoning_content") or "", pieces)]
    deltas += [{"content": p} for p in split(turn.get("content") or "", pieces)]
    for index, call in enumerate(calls):
        parts = split(call["arguments"], pieces) or [""]
        first: dict[str, Any] = {"index": index, "id": call["id"], "type": "function"}
        first["function"] = {"name": call["name"], "arguments": parts[0]}
        deltas.append({"tool_calls": [first]})
        deltas += [
            {"tool_calls": [{"index": index, "function": {"arguments": p}}]} for p in parts[1:]
        ]
    if deltas:
        deltas[0] = {"role": "assistant", **deltas[0]}
    events = [
        {**head, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas
    ]
    finish: dict[str, Any] = {"index": 0, "delta": {}, "finish_reason": finish_reason(turn, calls)}
    if usage_style == "moonshot":
        finish["usage"] = used
    events.append({**head, "choices": [finish]})
    if usage_style == "openai" and include_usage:
        events.append({**head, "choices": [], "usage": used})
    encoded = [b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events]
    encoded.append(b"data: [DONE]\n\n")
    return encoded
