"""Small helpers for the words the TUI shows."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """ "1 conflict", "2 conflicts": never "1 conflicts"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
