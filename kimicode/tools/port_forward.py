"""A dev server in the sandbox, reachable by the browser on this machine's loopback.

The sandbox has its own network namespace (no network at all), so a server
started there listens on a loopback nobody else sees. A unix socket crosses
that line: it is a file, and the sandbox's namespace does not cover files.

- Inside the sandbox, next to the agent's background command, `FORWARDER`
  (a few lines of Python run by this interpreter) listens on a unix socket
  in a directory bound into the sandbox, and connects each client to
  127.0.0.1:PORT in the sandbox's namespace.
- Outside, `Relay` listens on 127.0.0.1:PORT of this machine and passes each
  connection through the unix socket.

So `http://localhost:PORT` on this machine (what `render_page` opens) is the
server in the sandbox, while the sandbox still reaches nothing: connections
only go in, and only to the agent's own port. (Each other sandboxed command
has a namespace of its own, so it does not see the server: a known limit.)

A probe (`listening`) asks the forwarder, over a second socket, whether
anything accepts connections on the port yet: one byte back, 1 or 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

FORWARDER = r"""
import asyncio, sys
sock, port = sys.argv[1], int(sys.argv[2])
async def pipe(r, w):
    try:
        while data := await r.read(65536):
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        w.close()
async def client(r, w):
    try:
        ir, iw = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        w.close()
        return
    await asyncio.gather(pipe(r, iw), pipe(ir, w))
async def probe(r, w):
    try:
        _, iw = await asyncio.open_connection("127.0.0.1", port)
        iw.close()
        w.write(b"1")
    except OSError:
        w.write(b"0")
    await w.drain()
    w.close()
async def main():
    await asyncio.start_unix_server(client, sock)
    await asyncio.start_unix_server(probe, sock + ".probe")
    await asyncio.Event().wait()
asyncio.run(main())
"""
"""Run inside the sandbox as `python -c FORWARDER SOCKET PORT`."""


def port_taken(port: int) -> bool:
    """True when something on this machine already listens on 127.0.0.1:`port`."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Relay:
    """127.0.0.1:port on this machine -> the forwarder's unix socket."""

    def __init__(self, port: int, sock: Path) -> None:
        self.port, self.sock = port, sock
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)

    async def listening(self) -> bool:
        """Whether the server in the sandbox accepts connections on the port yet."""
        try:
            reader, writer = await asyncio.open_unix_connection(str(self.sock) + ".probe")
        except OSError:
            return False  # the forwarder itself is not up yet
        try:
            return await asyncio.wait_for(reader.read(1), 5) == b"1"
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            inner_r, inner_w = await asyncio.open_unix_connection(str(self.sock))
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, inner_w), _pipe(inner_r, writer))

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
