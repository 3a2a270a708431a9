"""`kimicode mcp list`: every configured server, where from, and what it offers.

Each server is started (all at once, under the timeout a session gives it),
asked for its tools and closed again, so the report shows what a session would
get: a slow machine does not make the list fail where a session would connect.
"""

from __future__ import annotations

from pathlib import Path

from kimicode.mcp.config import McpConfig, load_mcp_config, project_mcp_path, user_mcp_path
from kimicode.mcp.manager import START_TIMEOUT, McpManager


async def mcp_list_report(
    project_dir: Path, *, server_timeout: float = START_TIMEOUT, config: McpConfig | None = None
) -> tuple[str, int]:
    """Printable text (rich markup) and the exit code: 0 all connect, 1 one fails, 2 bad config."""
    from rich.markup import escape

    config = config if config is not None else load_mcp_config(project_dir)
    lines: list[str] = []
    if not config.servers:
        lines.append("No MCP servers configured.")
        lines.append(
            f'Add them under "mcpServers" in {escape(str(project_mcp_path(project_dir)))} '
            f"(this project) or {escape(str(user_mcp_path()))} (all projects)."
        )
    async with McpManager(start_timeout=server_timeout) as manager:
        await manager.start_servers(McpConfig(servers=config.servers))
        for name, spec in config.servers.items():
            connection = manager.connections.get(name)
            status = (
                f"[green]connected[/green], {len(connection.tools)} tool(s)"
                if connection is not None
                else f"[red]failed[/red]: {escape(manager.failures.get(name, 'unknown error'))}"
            )
            lines.append(f"[bold]{escape(name)}[/bold] ({spec.transport}) {status}")
            lines.append(f"  {escape(spec.target())}")
            lines.append(f"  configured in {escape(str(spec.source))}")
            for tool in manager.tools:
                if tool.server == name:  # type: ignore[attr-defined]
                    first = (tool.description.splitlines() or [""])[0].strip()
                    lines.append(f"    {escape(tool.name)}  [dim]{escape(first[:100])}[/dim]")
    for problem in config.problems:
        lines.append(f"[yellow]warning[/yellow]: {escape(problem)}")
    if config.problems:
        code = 2
    elif manager.failures:
        code = 1
    else:
        code = 0
    return "\n".join(lines), code
