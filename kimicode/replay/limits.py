"""A provider's rate limits, emulated: requests in flight and requests per minute.

Real accounts cap how many requests an organisation may have in flight and
answer 429 past the cap, often without `Retry-After`; some also cap requests
per minute. `ProviderCap` lets the replay server do the same, so the client's
scheduler is tested and benchmarked without a real account.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from kimicode.replay.script import ScriptError


@dataclass(slots=True)
class Refusal:
    """Why a request was turned away: the 429 to answer."""

    message: str
    retry_after: float | None


@dataclass(slots=True)
class ProviderCap:
    max_in_flight: int | None = None
    """Requests answered at once; the next one gets 429 until one ends."""
    retry_after: float | None = None
    """Seconds sent as `Retry-After` with a 429; None sends no header (as many providers do)."""
    requests_per_minute: int | None = None
    """Requests admitted in any 60 s; past it 429 (with `Retry-After` when `retry_after` is set)."""
    in_flight: int = 0
    peak_in_flight: int = 0
    throttled: int = 0
    """429s answered because of this cap."""
    _admitted: deque[float] = field(default_factory=deque)

    @classmethod
    def from_script(cls, data: Any, **overrides: Any) -> ProviderCap:
        """The script's `limits` object, with the server's options (when not None) on top."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ScriptError("limits must be an object")
        unknown = set(data) - {"max_in_flight", "retry_after", "requests_per_minute"}
        if unknown:
            raise ScriptError(f"limits: unknown keys {sorted(unknown)}")
        values = {**data, **{k: v for k, v in overrides.items() if v is not None}}
        for key in ("max_in_flight", "requests_per_minute"):
            value = values.get(key)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ScriptError(f"limits.{key} must be a positive integer, not {value!r}")
        retry_after = values.get("retry_after")
        if retry_after is not None and (
            not isinstance(retry_after, (int, float)) or retry_after < 0
        ):
            raise ScriptError(f"limits.retry_after must be seconds >= 0, not {retry_after!r}")
        return cls(
            max_in_flight=values.get("max_in_flight"),
            retry_after=None if retry_after is None else float(retry_after),
            requests_per_minute=values.get("requests_per_minute"),
        )

    @property
    def active(self) -> bool:
        return self.max_in_flight is not None or self.requests_per_minute is not None

    def admit(self, now: float | None = None) -> Refusal | None:
        """Take a slot for one request, or say why not; every admitted request is `release`d."""
        now = time.monotonic() if now is None else now
        if self.max_in_flight is not None and self.in_flight >= self.max_in_flight:
            self.throttled += 1
            return Refusal(
                f"replay: too many requests in flight (the limit is {self.max_in_flight})",
                self.retry_after,
            )
        if self.requests_per_minute is not None:
            while self._admitted and now - self._admitted[0] >= 60:
                self._admitted.popleft()
            if len(self._admitted) >= self.requests_per_minute:
                self.throttled += 1
                wait = 60 - (now - self._admitted[0])
                return Refusal(
                    f"replay: the per-minute request budget ({self.requests_per_minute}) is spent",
                    None if self.retry_after is None else max(self.retry_after, round(wait, 3)),
                )
            self._admitted.append(now)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        return None

    def release(self) -> None:
        self.in_flight -= 1

    def state(self) -> dict[str, Any]:
        return {
            "max_in_flight": self.max_in_flight,
            "requests_per_minute": self.requests_per_minute,
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "throttled": self.throttled,
        }
