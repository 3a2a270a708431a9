"""Sessions over ACP: loading one after a restart replays it; bad input gets a clear
JSON-RPC error and the agent keeps serving."""

from __future__ import annotations

import asyncio
from pathlib import Path

import acp
import pytest
from acp import RequestError
from acp_client import CAPABILITIES, RecordingClient, running_agent
from helpers import requests_of, script, turn


async def test_a_session_loads_after_a_restart(repo: Path, replay, tmp_path) -> None:
    server = replay(
        script(
            (
                "remember the word kiwi",  # the first user message routes the resumed turn too
                [turn("I will remember kiwi."), turn("The word was kiwi.")],
            )
        )
    )
    first = RecordingClient()
    async with running_agent(first, repo, server.url, stderr_to=tmp_path / "err") as (conn, _):
        await conn.initialize(
            protocol_version=acp.PROTOCOL_VERSION, client_capabilities=CAPABILITIES
        )
        sid = (await conn.new_session(cwd=str(repo), mcp_servers=[])).session_id
        await conn.prompt(session_id=sid, prompt=[acp.text_block("remember the word kiwi")])
    second = RecordingClient()
    async with running_agent(second, repo, server.url, stderr_to=tmp_path / "err") as (conn, _):
        await conn.initialize(
            protocol_version=acp.PROTOCOL_VERSION, client_capabilities=CAPABILITIES
        )
        loaded = await conn.load_session(cwd=str(repo), session_id=sid, mcp_servers=[])
        assert loaded.modes.current_mode_id == "default"
        assert second.text("user_message_chunk") == "remember the word kiwi"
        assert second.text() == "I will remember kiwi."
        done = await conn.prompt(session_id=sid, prompt=[acp.text_block("which word was it?")])
    assert done.stop_reason == "end_turn"
    assert second.text().endswith("The word was kiwi.")
    history = requests_of(server)[-1]["messages"]
    assert [m["role"] for m in history[1:]] == ["user", "assistant", "user"]
    assert history[2]["content"] == "I will remember kiwi."


async def test_bad_input_gets_clear_errors_and_the_agent_keeps_running(
    repo: Path, replay, tmp_path
) -> None:
    server = replay(script(("hello", [turn("Hi.")])))
    client = RecordingClient()
    async with running_agent(client, repo, server.url, stderr_to=tmp_path / "err") as (conn, proc):
        await conn.initialize(
            protocol_version=acp.PROTOCOL_VERSION, client_capabilities=CAPABILITIES
        )
        proc.stdin.write(b"this is not json\n")
        proc.stdin.write(b"[1, 2, 3]\n")
        proc.stdin.write(b'{"jsonrpc": "2.0", "id": 77, "method": "session/new", "params": 5}\n')
        await proc.stdin.drain()
        await client.wait_for(lambda: len([m for m in client.received if "error" in m]) >= 3)
        errors = [m for m in client.received if "error" in m]
        assert errors[0]["id"] is None and errors[0]["error"]["code"] == -32700
        assert "not JSON" in errors[0]["error"]["data"]["details"]
        assert errors[1]["id"] is None and errors[1]["error"]["code"] == -32600
        assert errors[2]["id"] == 77 and errors[2]["error"]["code"] == -32600
        with pytest.raises(RequestError) as unknown:
            await conn._conn.send_request("kimicode/teleport", {"where": "mars"})
        assert unknown.value.code == -32601
        with pytest.raises(RequestError) as lost:
            await conn.prompt(session_id="no-such-session", prompt=[acp.text_block("hello")])
        assert lost.value.code == -32602 and "unknown session 'no-such-session'" in str(lost.value)
        with pytest.raises(RequestError) as missing:
            await conn.load_session(
                cwd=str(repo), session_id="20990101-000000-abcdef", mcp_servers=[]
            )
        assert "no session '20990101-000000-abcdef'" in str(missing.value)
        with pytest.raises(RequestError) as nowhere:
            await conn.new_session(cwd="relative/dir", mcp_servers=[])
        assert "not an absolute path to a directory" in str(nowhere.value)
        sid = (await conn.new_session(cwd=str(repo), mcp_servers=[])).session_id
        with pytest.raises(RequestError) as mode:
            await conn.set_session_mode(session_id=sid, mode_id="chaos")
        assert "unknown mode 'chaos'" in str(mode.value)
        done = await asyncio.wait_for(
            conn.prompt(session_id=sid, prompt=[acp.text_block("hello")]), 120
        )
        assert done.stop_reason == "end_turn" and client.text() == "Hi."
    assert proc.returncode == 0
