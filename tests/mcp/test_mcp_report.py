"""`kimicode mcp list`: what is configured, where, and whether it connects."""

from __future__ import annotations

from pathlib import Path

from mcp_helpers import stdio_entry, write_mcp_json
from rich.console import Console

from kimicode.mcp.config import project_mcp_path, user_mcp_path
from kimicode.mcp.report import mcp_list_report


def plain(markup: str) -> str:
    console = Console(width=200, no_color=True, record=True)
    with console.capture() as capture:
        console.print(markup, soft_wrap=True)
    return capture.get()


async def test_lists_each_server_its_source_status_and_tools(tmp_path: Path) -> None:
    user = write_mcp_json(user_mcp_path(), {"echo": stdio_entry()})
    project = write_mcp_json(
        project_mcp_path(tmp_path), {"ghost": {"command": str(tmp_path / "missing-server")}}
    )

    markup, code = await mcp_list_report(tmp_path, server_timeout=20)
    text = plain(markup)

    assert code == 1
    echo_part, ghost_part = text.split("ghost (stdio)")
    assert "echo (stdio) connected" in echo_part
    assert f"configured in {user}" in echo_part
    assert "mcp__echo__echo  Repeat the text." in echo_part
    assert "mcp__echo__add  Add two integers." in echo_part
    assert "failed: command not found: " in ghost_part
    assert f"configured in {project}" in ghost_part


async def test_nothing_configured_says_where_to_add_servers(tmp_path: Path) -> None:
    markup, code = await mcp_list_report(tmp_path)

    assert code == 0
    text = plain(markup)
    assert "No MCP servers configured" in text
    assert str(project_mcp_path(tmp_path)) in text


async def test_a_broken_config_file_is_exit_2(tmp_path: Path) -> None:
    project_mcp_path(tmp_path).parent.mkdir(parents=True)
    project_mcp_path(tmp_path).write_text("{", encoding="utf-8")

    markup, code = await mcp_list_report(tmp_path)

    assert code == 2
    assert "not valid JSON" in plain(markup)
