"""Writing a git index file directly: one file write where `read-tree` was a process.

A sparse worktree's index is its base tree with every entry marked
skip-worktree except the few files written to disk, whose stat data is
recorded as git would after a checkout. Writing that file here costs a
hundred agents no git process at all. The format is index version 3 (its
extended flags carry skip-worktree): a header, the entries sorted by path
bytes, no optional extensions, and a trailing checksum in the repository's
hash (SHA-1, or SHA-256 for a repository whose object ids are 64 digits).
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SKIP_WORKTREE = 0x4000
"""The extended flag: git serves the entry from the index and never looks at the disk."""
EXTENDED = 0x4000
"""The bit in an entry's flags saying extended flags follow."""
NAME_MASK = 0x0FFF
U32 = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class IndexEntry:
    path: str
    """Relative, posix; undecodable bytes as surrogate escapes (as `split_z` reads them)."""
    mode: str
    """git's octal mode: 100644, 100755, 120000 or 160000."""
    sha: str
    skip_worktree: bool = False
    stat: os.stat_result | None = None
    """The file as written to disk; None for an entry that is not on disk."""


def _stat_fields(stat: os.stat_result | None, size: int = 0) -> tuple[int, ...]:
    if stat is None:
        return (0, 0, 0, 0, 0, 0, 0, 0, size)
    return (
        int(stat.st_ctime) & U32,
        stat.st_ctime_ns % 1_000_000_000,
        int(stat.st_mtime) & U32,
        stat.st_mtime_ns % 1_000_000_000,
        stat.st_dev & U32,
        stat.st_ino & U32,
        stat.st_uid & U32,
        stat.st_gid & U32,
        stat.st_size & U32,
    )


def index_bytes(entries: Iterable[IndexEntry]) -> bytes:
    """The content of an index file holding exactly `entries` (stage 0)."""
    items = sorted(
        ((e.path.encode("utf-8", "surrogateescape"), e) for e in entries), key=lambda p: p[0]
    )
    sha_len = len(items[0][1].sha) // 2 if items else 20
    parts = [struct.pack(">4sII", b"DIRC", 3, len(items))]
    for name, entry in items:
        ctime, ctime_ns, mtime, mtime_ns, dev, ino, uid, gid, size = _stat_fields(entry.stat)
        flags = min(len(name), NAME_MASK)
        tail = b""
        if entry.skip_worktree:
            flags |= EXTENDED
            tail = struct.pack(">H", SKIP_WORKTREE)
        raw = b"".join(
            (
                struct.pack(">10I", ctime, ctime_ns, mtime, mtime_ns, dev, ino,
                            int(entry.mode, 8), uid, gid, size),
                bytes.fromhex(entry.sha),
                struct.pack(">H", flags),
                tail,
                name,
            )
        )  # fmt: skip
        parts.append(raw + b"\0" * (8 - len(raw) % 8))
    body = b"".join(parts)
    digest = hashlib.sha256(body) if sha_len == 32 else hashlib.sha1(body)
    return body + digest.digest()


def write_index(path: Path, entries: Iterable[IndexEntry]) -> None:
    """Write the index atomically (a reader never sees half a file)."""
    tmp = path.with_name(path.name + ".kimicode-tmp")
    tmp.write_bytes(index_bytes(entries))
    os.replace(tmp, path)


def blob_id(data: bytes, sha_len: int = 40) -> str:
    """The object id git gives `data` as a blob (no filters: the bytes as they are)."""
    header = f"blob {len(data)}\0".encode()
    digest = hashlib.sha256 if sha_len == 64 else hashlib.sha1
    return digest(header + data).hexdigest()
