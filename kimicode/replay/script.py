"""Replay scripts: which scripted turn answers which request.

A request is routed by its content, never by arrival order, so concurrent
agents each follow their own conversation. Each conversation keeps a cursor per
captured key (the regex's capture groups); the cursor moves only after a turn
was served whole, so a client that retries after a fault gets the same turn.
The file format is described in kimicode/replay/README.md.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "kimi-k2.5"
DEFAULT_CAPABILITIES: dict[str, Any] = {
    "context_length": 262_144,
    "supports_image_in": True,
    "supports_video_in": False,
    "supports_reasoning": True,
}
TURN_KEYS = {
    "content",
    "reasoning_content",
    "tool_calls",
    "usage",
    "latency_ms",
    "chunk_delay_ms",
    "chunks",
    "fault",
    "expect",
    "repeat",
    "finish_reason",
}


class ScriptError(ValueError):
    """The script file is not valid; the message names the offending place."""


class Mismatch(Exception):
    """A request the script did not expect; answered with HTTP 400."""


@dataclass(slots=True)
class Route:
    """Where one request was routed, and the turn to play for it."""

    conversation: int
    key: str
    position: int
    turn_index: int
    turn: dict[str, Any]
    fault: dict[str, Any] | None


@dataclass(slots=True)
class Conversation:
    index: int
    pattern: re.Pattern[str]
    turns: list[tuple[int, dict[str, Any]]]
    """Turns with `repeat` expanded: (index in the file, turn)."""
    cursors: dict[str, int] = field(default_factory=dict)
    faults_served: dict[tuple[str, int], int] = field(default_factory=dict)


class Script:
    """A parsed replay script with its routing state."""

    def __init__(self, data: dict[str, Any]) -> None:
        if not isinstance(data, dict):
            raise ScriptError("a replay script is a JSON object")
        self.model: str = data.get("model", DEFAULT_MODEL)
        self.models: dict[str, dict[str, Any]] = _models(data.get("models"), self.model)
        self.usage_style: str = data.get("usage_style", "openai")
        if self.usage_style not in ("openai", "moonshot"):
            raise ScriptError(
                f"usage_style must be 'openai' or 'moonshot', not {self.usage_style!r}"
            )
        self.defaults: dict[str, Any] = dict(data.get("defaults") or {})
        self.limits: Any = data.get("limits")
        """A provider cap to emulate (see kimicode.replay.limits); checked by the server."""
        convs = data.get("conversations")
        if not isinstance(convs, list) or not convs:
            raise ScriptError("the script needs a non-empty 'conversations' list")
        self.conversations = [_conversation(i, c) for i, c in enumerate(convs)]

    @classmethod
    def load(cls, source: dict[str, Any] | str | Path) -> Script:
        if isinstance(source, dict):
            return cls(source)
        path = Path(source)
        try:
            return cls(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError) as exc:
            raise ScriptError(f"cannot read replay script {path}: {exc}") from None

    def route(self, body: dict[str, Any]) -> Route:
        """The turn for this request, or Mismatch saying why there is none."""
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise Mismatch("replay: the request has no messages")
        first_user = _first_text(messages, ("user",))
        with_system = _first_text(messages, ("system",)) + "\n" + first_user
        for text in (first_user, with_system):
            for conv in self.conversations:
                found = conv.pattern.search(text)
                if found:
                    return self._turn_for(conv, found, messages)
        raise Mismatch(
            f"replay: no conversation matches the first user message {_clip(first_user)!r}"
        )

    def advance(self, route: Route) -> None:
        """Mark the routed turn as served whole: the cursor moves on."""
        conv = self.conversations[route.conversation]
        if conv.cursors.get(route.key, 0) == route.position:
            conv.cursors[route.key] = route.position + 1

    def rewind(self, route: Route) -> None:
        """Undo `advance` when the last bytes of a turn could not be delivered."""
        conv = self.conversations[route.conversation]
        if conv.cursors.get(route.key, 0) == route.position + 1:
            conv.cursors[route.key] = route.position

    def _turn_for(self, conv: Conversation, found: re.Match[str], messages: list[Any]) -> Route:
        groups = [g or "" for g in found.groups()]
        key = "\x1f".join(groups)
        position = conv.cursors.get(key, 0)
        label = f"conversation {conv.index} ({conv.pattern.pattern!r}" + (
            f", key {key!r})" if groups else ")"
        )
        if position >= len(conv.turns):
            raise Mismatch(
                f"replay: {label} has no turn left: all {len(conv.turns)} were played "
                f"(last message: {_clip(_text(messages[-1]))!r})"
            )
        turn_index, raw = conv.turns[position]
        turn = _substitute(raw, groups) if groups else raw
        _check_expect(turn.get("expect"), messages, f"{label} turn {turn_index}")
        fault = turn.get("fault")
        if fault:
            served = conv.faults_served.get((key, position), 0)
            if served < int(fault.get("times", 1)):
                conv.faults_served[(key, position)] = served + 1
            else:
                fault = None
        return Route(conv.index, key, position, turn_index, turn, fault or None)


def _models(raw: Any, model: str) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {model: dict(DEFAULT_CAPABILITIES)}
    if not isinstance(raw, dict):
        raise ScriptError("'models' maps a model id to its capabilities")
    return {name: {**DEFAULT_CAPABILITIES, **(caps or {})} for name, caps in raw.items()}


def _conversation(index: int, raw: Any) -> Conversation:
    where = f"conversations[{index}]"
    if not isinstance(raw, dict) or "match" not in raw:
        raise ScriptError(f"{where} needs a 'match' regex")
    try:
        pattern = re.compile(raw["match"], re.DOTALL)
    except re.error as exc:
        raise ScriptError(f"{where}.match is not a valid regex: {exc}") from None
    turns: list[tuple[int, dict[str, Any]]] = []
    for t, turn in enumerate(raw.get("turns") or []):
        if not isinstance(turn, dict):
            raise ScriptError(f"{where}.turns[{t}] is not an object")
        unknown = set(turn) - TURN_KEYS
        if unknown:
            raise ScriptError(f"{where}.turns[{t}] has unknown keys: {sorted(unknown)}")
        for call in turn.get("tool_calls") or []:
            if not isinstance(call, dict) or "name" not in call:
                raise ScriptError(f"{where}.turns[{t}].tool_calls entries need a 'name'")
        turns.extend([(t, turn)] * int(turn.get("repeat", 1)))
    return Conversation(index, pattern, turns)


def _text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _first_text(messages: list[Any], roles: tuple[str, ...]) -> str:
    for message in messages:
        if isinstance(message, dict) and message.get("role") in roles:
            return _text(message)
    return ""


def _has_part(messages: list[Any], part_type: str) -> bool:
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list) and any(
            isinstance(p, dict) and p.get("type") == part_type for p in content
        ):
            return True
    return False


def _check_expect(expect: dict[str, Any] | None, messages: list[Any], label: str) -> None:
    if not expect:
        return
    wanted = expect.get("last_message_contains")
    if wanted is not None and wanted not in _text(messages[-1]):
        raise Mismatch(
            f"replay: {label} expected the last message to contain {wanted!r}, "
            f"got {_clip(_text(messages[-1]))!r}"
        )
    wanted = expect.get("request_contains")
    if wanted is not None and not any(wanted in _text(m) for m in messages):
        raise Mismatch(f"replay: {label} expected a message containing {wanted!r}")
    for flag, part in (("has_image", "image_url"), ("has_video", "video_url")):
        if flag in expect and bool(expect[flag]) != _has_part(messages, part):
            raise Mismatch(f"replay: {label} expected {flag}={bool(expect[flag])}")
    max_messages = expect.get("max_messages")
    if max_messages is not None and len(messages) > max_messages:
        raise Mismatch(
            f"replay: {label} expected at most {max_messages} messages, got {len(messages)}"
        )


def _substitute(value: Any, groups: list[str]) -> Any:
    """`{1}`, `{2}`, ... in every string of a turn become the captured values."""
    if isinstance(value, str):
        for n, group in enumerate(groups, start=1):
            value = value.replace("{" + str(n) + "}", group)
        return value
    if isinstance(value, dict):
        return {k: _substitute(v, groups) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, groups) for v in value]
    return value


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
