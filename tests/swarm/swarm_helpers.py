"""Helpers for the swarm git-layer tests: real git, real files."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kimicode.config import SwarmSettings
from kimicode.swarm.snapshot import Base, prepare_base
from kimicode.swarm.worktrees import AgentWorktree, create_worktree


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


async def make_worktree(
    repo: Path, name: str, owned: list[str], *, run_id: str = "run1", base: Base | None = None
) -> AgentWorktree:
    base = base or await prepare_base(repo, run_id)
    return await create_worktree(repo, base, run_id, name, owned, SwarmSettings())


def on_disk(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if (p.is_file() or p.is_symlink()) and ".git" not in p.relative_to(root).parts
    }


def branches(repo: Path) -> list[str]:
    refs = git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/kimicode/")
    return refs.split()


def temp_files(root: Path) -> list[Path]:
    """Leftover temp files of an atomic write."""
    return list(root.rglob("*.kimicode-*"))
