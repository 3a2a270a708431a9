"""One cheap git worktree per sub-agent: only its own files are checked out.

A full `git worktree add` of a large repo writes every file (on Django's
source: up to 2.4 s and 72 MB per agent). Instead each agent gets a
no-checkout worktree on branch `kimicode/<run>/<agent>` whose index is read
from the base with a one-off sparse pattern listing the files it owns: those
are written to disk, every other entry is marked skip-worktree and served
from the base commit by `SparseWorkspace` until a shell command needs the
whole tree (`complete_checkout`). No shared config is written (no
`extensions.worktreeConfig`), so creating many worktrees at once contends
only on git's own per-ref and per-worktree locks, which `kimicode.git.run.git` retries.
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kimicode.config import SwarmSettings
from kimicode.errors import KimicodeError
from kimicode.git.run import GitError, git
from kimicode.globs import expand
from kimicode.swarm import manifest
from kimicode.swarm.gitops import tree_entries
from kimicode.swarm.snapshot import Base

BRANCH_PREFIX = "kimicode/"
SPARSE = ("-c", "core.sparseCheckout=true", "-c", "core.sparseCheckoutCone=false")


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


def branch_name(run_id: str, agent: str) -> str:
    return f"{BRANCH_PREFIX}{run_id}/{agent}"


def expand_owned(patterns: Iterable[str], files: Iterable[str]) -> list[str]:
    """The files among `files` that the globs own, matched as `Workspace.is_owned` does."""
    return expand(patterns, files)


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

    `settings` is accepted for symmetry with `SparseWorkspace`; shared state
    (`[swarm] link/copy/setup`) is set up when the tree is completed for a shell.
    """
    del settings
    repo_root = Path(repo_root)
    entries = await tree_entries(repo_root, base.commit)
    files = expand_owned(owned, entries)
    path = manifest.worktree_path(repo_root, run_id, agent_name)
    branch = branch_name(run_id, agent_name)
    if path.exists():
        raise KimicodeError(f"worktree {path} already exists: agent names must be unique")
    await manifest.start_run(repo_root, run_id, base.commit, base.ref)
    path.parent.mkdir(parents=True, exist_ok=True)
    await _add_worktree(repo_root, branch, path, base.commit)
    wt = AgentWorktree(
        repo_root=repo_root,
        run_id=run_id,
        agent=agent_name,
        path=path,
        branch=branch,
        base=base.commit,
        owned=list(owned),
        checked_out=files,
        admin_dir=admin_dir_of(path),
    )
    await manifest.update_agent(repo_root, run_id, agent_name, branch=branch, worktree=str(path))
    try:
        await _sparse_read_tree(wt, sparse_patterns(files) if files else "")
    except BaseException:
        await remove_worktree(wt)
        raise
    return wt


# Errors git gives when it reads another worktree's admin dir while that one is
# still being created by a concurrent `git worktree add`.
HALF_CREATED = ("failed to read", "/worktrees/")


async def _add_worktree(repo_root: Path, branch: str, path: Path, commit: str) -> None:
    """`git worktree add --no-checkout`, retried when it trips over a sibling being created."""
    add = ("worktree", "add", "--no-checkout", "-q", "-b", branch, str(path), commit)
    for attempt in range(10):
        try:
            await git(repo_root, *add)
            return
        except GitError as exc:
            if attempt == 9 or not all(m in exc.stderr for m in HALF_CREATED):
                raise
        # Undo whatever the failed attempt got to, then try again a moment later.
        await git(repo_root, "update-ref", "-d", f"refs/heads/{branch}", commit, check=False)
        await asyncio.to_thread(shutil.rmtree, path, ignore_errors=True)
        await asyncio.sleep(0.005 * (attempt + 1) * (1 + random.random()))


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
    await _sparse_read_tree(wt, "/*\n")


async def remove_worktree(wt: AgentWorktree) -> None:
    """Delete the worktree directory and git's record of it; the branch stays."""
    if wt.path.exists():
        try:
            await git(wt.repo_root, "worktree", "remove", "--force", "--force", str(wt.path))
        except GitError:
            shutil.rmtree(wt.path, ignore_errors=True)
            await git(wt.repo_root, "worktree", "prune", check=False)
    else:
        await git(wt.repo_root, "worktree", "prune", check=False)
    await manifest.update_agent(wt.repo_root, wt.run_id, wt.agent, removed=True)
