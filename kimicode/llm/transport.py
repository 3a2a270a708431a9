"""The HTTP under the chat stream: one aiohttp session per endpoint, bodies as bytes.

A swarm's client spends its CPU per request and per chunk. Through the openai SDK
a request cost about 1.7 ms of building options, headers and httpx objects before
a byte left, and each chunk went up through httpx, httpcore and anyio; aiohttp
parses HTTP in C and hands the body over as it arrives. So the chat stream is a
plain POST of JSON bytes whose body `kimicode.llm.sse` reads; the openai SDK is
still what uploads files (`kimicode.vision.upload`). Connections are kept alive
and shared by every agent on the endpoint; the request scheduler, not the
connection pool, limits how many are in flight. A stream that stops (no byte
for `timeout` seconds) is ended by one watchdog per session that compares each
open body's byte count now and then: aiohttp's own read timeout re-arms a timer
for every chunk, some fifteen thousand a second at 300 agents. `HTTPS_PROXY`/`NO_PROXY` are
honoured as the SDK honoured them, read once per endpoint (aiohttp's own
`trust_env` reads them, and `~/.netrc`, on every request).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from kimicode import __version__
from kimicode.llm.retry import RetryableFailure, status_failure

_AFTER_DONE_S = 0.1
"""How long to wait for the body's end after `[DONE]`, so the connection can be reused."""


_LOOPBACK = {"localhost", "::1"}


class StreamResponse:
    """An answered request whose body is still arriving."""

    __slots__ = ("_open", "_response", "seen", "stalled")

    def __init__(self, response: Any, open_streams: set[StreamResponse]) -> None:
        self._response = response
        self._open = open_streams
        self.seen = (-1, 0.0)
        """(bytes received, when that count was last seen to change), for the watchdog."""
        self.stalled = False
        """The watchdog ended it: nothing arrived for the transport's timeout."""
        open_streams.add(self)

    def chunks(self) -> AsyncIterator[bytes]:
        return self._response.content.iter_any()  # type: ignore[no-any-return]

    async def close(self, *, finished: bool) -> None:
        """Give the connection back to the pool when the body ended, else drop it."""
        self._open.discard(self)
        content = self._response.content
        if finished and not content.at_eof():
            try:
                await asyncio.wait_for(content.read(), _AFTER_DONE_S)
            except transport_errors():
                pass
        if content.at_eof():
            self._response.release()
        else:
            self._response.close()


class ChatTransport:
    """POSTs to one OpenAI-compatible endpoint; shared by every model on it."""

    def __init__(self, base_url: str, api_key: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "User-Agent": f"kimicode/{__version__}",
        }
        self._proxy = env_proxy(self.base_url)
        self._session: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._streams: set[StreamResponse] = set()
        self._watchdog: asyncio.Task[None] | None = None

    def prepare(self) -> None:
        """Import aiohttp now (about 0.2 s), e.g. in a thread while the prompt is read."""
        import aiohttp  # noqa: F401

    async def post_stream(self, path: str, payload: bytes) -> StreamResponse:
        """The response once its status is 2xx; an HTTP error or a failed connection raises
        the matching `status_failure` or `RetryableFailure`."""
        import aiohttp

        url = self.base_url + path
        client = self._client()
        try:
            async with asyncio.timeout(self.timeout):  # until the headers are in
                response = await client.post(
                    url, data=payload, headers=self._headers, proxy=self._proxy
                )
        except TimeoutError:
            raise RetryableFailure("timeout", "the request timed out") from None
        except aiohttp.ClientError as exc:
            cause = exc.__cause__ or exc
            raise RetryableFailure("connection", f"connection failed: {describe(cause)}") from None
        if response.status >= 400:
            try:
                body = await response.read()
            except transport_errors():
                body = b""
            finally:
                response.release()
            raise status_failure(
                response.status, api_message(body, response.reason), self.base_url, response.headers
            )
        return StreamResponse(response, self._streams)

    async def aclose(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = self._loop = None

    async def _watch(self) -> None:
        """End every stream that received nothing for `timeout` seconds."""
        loop = asyncio.get_running_loop()
        every = min(max(self.timeout / 4, 0.05), 30.0)
        while True:
            await asyncio.sleep(every)
            now = loop.time()
            for stream in list(self._streams):
                received = stream._response.content.total_bytes
                if received != stream.seen[0]:
                    stream.seen = (received, now)
                elif now - stream.seen[1] >= self.timeout:
                    stream.stalled = True
                    self._streams.discard(stream)
                    stream._response.close()  # its reader raises, and the call is retried

    def _client(self) -> Any:
        """The session for the running loop (a new loop, as each test has, gets its own)."""
        import aiohttp

        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or session.closed or self._loop is not loop:
            self._loop = loop
            session = self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, ssl=self._ssl()),
                timeout=aiohttp.ClientTimeout(total=None, connect=self.timeout),
                auto_decompress=True,
            )
            self._streams.clear()
            self._watchdog = loop.create_task(self._watch())
        return session

    def _ssl(self) -> Any:
        """For https: the certificates the SDK trusted (certifi's, unless `SSL_CERT_FILE` or
        `SSL_CERT_DIR` names others), so an endpoint that worked before still verifies."""
        if not self.base_url.startswith("https:"):
            return True
        import os
        import ssl

        if os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
            return ssl.create_default_context()
        try:
            import certifi
        except ImportError:
            return ssl.create_default_context()
        return ssl.create_default_context(cafile=certifi.where())


def env_proxy(url: str) -> str | None:
    """The proxy `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` name for `url`, unless `NO_PROXY`
    exempts its host or the host is this machine."""
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    proxies = urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if not proxy or host in _LOOPBACK or host.startswith("127."):
        return None
    bypass = urllib.request.proxy_bypass_environment(host, proxies)  # type: ignore[attr-defined]
    return None if bypass else proxy


def api_message(body: bytes, reason: str | None) -> str:
    """The API's own error message, not a wrapping of it."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        inner = data.get("error", data)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
        if isinstance(inner, str) and inner:
            return inner
        if data.get("message"):
            return str(data["message"])
    text = body.decode("utf-8", "replace").strip()
    return text[:500] or (reason or "no message")


def transport_errors(*also: type[BaseException]) -> tuple[type[BaseException], ...]:
    """What a broken or stalled connection raises while a body is read (and `also`)."""
    import aiohttp

    return (*also, TimeoutError, OSError, aiohttp.ClientError)


def describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
