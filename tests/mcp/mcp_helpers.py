"""Starting the test MCP server and writing `mcp.json` files for it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ECHO_SERVER = Path(__file__).with_name("echo_server.py")


def stdio_entry(*extra: str) -> dict[str, Any]:
    """An `mcpServers` entry that runs the echo server over stdio."""
    return {"command": sys.executable, "args": [str(ECHO_SERVER), *extra]}


def write_mcp_json(path: Path, servers: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"mcpServers": servers}), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_http_server(timeout: float = 20.0) -> tuple[subprocess.Popen[bytes], str]:
    """The echo server on streamable HTTP at 127.0.0.1; (process, endpoint URL)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ECHO_SERVER), "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the HTTP echo server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"http://127.0.0.1:{port}/mcp"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the HTTP echo server did not start listening")


def make_ctx(root: Path) -> Any:
    """A real ToolContext over `root`; MCP tools ignore the workspace but the loop passes one."""
    from kimicode.config import Settings
    from kimicode.tools.base import ToolContext, ToolServices
    from kimicode.tools.workspace import Workspace

    return ToolContext(
        ToolServices(
            workspace=Workspace(root), settings=Settings(project_dir=root), emit=lambda e: None
        )
    )


async def call(tool: Any, root: Path, **arguments: Any) -> Any:
    """Validate the arguments the way the agent loop does, then run the tool."""
    return await tool.run(tool.Params.model_validate(arguments), make_ctx(root))
