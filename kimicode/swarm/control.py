"""Cancelling running sub-agents from outside the swarm (a UI's cancel button, Ctrl-C).

The session owns one `SwarmControl` for its lifetime and hands it to every
swarm it starts; a swarm registers its agents' tasks while they run and
removes them when it ends, so "is a swarm running" is just `running`.
"""

from __future__ import annotations

import asyncio
from typing import Any


class SwarmControl:
    """Lets a UI cancel one running agent, or all of them."""

    def __init__(self) -> None:
        self.tasks: dict[str, asyncio.Task[Any]] = {}

    @property
    def running(self) -> bool:
        return bool(self.tasks)

    def cancel(self, name: str | None = None) -> None:
        for agent, task in self.tasks.items():
            if name is None or agent == name:
                task.cancel()
