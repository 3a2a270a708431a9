"""The swarm's questions to git: top directory, identity, commits, a commit's files.

Commands go through `kimicode.git.run` (hardened, async) as plain asyncio
subprocesses rather than gitpython calls through `asyncio.to_thread`. A
gitpython call spawns the same `git` process underneath (100 parallel
`git rev-parse` measured about the same both ways on Django's source: 84 ms
threaded, 100 ms direct), but a subprocess can be killed when its task is
cancelled, and a hundred agents are not queued behind the default thread
pool's `cpu_count + 4` workers. The top directory, once found with gitpython,
is `git rev-parse` too: importing gitpython cost each swarm about 35 ms before
its first agent could start, the plumbing call about 3 ms.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from kimicode.errors import KimicodeError
from kimicode.git.run import git, git_result

FALLBACK_NAME = "kimicode"
FALLBACK_EMAIL = "kimicode@localhost"


def split_z(out: bytes) -> list[str]:
    """NUL-separated git output as strings (paths keep undecodable bytes)."""
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


async def repo_toplevel(path: Path) -> Path:
    """The top directory of the repository containing `path` (real path)."""
    try:
        # any owner: this query runs nothing, and a subdirectory of a repository someone
        # else owns is not the directory the hardening marks safe
        code, out, _ = await git_result(
            path, "-c", "safe.directory=*", "rev-parse", "--show-toplevel"
        )
    except OSError:  # `path` does not exist (or is not a directory)
        code, out = 1, b""
    top = out.decode("utf-8", "surrogateescape").strip()
    if code != 0 or not top:
        raise KimicodeError(
            f"{path} is not inside a git repository; the swarm needs one (`git init`, "
            "then commit) so each sub-agent can work in its own worktree"
        )
    return Path(await asyncio.to_thread(os.path.realpath, top))


_identity_cache: dict[str, dict[str, str]] = {}


async def identity_env(repo_root: Path) -> dict[str, str]:
    """Author/committer variables when the repo has no identity configured, else {}."""
    key = str(repo_root)
    if key not in _identity_cache:
        name = await git(repo_root, "config", "user.name", check=False)
        email = await git(repo_root, "config", "user.email", check=False)
        env: dict[str, str] = {}
        if not name.strip():
            env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = FALLBACK_NAME
        if not email.strip():
            env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = FALLBACK_EMAIL
        _identity_cache[key] = env
    return dict(_identity_cache[key])


async def resolve_commit(repo_root: Path, rev: str) -> str | None:
    out = await git(repo_root, "rev-parse", "-q", "--verify", f"{rev}^{{commit}}", check=False)
    return out.decode().strip() or None


_tree_cache: dict[tuple[str, str], asyncio.Task[TreeListing]] = {}


@dataclass(frozen=True, slots=True)
class TreeListing:
    files: dict[str, tuple[str, str]]
    """path -> (mode, blob sha) for every file."""
    gitlinks: dict[str, str]
    """path -> commit sha of every submodule (no content to serve, but in an index)."""


async def tree_entries(repo_root: Path, commit: str) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob sha) for every file of `commit`.

    Cached per commit (commits never change) and shared by concurrent callers, so a
    hundred agents created at once list the base tree once. Callers must not mutate it.
    """
    return (await tree_listing(repo_root, commit)).files


async def tree_listing(repo_root: Path, commit: str) -> TreeListing:
    """Every file and submodule of `commit`, listed once per commit (see `tree_entries`)."""
    key = (str(repo_root), commit)
    task = _tree_cache.get(key)
    if task is None or task.get_loop() is not asyncio.get_running_loop():
        if len(_tree_cache) > 16:
            _tree_cache.clear()
        task = asyncio.ensure_future(_list_tree(repo_root, commit))
        _tree_cache[key] = task
    try:
        return await asyncio.shield(task)
    except Exception:
        _tree_cache.pop(key, None)
        raise


async def _list_tree(repo_root: Path, commit: str) -> TreeListing:
    out = await git(repo_root, "ls-tree", "-r", "-z", "--full-tree", commit)
    listing = TreeListing({}, {})
    for record in split_z(out):
        meta, path = record.split("\t", 1)
        mode, kind, sha = meta.split(" ")
        if kind == "commit":
            listing.gitlinks[path] = sha
        else:
            listing.files[path] = (mode, sha)
    return listing


_common: dict[str, Path] = {}


async def common_dir(repo_root: Path) -> Path:
    """The repository's shared git dir (`.git`, or the main one when `repo_root` is a
    linked worktree itself): where new worktrees' private dirs go."""
    key = str(repo_root)
    if key not in _common:
        args = ("rev-parse", "--path-format=absolute", "--git-common-dir")
        out = await git(repo_root, *args)
        _common[key] = Path(out.decode("utf-8", "surrogateescape").strip())
    return _common[key]
