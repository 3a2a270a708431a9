"""The model seam: what the agent needs from a chat model, and what it gets back.

Messages are plain OpenAI-format dicts (`{"role": ..., "content": ...}`) so they
serialize to the session log unchanged and go to any compatible endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Message = dict[str, Any]


@dataclass(slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str
    """The raw JSON text the model produced; parsed (and maybe rejected) by the agent."""

    def to_message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens

    def to_dict(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


@dataclass(slots=True)
class Completion:
    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None

    def to_message(self, *, with_reasoning: bool) -> Message:
        """The assistant message to append to the history.

        Moonshot's API rejects (400) a thinking-mode history whose assistant
        messages lack `reasoning_content`, and some endpoints reject an empty
        `content` next to tool calls, so both are handled here, once.
        """
        msg: Message = {"role": "assistant"}
        if self.content or not self.tool_calls:
            msg["content"] = self.content
        if self.tool_calls:
            msg["tool_calls"] = [tc.to_message() for tc in self.tool_calls]
        if with_reasoning:
            msg["reasoning_content"] = self.reasoning
        return msg


@dataclass(slots=True)
class Delta:
    """A streamed piece of a turn, for live display."""

    text: str = ""
    reasoning: str = ""


class ChatModel(Protocol):
    """Anything that turns a history and tool schemas into one assistant turn."""

    model: str

    async def complete(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]],
        *,
        on_delta: Callable[[Delta], None] | None = None,
        on_retry: Callable[[int, float, str], None] | None = None,
    ) -> Completion:
        """Stream one turn and return it whole.

        Retries transient failures itself (calling `on_retry(attempt, wait_s,
        reason)` before each wait); deltas of a failed attempt are discarded by
        the caller when a retry starts, so nothing is duplicated.
        Raises `ModelError` / `TemporaryModelError` when it gives up.
        """
        ...
