"""Provider quirks around thinking: how to switch it, and what the history must carry.

Moonshot takes `thinking: {"type": ...}` and rejects (400) a thinking-mode
history whose assistant messages lack `reasoning_content`; vLLM and SGLang take
`chat_template_kwargs`; OpenAI itself takes neither.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlparse

from kimicode.config import ModelSettings
from kimicode.llm.types import Message

Provider = Literal["moonshot", "openai", "vllm"]


def resolve_provider(settings: ModelSettings) -> Provider:
    """`auto`: Moonshot by its URL, OpenAI for api.openai.com, vLLM/SGLang for the rest."""
    if settings.provider != "auto":
        return settings.provider
    host = (urlparse(settings.base_url).hostname or "").lower()
    if "moonshot" in host:
        return "moonshot"
    if host == "api.openai.com":
        return "openai"
    return "vllm"


def thinking_extra_body(provider: Provider, thinking: bool) -> dict[str, Any]:
    """The request fields that switch thinking on or off for this provider."""
    if provider == "moonshot":
        return {"thinking": {"type": "enabled" if thinking else "disabled"}}
    if provider == "vllm":
        return {"chat_template_kwargs": {"thinking": thinking, "enable_thinking": thinking}}
    return {}


def prepare_messages(messages: list[Message], *, with_reasoning: bool) -> list[Message]:
    """The history as the API wants it; messages are copied only where they change.

    With reasoning on, every assistant message carries `reasoning_content` (""
    for one from an old session); with it off the field is dropped. An
    assistant message with tool calls never carries an empty `content`.
    """
    out: list[Message] = []
    for message in messages:
        if message.get("role") != "assistant":
            out.append(message)
            continue
        drop_content = bool(message.get("tool_calls")) and not message.get("content")
        has_reasoning = "reasoning_content" in message
        needs_change = drop_content and "content" in message
        needs_change = needs_change or (has_reasoning != with_reasoning)
        needs_change = needs_change or (with_reasoning and message["reasoning_content"] is None)
        if not needs_change:
            out.append(message)
            continue
        fixed = dict(message)
        if drop_content:
            fixed.pop("content", None)
        if with_reasoning:
            fixed["reasoning_content"] = fixed.get("reasoning_content") or ""
        else:
            fixed.pop("reasoning_content", None)
        out.append(fixed)
    return out
