"""The `spawn_agents` arguments and their validation against the base tree.

Every problem goes back to the model in words it can act on: an empty list,
duplicate names, two tasks owning the same file (globs expanded against the
base), more tasks than the tool-call budget leaves room for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import combinations
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from kimicode.config import MAX_AGENTS
from kimicode.errors import ToolError
from kimicode.globs import expand, glob_match, is_literal, normalize

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")


def _check_name(value: str) -> str:
    if not NAME.match(value) or ".." in value or value.endswith((".lock", ".")):
        raise ValueError(
            "use 1-48 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )
    return value


def _check_files(value: list[str]) -> list[str]:
    cleaned = []
    for raw in value:
        path = raw.strip().removeprefix("./")
        if not path or path.startswith("/") or ".." in path.split("/"):
            raise ValueError(f"{raw!r} must be a path or glob inside the project")
        cleaned.append(path)
    return cleaned


NAME_FIELD = "Short unique name: letters, digits, '-', '_' (used in branch names)."
FILES_FIELD = (
    "Files or globs (relative to the project root) this agent owns and may write; "
    "[] for a read-only agent that reads and reports (no worktree, nothing merged)."
)

TYPE_FIELD = "An agent type from the list in this tool's description (default: coder)."
MODE_FIELD = '"read": a read-only agent (the same as files: [], which may then be left out).'


def _check_mode(spec: TaskSpec | ItemSpec, required: bool) -> None:
    """`mode: "read"` owns no files; a write task names the files it owns."""
    if spec.mode == "read" and spec.files:
        raise ValueError(f'{spec.name}: a mode "read" task owns no files; drop `files`')
    if spec.mode == "write" and not spec.files:
        raise ValueError(f'{spec.name}: a mode "write" task needs the `files` it owns')
    if required and spec.mode is None and "files" not in spec.model_fields_set:
        raise ValueError(
            f'{spec.name}: give the `files` it owns, or files: [] (or mode: "read") '
            "for a read-only agent"
        )


class TaskSpec(BaseModel):
    name: str = Field(description=NAME_FIELD)
    prompt: str = Field(description="The whole task for the sub-agent; it sees nothing else.")
    files: list[str] = Field(default_factory=list, description=FILES_FIELD)
    type: str | None = Field(None, description=TYPE_FIELD)
    mode: Literal["read", "write"] | None = Field(None, description=MODE_FIELD)

    _name = field_validator("name")(_check_name)
    _files = field_validator("files")(_check_files)

    @model_validator(mode="after")
    def _mode(self) -> TaskSpec:
        _check_mode(self, required=True)
        return self

    @property
    def read_only(self) -> bool:
        """No files: the agent reads the base snapshot and reports; nothing to merge."""
        return self.mode == "read" or not self.files


class ItemSpec(BaseModel):
    name: str = Field(description=NAME_FIELD)
    item: str = Field(description="What replaces {item} in the template for this agent.")
    files: list[str] = Field(default_factory=list, description=FILES_FIELD)
    type: str | None = Field(None, description=TYPE_FIELD)
    mode: Literal["read", "write"] | None = Field(None, description=MODE_FIELD)

    _name = field_validator("name")(_check_name)
    _files = field_validator("files")(_check_files)

    @model_validator(mode="after")
    def _mode(self) -> ItemSpec:
        _check_mode(self, required=False)
        return self


class ResumeSpec(BaseModel):
    name: str = Field(description="An unfinished sub-agent named in an earlier swarm result.")
    prompt: str | None = Field(
        None, description="What to tell it on resuming (default: continue where you stopped)."
    )


class SpawnParams(BaseModel):
    tasks: list[TaskSpec] = Field(
        default_factory=list,
        description="The sub-agents to run in parallel; their files may not overlap.",
    )
    resume: list[ResumeSpec] = Field(
        default_factory=list,
        description=(
            "Unfinished sub-agents of an earlier swarm to continue, with their conversation, "
            "worktree and files (the swarm result marks them resumable). Not with `tasks`."
        ),
    )
    template: str | None = Field(
        None,
        description="One prompt for many similar agents: {item} (required) and {name} are "
        "replaced per entry of `items`. Cheaper than writing every prompt out.",
    )
    items: list[ItemSpec] = Field(
        default_factory=list, description="With `template`: one agent per item."
    )

    def all_tasks(self) -> list[TaskSpec]:
        """`tasks` plus the template expanded over `items`; ToolError for a bad template."""
        if self.template is None:
            if self.items:
                raise ToolError("`items` needs a `template` (a prompt containing {item})")
            return list(self.tasks)
        if "{item}" not in self.template:
            raise ToolError(
                "the template must contain {item} (and may contain {name}); without it "
                "every agent would get the same prompt"
            )
        if not self.items:
            raise ToolError("a `template` needs `items`: [{name, item, files}] (at least one)")
        expanded = [
            TaskSpec(
                name=i.name,
                prompt=self.template.replace("{name}", i.name).replace("{item}", i.item),
                files=i.files,
                type=i.type,
                mode=i.mode,
            )
            for i in self.items
        ]
        every = [*self.tasks, *expanded]
        prompts = [t.prompt for t in every]
        same = sorted({t.name for t in every if prompts.count(t.prompt) > 1})
        if same:
            raise ToolError(
                f"these tasks have the same prompt: {', '.join(same[:10])}; give each item "
                "a distinct `item` (or tell them apart with {name})"
            )
        return every


def validate_tasks(tasks: list[TaskSpec], base_files: list[str], budget_left: int) -> None:
    """Raise ToolError naming every problem; nothing has started yet."""
    if not tasks:
        raise ToolError("spawn_agents needs at least one task")
    if len(tasks) > MAX_AGENTS:
        raise ToolError(
            f"{len(tasks)} tasks is more than one spawn_agents call can run (at most "
            f"{MAX_AGENTS}); give agents larger pieces or spawn the rest in a later call"
        )
    names = [t.name for t in tasks]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ToolError(f"task names must be unique; repeated: {', '.join(dupes)}")
    if len(tasks) > budget_left:
        raise ToolError(
            f"{len(tasks)} tasks but only {budget_left} tool calls are left in this task's "
            "budget (--max-tool-calls); spawn fewer agents or give them larger pieces"
        )
    problems = [
        f"{tasks[i].name} and {tasks[j].name} both own {_listed(shared)}"
        for (i, j), shared in sorted(_overlaps(tasks, base_files).items())
    ]
    if problems:
        raise ToolError(
            "the files of two tasks may not overlap: "
            + "; ".join(problems)
            + ". Give each file to exactly one task."
        )


def _overlaps(tasks: list[TaskSpec], base_files: list[str]) -> dict[tuple[int, int], set[str]]:
    """(i, j) with i < j -> what tasks i and j would both own.

    Indexed, not pairwise: 300 tasks are 44,850 pairs, and matching globs for each pair
    was most of what a 300-agent `spawn_agents` cost before anything started. Two tasks
    share a path when both cover it (their patterns expanded over the base, plus the
    literal paths they will create), when both list the same pattern, or when a literal
    path of one falls under a pattern of the other (a directory, a glob).
    """
    shared: dict[tuple[int, int], set[str]] = {}

    def clash(a: int, b: int, path: str) -> None:
        if a != b:
            shared.setdefault((min(a, b), max(a, b)), set()).add(path)

    def index(items: Iterable[tuple[int, str]]) -> None:
        holders: dict[str, list[int]] = {}
        for owner, path in items:
            holders.setdefault(path, []).append(owner)
        for path, owners in holders.items():
            for a, b in combinations(dict.fromkeys(owners), 2):
                clash(a, b, path)

    index((i, path) for i, t in enumerate(tasks) for path in owned_files(t.files, base_files))
    index((i, pattern) for i, t in enumerate(tasks) for pattern in set(t.files))
    literal_owners: dict[str, list[int]] = {}
    globs: list[tuple[int, str]] = []
    for i, t in enumerate(tasks):
        for pattern in t.files:
            if is_literal(pattern):
                literal_owners.setdefault(normalize(pattern), []).append(i)
            else:
                globs.append((i, pattern))
    for i, t in enumerate(tasks):
        for path in filter(is_literal, t.files):
            # a literal pattern covers itself and what is under it: look at `path`'s
            # ancestors, then let the matcher decide, as for the globs
            ancestors = [path[:k] for k, ch in enumerate(path) if ch == "/"] + [path]
            for parent in ancestors:
                for j in literal_owners.get(parent, ()):
                    if j != i and glob_match(parent, path):
                        clash(i, j, path)
            for j, pattern in globs:
                if j != i and glob_match(pattern, path):
                    clash(i, j, path)
    return shared


def _listed(paths: set[str]) -> str:
    listed = ", ".join(sorted(paths)[:5])
    return listed + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def owned_files(patterns: list[str], base_files: list[str]) -> set[str]:
    """Base files the patterns cover, plus literal paths (files a task will create)."""
    return set(expand(patterns, base_files)) | {p for p in patterns if is_literal(p)}
