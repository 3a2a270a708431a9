"""One live MCP server: its process or HTTP session, owned by one task.

The SDK's transports and `ClientSession` are anyio contexts whose cancel
scopes must be exited by the task that entered them. So each server's whole
lifetime runs inside `_serve`, a task of its own: `start` waits for it to
report ready (or fail), `close` asks it to leave and waits. Calls go through
the session from any task; one that fails because the server went away, or
that outlasts its timeout, marks the server dead, and it stays dead.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import IO, Any

from kimicode import __version__
from kimicode.mcp.config import ServerSpec

STOP_TIMEOUT = 8.0
"""How long closing may take: the SDK gives a stdio server 2 s, then kills it."""


class ServerUnavailable(Exception):
    """The server cannot take calls; the message says why, for the model and the user."""


class ServerConnection:
    def __init__(
        self, spec: ServerSpec, on_dead: Callable[[ServerConnection], None] | None = None
    ) -> None:
        self.spec = spec
        self.on_dead = on_dead
        """Called once when a started server dies or hangs."""
        self.tools: list[Any] = []
        """`mcp.types.Tool` as the server listed them."""
        self.dead_reason: str | None = None
        self._session: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._leave = asyncio.Event()
        self._stderr: IO[str] | None = None

    @property
    def alive(self) -> bool:
        return self.dead_reason is None and self._session is not None

    async def start(self, start_timeout: float) -> None:
        """Connect, initialize and list tools; raises ServerUnavailable on failure or timeout."""
        self._task = asyncio.create_task(self._serve(), name=f"mcp:{self.spec.name}")
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), start_timeout)
        except TimeoutError:
            self.dead_reason = f"it did not answer within {start_timeout:g} s"
            await self.close()
            raise ServerUnavailable(self.start_failure()) from None
        except ServerUnavailable:
            await self.close()
            raise

    async def call(self, tool: str, arguments: dict[str, Any], call_timeout: float) -> Any:
        """`tools/call` on the server; raises ServerUnavailable when it is or goes away."""
        if not self.alive:
            raise ServerUnavailable(self.unavailable_message())
        try:
            async with asyncio.timeout(call_timeout):
                return await self._session.call_tool(tool, arguments)
        except TimeoutError:
            await self.mark_dead(f"the call to {tool} did not finish within {call_timeout:g} s")
        except Exception as exc:
            ended = self._task is not None and self._task.done()
            if not (ended or _is_connection_lost(exc)):
                raise  # an error answer from a live server: the caller reports it
            await self.mark_dead(f"it exited: {self._exit_detail(exc)}")
        raise ServerUnavailable(self.unavailable_message())

    def start_failure(self) -> str:
        return f"the MCP server {self.spec.name} did not start ({self.dead_reason})"

    def unavailable_message(self) -> str:
        reason = self.dead_reason or "it is not connected"
        return f"the MCP server {self.spec.name} is not available ({reason})"

    async def mark_dead(self, reason: str) -> None:
        first = self.dead_reason is None
        if first:
            self.dead_reason = reason
        await self.close()
        if first and self.on_dead is not None:
            self.on_dead(self)

    async def close(self) -> None:
        """Leave the session and stop the server; safe from any task, any number of times."""
        self._leave.set()
        task = self._task
        if task is not None and not task.done() and not self._ready.done():
            task.cancel()  # still starting: nothing to leave gracefully
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT)
            if not done:
                task.cancel()
                await asyncio.wait({task}, timeout=STOP_TIMEOUT)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    async def _serve(self) -> None:
        """The server's lifetime: enter the transport and session, wait to be told to leave."""
        from mcp import ClientSession, types

        try:
            async with AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport())
                session = await stack.enter_async_context(
                    ClientSession(
                        read,
                        write,
                        client_info=types.Implementation(name="kimicode", version=__version__),
                    )
                )
                await session.initialize()
                self.tools = await _list_all_tools(session)
                self._session = session
                self._ready.set_result(None)
                await self._leave.wait()
        except Exception as exc:
            detail = self._exit_detail(exc)
            if not self._ready.done():
                self.dead_reason = detail
                self._ready.set_exception(ServerUnavailable(self.start_failure()))
            elif self.dead_reason is None and not self._leave.is_set():
                self.dead_reason = f"it exited: {detail}"
                if self.on_dead is not None:
                    self.on_dead(self)
        finally:
            self._session = None
            if not self._ready.done():
                self._ready.cancel()

    def _transport(self) -> contextlib.AbstractAsyncContextManager[Any]:
        spec = self.spec
        if spec.transport == "http":
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            return _http_transport(spec, streamable_http_client, create_mcp_http_client)
        from mcp import StdioServerParameters, stdio_client

        # Outlives the transport: its last line says why a server died.
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
        params = StdioServerParameters(
            command=spec.command, args=list(spec.args), env=dict(spec.env) or None, cwd=spec.cwd
        )
        return stdio_client(params, errlog=self._stderr)

    def _exit_detail(self, exc: BaseException | None = None) -> str:
        """The last line the server wrote to stderr, else the error that ended it."""
        tail = self.stderr_tail()
        if tail:
            return tail
        if exc is None:
            return "connection closed"
        return _describe(exc)

    def stderr_tail(self, limit: int = 300) -> str:
        if self._stderr is None or self._stderr.closed:
            return ""
        try:
            self._stderr.flush()
            self._stderr.seek(0)
            lines = [line.strip() for line in self._stderr.read().splitlines() if line.strip()]
        except (OSError, ValueError):
            return ""
        return lines[-1][:limit] if lines else ""


@contextlib.asynccontextmanager
async def _http_transport(spec: ServerSpec, connect: Any, make_client: Any) -> Any:
    async with (
        make_client(headers=dict(spec.headers) or None) as http,
        connect(spec.url, http_client=http) as streams,
    ):
        yield streams


async def _list_all_tools(session: Any) -> list[Any]:
    from mcp import types

    tools: list[Any] = []
    cursor: str | None = None
    for _ in range(100):  # a server that pages forever is cut off
        params = types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def _is_connection_lost(exc: BaseException) -> bool:
    from mcp import MCPError
    from mcp_types import CONNECTION_CLOSED

    if isinstance(exc, MCPError):
        return exc.error.code == CONNECTION_CLOSED
    return isinstance(exc, OSError | EOFError | ConnectionError)


def _describe(exc: BaseException) -> str:
    """A one-line cause, looking inside the exception groups anyio raises."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    if _is_connection_lost(exc):
        return "the connection closed"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
