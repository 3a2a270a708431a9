"""Ignored state a build needs, shared into a worktree rather than copied.

`[swarm] link` paths (node_modules, .venv) become symlinks to the user's
project, `[swarm] copy` paths (.env) are copied, and `[swarm] setup` runs
once per worktree. What was linked or copied is recorded in the worktree's
private git dir so that committing the agent's work does not report it as a
change outside its files.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from pathlib import PurePosixPath

from kimicode.config import SwarmSettings
from kimicode.errors import ToolError
from kimicode.swarm.worktrees import AgentWorktree

SHARED_RECORD = "kimicode-shared"
SETUP_DONE = "kimicode-setup-done"


def _safe_rel(raw: str) -> str | None:
    rel = PurePosixPath(raw.strip().strip("/"))
    if not rel.parts or rel.is_absolute() or ".." in rel.parts or rel.parts[0] == ".git":
        return None
    return rel.as_posix()


def shared_paths(wt: AgentWorktree) -> list[str]:
    """The paths linked or copied into this worktree."""
    if wt.admin_dir is None:
        return []
    try:
        text = (wt.admin_dir / SHARED_RECORD).read_text(encoding="utf-8")
    except OSError:
        return []
    return [line for line in text.splitlines() if line]


def _link_and_copy(wt: AgentWorktree, settings: SwarmSettings) -> list[str]:
    done: list[str] = []
    plan = [(p, True) for p in settings.link] + [(p, False) for p in settings.copy_paths]
    for raw, link in plan:
        rel = _safe_rel(raw)
        if rel is None:
            continue
        src, dst = wt.repo_root / rel, wt.path / rel
        if not os.path.lexists(src) or os.path.lexists(dst):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        if link:
            os.symlink(src, dst, target_is_directory=src.is_dir())
        elif src.is_dir():
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)
        done.append(rel)
    if done and wt.admin_dir is not None:
        previous = shared_paths(wt)
        record = "\n".join(dict.fromkeys(previous + done)) + "\n"
        (wt.admin_dir / SHARED_RECORD).write_text(record, encoding="utf-8")
    return done


async def share_state(wt: AgentWorktree, settings: SwarmSettings) -> list[str]:
    """Link and copy the configured paths, then run the setup command once."""
    done = await asyncio.to_thread(_link_and_copy, wt, settings)
    if settings.setup:
        await _run_setup_once(wt, settings.setup)
    return done


async def _run_setup_once(wt: AgentWorktree, command: str) -> None:
    marker = wt.admin_dir / SETUP_DONE if wt.admin_dir else None
    if marker is not None and marker.exists():
        return
    proc = await asyncio.create_subprocess_shell(
        command,
        cwd=str(wt.path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = await proc.communicate()
    except asyncio.CancelledError:
        _kill_group(proc.pid)
        await proc.wait()
        raise
    if proc.returncode != 0:
        tail = out.decode("utf-8", "replace")[-2000:]
        raise ToolError(f"[swarm] setup `{command}` failed with exit {proc.returncode}:\n{tail}")
    if marker is not None:
        marker.write_text(command, encoding="utf-8")


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def is_shared(rel: str, shared: list[str]) -> bool:
    return any(rel == p or rel.startswith(p + "/") for p in shared)
