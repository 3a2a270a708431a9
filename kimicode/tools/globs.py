"""Glob patterns over relative posix paths, shared by the glob and grep tools.

`*` and `?` stay inside one path segment, `**` spans directories, `[abc]` and
`{a,b}` work as in a shell. A pattern without a slash matches a file's name in
any directory (`*.py`), the way .gitignore and ripgrep's `--glob` read it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from kimicode.errors import ToolError


def expand_braces(pattern: str) -> list[str]:
    """`src/*.{ts,tsx}` -> [`src/*.ts`, `src/*.tsx`] (nested braces too)."""
    depth, start = 0, -1
    for i, ch in enumerate(pattern):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                options = _split_top_level(pattern[start + 1 : i])
                head, tail = pattern[:start], pattern[i + 1 :]
                return [x for opt in options for x in expand_braces(head + opt + tail)]
    return [pattern]


def _split_top_level(body: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in body:
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        depth += ch == "{"
        depth -= ch == "}"
        current.append(ch)
    parts.append("".join(current))
    return parts


def normalize(pattern: str) -> str:
    pattern = pattern.strip()
    while pattern.startswith("./"):
        pattern = pattern[2:]
    if pattern.endswith("/"):
        pattern += "**"
    if "/" not in pattern:
        pattern = "**/" + pattern
    return pattern


@lru_cache(maxsize=256)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """One regex for the pattern (after brace expansion and normalisation)."""
    if not pattern.strip():
        raise ToolError("the glob pattern is empty")
    alternatives = [_translate(normalize(p)) for p in expand_braces(pattern)]
    return re.compile("(?:" + "|".join(alternatives) + r")\Z")


def glob_match(pattern: str, rel: str) -> bool:
    return compile_glob(pattern).match(rel) is not None


def _translate(pattern: str) -> str:
    out = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
                continue
            body = pattern[i + 1 : end]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)
