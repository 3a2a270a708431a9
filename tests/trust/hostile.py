"""Building blocks for attacks by a hostile scripted model through the real binary."""

from __future__ import annotations

from pathlib import Path

SWAPPER = """\
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
os.symlink(sys.argv[1], "d.link")
open("running", "w").close()
swaps = 0
while not os.path.exists("stop") and swaps < 5_000_000:
    libc.renameat2(AT_FDCWD, b"d", AT_FDCWD, b"d.link", RENAME_EXCHANGE)
    swaps += 1
if os.path.islink("d"):
    libc.renameat2(AT_FDCWD, b"d", AT_FDCWD, b"d.link", RENAME_EXCHANGE)
os.remove("running")
"""
"""Swaps the real directory `d` and a symlink to outside (argv[1]) atomically, in a loop,
until a `stop` file appears; `d` is always either the real directory or the symlink."""


def no_sandbox(root: Path, extra: str = "") -> None:
    """Project config a test needs: shell unsandboxed (so a background job outlives its call)."""
    (root / ".kimicode").mkdir(exist_ok=True)
    (root / ".kimicode" / "config.toml").write_text(f'[sandbox]\nmode = "off"\n{extra}')


def files_under(path: Path) -> list[str]:
    """Every entry below `path`, relative, sorted (what must stay empty outside the project)."""
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*"))
