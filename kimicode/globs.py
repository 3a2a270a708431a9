"""Path globs with one meaning for the glob tool, permission rules and swarm ownership.

A pattern names posix paths relative to the project root (permission rules
may also give absolute paths). The grammar is wcmatch's, with these flags:

- `*`, `?` and `[abc]` / `[!abc]` stay inside one path segment and match
  dot-files too: `src/*.py` matches `src/app.py`, not `src/a/b.py`;
- `**` spans directories, none or many: `src/**/*.py` matches `src/app.py`
  and `src/a/b/c.py`;
- `{a,b}` lists alternatives: `src/*.{ts,tsx}`;
- a pattern covers what is inside the paths it names, so a directory pattern
  (`src`, `src/`, `src/ui`) matches every file beneath it; one ending in `*`
  stays at its own depth (`src/*` is src's direct entries), and `src/**`
  also names `src` itself;
- a leading `./` and a trailing `/` are ignored.

Searches (the glob tool, grep's `glob`) add one convenience, as .gitignore
and ripgrep do: a pattern without a slash is looked for at any depth
(`*.py` is `**/*.py`). Rules and ownership name paths, so `.env` there is the
root's `.env` only.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from functools import lru_cache, partial
from typing import Protocol

from wcmatch import glob as _wc

from kimicode.errors import ToolError

FLAGS = _wc.GLOBSTAR | _wc.BRACE | _wc.DOTGLOB | _wc.CASE | _wc.FORCEUNIX
GLOB_CHARS = frozenset("*?[{")


class Matcher(Protocol):
    def match(self, path: str) -> bool: ...


def normalize(pattern: str, *, search: bool = False) -> str:
    """The pattern without `./` and trailing `/`; for searches, `**/` before a bare name."""
    pattern = pattern.strip()
    while pattern.startswith("./"):
        pattern = pattern[2:]
    if len(pattern) > 1:
        pattern = pattern.rstrip("/") or "/"
    if search and "/" not in pattern:
        pattern = "**/" + pattern
    return pattern


def is_literal(pattern: str) -> bool:
    """True when the pattern has no glob characters: it names one path."""
    return not any(ch in GLOB_CHARS for ch in pattern)


def literal_prefix(pattern: str) -> str:
    """The directories before the first glob character (`src/ui/*.ts` -> `src/ui/`)."""
    first = min((i for i, ch in enumerate(pattern) if ch in GLOB_CHARS), default=len(pattern))
    return pattern[: pattern.rfind("/", 0, first) + 1]


@lru_cache(maxsize=1024)
def compile_glob(pattern: str, *, search: bool = False) -> Matcher:
    """A matcher for the pattern; `search=True` for the glob tool's bare-name convenience."""
    if not pattern.strip():
        raise ToolError("the glob pattern is empty")
    text = normalize(pattern, search=search)
    alternatives = [text]
    if not text.endswith("*"):
        alternatives.append(text.rstrip("/") + "/**")
    elif text.endswith("/**"):
        alternatives.append(text[:-3] or "/")
    return _wc.compile(alternatives, flags=FLAGS)


def glob_match(pattern: str, path: str, *, search: bool = False) -> bool:
    """Does `pattern` cover `path` (relative posix, or absolute for rules)?"""
    literal = _literal_text(pattern, search)
    if literal is not None and "/." not in "/" + path:
        return path == literal or path.startswith(literal + "/")
    return bool(compile_glob(pattern, search=search).match(path))


@lru_cache(maxsize=4096)
def _literal_text(pattern: str, search: bool) -> str | None:
    """The path a pattern without glob characters names, or None to leave it to wcmatch.

    A swarm's ownership checks are mostly literal paths (`out/t042.txt`), and compiling
    each into a wcmatch matcher cost more than the check. The path comparison is what
    the matcher does for them: the path itself, or anything beneath it. Escapes, the
    root, and paths with dot segments (`..`, dot-files) still go to wcmatch.
    """
    if not pattern.strip():
        return None
    text = normalize(pattern, search=search)
    if text in ("", "/") or "\\" in text or any(ch in GLOB_CHARS for ch in text):
        return None
    return text


def matches_any(patterns: Iterable[str], path: str) -> bool:
    return any(glob_match(p, path) for p in patterns)


def expand(patterns: Iterable[str], files: Iterable[str]) -> list[str]:
    """The files among `files` that any pattern covers, sorted (ownership's expansion)."""
    ordered = sorted(files)
    found: set[str] = set()
    for pattern in patterns:
        text = normalize(pattern).lstrip("/")
        if not text:
            continue
        literal = is_literal(text)
        match = partial(glob_match, text) if literal else compile_glob(text).match
        prefix = text if literal else literal_prefix(text)
        # Every match starts with the literal prefix: only that run of the sorted list is read.
        for path in ordered[bisect_left(ordered, prefix) :]:
            if not path.startswith(prefix):
                break
            if match(path):
                found.add(path)
    return sorted(found)
