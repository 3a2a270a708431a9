"""The agent's root: where paths resolve, what may be written, what files exist.

Every file tool goes through a `Workspace`, so confinement (no `..`, absolute
path or symlink leads outside the root) and ownership (a sub-agent writes only
its own files) are enforced in one place. The swarm subclasses it for sparse
worktrees whose unchecked-out files are read from the base commit.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from kimicode.errors import PathOutsideRoot, ToolError
from kimicode.git.run import GitError, git_sync
from kimicode.globs import matches_any
from kimicode.tools import beneath


class Workspace:
    def __init__(self, root: Path, *, owned: list[str] | None = None) -> None:
        self.root = Path(os.path.realpath(root))
        self.owned = owned
        """Glob patterns (relative to root) this agent may write; None means all."""
        self.materialized = True
        """Every file is on disk, so native tools (ripgrep, a shell) see the whole tree."""

    # --- paths -------------------------------------------------------------------

    def resolve(self, path: str | os.PathLike[str]) -> Path:
        """The real absolute path for `path`, refused when it leaves the root."""
        raw = os.fspath(path)
        if not raw or "\x00" in raw:
            raise ToolError(f"invalid path {raw!r}")
        candidate = Path(os.path.expanduser(raw))
        if not candidate.is_absolute():
            candidate = self.root / candidate
        real = Path(beneath.settled_realpath(str(candidate)))
        if real != self.root and self.root not in real.parents:
            raise PathOutsideRoot(raw, str(self.root))
        return real

    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix() if path != self.root else "."

    def is_owned(self, rel: str) -> bool:
        if self.owned is None:
            return True
        return matches_any(self.owned, rel)

    def check_writable(self, path: Path) -> None:
        rel = self.rel(path)
        if rel == ".git" or rel.startswith(".git/"):
            raise ToolError("the .git directory is not writable through file tools")
        if not self.is_owned(rel):
            owned = ", ".join(self.owned or [])
            raise ToolError(
                f"{rel} is not one of your files; you may only write: {owned}. "
                "Mention what else needs to change in your final summary."
            )

    # --- content -----------------------------------------------------------------

    async def read_bytes(self, path: Path) -> bytes:
        """The file's bytes, opened beneath the root (see `beneath`): no symlink is followed."""
        rel = self.rel(path)
        if rel == ".":
            raise ToolError(". is a directory")
        try:
            return await asyncio.to_thread(beneath.read_bytes, self.root, rel)
        except FileNotFoundError:
            raise ToolError(f"{rel} does not exist") from None
        except IsADirectoryError:
            raise ToolError(f"{rel} is a directory") from None

    async def read_many(self, paths: list[Path]) -> list[bytes | None]:
        """Each file's bytes as `read_bytes` reads them, in one hop to a thread (a search
        reads many small files); None where a file is missing, a directory or refused."""
        rels = [self.rel(path) for path in paths]
        return await asyncio.to_thread(_read_each, self.root, rels)

    async def write_text(self, path: Path, content: str) -> None:
        """Write `content` as UTF-8 beneath the root, making parents; newlines kept as given."""
        rel = self.rel(path)
        if rel == ".":
            raise ToolError(". is a directory, not a file")
        try:
            await asyncio.to_thread(beneath.write_bytes, self.root, rel, content.encode("utf-8"))
        except IsADirectoryError:
            raise ToolError(f"{rel} is a directory, not a file") from None
        except NotADirectoryError:
            raise ToolError(f"cannot create {rel}: a parent of it is a file") from None
        except PermissionError:
            raise ToolError(f"permission denied writing {rel}") from None

    async def exists(self, path: Path) -> bool:
        return await asyncio.to_thread(path.exists)

    async def list_files(self) -> list[str]:
        """Every file under the root (relative, posix), .gitignore respected."""
        return await asyncio.to_thread(list_files, self.root)

    async def prepare_shell(self) -> None:
        """Called before the first shell command; sparse worktrees complete here."""

    def sandbox_read_only(self) -> tuple[Path, ...]:
        """Paths outside the root a command here needs to see (read-only), wherever they live."""
        return ()


def _read_each(root: Path, rels: list[str]) -> list[bytes | None]:
    found: list[bytes | None] = []
    for rel in rels:
        try:
            found.append(beneath.read_bytes(root, rel) if rel != "." else None)
        except (OSError, ToolError):
            found.append(None)
    return found


def list_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored files; a plain walk outside git."""
    try:
        out = git_sync(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        files = [f for f in out.decode("utf-8", "surrogateescape").split("\0") if f]
        return sorted({f for f in files if (root / f).is_file() or (root / f).is_symlink()})
    except (GitError, FileNotFoundError):
        pass
    found = []
    skip = {".git", "node_modules", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache"}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for name in filenames:
            found.append(Path(dirpath, name).relative_to(root).as_posix())
    return sorted(found)
