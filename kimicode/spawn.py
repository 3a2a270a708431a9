"""Starting a child process from asyncio so that a cancel cannot hang the caller.

Python 3.11's `asyncio.create_subprocess_exec` is not safe to cancel while it is
still connecting the child's pipes (CPython gh-103847): the cancelled call kills
the child and then waits for an exit notice that never comes, so the task (a
sub-agent committing on Ctrl-C, say) hangs forever. Here the start runs shielded;
a cancel that lands meanwhile waits for the start to finish (it takes
milliseconds), stops the child (by default: kill and reap it; the process launcher
ends its whole process group), and then goes on as a cancel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

Process = asyncio.subprocess.Process


async def spawn(
    *argv: str, stop: Callable[[Process], Awaitable[None]] | None = None, **options: Any
) -> Process:
    """`asyncio.create_subprocess_exec(*argv, **options)`, safe to cancel; a cancel that
    lands during the start runs `stop` on the new child (shielded from a second cancel)."""
    starting = asyncio.ensure_future(asyncio.create_subprocess_exec(*argv, **options))
    try:
        return await asyncio.shield(starting)
    except asyncio.CancelledError:
        try:
            proc = await starting
        except OSError:
            raise asyncio.CancelledError from None
        await asyncio.shield((stop or _kill)(proc))
        raise


async def _kill(proc: Process) -> None:
    if proc.returncode is None:
        proc.kill()
    await proc.wait()
