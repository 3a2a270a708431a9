"""What an agent run is allowed (its tool-call budget), how it ends, and what it returns.

A `FinishCheck` is called when the model says it is done; it reads a
`Finished` view of the agent and may send it back to work with a follow-up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kimicode.llm.types import Usage

if TYPE_CHECKING:
    from kimicode.events import EventSink
    from kimicode.tools.workspace import Workspace

FollowUp = str | list[dict[str, Any]]
"""A user message (text, or content parts such as a screenshot) that sends the agent back."""


@dataclass(frozen=True, slots=True)
class Finished:
    """What a finish check may read about the agent that says it is done."""

    agent: str
    final: str
    """The answer it gave."""
    written: tuple[str, ...]
    """Paths (relative to the root) it wrote during the run."""
    workspace: Workspace
    emit: EventSink


FinishCheck = Callable[[Finished], Awaitable[FollowUp | None]]
"""Called when the model says it is done; a returned follow-up sends it back to work."""


class Budget:
    """Tool calls for the whole task, shared by the orchestrator and every sub-agent.

    A sub-agent's budget has its own limit and a `parent` (the task's): a call
    is granted only when both have room.
    """

    def __init__(self, limit: int, parent: Budget | None = None) -> None:
        self.limit = limit
        self.used = 0
        self.parent = parent

    def take(self, n: int) -> int:
        granted = max(0, min(n, self.limit - self.used))
        if self.parent is not None:
            granted = self.parent.take(granted)
        self.used += granted
        return granted

    @property
    def remaining(self) -> int:
        own = self.limit - self.used
        return own if self.parent is None else min(own, self.parent.remaining)


@dataclass(slots=True)
class AgentResult:
    status: str  # "success" | "error" | "limit" | "cancelled"
    result: str
    steps: int
    tool_calls: int
    usage: Usage
    critical_steps: int
    error: str | None = None
    exception: BaseException | None = None
    written: list[str] = field(default_factory=list)
