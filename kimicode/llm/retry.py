"""Which model failures are worth retrying, how long to wait, and what to say when we stop.

Users of peer tools get stuck on 429s with no word of what happened; here a
failure that outlasts the retries becomes a TemporaryModelError (exit 75) that
says what failed, how often, over how long, and what to do about it.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from kimicode.config import RetrySettings
from kimicode.errors import ModelError, TemporaryModelError, UsageError
from kimicode.llm.scheduler import RateLimitExhausted
from kimicode.protocols import RequestLimiter

RETRYABLE_STATUS = frozenset({408, 409, 429})
RETRY_AFTER_CEILING = 300.0
"""A server asking for a longer wait than this (a spent daily quota) is not waited for."""


class ApiKeyRejected(UsageError):
    """401/403: the key is wrong, expired or not allowed; a configuration problem (exit 2)."""

    def __init__(self, url: str, status: int, message: str) -> None:
        super().__init__(
            f"the API key was rejected by {url} ({status}: {message}). Set a valid key in "
            "KIMICODE_API_KEY (or MOONSHOT_API_KEY, OPENAI_API_KEY) or `api_key` under [model] "
            "in ~/.config/kimicode/config.toml; Kimi API keys come from "
            "https://platform.moonshot.ai/console/api-keys"
        )


@dataclass
class RetryableFailure(Exception):
    """One failed attempt that another attempt may fix."""

    kind: str
    """rate_limit | server | timeout | connection | stream"""
    reason: str
    status: int | None = None
    retry_after: float | None = None

    def __str__(self) -> str:
        return self.reason

    @property
    def throttle(self) -> bool:
        """A rate-limit refusal (429, or 503 with Retry-After): the scheduler's, not a retry."""
        return self.status == 429 or (self.status == 503 and self.retry_after is not None)


def backoff_delay(attempt: int, retry: RetrySettings) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max_delay, base * 2^(n-1))]."""
    ceiling = min(retry.max_delay, retry.base_delay * 2 ** (attempt - 1))
    return random.uniform(0, ceiling)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def status_failure(
    status: int, message: str, url: str, headers: Mapping[str, str]
) -> RetryableFailure | ModelError | UsageError:
    """The exception for an HTTP error answer: retry it, or stop with the API's own words."""
    if status == 429:
        return RetryableFailure(
            "rate_limit", f"rate limited (429): {message}", status, parse_retry_after(headers)
        )
    if status in RETRYABLE_STATUS or status >= 500:
        return RetryableFailure(
            "server", f"HTTP {status}: {message}", status, parse_retry_after(headers)
        )
    if status in (401, 403):
        return ApiKeyRejected(url, status, message)
    if status == 404:
        return ModelError(
            f"{url} answered 404: {message}. Check --model and --base-url (the endpoint must "
            "serve /chat/completions)"
        )
    return ModelError(f"{url} refused the request ({status}): {message}")


def give_up(
    failure: RetryableFailure, url: str, attempts: int, elapsed: float
) -> TemporaryModelError:
    """The final error once every attempt failed; it names what to do next."""
    span = f"{attempts} times over {elapsed:.1f} s"
    if failure.kind == "rate_limit":
        text = (
            f"rate limited by {url} (429) {span}; wait and retry, or lower --max-agents "
            "(or raise [retry] attempts)"
        )
    elif failure.kind == "server":
        text = (
            f"{url} failed {span}, last with {failure.reason}; the service may be down, retry later"
        )
    elif failure.kind == "stream":
        text = (
            f"the answer stream from {url} broke midway {span} ({failure.reason}); "
            "check the network or retry later"
        )
    else:
        text = f"could not reach {url} {span} ({failure.reason}); check the network and --base-url"
    return TemporaryModelError(text)


def rate_limit_exhausted(
    url: str, scheduler: RequestLimiter, failure: RetryableFailure
) -> RateLimitExhausted:
    """The end of waiting for a rate limit: how long, and the cap that was observed."""
    figures = scheduler.figures()
    return RateLimitExhausted(
        f"rate limited by {url}: no request got through for {scheduler.stalled_for():.0f} s "
        f"([retry] rate_limit_wait = {scheduler.wait_budget:g}); it answered 429 "
        f"{figures['throttled']} times and refused even {figures['lowest_limit']} request(s) "
        f"in flight (started at {figures['start_limit']}); last answer: {failure.reason}. "
        "Work done so far is kept; retry later, or set [model] max_concurrency to the "
        "account's limit"
    )


def too_long_to_wait(failure: RetryableFailure, url: str) -> TemporaryModelError:
    return TemporaryModelError(
        f"{url} asks to wait {failure.retry_after:.0f} s before the next request "
        f"({failure.reason}); retry later"
    )
