"""What an agent run is allowed (its tool-call budget) and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from kimicode.llm.types import Usage


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
