"""What one turn's sub-agents did, summed for the run's result.

The session keeps one tally per turn; every `spawn_agents` call adds its agents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kimicode.swarm.subagent import SubAgentOutcome


@dataclass(slots=True)
class SwarmTally:
    agents: list[dict[str, Any]] = field(default_factory=list)
    """One entry per sub-agent, as the JSON result's `agents` lists them."""
    problems: list[str] = field(default_factory=list)
    """Failed or unmerged agents: a run with any is not a success."""
    temporary: bool = False
    """A sub-agent failed for a reason worth retrying (exit 75 when nothing worse happened)."""
    steps: int = 0
    tool_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, o: SubAgentOutcome) -> None:
        self.steps += o.steps
        self.tool_calls += o.tool_calls
        self.prompt_tokens += o.prompt_tokens
        self.completion_tokens += o.completion_tokens
        self.agents.append(
            {
                "name": o.name,
                "status": o.status,
                "files": o.commit.changed if o.commit else [],
                "steps": o.steps,
                "tool_calls": o.tool_calls,
                "branch": o.worktree.branch if o.worktree else None,
                "merged": o.merged,
                "checks": o.checks,
                "usage": {
                    "prompt_tokens": o.prompt_tokens,
                    "completion_tokens": o.completion_tokens,
                },
                "wait_s": round(o.wait_s, 3),
                "resumable": o.resumable,
            }
        )
        self.temporary = self.temporary or o.temporary
        if o.status != "success":
            self.problems.append(f"sub-agent {o.name} {o.status}: {o.error or 'no result'}")
        elif o.conflict:
            self.problems.append(
                f"sub-agent {o.name} not merged: conflict on {', '.join(o.conflict)}"
            )
