"""Reading a chat-completions SSE stream with as little work per chunk as we can.

A hundred agents streaming at once make per-chunk cost the client's whole CPU
budget, so lines are split from raw bytes and each event is one `json.loads`
into plain dicts: no typed objects per chunk.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from kimicode.llm.types import Completion, Delta, ToolCall, Usage

DONE = b"[DONE]"


async def iter_sse_data(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The `data:` payload of each SSE event, multi-line data joined, comments skipped."""
    buffer = b""
    data: list[bytes] = []
    async for chunk in chunks:
        buffer += chunk
        if b"\n" not in chunk:
            continue
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if data:
                    yield data[0] if len(data) == 1 else b"\n".join(data)
                    data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(b" ") else value)
    tail = buffer.rstrip(b"\r")
    if tail.startswith(b"data:"):
        value = tail[5:]
        data.append(value[1:] if value.startswith(b" ") else value)
    if data:
        yield b"\n".join(data)


class StreamAssembler:
    """Builds one Completion from chunk dicts: text, reasoning and tool calls kept apart."""

    __slots__ = ("_calls", "_content", "_on_delta", "_reasoning", "finish_reason", "usage")

    def __init__(self, on_delta: Callable[[Delta], None] | None = None) -> None:
        self._on_delta = on_delta
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, list[Any]] = {}
        """index -> [id, name, argument pieces]"""
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None

    def feed(self, chunk: dict[str, Any]) -> None:
        usage = chunk.get("usage")
        if usage:
            self.usage = usage
        choices = chunk.get("choices")
        if not choices:
            return
        choice = choices[0]
        if choice.get("usage"):
            self.usage = choice["usage"]
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]
        delta = choice.get("delta")
        if not delta:
            return
        text = delta.get("content")
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if text:
            self._content.append(text)
        if reasoning:
            self._reasoning.append(reasoning)
        if (text or reasoning) and self._on_delta is not None:
            self._on_delta(Delta(text=text or "", reasoning=reasoning or ""))
        calls = delta.get("tool_calls")
        if calls:
            for call in calls:
                self._add_call(call)

    def _add_call(self, call: dict[str, Any]) -> None:
        index = call.get("index")
        if index is None:
            index = len(self._calls)
        slot = self._calls.get(index)
        if slot is None:
            slot = self._calls[index] = ["", "", []]
        if call.get("id") and not slot[0]:
            slot[0] = call["id"]
        function = call.get("function") or {}
        if function.get("name") and not slot[1]:
            slot[1] = function["name"]
        if function.get("arguments"):
            slot[2].append(function["arguments"])

    def completion(self) -> Completion:
        calls = [
            ToolCall(id=slot[0] or f"call_{index}", name=slot[1], arguments="".join(slot[2]))
            for index, slot in sorted(self._calls.items())
        ]
        usage = self.usage or {}
        return Completion(
            content="".join(self._content),
            reasoning="".join(self._reasoning),
            tool_calls=calls,
            usage=Usage(
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            ),
            finish_reason=self.finish_reason,
        )
