"""A child process started from asyncio and cancelled at any moment of its start: the
cancel goes through, the child is killed and reaped, nothing hangs (CPython gh-103847)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid

from helpers import alive_with

from kimicode.spawn import spawn


async def _sleeper(marker: str) -> None:
    proc = await spawn(
        "sleep", "30",
        env={**os.environ, "MARK": marker},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    await proc.communicate()


async def test_a_cancel_at_any_point_of_the_start_kills_the_child_and_raises() -> None:
    marker = f"spawn-{uuid.uuid4().hex[:8]}"
    outcomes = []
    for ticks in range(12):  # from "before the fork" to "well into communicate()"
        task = asyncio.ensure_future(_sleeper(marker))
        for _ in range(ticks):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=10)
        assert done, f"the cancel after {ticks} ticks hung"
        outcomes.append(task.cancelled())
    assert all(outcomes)
    assert alive_with(marker) == []


async def test_a_program_that_cannot_start_is_an_os_error() -> None:
    try:
        await spawn("/nonexistent/program", stdout=subprocess.PIPE)
    except OSError as exc:
        assert "nonexistent" in str(exc)
    else:
        raise AssertionError("no error for a missing program")
