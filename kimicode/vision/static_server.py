"""A local HTTP server for a workspace, so a rendered page's relative assets load.

`file://` pages cannot fetch modules or JSON and behave unlike the deployed
site; serving the root over http://127.0.0.1 avoids that. One server per root
and event loop, started on first use and kept; responses are never cached, so
a render always shows the files as they are now.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

_NO_CACHE = {"Cache-Control": "no-store"}


class StaticServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_for(self, rel_path: str) -> str:
        return f"{self.base_url}/{quote(rel_path)}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_static("/", self.root, follow_symlinks=False, show_index=False)
        app.on_response_prepare.append(_no_cache)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def _no_cache(_: web.Request, response: web.StreamResponse) -> None:
    response.headers.update(_NO_CACHE)


_servers: dict[tuple[int, Path], StaticServer] = {}
_locks: dict[int, asyncio.Lock] = {}


async def server_for(root: Path) -> StaticServer:
    """The running server for `root` in this event loop, started on first use."""
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _servers if k[0] != loop_id]:
        del _servers[key]  # servers of a finished loop died with it
    for stale in [k for k in _locks if k != loop_id]:
        del _locks[stale]
    lock = _locks.setdefault(loop_id, asyncio.Lock())
    async with lock:
        server = _servers.get((loop_id, root))
        if server is None:
            server = StaticServer(root)
            await server.start()
            _servers[(loop_id, root)] = server
        return server


async def stop_servers() -> None:
    loop_id = id(asyncio.get_running_loop())
    for key in [k for k in _servers if k[0] == loop_id]:
        with contextlib.suppress(Exception):
            await _servers.pop(key).stop()
