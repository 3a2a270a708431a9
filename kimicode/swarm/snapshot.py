"""The base every sub-agent starts from: HEAD, or a snapshot of a dirty tree.

The snapshot is built in a temporary index file (`GIT_INDEX_FILE`) seeded
with a copy of the user's index, so `git add -A` only re-hashes what changed
and the user's index, working tree and stash list are never written. It is
kept reachable under `refs/kimicode/snapshots/<run_id>` until the run is
cleaned up.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kimicode.git.run import git, git_text
from kimicode.swarm.gitops import identity_env, resolve_commit

SNAPSHOT_PREFIX = "refs/kimicode/snapshots/"


@dataclass(frozen=True, slots=True)
class Base:
    commit: str
    """The commit every worktree of the run checks out."""
    dirty: bool
    """True when `commit` is a snapshot of uncommitted work rather than HEAD."""
    ref: str | None = None
    """The ref keeping a snapshot reachable; None when the base is HEAD itself."""


def snapshot_ref(run_id: str) -> str:
    return SNAPSHOT_PREFIX + run_id


async def is_dirty(repo_root: Path) -> bool:
    """Modified, staged or untracked-not-ignored files (without refreshing the index)."""
    out = await git(
        repo_root, "--no-optional-locks", "status", "--porcelain", "--untracked-files=normal"
    )
    return bool(out.strip())


async def prepare_base(repo_root: Path, run_id: str) -> Base:
    """HEAD for a clean tree; otherwise a snapshot commit of the working tree."""
    head = await resolve_commit(repo_root, "HEAD")
    if head is not None and not await is_dirty(repo_root):
        return Base(commit=head, dirty=False, ref=None)
    tree = await _snapshot_tree(repo_root, head)
    if head is not None and tree == await git_text(repo_root, "rev-parse", f"{head}^{{tree}}"):
        return Base(commit=head, dirty=False, ref=None)
    parents = ["-p", head] if head else []
    message = f"kimicode snapshot of the working tree for run {run_id}"
    env = await identity_env(repo_root)
    args = ("-c", "commit.gpgSign=false", "commit-tree", tree, *parents, "-m", message)
    commit = await git_text(repo_root, *args, env=env)
    ref = snapshot_ref(run_id)
    await git(repo_root, "update-ref", "-m", "kimicode swarm base", ref, commit)
    return Base(commit=commit, dirty=True, ref=ref)


async def _snapshot_tree(repo_root: Path, head: str | None) -> str:
    """The tree of the working tree as `git add -A` sees it, built in a throwaway index."""
    git_dir = Path(await git_text(repo_root, "rev-parse", "--absolute-git-dir"))
    user_index = Path(os.environ.get("GIT_INDEX_FILE") or git_dir / "index")
    fd, tmp_name = tempfile.mkstemp(prefix="kimicode-index-", dir=git_dir)
    os.close(fd)
    tmp_index = Path(tmp_name)
    try:
        # Seeded with the user's index, `add -A` re-hashes only files whose stat changed.
        await asyncio.to_thread(_seed, user_index if head is not None else None, tmp_index)
        env = {"GIT_INDEX_FILE": str(tmp_index)}
        await git(repo_root, "add", "-A", "--", ".", env=env)
        return await git_text(repo_root, "write-tree", env=env)
    finally:
        await asyncio.to_thread(tmp_index.unlink, missing_ok=True)


def _seed(user_index: Path | None, tmp_index: Path) -> None:
    if user_index is not None and user_index.is_file():
        shutil.copyfile(user_index, tmp_index)
    else:
        tmp_index.unlink()
