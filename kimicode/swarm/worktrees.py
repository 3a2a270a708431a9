"""One cheap git worktree per sub-agent: only its own files are checked out.

A full `git worktree add` of a large repo writes every file (on Django's
source: up to 2.4 s and 72 MB per agent). Instead each agent gets a worktree
on branch `kimicode/<run>/<agent>` with only the files it owns on disk; every
other index entry is marked skip-worktree and served from the base commit by
`SparseWorkspace` until a shell command needs the whole tree
(`complete_checkout`). The worktrees of agents that start together are made
in one batch (`worktree_batch`): one `update-ref --stdin` creates all their
branches, the shared `cat-file --batch` reads their files, and each worktree's
private git dir and index are written directly, as `git worktree add` lays
them out. No shared config is written (no `extensions.worktreeConfig`).
Removing one is deleting its two directories: no git process either.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

from kimicode.config import SwarmSettings
from kimicode.errors import KimicodeError
from kimicode.git.run import GitError, git
from kimicode.swarm import manifest
from kimicode.swarm.records import (
    BRANCH_PREFIX,
    COMPLETE_MARK,
    AgentWorktree,
    branch_name,
    expand_owned,
    files_on_disk,
    pinned,
)
from kimicode.swarm.snapshot import Base
from kimicode.swarm.worktree_batch import WorktreeRequest, create_batched

__all__ = [
    "BRANCH_PREFIX",
    "AgentWorktree",
    "admin_dir_of",
    "branch_name",
    "complete_checkout",
    "create_worktree",
    "expand_owned",
    "files_on_disk",
    "pinned",
    "remove_worktree",
    "remove_worktrees",
    "sparse_patterns",
]

SPARSE = ("-c", "core.sparseCheckout=true", "-c", "core.sparseCheckoutCone=false")


def sparse_patterns(paths: Iterable[str]) -> str:
    """Non-cone sparse-checkout lines matching exactly these files."""
    lines = []
    for path in paths:
        escaped = re.sub(r"([\\*?\[\]!#])", r"\\\1", path)
        if escaped.endswith(" "):
            escaped = escaped[:-1] + "\\ "
        lines.append("/" + escaped)
    return "\n".join(lines) + "\n"


def admin_dir_of(worktree: Path) -> Path:
    """The private git dir named by a linked worktree's `.git` file."""
    text = (worktree / ".git").read_text(encoding="utf-8").strip()
    if not text.startswith("gitdir:"):
        raise KimicodeError(f"{worktree} is not a linked git worktree")
    admin = Path(text.split(":", 1)[1].strip())
    return admin if admin.is_absolute() else (worktree / admin).resolve()


async def create_worktree(
    repo_root: Path,
    base: Base,
    run_id: str,
    agent_name: str,
    owned: list[str],
    settings: SwarmSettings | None = None,
) -> AgentWorktree:
    """A worktree of `base` on `kimicode/<run_id>/<agent_name>` with the owned files on disk.

    Agents created within a few milliseconds of each other share one batch.
    `settings` is accepted for symmetry with `SparseWorkspace`; shared state
    (`[swarm] link/copy/setup`) is set up when the tree is completed for a shell.
    """
    del settings
    request = WorktreeRequest(Path(repo_root), base, run_id, agent_name, list(owned))
    return await create_batched(request, on_abandoned=remove_worktree)


async def _sparse_read_tree(wt: AgentWorktree, patterns: str) -> None:
    """Fill the worktree's index from HEAD, writing only files the patterns match."""
    assert wt.admin_dir is not None
    info = wt.admin_dir / "info"
    info.mkdir(exist_ok=True)
    sparse_file = info / "sparse-checkout"
    # An empty pattern file would mean "nothing" to git, and a non-matching
    # pattern keeps git from treating it as a misconfiguration.
    sparse_file.write_text(patterns or "/.kimicode-no-files-owned\n", encoding="utf-8")
    try:
        await git(wt.path, *SPARSE, "read-tree", "-mu", "HEAD")
    finally:
        sparse_file.unlink(missing_ok=True)


async def complete_checkout(wt: AgentWorktree) -> None:
    """Write every base file to disk, keeping the agent's edits, creations and deletions."""
    wt.complete = True
    if wt.admin_dir is not None:
        await asyncio.to_thread((wt.admin_dir / COMPLETE_MARK).write_text, "", "utf-8")
    await _sparse_read_tree(wt, "/*\n")


async def remove_worktree(wt: AgentWorktree) -> None:
    """Delete the worktree directory and git's record of it; the branch stays."""
    await remove_worktrees([wt])


async def remove_worktrees(wts: Sequence[AgentWorktree]) -> None:
    """`remove_worktree` for many: the directories deleted in a few worker-thread calls
    (a call each was a merge's largest cost at 300 agents), git asked only for any
    worktree that is not plainly ours, and the manifest told in one write."""
    chunks = [wts[i : i + _REMOVE_CHUNK] for i in range(0, len(wts), _REMOVE_CHUNK)]
    done = await asyncio.gather(*(asyncio.to_thread(_remove_each, c) for c in chunks))
    removed = [ok for chunk in done for ok in chunk]
    slow = [wt for wt, ok in zip(wts, removed, strict=True) if not ok]
    await asyncio.gather(*(_remove_with_git(wt) for wt in slow))
    await asyncio.gather(
        *(manifest.update_agent(wt.repo_root, wt.run_id, wt.agent, removed=True) for wt in wts)
    )


_REMOVE_CHUNK = 50


def _remove_each(wts: Sequence[AgentWorktree]) -> list[bool]:
    return [_remove_directly(wt) for wt in wts]


async def _remove_with_git(wt: AgentWorktree) -> None:
    if wt.path.exists():
        try:
            await git(wt.repo_root, "worktree", "remove", "--force", "--force", str(wt.path))
        except GitError:
            shutil.rmtree(wt.path, ignore_errors=True)
            await git(wt.repo_root, "worktree", "prune", check=False)
    else:
        await git(wt.repo_root, "worktree", "prune", check=False)


def _remove_directly(wt: AgentWorktree) -> bool:
    """What `git worktree remove --force --force` does, when both directories are ours.

    The worktree must lie in kimicode's worktrees folder and its private dir
    must be a `worktrees/<name>` entry whose `gitdir` names it; otherwise
    False, and git is asked.
    """
    ours = manifest.worktrees_dir(wt.repo_root)
    if wt.admin_dir is None:
        return not os.path.lexists(wt.path)  # nothing of ours on this machine (a Ray agent)
    if ours not in wt.path.parents or wt.admin_dir.parent.name != "worktrees":
        return False
    try:
        gitdir = (wt.admin_dir / "gitdir").read_text(encoding="utf-8").strip()
    except OSError:
        gitdir = ""
    if gitdir and Path(gitdir) != wt.path / ".git":
        return False
    shutil.rmtree(wt.path, ignore_errors=True)
    if os.path.lexists(wt.path):
        return False
    shutil.rmtree(wt.admin_dir, ignore_errors=True)
    return True
