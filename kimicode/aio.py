"""Running the event loop: one entry for every command that needs one.

On Python 3.11 asyncio waits for each child process with a thread of its own
(ThreadedChildWatcher); a swarm starts thousands of short git processes, and
those threads cost more than the processes. Where Linux offers pidfds, a
PidfdChildWatcher waits for all of them from the loop instead (3.12+ does this
by itself).
"""

from __future__ import annotations

import asyncio
import os
import sys
import warnings
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    if sys.version_info >= (3, 12) or not hasattr(os, "pidfd_open"):
        return asyncio.run(main)
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        try:
            os.close(os.pidfd_open(os.getpid()))
        except OSError:  # a kernel or sandbox without pidfds
            return runner.run(main)
        watcher = asyncio.PidfdChildWatcher()
        watcher.attach_loop(loop)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            asyncio.set_child_watcher(watcher)
        try:
            return runner.run(main)
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                asyncio.set_child_watcher(None)
