"""Agent types: named sub-agent recipes the orchestrator spawns by `type`.

Markdown files with front matter (name, description, tools, model,
permission mode; the body is the system prompt) in `.kimicode/agents/` and
`~/.config/kimicode/agents/`, the format other agent CLIs use. The project's
files win over the user's, both over the built-ins `coder` and `explore`. A
bad file is skipped and kept in `problems`, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kimicode.frontmatter import FrontMatterError, parse
from kimicode.paths import config_dir

READ_TOOLS = ("read_file", "grep", "glob", "view_image", "render_page", "fetch_url", "web_search")
MODE_NAMES = {
    "default": "default",
    "accept-edits": "accept-edits",
    "acceptEdits": "accept-edits",
    "plan": "plan",
    "yolo": "yolo",
    "bypassPermissions": "yolo",
}
"""Permission modes a type may name: ours, and the spellings Claude Code's agent files use."""


@dataclass(frozen=True, slots=True)
class AgentType:
    name: str
    description: str
    prompt: str = ""
    """Instructions added to the sub-agent's system prompt ("" for the built-ins)."""
    tools: tuple[str, ...] | None = None
    """The tool names it may use; None: all of a sub-agent's tools."""
    model: str | None = None
    """The model its sub-agents use instead of the swarm's (same endpoint)."""
    permission_mode: str | None = None
    """One of `MODE_NAMES`' values; it can only narrow the session's mode, never widen it."""
    source: str = "built-in"

    @property
    def read_only(self) -> bool:
        """Its tools cannot write: tasks of this type own no files."""
        if self.permission_mode == "plan":
            return True
        return self.tools is not None and set(self.tools) <= set(READ_TOOLS)


BUILT_IN = (
    AgentType("coder", "Changes the files it owns (the default for tasks with files)."),
    AgentType(
        "explore", "Read-only: reads, searches and reports; owns no files.", tools=READ_TOOLS
    ),
)


@dataclass(slots=True)
class AgentTypes:
    types: dict[str, AgentType] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """"<file>: <why>" for every file that was skipped."""

    def menu(self) -> str:
        """What the orchestrator reads: each type's name and description."""
        return "\n".join(f"- `{t.name}`: {t.description}" for t in self.types.values())


def load_agent_types(project_dir: Path) -> AgentTypes:
    found = AgentTypes({t.name: t for t in BUILT_IN})
    for folder in (config_dir() / "agents", project_dir / ".kimicode" / "agents"):
        for path in sorted(folder.glob("*.md")) if folder.is_dir() else ():
            try:
                kind = _read(path)
            except (OSError, UnicodeDecodeError, FrontMatterError, ValueError) as exc:
                found.problems.append(f"{path}: {exc}")
                continue
            found.types[kind.name] = kind
    return found


def _read(path: Path) -> AgentType:
    doc = parse(path.read_text(encoding="utf-8"))
    meta = doc.meta
    name = meta.get("name", path.stem)
    description = meta.get("description")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("`name` must be a non-empty string")
    if not isinstance(description, str) or not description.strip():
        raise ValueError("`description` is required (the orchestrator chooses by it)")
    tools = meta.get("tools")
    if isinstance(tools, str):
        tools = [t.strip() for t in tools.split(",") if t.strip()]
    if tools is not None and not (
        isinstance(tools, list) and all(isinstance(t, str) for t in tools)
    ):
        raise ValueError("`tools` must be a list of tool names (or a comma-separated string)")
    model = meta.get("model")
    mode = meta.get("permission_mode", meta.get("permissionMode"))
    for key, value in (("model", model), ("permission_mode", mode)):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"`{key}` must be a string")
    if mode is not None and mode not in MODE_NAMES:
        raise ValueError(f"`permission_mode` {mode!r} is not one of {', '.join(MODE_NAMES)}")
    return AgentType(
        name.strip(),
        " ".join(description.split()),
        doc.body.strip(),
        tuple(tools) if tools is not None else None,
        model.strip() if model and model.strip() else None,
        MODE_NAMES[mode] if mode is not None else None,
        str(path),
    )
