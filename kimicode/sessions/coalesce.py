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


class FlushLater:
    """Runs `flush` once at the end of the loop turn in which it was first asked for;
    right away when asked outside a running loop."""

    __slots__ = ("_flush", "_scheduled")

    def __init__(self, flush: Callable[[], None]) -> None:
        self._flush = flush
        self._scheduled = False

    def request(self) -> None:
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._flush()
            return
        self._scheduled = True
        loop.call_soon(self._run)

    def _run(self) -> None:
        self._scheduled = False
        self._flush()
