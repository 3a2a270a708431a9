"""Appends made in one turn of the event loop, flushed together at its end.

A swarm of 300 agents logs thousands of events and messages a second, and a
flush per line was a system call each on the one thread every agent shares.
Lines written while callbacks run are flushed once those callbacks are done,
before the loop waits for anything: a crash loses what one turn wrote at
most, a Ctrl-C nothing (shutdown runs the loop again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def flush_later(flush: Callable[[], None]) -> bool:
    """Schedule `flush` for the end of this loop turn; False outside a running loop
    (the caller flushes now)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    loop.call_soon(flush)
    return True
