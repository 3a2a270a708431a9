"""Open and change files beneath a root without following a symlink planted on the way.

Resolving a path and opening it later leaves a gap: a shell command running
in the same turn can swap a directory for a symlink to somewhere else in
between, and the open then lands outside the root. Here every step is taken
relative to a directory descriptor already held, and every component is
opened with `O_NOFOLLOW`: each parent must be a real directory reached from
the root through real directories, at the moment it is opened. A component
that is a symlink (or a file) fails the walk with `NotBeneath`; nothing is
created or written past it.

Callers resolve first (`Workspace.resolve` collapses `..` and follows the
symlinks that stay inside the root), then hand the canonical relative path
here, so a legitimate symlink inside the project still works while one that
appeared after resolution is refused. Linux's `openat2(RESOLVE_BENEATH)` does
the same in one call, but Python has no binding for it; the walk is portable
to every POSIX system with `dir_fd` support.

What this cannot stop: a directory already opened being renamed elsewhere on
the same filesystem by a process outside the sandbox (inside it, the only
writable place is the root itself).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kimicode.errors import ToolError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NOT_REAL = (errno.ELOOP, errno.ENOTDIR, errno.EMLINK)
"""What opening a symlink (or a file) with O_NOFOLLOW | O_DIRECTORY fails with."""


class NotBeneath(ToolError):
    """A component of the path is not a real directory inside the root (any more)."""


def settled_realpath(path: str, tries: int = 5) -> str:
    """`os.path.realpath`, retried while a component changes under it.

    realpath raises EINVAL when a symlink it saw becomes a directory before it
    reads the link; a racing command must get a refusal, not a crash.
    """
    if "\x00" in path:
        raise NotBeneath(f"invalid path {path!r}: it contains a NUL byte")
    for _ in range(tries - 1):
        try:
            return os.path.realpath(path)
        except OSError:
            continue
    try:
        return os.path.realpath(path)
    except OSError as exc:
        raise NotBeneath(f"{path} kept changing while it was resolved ({exc.strerror})") from None


def split_rel(rel: str) -> list[str]:
    """The components of a canonical relative path; `..`, `.` and absolute paths refused."""
    parts = [p for p in rel.split("/") if p]
    if os.path.isabs(rel) or any(p in (".", "..") for p in parts) or "\x00" in rel:
        raise NotBeneath(f"invalid path {rel!r}: not a plain path inside the root")
    return parts


@contextmanager
def parent_dir(root: Path, rel: str, *, create: bool = False) -> Iterator[tuple[int, str]]:
    """(descriptor of the real directory holding `rel`, its last component).

    `create` makes missing parent directories, each one beneath the last.
    The descriptor is closed when the block ends.
    """
    parts = split_rel(rel)
    if not parts:
        raise NotBeneath("the root itself is a directory, not a file")
    fd = os.open(root, _DIR_FLAGS)
    try:
        for i, name in enumerate(parts[:-1]):
            child = _step(fd, name, "/".join(parts[: i + 1]), create)
            os.close(fd)
            fd = child
        yield fd, parts[-1]
    finally:
        os.close(fd)


def _step(fd: int, name: str, shown: str, create: bool) -> int:
    """Open the real directory `name` in `fd` (making it first when `create`)."""
    try:
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=fd)
        except FileNotFoundError:
            if not create:
                raise
        try:
            os.mkdir(name, 0o777, dir_fd=fd)
        except FileExistsError:
            pass  # made meanwhile, or a dangling symlink: opened without following below
        return os.open(name, _DIR_FLAGS, dir_fd=fd)
    except OSError as exc:
        if exc.errno in _NOT_REAL:
            raise NotBeneath(
                f"{shown} is not a real directory inside the project (a symlink or a file "
                "is there); nothing was read or written through it"
            ) from None
        raise


def read_bytes(root: Path, rel: str) -> bytes:
    """The bytes of the regular file `rel`; a symlink anywhere on the way is refused."""
    with parent_dir(root, rel) as (fd, name):
        try:
            file_fd = os.open(
                name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=fd
            )
        except OSError as exc:
            raise _final_error(exc, rel) from None
    with os.fdopen(file_fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", rel)
        if not stat.S_ISREG(st.st_mode):
            raise NotBeneath(f"{rel} is not a regular file")
        return fh.read()


def write_bytes(root: Path, rel: str, data: bytes, *, mode: int | None = None) -> None:
    """Create or overwrite the regular file `rel` (parents made beneath the root).

    `mode` given: written to a temporary name and renamed over, with exactly
    that mode (restores); otherwise truncated in place, keeping the file's mode.
    """
    with parent_dir(root, rel, create=True) as (fd, name):
        if mode is not None:
            _replace(fd, name, data, mode)
            return
        try:
            file_fd = os.open(
                name,
                os.O_WRONLY
                | os.O_CREAT
                | os.O_TRUNC
                | os.O_NOFOLLOW
                | os.O_NONBLOCK
                | os.O_CLOEXEC,
                0o666,
                dir_fd=fd,
            )
        except OSError as exc:
            raise _final_error(exc, rel) from None
        with os.fdopen(file_fd, "wb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                raise NotBeneath(f"{rel} is not a regular file")
            fh.write(data)


def _replace(fd: int, name: str, data: bytes, mode: int) -> None:
    tmp = f".{name}.kimicode-restore"
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        os.unlink(tmp, dir_fd=fd)
    except FileNotFoundError:
        pass
    file_fd = os.open(tmp, flags | os.O_EXCL, 0o600, dir_fd=fd)
    try:
        with os.fdopen(file_fd, "wb") as fh:
            fh.write(data)
            os.fchmod(fh.fileno(), mode)
        os.replace(tmp, name, src_dir_fd=fd, dst_dir_fd=fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=fd)
        except OSError:
            pass
        raise


def lstat(root: Path, rel: str) -> os.stat_result | None:
    """The entry's own status (a symlink is not followed), or None when nothing is there."""
    try:
        with parent_dir(root, rel) as (fd, name):
            return os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def readlink(root: Path, rel: str) -> str:
    with parent_dir(root, rel) as (fd, name):
        return os.readlink(name, dir_fd=fd)


def remove(root: Path, rel: str) -> None:
    """Unlink the file or symlink `rel` itself (never what a symlink points at)."""
    with parent_dir(root, rel) as (fd, name):
        os.unlink(name, dir_fd=fd)


def make_symlink(root: Path, rel: str, target: str) -> None:
    """Put a symlink at `rel` (replacing a file or symlink there); parents made beneath."""
    with parent_dir(root, rel, create=True) as (fd, name):
        try:
            os.unlink(name, dir_fd=fd)
        except FileNotFoundError:
            pass
        os.symlink(target, name, dir_fd=fd)


def remove_empty_dirs(root: Path, rel_dir: str, stop: str) -> None:
    """rmdir `rel_dir` and its parents while empty, up to and including `stop`."""
    parts = split_rel(rel_dir)
    stop_parts = split_rel(stop)
    while parts and parts[: len(stop_parts)] == stop_parts:
        try:
            with parent_dir(root, "/".join(parts)) as (fd, name):
                os.rmdir(name, dir_fd=fd)
        except OSError:
            return
        parts = parts[:-1]


def _final_error(exc: OSError, rel: str) -> Exception:
    if exc.errno == errno.ELOOP:
        return NotBeneath(
            f"{rel} is a symlink that changed after the path was checked; it was not followed"
        )
    return exc
