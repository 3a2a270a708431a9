"""Ctrl-C and SIGTERM for the async commands: cancel the work once, cleanly.

The first signal cancels the running task, so every `finally` runs (sub-agents
cancelled, their work kept, the browser closed); a second one exits at once.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(slots=True)
class Interruption:
    interrupted: bool = False


@contextmanager
def cancel_on_signals() -> Iterator[Interruption]:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    state = Interruption()

    def on_signal() -> None:
        if state.interrupted:  # a second Ctrl-C: stop waiting for clean-up
            raise SystemExit(130)
        state.interrupted = True
        assert task is not None
        task.cancel()

    for sig in SIGNALS:
        loop.add_signal_handler(sig, on_signal)
    try:
        yield state
    finally:
        for sig in SIGNALS:
            loop.remove_signal_handler(sig)
