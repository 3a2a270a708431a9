"""One endpoint's request scheduler: an adaptive limit on requests in flight.

Providers cap how many requests an account may have in flight and answer 429
past it, often without `Retry-After`. Forty agents each backing off on their
own lose agents at a cap of 3 and waste most of the time at a cap of 8. So
every model client of a session that talks to one endpoint (base URL and key:
the main agent, every sub-agent, their `[swarm] model`) shares one scheduler:

- a request takes a slot before it is sent and gives it back when its answer
  ended; past the limit it waits its turn (first come, first served);
- a 429 (or a 503 with `Retry-After`) cuts the limit to the number of requests
  still in flight — what the endpoint was answering when it refused — and a
  `Retry-After` holds back every request, not only the refused one;
- after a quiet spell without a refusal the limit grows by one while requests
  are waiting, up to where it started, and is cut again if that was too many;
- a refused request is sent again without using up any retry attempt; only
  `[retry] rate_limit_wait` seconds without a single answer getting through
  end the wait (`RateLimitExhausted`, exit 75).

The client sees it only as a `kimicode.protocols.RequestLimiter` (acquire,
release, refused, stalled_for, figures), so one shared across processes can
take its place; the agent hears of refusals through `on_throttle`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from kimicode.errors import TemporaryModelError

QUIET_S = 3.0
"""Seconds without a refusal before the limit grows by one."""
FIRST_BACKOFF_S = 0.25
"""A refused request without Retry-After waits this long (doubling, jittered) before queueing."""


def refusal_backoff(retry_after: float | None, attempt: int, max_backoff: float) -> float:
    """How long a refused request backs off before it queues again (jittered, doubling).

    Zero when the endpoint sent `Retry-After`: `acquire` waits out that pause instead."""
    if retry_after is not None:
        return 0.0
    ceiling = min(max_backoff, FIRST_BACKOFF_S * 2 ** min(attempt - 1, 8))
    return random.uniform(ceiling / 2, ceiling)


class RateLimitExhausted(TemporaryModelError):
    """Nothing got through for `[retry] rate_limit_wait`: stop, keep the work, exit 75."""


@dataclass(frozen=True, slots=True)
class Throttled:
    """What an agent is told when its request was refused for the rate limit."""

    limit: int
    """The endpoint's limit on requests in flight, after this refusal."""
    retry_after: float | None
    reason: str


class RequestScheduler:
    """An adaptive concurrency limit shared by every agent that uses one endpoint."""

    def __init__(
        self,
        limit: int,
        *,
        wait_budget: float = 900.0,
        quiet_s: float = QUIET_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ceiling = max(1, limit)
        self.limit = self.ceiling
        self.lowest_limit = self.ceiling
        self.wait_budget = wait_budget
        self.quiet_s = quiet_s
        self.clock = clock
        self.in_flight = 0
        self.throttled = 0
        """Refusals seen (429, 503 with Retry-After)."""
        self.wait_s = 0.0
        """Time requests spent waiting for a slot or after a refusal, all agents together."""
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._pause_until = 0.0
        self._last_change = clock()
        self._stalled_since: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    # --- slots -------------------------------------------------------------------------

    async def acquire(self, *, front: bool = False) -> float:
        """Wait for a slot; the seconds waited. `front`: a refused request goes first."""
        started = self.clock()
        if not self._waiters and self._free() and not self._paused():
            self.in_flight += 1
            return 0.0
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if front:
            self._waiters.appendleft(waiter)
        else:
            self._waiters.append(waiter)
        self._wake()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over as we were cancelled
            else:
                self._waiters.remove(waiter)
            raise
        waited = self.clock() - started
        self.wait_s += waited
        return waited

    def release(self, *, answered: bool = False) -> None:
        """Give a slot back; `answered`: the request got through (progress, maybe growth)."""
        self.in_flight -= 1
        if answered:
            now = self.clock()
            self._stalled_since = None
            if (
                self._waiters
                and self.limit < self.ceiling
                and now - self._last_change >= self.quiet_s
            ):
                self.limit += 1
                self._last_change = now
        self._wake()

    def refused(self, retry_after: float | None, attempt: int, max_backoff: float = 60.0) -> float:
        """A request holding a slot was refused; cut the limit, the seconds it should back off.

        Call before `release`: the requests in flight at this moment, less this one, are what
        the endpoint accepted.
        """
        now = self.clock()
        self.throttled += 1
        accepted = max(1, self.in_flight - 1)
        if accepted < self.limit:
            self.limit = accepted
            self.lowest_limit = min(self.lowest_limit, accepted)
        self._last_change = now
        if self._stalled_since is None:
            self._stalled_since = now
        if retry_after is not None:
            self._pause_until = max(self._pause_until, now + retry_after)
        return refusal_backoff(retry_after, attempt, max_backoff)

    def stalled_for(self) -> float:
        """Seconds since the first refusal with no answer getting through after it."""
        return 0.0 if self._stalled_since is None else self.clock() - self._stalled_since

    def count_in(self, figures: dict[str, float | int]) -> None:
        """Add another scheduler's figures (the cluster's shared limiter) to this one's."""
        self.throttled += int(figures.get("throttled", 0))
        self.lowest_limit = min(self.lowest_limit, int(figures.get("lowest_limit", self.limit)))
        self.wait_s += float(figures.get("wait_s", 0.0))

    def figures(self) -> dict[str, float | int]:
        """The run's rate-limit figures for the JSON result."""
        return {
            "throttled": self.throttled,
            "lowest_limit": self.lowest_limit,
            "limit": self.limit,
            "start_limit": self.ceiling,
            "wait_s": round(self.wait_s, 3),
        }

    # --- internals ---------------------------------------------------------------------

    def _free(self) -> bool:
        return self.in_flight < self.limit

    def _paused(self) -> bool:
        return self.clock() < self._pause_until

    def _wake(self) -> None:
        """Hand free slots to waiters in order; after a pause, come back when it ends."""
        if self._paused():
            if self._waiters and self._timer is None:
                delay = self._pause_until - self.clock()
                self._timer = asyncio.get_running_loop().call_later(delay, self._pause_over)
            return
        while self._waiters and self._free():
            waiter = self._waiters.popleft()
            if waiter.done():
                continue
            self.in_flight += 1
            waiter.set_result(None)

    def _pause_over(self) -> None:
        self._timer = None
        self._wake()
