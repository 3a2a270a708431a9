"""MCP tools through the real entry point: configured in .kimicode/mcp.json, called by
the model, listed by `kimicode mcp list`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from helpers import call, requests_of, script, turn

ECHO = Path(__file__).resolve().parents[1] / "mcp" / "echo_server.py"


def _configure(repo: Path) -> None:
    (repo / ".kimicode").mkdir(exist_ok=True)
    (repo / ".kimicode" / "mcp.json").write_text(
        json.dumps({"mcpServers": {"echo": {"command": sys.executable, "args": [str(ECHO)]}}})
    )


def test_the_model_calls_an_mcp_tool(repo: Path, replay, kimicode) -> None:
    _configure(repo)
    server = replay(
        script(
            (
                "use echo",
                [turn(tool_calls=[call("mcp__echo__echo", text="hello mcp")]), turn("Echoed.")],
            )
        )
    )
    res = kimicode("-p", "use echo", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    bodies = requests_of(server)
    names = [t["function"]["name"] for t in bodies[0]["tools"]]
    assert "mcp__echo__echo" in names
    assert "hello mcp" in bodies[-1]["messages"][-1]["content"]


def test_mcp_list_shows_servers_and_tools(repo: Path, kimicode) -> None:
    _configure(repo)
    res = kimicode("mcp", "list", cwd=repo)
    assert res.code == 0, res
    assert "echo" in res.stdout and "mcp__echo__echo" in res.stdout
