"""OpenAIChatModel: streaming chat completions from any OpenAI-compatible endpoint.

Typed SDK objects per chunk cost about six times the CPU of reading the SSE
lines raw, and with a hundred agents streaming that is a whole core; a typed
request transformation walks the whole history, which grows to seconds per call
on a long session. So the body goes out as JSON bytes through
`kimicode.llm.transport` (aiohttp, imported on first use) and the stream is
parsed by `kimicode.llm.sse`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from kimicode.config import ModelSettings, RetrySettings
from kimicode.errors import ModelError, UsageError
from kimicode.llm.retry import (
    RETRY_AFTER_CEILING,
    RetryableFailure,
    backoff_delay,
    give_up,
    rate_limit_exhausted,
    status_failure,
    too_long_to_wait,
)
from kimicode.llm.scheduler import RequestScheduler, Throttled
from kimicode.llm.sse import DONE, StreamAssembler, iter_sse_data
from kimicode.llm.thinking import prepare_messages, resolve_provider, thinking_extra_body
from kimicode.llm.transport import ChatTransport, describe, transport_errors
from kimicode.llm.types import Completion, Delta, Message
from kimicode.protocols import RequestLimiter


class OpenAIChatModel:
    """A ChatModel over `/chat/completions` with streaming, thinking and retries."""

    def __init__(
        self,
        settings: ModelSettings,
        retry: RetrySettings,
        api_key: str,
        *,
        model: str | None = None,
        transport: ChatTransport | None = None,
        concurrency: int = 16,
        scheduler: RequestLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.retry = retry
        self.model = model or settings.name
        self.provider = resolve_provider(settings)
        self.url = settings.base_url.rstrip("/")
        self._api_key = api_key
        self.transport = transport or ChatTransport(self.url, api_key, settings.request_timeout)
        """The endpoint's connection pool, shared by `for_model` copies."""
        self.scheduler: RequestLimiter = scheduler or RequestScheduler(
            settings.max_concurrency or concurrency, wait_budget=retry.rate_limit_wait
        )
        """This endpoint's limit on requests in flight, shared by `for_model` copies."""

    def for_model(self, model: str) -> OpenAIChatModel:
        """The same endpoint, connection pool and scheduler with another model (sub-agents)."""
        return OpenAIChatModel(
            self.settings,
            self.retry,
            self._api_key,
            model=model,
            transport=self.transport,
            scheduler=self.scheduler,
        )

    async def complete(
        self,
        messages: list[Message],
        tools: list[dict[str, Any]],
        *,
        on_delta: Callable[[Delta], None] | None = None,
        on_retry: Callable[[int, float, str], None] | None = None,
        on_throttle: Callable[[Throttled | None], None] | None = None,
    ) -> Completion:
        """Stream one turn, retrying transient failures; only the successful attempt is kept.

        A rate-limit refusal is not a failed attempt: the request waits its turn in the
        endpoint's scheduler (`on_throttle` is told, and told `None` once it got through).
        """
        payload = self.payload(messages, tools)
        started = time.monotonic()
        attempts = max(1, self.retry.attempts)
        attempt = refusals = 0
        waited = 0.0
        while True:
            waited += await self.scheduler.acquire(front=refusals > 0)
            try:
                completion = await self._attempt(payload, on_delta)
            except RetryableFailure as failure:
                if failure.retry_after is not None and failure.retry_after > max(
                    RETRY_AFTER_CEILING, self.retry.max_delay
                ):
                    self.scheduler.release()
                    raise too_long_to_wait(failure, self.url) from None
                if failure.throttle:
                    refusals += 1
                    backoff = self.scheduler.refused(
                        failure.retry_after, refusals, self.retry.max_delay
                    )
                    self.scheduler.release()
                    if self.scheduler.stalled_for() >= self.retry.rate_limit_wait:
                        raise rate_limit_exhausted(self.url, self.scheduler, failure) from None
                    if on_throttle is not None:
                        limit = self.scheduler.limit
                        on_throttle(Throttled(limit, failure.retry_after, failure.reason))
                    await asyncio.sleep(backoff)
                    waited += backoff
                    continue
                self.scheduler.release()
                attempt += 1
                if attempt >= attempts:
                    raise give_up(failure, self.url, attempt, time.monotonic() - started) from None
                wait = failure.retry_after
                if wait is None:
                    wait = backoff_delay(attempt, self.retry)
                if on_retry is not None:
                    on_retry(attempt, wait, failure.reason)
                await asyncio.sleep(wait)
            except BaseException:
                self.scheduler.release()
                raise
            else:
                self.scheduler.release(answered=True)
                if refusals and on_throttle is not None:
                    on_throttle(None)
                completion.wait_s = waited
                return completion

    def payload(self, messages: list[Message], tools: list[dict[str, Any]]) -> bytes:
        """`request_body` as JSON bytes, the tools' part reused from the last call that had
        the same tools (they were most of each request's encoding: ~15 KB of schemas)."""
        text = json.dumps(self.request_body(messages, []), ensure_ascii=False)
        if tools:
            text = f'{text[:-1]}, "tools": {_tools_json(tools)}}}'
        return text.encode()

    def request_body(self, messages: list[Message], tools: list[dict[str, Any]]) -> dict[str, Any]:
        """The JSON body sent to /chat/completions (public so tests and logs can see it)."""
        thinking = self.settings.thinking and self.provider != "openai"
        body: dict[str, Any] = {
            "model": self.model,
            "messages": prepare_messages(messages, with_reasoning=thinking),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if tools:
            body["tools"] = tools
        if self.settings.max_output_tokens:
            key = "max_completion_tokens" if self.provider == "openai" else "max_tokens"
            body[key] = self.settings.max_output_tokens
        if self.settings.temperature is not None:
            body["temperature"] = self.settings.temperature
        body.update(thinking_extra_body(self.provider, self.settings.thinking))
        return body

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def _attempt(
        self, payload: bytes, on_delta: Callable[[Delta], None] | None
    ) -> Completion:
        response = await self.transport.post_stream("/chat/completions", payload)
        assembler = StreamAssembler(on_delta)
        done = False
        try:
            async for data in iter_sse_data(response.chunks()):
                if data == DONE:
                    done = True
                    break
                chunk = json.loads(data)
                if "error" in chunk:
                    raise _stream_error(chunk["error"], self.url)
                assembler.feed(chunk)
        except transport_errors(ValueError) as exc:
            if response.stalled:
                timeout = self.transport.timeout
                raise RetryableFailure("timeout", f"the stream stalled for {timeout:g} s") from None
            if assembler.finish_reason is None:
                raise RetryableFailure("stream", f"stream broke: {describe(exc)}") from None
        finally:
            await response.close(finished=done)
        if not done and assembler.finish_reason is None:
            raise RetryableFailure("stream", "stream ended before the answer was complete")
        return assembler.completion()

    def prepare(self) -> None:
        """Import the HTTP client now (about 0.2 s), e.g. in a thread at start."""
        self.transport.prepare()


_encoded_tools: OrderedDict[tuple[tuple[str, str, int], ...], tuple[list[Any], str]] = OrderedDict()
"""Tool lists' JSON by (name, description, id of the parameters schema) of each tool; the
schemas are kept with it, so an id is not reused while its entry lives."""


def _tools_json(tools: list[dict[str, Any]]) -> str:
    key = _tools_key(tools)
    if key is None:
        return json.dumps(tools, ensure_ascii=False)
    known = _encoded_tools.get(key)
    if known is not None:
        _encoded_tools.move_to_end(key)
        return known[1]
    text = json.dumps(tools, ensure_ascii=False)
    _encoded_tools[key] = ([t["function"]["parameters"] for t in tools], text)
    if len(_encoded_tools) > 32:
        _encoded_tools.popitem(last=False)
    return text


def _tools_key(tools: list[dict[str, Any]]) -> tuple[tuple[str, str, int], ...] | None:
    """None unless every tool is exactly a function schema (`Tool.schema()`'s shape)."""
    key = []
    for tool in tools:
        function = tool.get("function")
        if tool.get("type") != "function" or len(tool) != 2 or not isinstance(function, dict):
            return None
        name, description = function.get("name"), function.get("description")
        parameters = function.get("parameters")
        if len(function) != 3 or not isinstance(name, str) or not isinstance(description, str):
            return None
        if not isinstance(parameters, dict):
            return None
        key.append((name, description, id(parameters)))
    return tuple(key)


def _stream_error(error: Any, url: str) -> Exception:
    """An error event inside an otherwise successful stream."""
    message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
    code = error.get("code") if isinstance(error, dict) else None
    status = code if isinstance(code, int) else 500
    failure = status_failure(status, str(message), url, {})
    if isinstance(failure, (ModelError, UsageError)):
        return failure
    return RetryableFailure("stream", f"error inside the stream: {message}")
