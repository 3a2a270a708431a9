"""Bring the tags cache up to date with the files on disk, and return all tags.

Warm runs cost a stat per file and one SQLite read; only files whose mtime or
size changed are parsed again. A cold scan of many files is shared with a helper
process, since parsing is CPU-bound and holds the GIL.
"""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from kimicode.repo.cache import TagsCache
from kimicode.repo.languages import language_for
from kimicode.repo.tags import MAX_FILE_BYTES, PlainTags, scan_batch

POOL_THRESHOLD = 300
"""Below this many files to parse, starting worker processes costs more than it saves."""


def scan(
    root: Path, files: list[str], cache: TagsCache, *, workers: int | None = None
) -> dict[str, PlainTags]:
    """Tags of every mappable file in `files` (relative posix paths), cache refreshed."""
    current: dict[str, tuple[int, int]] = {}
    for rel in files:
        if language_for(rel) is None:
            continue
        try:
            st = os.stat(root / rel)
        except OSError:
            continue
        if st.st_size <= MAX_FILE_BYTES:
            current[rel] = (st.st_mtime_ns, st.st_size)
    cached = cache.stamps()
    stale = sorted(rel for rel, stamp in current.items() if cached.get(rel) != stamp)
    vanished = [rel for rel in cached if rel not in current and not (root / rel).exists()]
    if vanished:
        cache.forget(vanished)
    fresh = _parse(root, stale, workers)
    cache.store([(rel, *current[rel], fresh[rel]) for rel in stale])
    loaded = cache.load([rel for rel in current if rel not in fresh])
    tags: dict[str, PlainTags] = {}
    for rel in sorted(current):
        plain = fresh[rel] if rel in fresh else loaded.get(rel)
        if plain is not None:
            tags[rel] = plain
    return tags


def _parse(root: Path, rels: list[str], workers: int | None) -> dict[str, PlainTags | None]:
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if workers <= 1 or len(rels) < POOL_THRESHOLD:
        return dict(scan_batch(str(root), rels))
    # Deal files out by size so every share gets a like amount of work; this
    # process takes the first share while helper processes take the rest.
    by_size = sorted(rels, key=lambda r: _size(root / r), reverse=True)
    shares = [by_size[i::workers] for i in range(workers)]
    out: dict[str, PlainTags | None] = {}
    with tempfile.TemporaryDirectory(prefix="kimicode-scan-") as tmp:
        helpers = [
            _start_helper(root, share, Path(tmp, f"{i}.marshal"))
            for i, share in enumerate(shares[1:])
        ]
        out.update(scan_batch(str(root), shares[0]))
        for (proc, result_path), share in zip(helpers, shares[1:], strict=True):
            if proc is not None and proc.wait() == 0 and result_path.exists():
                out.update(marshal.loads(result_path.read_bytes()))
            else:
                out.update(scan_batch(str(root), share))
    return out


def _start_helper(
    root: Path, rels: list[str], result: Path
) -> tuple[subprocess.Popen[bytes] | None, Path]:
    payload = "\0".join([str(root), *rels]).encode("utf-8", "surrogateescape")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kimicode.repo.scan_worker", str(result)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdin is not None
        proc.stdin.write(payload)
        proc.stdin.close()
    except OSError:
        return None, result
    return proc, result


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
