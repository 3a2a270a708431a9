"""Git bundles: how a swarm's base reaches another machine and an agent's work comes back.

No shared filesystem is assumed. The driver bundles the base commit once per
run; each node unpacks it once into a repository in its own cache (keyed by
the commit, so a second run from the same base reuses it) and makes the
agents' worktrees there. An agent's branch comes back as a bundle of the
commits after the base, fetched into the user's repository under the same
branch name, where the merge treats it exactly like local work.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
from pathlib import Path

from kimicode.git.run import git
from kimicode.swarm.gitops import resolve_commit

BUNDLE_NS = "refs/kimicode/bundle"
"""Where the base is named while it is bundled (a bundle holds refs, not bare commits)."""


async def bundle_base(root: Path, commit: str) -> bytes:
    """A bundle holding `commit` and its history, as bytes."""
    ref = f"{BUNDLE_NS}/{commit[:12]}"
    await git(root, "update-ref", ref, commit)
    try:
        return await _bundle(root, [ref])
    finally:
        await git(root, "update-ref", "-d", ref, check=False)


async def bundle_branch(repo: Path, branch: str, base: str) -> bytes:
    """The commits of `branch` after `base`, or b"" when the branch holds none."""
    tip = await resolve_commit(repo, f"refs/heads/{branch}")
    if tip is None or tip == base:
        return b""
    return await _bundle(repo, [f"refs/heads/{branch}", f"^{base}"])


async def unpack_base(data: bytes, commit: str, cache: Path) -> Path:
    """A repository on this node that has `commit`, made from the bundle at most once."""
    repo = cache / "ray-bases" / commit
    repo.parent.mkdir(parents=True, exist_ok=True)
    lock = await asyncio.to_thread(_lock, repo.parent / f"{commit}.lock")
    try:
        if (repo / ".git").is_dir() and await resolve_commit(repo, commit) == commit:
            return repo
        repo.mkdir(exist_ok=True)
        await git(repo, "init", "-q")
        await _fetch(repo, data, f"+{BUNDLE_NS}/*:refs/kimicode/base/*")
        if await resolve_commit(repo, commit) != commit:
            raise RuntimeError(f"the base bundle does not hold commit {commit}")
        await git(repo, "update-ref", "refs/kimicode/base/run", commit)
        return repo
    finally:
        await asyncio.to_thread(_unlock, lock)


async def fetch_branch(root: Path, data: bytes, branch: str) -> str:
    """Fetch an agent's bundle into `root` as `refs/heads/<branch>`; the branch's tip."""
    ref = f"refs/heads/{branch}"
    await _fetch(root, data, f"+{ref}:{ref}")
    tip = await resolve_commit(root, ref)
    if tip is None:
        raise RuntimeError(f"the bundle for {branch} did not hold the branch")
    return tip


async def _bundle(repo: Path, revs: list[str]) -> bytes:
    fd, name = tempfile.mkstemp(prefix="kimicode-", suffix=".bundle")
    os.close(fd)
    try:
        await git(repo, "bundle", "create", "-q", name, *revs)
        return await asyncio.to_thread(Path(name).read_bytes)
    finally:
        os.unlink(name)


async def _fetch(repo: Path, data: bytes, refspec: str) -> None:
    fd, name = tempfile.mkstemp(prefix="kimicode-", suffix=".bundle")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        await git(repo, "fetch", "-q", "--no-tags", name, refspec)
    finally:
        os.unlink(name)


def _lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _unlock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
