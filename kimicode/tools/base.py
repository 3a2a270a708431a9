"""The tool seam: a Tool has a name, a pydantic args model, and an async `run`.

Tools are instances, built with whatever they depend on (the swarm's plain-data
dependencies for `spawn_agents`); what they may use at run time is the frozen
`ToolServices` the caller built once (workspace, sandbox, approvals, events,
session folder, background processes), handed over in a `ToolContext` with the call's id. A tool
reports failure by raising `ToolError` (the message goes to the model) or by
returning `ToolResult(is_error=True)`.
"""

from __future__ import annotations

import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from kimicode.tools.schema import tool_schema

if TYPE_CHECKING:
    from kimicode.config import Settings
    from kimicode.events import EventSink
    from kimicode.tools.background import BackgroundProcesses
    from kimicode.tools.workspace import Workspace
    from kimicode.trust.sandbox import Sandbox


@dataclass(slots=True, kw_only=False)
class ToolResult:
    text: str
    images: list[dict[str, Any]] = field(default_factory=list)
    """OpenAI `image_url` content parts that go to the model after the tool message."""
    is_error: bool = False
    diff: str = ""
    """A unified diff of what the tool changed, for UIs and checkpoints."""
    changed: list[str] = field(default_factory=list)
    """Paths (relative to the root) the tool wrote."""
    critical_steps: int = 0
    """Steps on the critical path of a sub-stage the tool ran (the slowest sub-agent's)."""


@dataclass(slots=True)
class ApprovalRequest:
    tool: str
    call_id: str
    summary: str
    """One line a person can judge: the command, or `write src/app.py`."""
    arguments: dict[str, Any]
    agent: str = "main"
    read_only: bool | None = None
    """The tool changes nothing (its own word); None: the rules' list of built-in readers."""


@dataclass(slots=True)
class ApprovalDecision:
    approved: bool
    reason: str = ""
    """Why it was denied; the model reads it."""


Approver = Callable[[ApprovalRequest], Awaitable[ApprovalDecision]]


async def approve_all(_: ApprovalRequest) -> ApprovalDecision:
    return ApprovalDecision(True)


@dataclass(frozen=True, slots=True)
class ToolServices:
    """What a tool may use, built once by whoever starts the agent and never patched.

    A sub-agent gets its own copy (`dataclasses.replace`) with its worktree's
    workspace and its tagged event sink.
    """

    workspace: Workspace
    settings: Settings
    emit: EventSink
    approve: Approver = approve_all
    sandbox: Sandbox | None = None
    """The shell sandbox, when one can run here (print mode and the TUI probe it once)."""
    session_dir: Path | None = None
    """The session's folder (screenshots go there); None outside a saved session."""
    background: BackgroundProcesses | None = None
    """This agent's background processes and port; a sub-agent has its own, ended with it."""


@dataclass(frozen=True, slots=True)
class ToolContext:
    """One call: the services, plus who is calling and the call's id."""

    services: ToolServices
    agent: str = "main"
    call_id: str = ""

    @property
    def workspace(self) -> Workspace:
        return self.services.workspace

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def emit(self) -> EventSink:
        return self.services.emit

    @property
    def approve(self) -> Approver:
        return self.services.approve


P = TypeVar("P", bound=BaseModel)


@cache
def _parameters(params: type[BaseModel]) -> dict[str, Any]:
    """Built once per model class: a swarm builds the same schemas for every agent."""
    return tool_schema(params)


@cache
def _description(cls: type, name: str) -> str:
    here = Path(inspect.getfile(cls)).parent
    return (here / f"{name}.md").read_text(encoding="utf-8").strip()


class Tool(ABC, Generic[P]):
    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]]
    read_only: ClassVar[bool] = False
    """True when the tool cannot change files or run anything (plan mode offers only these)."""
    network: ClassVar[bool] = False
    """True when the tool reaches outside the machine: it asks first, read-only or not."""
    wire_name: ClassVar[str | None] = None
    """The name the model calls it by when that differs from `name` (`$web_search`)."""

    @property
    def description(self) -> str:
        """The model-facing text, from `<name>.md` next to the tool's module."""
        return _description(type(self), self.name)

    @property
    def available(self) -> bool:
        """False once the tool can no longer work (its MCP server died): not offered then."""
        return True

    def schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": _parameters(self.Params),
            },
        }

    def summary(self, params: P) -> str:
        """One line for approvals and UIs."""
        first = next(iter(params.model_dump().values()), "")
        return f"{self.name} {first}"

    @abstractmethod
    async def run(self, params: P, ctx: ToolContext) -> ToolResult: ...
