"""The repo map: the files and definitions most relevant to a task, within a token budget.

    map = RepoMap(project_root)
    text = await map.render("make the retry loop honour Retry-After")

The expensive part (parsing every file) is cached per file on disk and does not
depend on the task; ranking and rendering are cheap and redone per call.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from kimicode.repo.cache import TagsCache, cache_path
from kimicode.repo.ranking import RankedDefinition, rank
from kimicode.repo.scan import scan
from kimicode.tools.workspace import list_files

DEFAULT_TOKEN_BUDGET = 2000
CHARS_PER_TOKEN = 4
"""Source text averages about four characters per token for the tokenizers we target."""


def estimate_tokens(text: str) -> int:
    return (len(text) + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


class RepoMap:
    """A ranked, budgeted listing of a repository's files and their key definitions."""

    def __init__(self, root: Path, *, cache_dir: Path | None = None) -> None:
        self.root = Path(root).resolve()
        self._cache_file = cache_path(self.root, cache_dir)
        self._cache: TagsCache | None = None
        self._lock = threading.Lock()

    async def render(
        self,
        task: str = "",
        *,
        files: list[str] | None = None,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
    ) -> str:
        """The map for `task` over `files` (default: tracked and untracked-not-ignored)."""
        return await asyncio.to_thread(
            self.render_sync, task, files=files, token_budget=token_budget
        )

    def render_sync(
        self,
        task: str = "",
        *,
        files: list[str] | None = None,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
    ) -> str:
        with self._lock:
            candidates = list_files(self.root) if files is None else sorted(set(files))
            if self._cache is None:
                self._cache = TagsCache(self._cache_file)
            tags = scan(self.root, candidates, self._cache)
        limit = max(1, token_budget * CHARS_PER_TOKEN // 8)
        ranked, named_files = rank(tags, task, limit=limit)
        named_files = [p for p in named_files if p not in tags]
        return fit_to_budget(ranked, named_files, tags, token_budget)

    def close(self) -> None:
        with self._lock:
            if self._cache is not None:
                self._cache.close()
                self._cache = None


def fit_to_budget(
    ranked: list[RankedDefinition],
    named_files: list[str],
    tags: dict[str, Any],
    token_budget: int,
) -> str:
    """The largest prefix of `ranked` whose listing fits `token_budget` (binary search)."""
    best = _listing(ranked[:0], named_files, tags)
    if estimate_tokens(best) > token_budget:
        return ""
    lo, hi = 1, len(ranked)
    while lo <= hi:
        mid = (lo + hi) // 2
        text = _listing(ranked[:mid], named_files, tags)
        if estimate_tokens(text) <= token_budget:
            best, lo = text, mid + 1
        else:
            hi = mid - 1
    return best


def _listing(chosen: list[RankedDefinition], named_files: list[str], tags: dict[str, Any]) -> str:
    """Files in order of their best definition; each file's lines in source order."""
    by_file: dict[str, set[int]] = {}
    for d in chosen:
        by_file.setdefault(d.path, set()).add(d.line)
    blocks = [f"{path}\n" for path in named_files]
    for path, lines in by_file.items():
        shown = _with_parents(tags[path][0], lines)
        body = "".join(f"⋮ {text}\n" for _, text in shown)
        blocks.append(f"{path}:\n{body}")
    return "".join(blocks)


def _with_parents(defs: list[tuple[str, str, int, str]], lines: set[int]) -> list[tuple[int, str]]:
    """The chosen definition lines plus the enclosing class/function line of each."""
    rows = sorted({(d[2], d[3]) for d in defs})
    chosen: dict[int, str] = {}
    for k, (line, text) in enumerate(rows):
        if line not in lines:
            continue
        chosen[line] = text
        indent = _indent(text)
        for prev_line, prev_text in reversed(rows[:k]):
            if indent == 0:
                break
            prev_indent = _indent(prev_text)
            if prev_indent < indent:
                chosen[prev_line] = prev_text
                indent = prev_indent
    return sorted(chosen.items())


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip())
