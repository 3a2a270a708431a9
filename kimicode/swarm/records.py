"""The plain records of a sub-agent's git state: its worktree and its commit.

Kept apart from the code that makes them (`worktrees`, `worktree_batch`,
`commit`, `commit_batch`) so that the batched ways and the per-agent ways can
share them without importing each other.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kimicode.globs import expand

BRANCH_PREFIX = "kimicode/"
COMPLETE_MARK = "kimicode-complete"


@dataclass(slots=True)
class AgentWorktree:
    repo_root: Path
    run_id: str
    agent: str
    path: Path
    branch: str
    base: str
    """The base commit (HEAD or the run's snapshot)."""
    owned: list[str]
    """The agent's globs, as given."""
    checked_out: list[str] = field(default_factory=list)
    """Base files written to disk at creation (the owned globs expanded)."""
    admin_dir: Path | None = None
    """The worktree's private git dir (`.git/worktrees/<name>`)."""
    complete: bool = False
    """The whole base is on disk (a shell ran): only git can tell what changed."""
    laid_out: bool = False
    """Made by this process with exactly `checked_out` on disk (a reopened one is not)."""

    @property
    def completed(self) -> bool:
        """`complete`, or marked so in its git dir (by another process, say a resumed run)."""
        if self.complete:
            return True
        return self.admin_dir is not None and (self.admin_dir / COMPLETE_MARK).exists()


def branch_name(run_id: str, agent: str) -> str:
    return f"{BRANCH_PREFIX}{run_id}/{agent}"


def expand_owned(patterns: Iterable[str], files: Iterable[str]) -> list[str]:
    """The files among `files` that the globs own, matched as `Workspace.is_owned` does."""
    return expand(patterns, files)


def pinned(wt: AgentWorktree) -> dict[str, str]:
    """The gitdir kimicode made for this worktree, whatever its `.git` file says now."""
    if wt.admin_dir is None:
        return {}
    return {"GIT_DIR": str(wt.admin_dir), "GIT_WORK_TREE": str(wt.path)}


def files_on_disk(root: Path) -> list[str]:
    """Every file and symlink under a worktree (relative, posix), its `.git` left out.

    Symlinked directories are not followed, and a directory holding its own
    `.git` (a repository inside) is not entered.
    """
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        rel = here.relative_to(root).as_posix()
        prefix = "" if rel == "." else rel + "/"
        kept = []
        for name in dirs:
            full = here / name
            if full.is_symlink():
                found.append(prefix + name)
            elif not (full / ".git").exists():
                kept.append(name)
        dirs[:] = kept
        found += [prefix + f for f in files if prefix or f != ".git"]
    return found


@dataclass(slots=True)
class AgentCommit:
    worktree: AgentWorktree
    commit: str | None
    """The branch's new tip, or None when the agent changed none of its files."""
    message: str
    changed: list[str] = field(default_factory=list)
    """Owned files changed, added or deleted (relative, posix)."""
    outside: list[str] = field(default_factory=list)
    """Files changed that the agent does not own: reported, never committed or merged."""
    diffstat: str = ""

    @property
    def agent(self) -> str:
        return self.worktree.agent

    @property
    def branch(self) -> str:
        return self.worktree.branch

    @property
    def base(self) -> str:
        return self.worktree.base
