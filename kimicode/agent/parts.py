"""What an agent is built from besides its model, tools, history and services.

`AgentParts` holds the loop's optional collaborators and limits, each with a
default that does nothing, so the loop takes one typed object instead of a
long list of keyword arguments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kimicode.llm.types import Message

if TYPE_CHECKING:
    from kimicode.agent.guardrails import Checkpointer, ToolHooks
    from kimicode.agent.outcome import FinishCheck
    from kimicode.tools.workspace import Workspace


def _ignore(_: object) -> None:
    return None


@dataclass(frozen=True, slots=True)
class AgentParts:
    """The agent's collaborators (all optional) and limits (None: from the settings)."""

    record: Callable[[Message], None] = _ignore
    """Called with every message added to the history (the session log)."""
    on_compact: Callable[[list[Message]], None] = _ignore
    """Called with the history after compaction rewrote it."""
    finish_checks: tuple[FinishCheck, ...] = ()
    hooks: ToolHooks | None = None
    checkpointer: Checkpointer | None = None
    workspace_ready: Callable[[], Awaitable[Workspace]] | None = None
    """Awaited once before the first tool call or finish check (a worktree being built)."""
    max_steps: int | None = None
    thinking: bool | None = None
