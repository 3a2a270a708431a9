"""What goes to a chat model and what comes back (the `ChatModel` Protocol is in
`kimicode.protocols`).

Messages are plain OpenAI-format dicts (`{"role": ..., "content": ...}`) so they
serialize to the session log unchanged and go to any compatible endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    wait_s: float = 0.0
    """Seconds this turn waited for the endpoint's rate limit (a slot, or after a 429)."""

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
