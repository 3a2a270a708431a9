"""The `spawn_agents` arguments and their validation against the base tree.

Every problem goes back to the model in words it can act on: an empty list,
duplicate names, two tasks owning the same file (globs expanded against the
base), more tasks than the tool-call budget leaves room for.
"""

from __future__ import annotations

import re
from itertools import combinations

from pydantic import BaseModel, Field, field_validator

from kimicode.errors import ToolError
from kimicode.globs import expand, is_literal, matches_any

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")


class TaskSpec(BaseModel):
    name: str = Field(
        description="Short unique name: letters, digits, '-', '_' (used in branch names)."
    )
    prompt: str = Field(description="The whole task for the sub-agent; it sees nothing else.")
    files: list[str] = Field(
        description="Files or globs (relative to the project root) this agent owns and may "
        "write; [] for a read-only agent that reads and reports (no worktree, nothing merged)."
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value) or ".." in value or value.endswith((".lock", ".")):
            raise ValueError(
                "use 1-48 letters, digits, '-', '_' or '.', starting with a letter or digit"
            )
        return value

    @field_validator("files")
    @classmethod
    def _files(cls, value: list[str]) -> list[str]:
        cleaned = []
        for raw in value:
            path = raw.strip().removeprefix("./")
            if not path or path.startswith("/") or ".." in path.split("/"):
                raise ValueError(f"{raw!r} must be a path or glob inside the project")
            cleaned.append(path)
        return cleaned

    @property
    def read_only(self) -> bool:
        """No files: the agent reads the base snapshot and reports; nothing to merge."""
        return not self.files


class SpawnParams(BaseModel):
    tasks: list[TaskSpec] = Field(
        description="The sub-agents to run in parallel; their files may not overlap."
    )


def validate_tasks(tasks: list[TaskSpec], base_files: list[str], budget_left: int) -> None:
    """Raise ToolError naming every problem; nothing has started yet."""
    if not tasks:
        raise ToolError("spawn_agents needs at least one task")
    names = [t.name for t in tasks]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ToolError(f"task names must be unique; repeated: {', '.join(dupes)}")
    if len(tasks) > budget_left:
        raise ToolError(
            f"{len(tasks)} tasks but only {budget_left} tool calls are left in this task's "
            "budget (--max-tool-calls); spawn fewer agents or give them larger pieces"
        )
    owned = {t.name: owned_files(t.files, base_files) for t in tasks}
    problems = []
    for a, b in combinations(tasks, 2):
        shared = owned[a.name] & owned[b.name]
        shared |= {p for p in a.files if p in b.files}
        shared |= {p for p in a.files if is_literal(p) and matches_any(b.files, p)}
        shared |= {p for p in b.files if is_literal(p) and matches_any(a.files, p)}
        if shared:
            listed = ", ".join(sorted(shared)[:5])
            more = f" and {len(shared) - 5} more" if len(shared) > 5 else ""
            problems.append(f"{a.name} and {b.name} both own {listed}{more}")
    if problems:
        raise ToolError(
            "the files of two tasks may not overlap: "
            + "; ".join(problems)
            + ". Give each file to exactly one task."
        )


def owned_files(patterns: list[str], base_files: list[str]) -> set[str]:
    """Base files the patterns cover, plus literal paths (files a task will create)."""
    return set(expand(patterns, base_files)) | {p for p in patterns if is_literal(p)}
