"""The per-file tags cache: one SQLite database per repository.

A row is keyed by the file's path and validated by its mtime and size, nothing
else: what the map is rendered for (the task, the budget) never enters here, so
one scan serves every prompt.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sqlite3
import sys
from pathlib import Path

import tree_sitter

from kimicode import paths
from kimicode.repo.tags import PlainTags

SCHEMA = 1
_STAMP = f"{SCHEMA}:{sys.version_info[0]}.{sys.version_info[1]}:{tree_sitter.__version__}"


def cache_path(root: Path, cache_dir: Path | None = None) -> Path:
    digest = hashlib.sha1(str(Path(os.path.realpath(root))).encode()).hexdigest()[:16]
    return (cache_dir or paths.cache_dir()) / "repomap" / f"{Path(root).name}-{digest}.sqlite"


class TagsCache:
    """Tags by path; a hit only when mtime and size both match the file on disk."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = self._db.execute("SELECT value FROM meta WHERE key='stamp'").fetchone()
        if row is None or row[0] != _STAMP:
            self._db.execute("DROP TABLE IF EXISTS files")
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('stamp', ?)", (_STAMP,))
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS files "
            "(path TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, tags BLOB)"
        )
        self._db.commit()

    def stamps(self) -> dict[str, tuple[int, int]]:
        """Path -> (mtime_ns, size) of every cached row, without loading the tags."""
        rows = self._db.execute("SELECT path, mtime_ns, size FROM files")
        return {path: (mtime, size) for path, mtime, size in rows}

    def load(self, paths: list[str]) -> dict[str, PlainTags | None]:
        """Tags for the given paths (None for a file that had nothing to map)."""
        wanted = set(paths)
        out: dict[str, PlainTags | None] = {}
        for path, blob in self._db.execute("SELECT path, tags FROM files"):
            if path in wanted:
                out[path] = None if blob is None else marshal.loads(blob)
        return out

    def store(self, rows: list[tuple[str, int, int, PlainTags | None]]) -> None:
        """Rows of (path, mtime_ns, size, plain tags or None)."""
        self._db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
            [(p, m, s, None if t is None else marshal.dumps(t)) for p, m, s, t in rows],
        )
        self._db.commit()

    def forget(self, paths: list[str]) -> None:
        self._db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])
        self._db.commit()

    def close(self) -> None:
        self._db.close()
