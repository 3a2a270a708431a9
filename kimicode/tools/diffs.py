"""Unified diffs of what a file tool changed, for UIs, checkpoints and the model."""

from __future__ import annotations

import difflib


def unified_diff(rel: str, old: str, new: str, *, created: bool = False) -> str:
    """A `git diff`-style unified diff of one file (`/dev/null` as the old side when created)."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    lines = difflib.unified_diff(
        old_lines,
        new_lines,
        fromfile="/dev/null" if created else f"a/{rel}",
        tofile=f"b/{rel}",
        n=3,
    )
    out = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:  # the last line of a file without a trailing newline
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def diff_stat(diff: str) -> tuple[int, int]:
    """(lines added, lines removed) in a unified diff."""
    added = removed = 0
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            continue
        if line.startswith("+"):
            added += 1
        elif line.startswith("-"):
            removed += 1
    return added, removed
