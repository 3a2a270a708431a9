"""Clean-up work survives repeated cancels of its caller (a second Ctrl-C, a Ray relay
repeating the stop), and the caller still ends cancelled once the work is done."""

from __future__ import annotations

import asyncio

import pytest

from kimicode.swarm.uninterruptible import uninterruptible


async def test_the_work_ends_before_the_caller_however_often_it_is_cancelled() -> None:
    steps: list[str] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def work() -> str:
        steps.append("started")
        started.set()
        await release.wait()
        steps.append("committed")
        return "done"

    caller = asyncio.create_task(uninterruptible(work()))
    await started.wait()
    for _ in range(5):  # cancelled again and again while the work waits
        caller.cancel()
        await asyncio.sleep(0)
    assert not caller.done() and steps == ["started"]
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert steps == ["started", "committed"]


async def test_without_a_cancel_the_result_and_errors_come_through() -> None:
    async def ok() -> int:
        return 7

    async def broken() -> None:
        raise ValueError("disk full")

    assert await uninterruptible(ok()) == 7
    with pytest.raises(ValueError, match="disk full"):
        await uninterruptible(broken())
