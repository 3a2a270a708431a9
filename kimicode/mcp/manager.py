"""All of a session's MCP servers: started together, closed together.

`start` connects to every configured server at once, each under its own
timeout; a server that cannot start is reported through `on_warning` (and in
`warnings`) and skipped, and the session goes on with the rest. A server that
dies later takes its tools with it: `tools` lists only the live ones, and a
withdrawn tool's `run` says why it is gone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kimicode.mcp.config import McpConfig, ServerSpec, load_mcp_config
from kimicode.mcp.connection import ServerConnection, ServerUnavailable
from kimicode.mcp.tool import McpTool, make_tool, tool_name

if TYPE_CHECKING:
    from kimicode.config import Settings
    from kimicode.tools.base import Tool

START_TIMEOUT = 30.0
"""Seconds a server gets to start, initialize and list its tools (npx may download first)."""
CALL_TIMEOUT = 300.0
"""Seconds one tool call may take before the server is taken for hung."""


class McpManager:
    """Owns the connections; `aclose` (or `async with`) stops every server."""

    def __init__(
        self,
        *,
        start_timeout: float = START_TIMEOUT,
        call_timeout: float = CALL_TIMEOUT,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.start_timeout = start_timeout
        self.call_timeout = call_timeout
        self.on_warning = on_warning
        self.warnings: list[str] = []
        self.config = McpConfig()
        self.connections: dict[str, ServerConnection] = {}
        self.failures: dict[str, str] = {}
        """Server name -> why it did not start."""
        self._tools: list[McpTool] = []

    async def start(self, settings: Settings) -> list[Tool[Any]]:
        """Connect to the servers configured for `settings.project_dir`; their tools."""
        return await self.start_servers(load_mcp_config(Path(settings.project_dir)))

    async def start_servers(self, config: McpConfig) -> list[Tool[Any]]:
        self.config = config
        for problem in config.problems:
            self._warn(problem)
        specs = list(config.servers.values())
        results = await asyncio.gather(*(self._start_one(spec) for spec in specs))
        taken: set[str] = set()
        for connection in results:
            if connection is None:
                continue
            for remote in connection.tools:
                name = tool_name(connection.spec.name, remote.name, taken)
                taken.add(name)
                self._tools.append(make_tool(connection, remote, name, self.call_timeout))
        offered: list[Tool[Any]] = list(self._tools)
        return offered

    @property
    def tools(self) -> list[Tool[Any]]:
        """The tools of servers still alive (a dead server's tools are withdrawn)."""
        return [tool for tool in self._tools if tool.available]

    def withdrawn(self) -> dict[str, str]:
        """Name of each server that died after starting -> why."""
        return {
            name: conn.dead_reason
            for name, conn in self.connections.items()
            if conn.dead_reason is not None
        }

    async def aclose(self) -> None:
        connections = list(self.connections.values())
        await asyncio.gather(*(conn.close() for conn in connections), return_exceptions=True)

    async def __aenter__(self) -> McpManager:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _start_one(self, spec: ServerSpec) -> ServerConnection | None:
        connection = ServerConnection(spec, on_dead=self._on_dead)
        try:
            await connection.start(self.start_timeout)
        except ServerUnavailable as exc:
            self.failures[spec.name] = connection.dead_reason or str(exc)
            self._warn(f"{exc} (configured in {spec.source}); going on without it")
            return None
        self.connections[spec.name] = connection
        return connection

    def _on_dead(self, connection: ServerConnection) -> None:
        count = sum(1 for tool in self._tools if tool.connection is connection)
        self._warn(f"{connection.unavailable_message()}; its {count} tool(s) are withdrawn")

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self.on_warning is not None:
            self.on_warning(message)
