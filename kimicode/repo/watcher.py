"""Watching the repo for saved files, and reading the instructions left in them.

`watch_changes` yields debounced batches of changed paths, .gitignore'd files,
.git/ and .kimicode/ left out. The helpers below turn a batch into work: the
AI!/AI? comments to act on, and whether a page needs a visual re-check.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from watchfiles import DefaultFilter, awatch

from kimicode.git.run import git_sync_result
from kimicode.repo.comments import AIComment, find_ai_comments

FRONTEND_SUFFIXES = frozenset(
    {".html", ".htm", ".css", ".js", ".mjs", ".jsx", ".ts", ".tsx", ".vue", ".svelte"}
)
MAX_SCAN_BYTES = 1_000_000


class _RepoFilter(DefaultFilter):
    """watchfiles' usual ignores (.git, __pycache__, node_modules, editor swap files) and ours."""

    ignore_dirs = (*DefaultFilter.ignore_dirs, ".kimicode")


async def watch_changes(
    root: Path, *, debounce_ms: int = 300, stop: asyncio.Event | None = None
) -> AsyncIterator[set[Path]]:
    """Batches of changed (created, modified or deleted) files under `root`, until `stop` is set."""
    root = await asyncio.to_thread(Path(root).resolve)
    async for changes in awatch(
        root,
        watch_filter=_RepoFilter(),
        debounce=debounce_ms,
        step=min(50, max(debounce_ms // 4, 10)),
        stop_event=stop,
    ):
        paths = {Path(p) for _, p in changes}
        kept = await asyncio.to_thread(drop_ignored, root, paths)
        if kept:
            yield kept


def drop_ignored(root: Path, paths: Iterable[Path]) -> set[Path]:
    """`paths` without those git ignores (or inside .git/ and .kimicode/)."""
    inside: dict[str, Path] = {}
    for path in paths:
        try:
            rel = (
                path.resolve().relative_to(root).as_posix()
                if path.is_absolute()
                else path.as_posix()
            )
        except ValueError:
            continue
        top = rel.split("/", 1)[0]
        if top in (".git", ".kimicode"):
            continue
        inside[rel] = path
    if not inside:
        return set()
    try:
        result = git_sync_result(
            root,
            "check-ignore",
            "--no-index",
            "-z",
            "--stdin",
            input="\0".join(inside).encode("utf-8", "surrogateescape"),
        )
    except OSError:
        return set(inside.values())
    if result.returncode not in (0, 1):  # 128: not a git repository
        return set(inside.values())
    ignored = {p for p in result.stdout.decode("utf-8", "surrogateescape").split("\0") if p}
    return {path for rel, path in inside.items() if rel not in ignored}


def scan_for_instructions(paths: Iterable[Path], root: Path) -> list[tuple[Path, list[AIComment]]]:
    """The AI!/AI? comments in each changed file that still exists, by path."""
    root = Path(root).resolve()
    found: list[tuple[Path, list[AIComment]]] = []
    for path in sorted(set(paths)):
        full = path if path.is_absolute() else root / path
        try:
            if not full.is_file() or full.stat().st_size > MAX_SCAN_BYTES:
                continue
            data = full.read_bytes()
        except OSError:
            continue
        if b"\0" in data[:8192]:
            continue
        try:
            rel = full.resolve().relative_to(root).as_posix()
        except ValueError:
            rel = full.as_posix()
        comments = find_ai_comments(data.decode("utf-8", "replace"), rel)
        if comments:
            found.append((full, comments))
    return found


def is_frontend_file(path: Path | str) -> bool:
    """Whether saving this file should re-render the watched pages."""
    return Path(path).suffix.lower() in FRONTEND_SUFFIXES
