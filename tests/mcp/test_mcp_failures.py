"""Servers that fail: at start, during a call, or by hanging. The session goes on."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from mcp_helpers import call, stdio_entry, write_mcp_json

from kimicode.config import Settings
from kimicode.mcp.config import project_mcp_path
from kimicode.mcp.manager import McpManager


def names(manager: McpManager) -> set[str]:
    return {tool.name for tool in manager.tools}


async def test_a_server_that_exits_during_a_call_is_reported_and_withdrawn(tmp_path: Path) -> None:
    write_mcp_json(project_mcp_path(tmp_path), {"echo": stdio_entry()})
    warnings: list[str] = []
    async with McpManager(start_timeout=20, call_timeout=20, on_warning=warnings.append) as manager:
        tools = {tool.name: tool for tool in await manager.start(Settings(project_dir=tmp_path))}

        crashed = await call(tools["mcp__echo__crash"], tmp_path)

        assert crashed.is_error
        assert "the MCP server echo is not available (it exited" in crashed.text
        assert "crashing on purpose" in crashed.text
        assert names(manager) == set()
        later = await call(tools["mcp__echo__echo"], tmp_path, text="hello?")
        assert later.is_error
        assert "the MCP server echo is not available (it exited: " in later.text
        assert any("withdrawn" in w and "echo" in w for w in warnings)
        assert "echo" in manager.withdrawn()


async def test_a_call_that_hangs_marks_the_server_dead(tmp_path: Path) -> None:
    write_mcp_json(project_mcp_path(tmp_path), {"echo": stdio_entry()})
    async with McpManager(start_timeout=20, call_timeout=1) as manager:
        tools = {tool.name: tool for tool in await manager.start(Settings(project_dir=tmp_path))}

        stalled = await call(tools["mcp__echo__stall"], tmp_path)

        assert stalled.is_error
        assert "did not finish within 1 s" in stalled.text
        assert names(manager) == set()


async def test_a_server_that_hangs_at_start_is_skipped_with_a_warning(tmp_path: Path) -> None:
    write_mcp_json(project_mcp_path(tmp_path), {"stuck": stdio_entry("--hang")})
    warnings: list[str] = []
    async with McpManager(start_timeout=1.5, on_warning=warnings.append) as manager:
        tools = await manager.start(Settings(project_dir=tmp_path))

        assert tools == []
        [warning] = warnings
        assert "the MCP server stuck did not start (it did not answer within 1.5 s)" in warning
        assert "going on without it" in warning
        assert "stuck" in manager.failures


async def test_a_missing_command_is_a_warning_and_the_others_still_work(tmp_path: Path) -> None:
    write_mcp_json(
        project_mcp_path(tmp_path),
        {
            "ghost": {"command": str(tmp_path / "no-such-server")},
            "broken": {
                "command": sys.executable,
                "args": ["-c", "import sys; print('bad config', file=sys.stderr); sys.exit(4)"],
            },
            "echo": stdio_entry(),
        },
    )
    warnings: list[str] = []
    async with McpManager(start_timeout=20, on_warning=warnings.append) as manager:
        tools = {tool.name: tool for tool in await manager.start(Settings(project_dir=tmp_path))}

        assert sorted(manager.failures) == ["broken", "ghost"]
        ghost = next(w for w in warnings if "ghost" in w)
        assert "the MCP server ghost did not start (command not found: " in ghost
        assert "no-such-server" in ghost
        broken = next(w for w in warnings if "broken" in w)
        assert "bad config" in broken
        result = await call(tools["mcp__echo__echo"], tmp_path, text="ok")
        assert (result.text, result.is_error) == ("ok", False)


async def test_servers_started_in_one_task_are_closed_from_another(tmp_path: Path) -> None:
    write_mcp_json(project_mcp_path(tmp_path), {"a": stdio_entry(), "b": stdio_entry()})
    manager = McpManager(start_timeout=20, call_timeout=20)

    async def start_and_ask_pids() -> list[int]:
        tools = {tool.name: tool for tool in await manager.start(Settings(project_dir=tmp_path))}
        return [int((await call(tools[f"mcp__{server}__pid"], tmp_path)).text) for server in "ab"]

    pids = await asyncio.create_task(start_and_ask_pids())
    assert all(process_running(pid) for pid in pids)

    await manager.aclose()

    assert not any(process_running(pid) for pid in pids)
    assert names(manager) == set()


def process_running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"
