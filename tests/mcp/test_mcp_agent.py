"""An MCP tool inside the real agent loop: offered, approved, called, answered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcp_helpers import stdio_entry, write_mcp_json

from kimicode.agent.loop import Agent
from kimicode.agent.outcome import Budget
from kimicode.config import Settings
from kimicode.llm.types import Completion, Message, ToolCall
from kimicode.mcp.config import project_mcp_path
from kimicode.mcp.manager import McpManager
from kimicode.tools.base import ApprovalDecision, ApprovalRequest, ToolServices
from kimicode.tools.registry import ToolSet
from kimicode.tools.workspace import Workspace


class ScriptedModel:
    """Plays fixed turns and keeps what it was shown (the only fake: the model)."""

    model = "scripted"

    def __init__(self, turns: list[Completion]) -> None:
        self.turns = turns
        self.seen: list[tuple[list[Message], list[dict[str, Any]]]] = []

    async def complete(
        self, messages, tools, *, on_delta=None, on_retry=None, on_throttle=None
    ) -> Completion:
        self.seen.append(([dict(m) for m in messages], tools))
        return self.turns.pop(0)


async def test_the_agent_calls_an_mcp_tool_after_approval(tmp_path: Path) -> None:
    write_mcp_json(project_mcp_path(tmp_path), {"echo": stdio_entry()})
    settings = Settings(project_dir=tmp_path)
    model = ScriptedModel(
        [
            Completion(
                tool_calls=[
                    ToolCall("c1", "mcp__echo__echo", json.dumps({"text": "ping", "times": 2})),
                    ToolCall("c2", "mcp__echo__fail", json.dumps({"reason": "nope"})),
                ]
            ),
            Completion(content="done"),
        ]
    )
    asked: list[ApprovalRequest] = []

    async def approve(request: ApprovalRequest) -> ApprovalDecision:
        asked.append(request)
        return ApprovalDecision(request.tool != "mcp__echo__fail", "not this one")

    async with McpManager(start_timeout=20, call_timeout=20) as manager:
        tools = ToolSet(await manager.start(settings))
        agent = Agent(
            model=model,
            tools=tools,
            messages=[],
            services=ToolServices(
                workspace=Workspace(tmp_path),
                settings=settings,
                emit=lambda event: None,
                approve=approve,
            ),
            budget=Budget(50),
        )
        result = await agent.run("use the echo tool")

    assert result.status == "success" and result.result == "done"
    offered = {t["function"]["name"]: t["function"] for t in model.seen[0][1]}
    assert offered["mcp__echo__echo"]["parameters"]["required"] == ["text"]
    assert [r.tool for r in asked] == ["mcp__echo__echo", "mcp__echo__fail"]
    tool_messages = {
        m["tool_call_id"]: m["content"] for m in model.seen[1][0] if m["role"] == "tool"
    }
    assert "ping ping" in str(tool_messages["c1"])
    assert "Denied: not this one" in str(tool_messages["c2"])
