"""Newline-delimited JSON-RPC over stdio that answers bad input instead of dropping it.

The SDK's own framing logs a line that is not JSON and goes on, so the client
waits forever; and a line that is JSON but not an object stops its receive
loop. Here both get the JSON-RPC error the spec asks for (`-32700` parse
error, `-32600` invalid request, `id: null`) and the agent keeps reading.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

BUFFER_LIMIT = 50 * 1024 * 1024
"""Bytes one message may take (images and embedded files come inline)."""


class StdioTransport:
    """A `acp` message transport over an asyncio reader/writer pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = asyncio.Lock()
        self._closed = False

    async def send(self, message: dict[str, Any]) -> None:
        if self._closed:
            raise ConnectionError("the client disconnected")
        data = (json.dumps(message, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        async with self._lock:
            self._writer.write(data)
            await self._writer.drain()

    async def receive(self) -> dict[str, Any] | None:
        """The next message, or None at end of input; bad lines are answered, then skipped."""
        while True:
            try:
                line = await self._reader.readline()
            except (ValueError, asyncio.LimitOverrunError):
                await self._error(-32600, "Invalid request", "the message is too large")
                continue
            except (ConnectionError, OSError):
                return None
            if not line:
                return None
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError as exc:
                await self._error(-32700, "Parse error", f"not JSON: {exc}")
                continue
            problem = _shape_problem(message)
            if problem:
                await self._error(-32600, "Invalid request", problem, _id_of(message))
                continue
            checked: dict[str, Any] = message
            return checked

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._writer.close()
        except (ConnectionError, OSError, RuntimeError):
            pass

    async def _error(self, code: int, message: str, details: str, id_: Any = None) -> None:
        error = {"code": code, "message": message, "data": {"details": details}}
        try:
            await self.send({"jsonrpc": "2.0", "id": id_, "error": error})
        except (ConnectionError, OSError):
            pass
        print(f"kimicode acp: {message}: {details}", file=sys.stderr, flush=True)


def _shape_problem(message: Any) -> str:
    if not isinstance(message, dict):
        return f"a JSON-RPC message is an object, not {type(message).__name__}"
    method = message.get("method")
    if method is not None and not isinstance(method, str):
        return "`method` must be a string"
    if method is None and "id" not in message:
        return "a message needs a `method` (or an `id`, for a response)"
    params = message.get("params")
    if params is not None and not isinstance(params, dict):
        return "`params` must be an object"
    return ""


def _id_of(message: Any) -> Any:
    if isinstance(message, dict) and isinstance(message.get("id"), str | int):
        return message["id"]
    return None


async def stdio_transport() -> StdioTransport:
    """The process's own stdin and stdout as a transport (stdout is the protocol's only)."""
    import acp

    reader, writer = await acp.stdio_streams(limit=BUFFER_LIMIT)
    return StdioTransport(reader, writer)
