"""skill: load an Agent Skill's instructions (and the files beside them) when a task needs it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, Field

from kimicode import protocols
from kimicode.errors import ToolError
from kimicode.frontmatter import FrontMatterError, parse
from kimicode.skills.catalog import SkillCatalog
from kimicode.tools.base import Tool, ToolContext, ToolResult

MAX_CHARS = 100_000
MAX_LISTED = 200


class SkillParams(BaseModel):
    name: str = Field(description="The skill's name, as listed under Agent Skills.")
    file: str | None = Field(
        default=None,
        description="A file in the skill's folder to read instead of its SKILL.md "
        "(a path relative to the folder, as SKILL.md names it).",
    )


class SkillTool(Tool[SkillParams]):
    name = "skill"
    Params = SkillParams
    read_only = True

    def __init__(self, catalog: SkillCatalog) -> None:
        self.catalog = catalog

    def summary(self, params: SkillParams) -> str:
        return f"skill {params.name}" + (f" {params.file}" if params.file else "")

    async def run(self, params: SkillParams, ctx: ToolContext) -> ToolResult:
        found = self.catalog.get(params.name)
        if found is None:
            names = ", ".join(s.name for s in self.catalog.skills) or "none"
            raise ToolError(f"no skill named {params.name!r}; available: {names}")
        if params.file:
            return ToolResult(text=await asyncio.to_thread(_read_beside, found.folder, params.file))
        return ToolResult(text=await asyncio.to_thread(_load, found.path))


def _load(path: Path) -> str:
    """The body without its header, then the files beside it (read with `file`)."""
    try:
        body = parse(path.read_text(encoding="utf-8")).body.strip()
    except (OSError, UnicodeDecodeError, FrontMatterError) as exc:
        raise ToolError(f"cannot load {path}: {exc}") from None
    text = body[:MAX_CHARS]
    files = _files(path.parent)
    if files:
        listing = "\n".join(f"- {f}" for f in files[:MAX_LISTED])
        more = f"\n(and {len(files) - MAX_LISTED} more)" if len(files) > MAX_LISTED else ""
        text += (
            f"\n\nFiles in this skill's folder (read one with skill(name, file=...)):\n"
            f"{listing}{more}"
        )
    return text


def _files(folder: Path) -> list[str]:
    out = []
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.name != "SKILL.md" and not p.is_symlink():
            out.append(p.relative_to(folder).as_posix())
    return out


def _read_beside(folder: Path, rel: str) -> str:
    base = folder.resolve()
    target = (base / rel).resolve()
    if not target.is_relative_to(base) or target == base:
        raise ToolError(f"{rel}: not a file inside the skill's folder")
    if not target.is_file():
        raise ToolError(f"{rel}: no such file in the skill's folder")
    data = target.read_bytes()
    if b"\0" in data[:8192]:
        raise ToolError(f"{rel} is a binary file")
    return data.decode("utf-8", errors="replace")[:MAX_CHARS]


def skills_prompt(tools: Iterable[protocols.Tool]) -> str:
    """The Agent Skills section for an agent offered `tools` (sub-agents see the same skills)."""
    found = next((t for t in tools if isinstance(t, SkillTool)), None)
    return found.catalog.prompt() if found is not None else ""
