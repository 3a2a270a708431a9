"""A server that dies mid-run: its tools leave the request's `tools`, the run goes on."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from helpers import call, requests_of, script, turn

ECHO = Path(__file__).resolve().parent / "echo_server.py"


def test_a_dead_servers_tools_are_no_longer_offered(repo: Path, replay, kimicode) -> None:
    (repo / ".kimicode").mkdir()
    (repo / ".kimicode" / "mcp.json").write_text(
        json.dumps({"mcpServers": {"echo": {"command": sys.executable, "args": [str(ECHO)]}}})
    )
    server = replay(
        script(
            (
                "crash the server",
                [
                    turn(tool_calls=[call("mcp__echo__crash")]),
                    turn(tool_calls=[call("read_file", path="README.md")]),
                    turn("Went on without echo."),
                ],
            )
        )
    )
    res = kimicode("-p", "crash the server", "--yolo", cwd=repo, server=server)
    assert res.code == 0, res
    assert res.stdout == "Went on without echo.\n"
    assert "tool(s) are withdrawn" in res.stderr
    bodies = requests_of(server)
    offered = [[t["function"]["name"] for t in b["tools"]] for b in bodies]
    assert "mcp__echo__echo" in offered[0] and "mcp__echo__crash" in offered[0]
    for later in offered[1:]:
        assert not [n for n in later if n.startswith("mcp__echo__")], later
        assert "read_file" in later
    crashed = bodies[1]["messages"][-1]
    assert crashed["role"] == "tool" and "not available" in crashed["content"]
