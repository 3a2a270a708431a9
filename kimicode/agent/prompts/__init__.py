"""Prompt templates, loaded by name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).parent


@cache
def load(name: str) -> str:
    return (HERE / f"{name}.md").read_text(encoding="utf-8")


def project_instructions(root: Path) -> str:
    """The project's own AGENTS.md / KIMI.md, appended to the system prompt when present."""
    parts = []
    for name in ("AGENTS.md", "KIMI.md"):
        path = root / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace").strip()
            if text:
                parts.append(f"# Project instructions from {name}\n\n{text[:20_000]}")
    return "\n\n".join(parts)
