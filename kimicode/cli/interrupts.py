"""Ctrl-C and SIGTERM for the async commands: cancel the work once, cleanly.

The first signal cancels the running task, so every `finally` runs (sub-agents
cancelled, their work kept, the browser closed); a second one exits at once. Once
the task is over, what is left is closing down (background processes, MCP servers,
the browser): a second signal there ends the process with 130 too, rather than a
KeyboardInterrupt in the middle of asyncio's shutdown (exit -2, or a hang joining
its threads).
"""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import sys
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
            if state.interrupted:
                signal.signal(sig, _exit_now)
        if state.interrupted:
            atexit.register(_ignore_late_signals)


def _exit_now(signum: int, frame: object) -> None:
    """A second signal while closing down: stop now (sandboxed children die with us)."""
    sys.stderr.write("kimicode: interrupted again, exiting\n")
    sys.stderr.flush()
    os._exit(130)


def _ignore_late_signals() -> None:
    """Run at exit, after the threads were joined: the exit code is 130 already, and a
    signal landing in the interpreter's last teardown (handlers back to the default)
    would turn it into a kill by SIGINT (-2)."""
    signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
