"""One request limit for a whole Ray swarm: the endpoint's cap holds across nodes.

Locally every agent of a session shares one `RequestScheduler`. On a cluster
each agent is a process of its own on some node, so each would have its own
scheduler and together they would send the endpoint many times its cap. So a
run starts one limiter actor (on the head node, next to the relay) holding the
one scheduler, and every worker's model client asks it through
`SharedScheduler`, a `RequestLimiter` whose slots are the actor's:

- `acquire` waits in the actor's queue (first come, first served, cluster-wide)
  and answers with the current limit and how long nothing got through;
- `release` and a refusal (429) go back as one message, so the actor cuts the
  limit from what it had in flight when the endpoint refused;
- every slot is a ticket: a request cancelled while it waits, or an agent
  whose node died (the driver says `forget`), gives its slots back, so a lost
  node cannot shrink the cluster's capacity for good.

The run's figures (429s, lowest limit, time waited) are the actor's, counted
into the driver's scheduler at the end of the run.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

from kimicode.llm.scheduler import RequestScheduler, refusal_backoff


def ticket(agent: str, n: int) -> str:
    """The name of one request's slot: the agent's, so `forget(agent)` finds them all."""
    return f"{agent}\0{n}"


class Limiter:
    """The actor: one `RequestScheduler` for every agent of the run, wherever it runs."""

    def __init__(self, limit: int, wait_budget: float) -> None:
        self.scheduler = RequestScheduler(limit, wait_budget=wait_budget)
        self.waiting: dict[str, asyncio.Task[float]] = {}
        self.granted: set[str] = set()
        self.abandoned: set[str] = set()
        """Granted as their requester stopped waiting: given back as soon as they resume."""

    async def acquire(self, ticket: str, front: bool) -> tuple[float, float, dict[str, Any]]:
        """Wait for a slot; (seconds waited, seconds stalled, the run's figures)."""
        wait = asyncio.ensure_future(self.scheduler.acquire(front=front))
        self.waiting[ticket] = wait
        try:
            waited = await wait
        finally:
            self.waiting.pop(ticket, None)
        if ticket in self.abandoned:
            self.abandoned.discard(ticket)
            self.scheduler.release()
        else:
            self.granted.add(ticket)
        return waited, self.scheduler.stalled_for(), self.scheduler.figures()

    async def release(
        self, ticket: str, answered: bool, refusal: tuple[float | None, int, float] | None
    ) -> None:
        if ticket not in self.granted:
            return  # given back already (a cancelled wait, a forgotten agent)
        if refusal is not None:
            self.scheduler.refused(*refusal)
        self.granted.discard(ticket)
        self.scheduler.release(answered=answered)

    async def abandon(self, ticket: str) -> None:
        """A request that stopped waiting: out of the queue, or its slot back."""
        wait = self.waiting.get(ticket)
        if wait is None:
            await self.release(ticket, False, None)
        elif not wait.cancel():  # granted, not yet handed over: `acquire` gives it back
            self.abandoned.add(ticket)

    async def forget(self, agent: str) -> None:
        """An agent that ended, or was lost with its node: every slot it held comes back."""
        prefix = ticket(agent, 0)[:-1]
        for name in [t for t in self.waiting if t.startswith(prefix)]:
            await self.abandon(name)
        for name in [t for t in self.granted if t.startswith(prefix)]:
            await self.release(name, False, None)

    async def figures(self) -> dict[str, float | int]:
        return self.scheduler.figures()


class SharedScheduler:
    """A worker's `RequestLimiter` that asks the run's limiter actor for every slot."""

    def __init__(self, limiter: Any, agent: str, wait_budget: float) -> None:
        self.limiter = limiter
        self.agent = agent
        self.wait_budget = wait_budget
        self.limit = 1
        """The cluster's limit, as the actor said with the last slot."""
        self._figures: dict[str, Any] = {}
        """The run's figures, as the actor said with the last slot."""
        self._unreported = 0
        """Refusals sent to the actor since then."""
        self._tickets = itertools.count(1)
        self._held: list[str] = []
        self._refusal: tuple[float | None, int, float] | None = None
        self._stalled = 0.0
        """Seconds nothing got through cluster-wide, as the actor last said..."""
        self._stalled_at = time.monotonic()
        """...at this moment."""
        self._refused = False
        """Refused since this agent's last answer (the actor may not have said so yet)."""

    async def acquire(self, *, front: bool = False) -> float:
        name = ticket(self.agent, next(self._tickets))
        try:
            waited, self._stalled, self._figures = await self.limiter.acquire.remote(name, front)
        except asyncio.CancelledError:
            self.limiter.abandon.remote(name)
            raise
        self._stalled_at = time.monotonic()
        self.limit, self._unreported = int(self._figures["limit"]), 0
        self._held.append(name)
        return float(waited)

    def release(self, *, answered: bool = False) -> None:
        if not self._held:
            return
        name = self._held.pop(0)
        self.limiter.release.remote(name, answered, self._refusal)
        self._refusal = None
        if answered:
            self._stalled, self._refused = 0.0, False

    def refused(self, retry_after: float | None, attempt: int, max_backoff: float = 60.0) -> float:
        """Told to the actor with the release that follows; the backoff is decided here."""
        self._unreported += 1
        self._refusal = (retry_after, attempt, max_backoff)
        if not self._stalled and not self._refused:
            self._stalled_at = time.monotonic()
        self._refused = True
        return refusal_backoff(retry_after, attempt, max_backoff)

    def stalled_for(self) -> float:
        """The cluster's stall as the actor last said, plus the time since."""
        if not self._stalled and not self._refused:
            return 0.0
        return self._stalled + time.monotonic() - self._stalled_at

    def figures(self) -> dict[str, float | int]:
        """The run's figures, cluster-wide, as the actor last said them."""
        figures = dict(self._figures) or {"limit": self.limit, "lowest_limit": self.limit,
                                          "start_limit": self.limit, "wait_s": 0.0}  # fmt: skip
        figures["throttled"] = int(figures.get("throttled", 0)) + self._unreported
        return figures


def start_limiter(ray: Any, limit: int, wait_budget: float, agents: int, head: str) -> Any:
    """The run's limiter actor on the head node; room for every agent's waiting request."""
    actor = ray.remote(Limiter).options(
        num_cpus=0, resources={head: 0.001}, max_concurrency=max(1000, 4 * agents)
    )
    return actor.remote(limit, wait_budget)
