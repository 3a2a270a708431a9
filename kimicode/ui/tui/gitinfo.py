"""The current git branch, read from .git/HEAD without running git."""

from __future__ import annotations

from pathlib import Path


def current_branch(root: Path) -> str | None:
    """The branch name, a short commit id for a detached HEAD, or None outside git."""
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_file():  # a worktree: "gitdir: <path>"
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                dot_git = (folder / text.split(":", 1)[1].strip()).resolve()
        if dot_git.is_dir():
            try:
                head = (dot_git / "HEAD").read_text(encoding="utf-8").strip()
            except OSError:
                return None
            if head.startswith("ref: "):
                return head[5:].removeprefix("refs/heads/")
            return head[:8]
    return None
