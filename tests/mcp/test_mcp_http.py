"""The streamable HTTP transport, against the echo server listening on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp_helpers import call, start_http_server, write_mcp_json

from kimicode.config import Settings
from kimicode.mcp.config import user_mcp_path
from kimicode.mcp.manager import McpManager


@pytest.fixture
def http_url() -> Iterator[str]:
    proc, url = start_http_server()
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def test_tools_over_streamable_http(http_url: str, tmp_path: Path) -> None:
    write_mcp_json(
        user_mcp_path(),
        {"remote": {"type": "http", "url": http_url, "headers": {"X-Trace": "kimicode-test"}}},
    )
    warnings: list[str] = []
    async with McpManager(start_timeout=20, call_timeout=20, on_warning=warnings.append) as manager:
        tools = {tool.name: tool for tool in await manager.start(Settings(project_dir=tmp_path))}

        assert warnings == []
        assert "mcp__remote__echo" in tools
        result = await call(tools["mcp__remote__echo"], tmp_path, text="over http", times=2)
        assert (result.text, result.is_error) == ("over http over http", False)
        image = await call(tools["mcp__remote__pixel"], tmp_path)
        assert image.images[0]["image_url"]["url"].startswith("data:image/png;base64,")


async def test_an_http_server_that_is_not_there_is_a_warning(tmp_path: Path) -> None:
    from mcp_helpers import free_port

    url = f"http://127.0.0.1:{free_port()}/mcp"
    write_mcp_json(user_mcp_path(), {"gone": {"url": url}})
    warnings: list[str] = []
    async with McpManager(start_timeout=10, on_warning=warnings.append) as manager:
        assert await manager.start(Settings(project_dir=tmp_path)) == []

    [warning] = warnings
    assert "the MCP server gone did not start (ConnectError: " in warning
