"""What an agent type changes about one sub-agent: its model, its tools, its permissions.

A type file lives in the project (`.kimicode/agents/`), so the model may have
written it: a type can narrow what its agents may do (fewer tools, a stricter
permission mode) but never widen it, and its `model` only picks another model
on the same endpoint and key.
"""

from __future__ import annotations

from dataclasses import dataclass

from kimicode.config import Settings
from kimicode.protocols import ChatModel, SwitchesModel, Tool
from kimicode.swarm.agent_types import AgentType
from kimicode.swarm.readonly import read_only_tools, refusing
from kimicode.tools.base import Approver

STRICTNESS = ("plan", "default", "accept-edits", "yolo")
"""Permission modes from the strictest to the most permissive."""


@dataclass(frozen=True, slots=True)
class TypedParts:
    model: ChatModel
    tools: tuple[Tool, ...]
    approve: Approver
    prompt: str
    """Added to the sub-agent's system prompt ("" for none)."""


def stricter(a: str, b: str) -> str:
    """The stricter of two permission modes."""
    return min(a, b, key=STRICTNESS.index)


def apply_type(
    kind: AgentType | None,
    *,
    model: ChatModel,
    tools: tuple[Tool, ...],
    approve: Approver,
    settings: Settings,
) -> TypedParts:
    """The sub-agent's model, tools and approver once `kind` (None: no type) is applied."""
    if kind is None:
        return TypedParts(model, tools, approve, "")
    if kind.tools is not None:
        allowed = tuple(t for t in tools if t.name in kind.tools)
        tools = (*allowed, *(refusing(t.name) for t in tools if t.name not in kind.tools))
    session_mode = settings.permissions.mode
    mode = stricter(kind.permission_mode or session_mode, session_mode)
    if mode == "plan":
        tools = read_only_tools(tools)
    if mode != session_mode:
        from kimicode.trust.approvals import narrowed_approver
        from kimicode.trust.rules import PermissionRules

        root = settings.project_dir
        rules = PermissionRules(settings.permissions, root)
        why = f"agent type {kind.name}"
        approve = narrowed_approver(approve, rules, mode, session_mode, root, why=why)
    if kind.model and isinstance(model, SwitchesModel):
        model = model.for_model(kind.model)
    return TypedParts(model, tools, approve, kind.prompt)
