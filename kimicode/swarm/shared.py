"""Ignored state a build needs, shared into a worktree rather than copied.

`[swarm] link` paths (node_modules, .venv) become symlinks to the user's
project, `[swarm] copy` paths (.env) are copied, and `[swarm] setup` runs
once per worktree, in the sandbox (it runs project content the model may
have written). What was linked or copied is recorded in the worktree's
private git dir so that committing the agent's work does not report it as a
change outside its files.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from kimicode.config import SwarmSettings
from kimicode.errors import ToolError
from kimicode.swarm.worktrees import AgentWorktree
from kimicode.trust.launcher import ProcessSpec, run_process

if TYPE_CHECKING:
    from kimicode.trust.sandbox import Sandbox

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


async def share_state(
    wt: AgentWorktree, settings: SwarmSettings, sandbox: Sandbox | None
) -> list[str]:
    """Link and copy the configured paths, then run the setup command once, sandboxed."""
    done = await asyncio.to_thread(_link_and_copy, wt, settings)
    if settings.setup:
        await _run_setup_once(wt, settings, sandbox)
    return done


def link_targets(wt: AgentWorktree) -> tuple[Path, ...]:
    """Where this worktree's `[swarm] link` symlinks point (in the user's project)."""
    return tuple(
        Path(os.path.realpath(wt.repo_root / rel))
        for rel in shared_paths(wt)
        if os.path.islink(wt.path / rel)
    )


async def _run_setup_once(
    wt: AgentWorktree, settings: SwarmSettings, sandbox: Sandbox | None
) -> None:
    """`[swarm] setup` runs what the project (and so the model) wrote, e.g. an npm
    postinstall script: in the sandbox, like run_shell, without the API key."""
    marker = wt.admin_dir / SETUP_DONE if wt.admin_dir else None
    if marker is not None and marker.exists():
        return
    command = settings.setup or ""
    done = await run_process(
        ProcessSpec(
            command=command,
            root=wt.path,
            sandbox=sandbox,
            timeout=settings.agent_timeout,
            read_only=await asyncio.to_thread(link_targets, wt),
            max_output=2000,
        )
    )
    if done.exit_code != 0:
        what = "timed out" if done.exit_code is None else f"failed with exit {done.exit_code}"
        raise ToolError(f"[swarm] setup `{command}` {what}:\n{done.output}")
    if marker is not None:
        marker.write_text(command, encoding="utf-8")


def is_shared(rel: str, shared: list[str]) -> bool:
    return any(rel == p or rel.startswith(p + "/") for p in shared)
