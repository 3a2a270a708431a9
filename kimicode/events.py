"""Typed events: the one stream every front end consumes.

The core (agent, tools, swarm) never imports a UI. It calls an `EventSink` with
these events; the print renderers, the TUI, the session log and stream-json all
read the same objects. `to_dict()` is the stream-json form: the dataclass fields
plus `"type"`.

Every event carries `agent`: `"main"` for the orchestrator / single agent, the
sub-agent's name otherwise.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    type: ClassVar[str] = "event"
    agent: str = "main"
    ts: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"type": self.type, **data}


class EventSink(Protocol):
    def __call__(self, event: Event) -> None: ...


# --- session and turn ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStarted(Event):
    type: ClassVar[str] = "session_started"
    session_id: str
    model: str
    cwd: str
    resumed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class UserMessage(Event):
    type: ClassVar[str] = "user_message"
    text: str
    attachments: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class StepStarted(Event):
    """The agent is about to ask the model (step numbers start at 1)."""

    type: ClassVar[str] = "step_started"
    step: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TextDelta(Event):
    type: ClassVar[str] = "text_delta"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasoningDelta(Event):
    type: ClassVar[str] = "reasoning_delta"
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantMessage(Event):
    """One complete model turn, after streaming (and any retries) ended."""

    type: ClassVar[str] = "assistant_message"
    content: str
    reasoning: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageReport(Event):
    type: ClassVar[str] = "usage"
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallStarted(Event):
    type: ClassVar[str] = "tool_call_started"
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallFinished(Event):
    type: ClassVar[str] = "tool_call_finished"
    call_id: str
    name: str
    ok: bool
    output: str
    """A preview of the result text (capped); the model gets the whole result."""
    duration_s: float = 0.0
    diff: str = ""
    """A unified diff for edits, so UIs can colour it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Retrying(Event):
    type: ClassVar[str] = "retrying"
    attempt: int
    wait_s: float
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimited(Event):
    """The agent's request was refused for the endpoint's rate limit; it waits its turn."""

    type: ClassVar[str] = "rate_limited"
    limit: int
    """Requests the endpoint is allowed in flight now (cut by this refusal)."""
    retry_after: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitRecovered(Event):
    """The agent's request got through after waiting for the rate limit."""

    type: ClassVar[str] = "rate_limit_recovered"
    limit: int
    waited_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice(Event):
    """Something the user should see that is not an error of the run."""

    type: ClassVar[str] = "notice"
    level: str  # "info" | "warning" | "error"
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Compacted(Event):
    type: ClassVar[str] = "compacted"
    tokens_before: int
    tokens_after: int
    method: str  # "elide_tool_outputs" | "summarise"


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalDecided(Event):
    type: ClassVar[str] = "approval"
    call_id: str
    name: str
    summary: str
    approved: bool
    reason: str = ""


# --- swarm --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SwarmStarted(Event):
    type: ClassVar[str] = "swarm_started"
    run_id: str
    tasks: list[dict[str, Any]]
    """[{name, prompt, files}] as the orchestrator planned them."""
    max_agents: int
    base_commit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentSpawned(Event):
    type: ClassVar[str] = "agent_spawned"
    name: str
    files: list[str]
    branch: str
    worktree: str
    node: str | None = None
    """The cluster node it runs on (`[swarm] backend = "ray"`), else None."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentFinished(Event):
    type: ClassVar[str] = "agent_finished"
    name: str
    status: str  # "success" | "error" | "limit" | "cancelled"
    summary: str
    steps: int
    tool_calls: int
    prompt_tokens: int = 0
    completion_tokens: int = 0
    duration_s: float = 0.0
    wait_s: float = 0.0
    """Seconds its model calls waited for the endpoint's rate limit."""
    error: str | None = None
    diffstat: str = ""
    node: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentMerged(Event):
    type: ClassVar[str] = "agent_merged"
    name: str
    files: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeConflict(Event):
    type: ClassVar[str] = "merge_conflict"
    name: str
    files: list[str]
    branch: str
    inspect: str
    """The command a user runs to look at the kept branch."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SwarmFinished(Event):
    type: ClassVar[str] = "swarm_finished"
    run_id: str
    agents: int
    merged: int
    failed: int
    """Agents that ended in an error or a limit (a cancelled one is not a failure)."""
    conflicts: int
    wall_s: float
    agent_time_s: float
    speedup: float
    critical_steps: int
    total_steps: int
    cancelled: int = 0
    """Agents stopped by the user (from the dashboard): their work is kept on their branches."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult(Event):
    """The last event of a print-mode run: the JSON output object."""

    type: ClassVar[str] = "result"
    status: str  # "success" | "error" | "limit"
    result: str
    session_id: str
    usage: dict[str, int]
    steps: int
    tool_calls: int
    critical_steps: int
    agents: list[dict[str, Any]]
    duration_s: float
    error: str | None = None
    screenshots: list[str] = field(default_factory=list)
    """Visual self-check screenshots kept in the session's folder, one per round."""
    rate_limit: dict[str, Any] | None = None
    """The endpoint scheduler's figures: 429s seen, lowest and current limit, time waited."""

    def to_dict(self) -> dict[str, Any]:
        data = Event.to_dict(self)
        data.pop("agent", None)
        data.pop("ts", None)
        return data


class EventBus:
    """Fans one event out to many sinks; a failing sink never breaks the run."""

    def __init__(self) -> None:
        self._sinks: list[Callable[[Event], None]] = []

    def subscribe(self, sink: Callable[[Event], None]) -> Callable[[], None]:
        self._sinks.append(sink)
        return lambda: self._sinks.remove(sink)

    def __call__(self, event: Event) -> None:
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception:  # a broken UI must not stop the agent
                import logging

                logging.getLogger(__name__).exception("event sink failed on %s", event.type)


def tagged(sink: EventSink, agent: str) -> Callable[..., None]:
    """A helper for sub-agents: emits events with `agent` filled in."""

    def emit(event: Event) -> None:
        sink(dataclasses.replace(event, agent=agent) if event.agent != agent else event)

    return emit
