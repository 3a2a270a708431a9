"""Stopping a command together with everything it started.

`run_shell` starts each command in a new session, so the command and all its
children share one process group. Killing the group (SIGTERM, then SIGKILL
after a grace period) leaves nothing running behind a timed-out or cancelled
command. Dead-but-unreaped processes (zombies, common when PID 1 does not reap
orphans, as in many containers) count as gone.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

POLL_S = 0.05


def group_alive(pgid: int) -> bool:
    """True while any process of the group is still running (zombies do not count)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] not in ("Z", "X"):
            return True
    return False


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


async def _wait_gone(pgid: int, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        if not await asyncio.to_thread(group_alive, pgid):
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(POLL_S)


async def kill_group(pgid: int, *, grace: float = 2.0) -> None:
    """SIGTERM the group, SIGKILL whatever is left after `grace` seconds, wait until it is gone."""
    _signal_group(pgid, signal.SIGTERM)
    if await _wait_gone(pgid, grace):
        return
    _signal_group(pgid, signal.SIGKILL)
    await _wait_gone(pgid, 5.0)
