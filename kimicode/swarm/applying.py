"""The blocking half of a merge: writing files and committing them (run in a worker thread).

Writing is two-phase so a failure part-way leaves the tree untouched: first
every new content goes to a temp file beside its target, then each target is
swapped in with `os.replace` (atomic per file) and deletions are done.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from kimicode.git.run import git_sync
from kimicode.swarm.gitops import split_z


@dataclass(frozen=True, slots=True)
class FileWrite:
    path: str
    mode: str
    """git mode: 100644, 100755 or 120000 (symlink)."""
    data: bytes | None
    """None deletes the file."""


def _permissions(target: Path, mode: str) -> int:
    try:
        current = target.stat().st_mode & 0o777
    except OSError:
        current = 0o644
    if mode == "100755":
        return current | ((current & 0o444) >> 2)
    return current & ~0o111


def write_files(root: Path, writes: list[FileWrite]) -> None:
    staged: list[tuple[Path, Path]] = []
    made_dirs: list[Path] = []
    try:
        for w in writes:
            if w.data is None:
                continue
            target = root / w.path
            missing = [p for p in [target.parent, *target.parent.parents] if not p.exists()]
            target.parent.mkdir(parents=True, exist_ok=True)
            made_dirs.extend(reversed([p for p in missing if root in p.parents]))
            tmp = target.with_name(f".{target.name}.kimicode-{secrets.token_hex(4)}")
            if w.mode == "120000":
                os.symlink(os.fsdecode(w.data), tmp)
            else:
                tmp.write_bytes(w.data)
                os.chmod(tmp, _permissions(target, w.mode))
            staged.append((tmp, target))
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                tmp.unlink()
        for folder in reversed(made_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    for w in writes:
        if w.data is None:
            target = root / w.path
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            _prune_empty_dirs(root, target.parent)


def _prune_empty_dirs(root: Path, folder: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def commit_agent_files(root: Path, paths: list[str], message: str) -> str:
    """Commit exactly `paths` (as they are on disk) with `message`; other staged work stays."""
    literal = {"GIT_LITERAL_PATHSPECS": "1"}
    tracked = set(split_z(git_sync(root, "ls-files", "-z", "--", *paths, env=literal)))
    new = [p for p in paths if p not in tracked and (root / p).exists()]
    if new:
        git_sync(root, "add", "--", *new, env=literal)
    paths = [p for p in paths if p in tracked or p in new]
    if not paths:
        return ""
    spec = ("\0".join(paths) + "\0").encode("utf-8", "surrogateescape")
    git_sync(
        root, "commit", "-q", "--only", "-m", message,
        "--pathspec-from-file=-", "--pathspec-file-nul",
        input=spec, env=literal,
    )  # fmt: skip
    return git_sync(root, "rev-parse", "HEAD").decode().strip()
