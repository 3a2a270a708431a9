"""The agent's port when this machine already uses it: the server in the sandbox and the
forwarder that makes it reachable move to the same new port, and the agent is told it."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
import urllib.request
from pathlib import Path

import pytest
from tool_helpers import call, make_ctx

from kimicode.config import SandboxSettings
from kimicode.tools.background import BackgroundProcesses
from kimicode.tools.base import ToolContext
from kimicode.tools.run_shell import RunShell
from kimicode.trust.sandbox import probe

pytestmark = pytest.mark.sandbox


def _get(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=10) as page:
        return page.read().decode()


async def test_a_taken_port_moves_the_server_and_its_forwarder_together(tmp_path: Path) -> None:
    found = await probe(SandboxSettings(mode="auto"))
    if found.sandbox is None:
        pytest.skip(found.warning or "bwrap cannot start here")
    (tmp_path / "index.html").write_text("hello from the sandbox")
    background = BackgroundProcesses()
    taken = background.port
    squatter = socket.socket()  # another program took the agent's port meanwhile
    squatter.bind(("127.0.0.1", taken))
    squatter.listen()
    services = make_ctx(tmp_path, sandbox=found.sandbox).services
    ctx = ToolContext(dataclasses.replace(services, background=background))
    try:
        started = await call(
            RunShell(),
            ctx,
            command="exec python3 -m http.server $PORT --bind 127.0.0.1",
            background=True,
        )
        told = re.search(r"PORT=(\d+)", started.text)
        assert told is not None, started.text
        assert int(told[1]) == background.port != taken  # the agent hears the new port
        await background.wait_listening()  # the server listens where the forwarder points
        assert await asyncio.to_thread(_get, background.port) == "hello from the sandbox"
    finally:
        squatter.close()
        await background.close()
