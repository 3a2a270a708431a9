"""Clean-up that must run to its end even when its caller is cancelled, again and again.

`asyncio.shield` alone protects the work but not the wait: a second cancel (a
second Ctrl-C, or a Ray node's relay repeating the driver's stop every push)
ends the caller's wait while the work still runs, and the caller goes on as if
it were done (bundling a branch before its commit, say). Here the caller
waits for the work through any number of cancels and re-raises the cancel after.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def uninterruptible(work: Awaitable[T]) -> T:
    """Run `work` to its end even if the caller is cancelled; re-raise the cancel after."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            await asyncio.shield(task)
            break
        except asyncio.CancelledError:
            if task.done():
                break
            cancelled = True
    result = task.result()
    if cancelled:
        raise asyncio.CancelledError
    return result
