"""Finding Agent Skills: `<dir>/<name>/SKILL.md` with `name` and `description` up front.

Skills come from the project (`.agents/skills/`, `.kimicode/skills/`) and the
user (`~/.config/kimicode/skills/`); the first folder that defines a name wins.
Only the header is read here: the body and the files beside it are loaded when
the model asks for the skill, so a hundred skills cost a hundred lines of prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from kimicode.frontmatter import FrontMatterError, parse
from kimicode.paths import config_dir

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MAX_DESCRIPTION = 1024
MAX_HEADER_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Skill:
    name: str
    description: str
    path: Path
    """The SKILL.md file."""
    source: str
    """The folder it was found in, as the user would write it."""

    @property
    def folder(self) -> Path:
        return self.path.parent


@dataclass(frozen=True, slots=True)
class SkippedSkill:
    path: Path
    reason: str


@dataclass(frozen=True, slots=True)
class SkillCatalog:
    skills: list[Skill] = field(default_factory=list)
    skipped: list[SkippedSkill] = field(default_factory=list)

    def get(self, name: str) -> Skill | None:
        return next((s for s in self.skills if s.name == name), None)

    def prompt(self) -> str:
        """The system-prompt section: one line per skill, or nothing."""
        if not self.skills:
            return ""
        lines = [
            "# Agent Skills",
            "",
            "These skills hold instructions for particular kinds of task. When a task "
            "calls for one, load it with the `skill` tool before you start, then follow it.",
            "",
        ]
        lines += [f"- {s.name}: {s.description}" for s in self.skills]
        return "\n".join(lines)


def skill_dirs(root: Path) -> list[tuple[Path, str]]:
    """Where skills are looked for, first wins: (folder, how to show it)."""
    user = config_dir() / "skills"
    return [
        (root / ".agents" / "skills", ".agents/skills"),
        (root / ".kimicode" / "skills", ".kimicode/skills"),
        (user, str(user)),
    ]


def discover(root: Path) -> SkillCatalog:
    """Every skill under the skill folders; malformed ones are skipped with the reason."""
    skills: list[Skill] = []
    skipped: list[SkippedSkill] = []
    seen: set[str] = set()
    for folder, shown in skill_dirs(root):
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            path = entry / "SKILL.md"
            if not entry.is_dir() or not path.is_file():
                continue
            try:
                skill = _read(path, entry.name, shown)
            except (FrontMatterError, OSError, UnicodeDecodeError) as exc:
                skipped.append(SkippedSkill(path, str(exc)))
                continue
            if skill.name in seen:
                skipped.append(SkippedSkill(path, f"{skill.name!r} is defined earlier"))
                continue
            seen.add(skill.name)
            skills.append(skill)
    return SkillCatalog(skills, skipped)


def _read(path: Path, folder_name: str, source: str) -> Skill:
    with path.open("rb") as fh:
        head = fh.read(MAX_HEADER_BYTES).decode("utf-8")
    meta = parse(head).meta
    name, description = meta.get("name"), meta.get("description")
    if not isinstance(name, str) or not name.strip():
        raise FrontMatterError("front matter has no `name`")
    if not isinstance(description, str) or not description.strip():
        raise FrontMatterError("front matter has no `description`")
    name = name.strip()
    if not NAME.match(name):
        raise FrontMatterError(
            f"name {name!r} must be lowercase letters, digits, `-`, `_` or `.` (at most 64)"
        )
    if name != folder_name:
        raise FrontMatterError(f"name {name!r} does not match its folder {folder_name!r}")
    description = " ".join(description.split())[:MAX_DESCRIPTION]
    return Skill(name=name, description=description, path=path, source=source)
