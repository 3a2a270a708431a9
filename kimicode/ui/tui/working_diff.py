"""What `/diff` shows: uncommitted changes against HEAD, new untracked files included."""

from __future__ import annotations

from pathlib import Path

from kimicode.git.run import git

MAX_UNTRACKED = 50
"""New files shown in full; past this many, only their names."""


class NotARepository(Exception):
    """`/diff` outside a git work tree: said in one line, not git's usage text."""


async def working_diff(root: Path) -> str:
    """The unified diff of tracked changes plus one `new file` diff per untracked file."""
    inside = await git(root, "rev-parse", "--is-inside-work-tree", check=False)
    if inside.strip() != b"true":
        raise NotARepository(f"{root} is not in a git repository: /diff shows a repo's changes")
    has_head = await git(root, "rev-parse", "--verify", "-q", "HEAD", check=False)
    tracked = await git(root, "diff", *(["HEAD"] if has_head.strip() else []))
    listed = await git(root, "ls-files", "--others", "--exclude-standard", "-z")
    untracked = [p for p in listed.decode(errors="replace").split("\0") if p]
    parts = [tracked.decode(errors="replace")]
    for path in untracked[:MAX_UNTRACKED]:
        new = await git(root, "diff", "--no-index", "--", "/dev/null", path, check=False)
        parts.append(new.decode(errors="replace"))
    if len(untracked) > MAX_UNTRACKED:
        rest = untracked[MAX_UNTRACKED:]
        parts.append(f"… and {len(rest)} more new files: {', '.join(rest[:20])}\n")
    return "".join(p if p.endswith("\n") or not p else p + "\n" for p in parts)
