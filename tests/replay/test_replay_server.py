"""The replay server over real HTTP: routing by content, faults, refusals, uploads."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx
import pytest

from kimicode.replay.server import ReplayServer, replay_in_thread


def user(text: str) -> dict:
    return {"role": "user", "content": text}


async def stream_events(client: httpx.AsyncClient, url: str, body: dict) -> list:
    """The decoded SSE events of one streamed answer ("[DONE]" kept as a string)."""
    events = []
    async with client.stream("POST", url + "/chat/completions", json=body) as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                data = line[6:]
                events.append(data if data == "[DONE]" else json.loads(data))
    return events


def streamed_text(events: list) -> str:
    return "".join(
        e["choices"][0]["delta"].get("content") or ""
        for e in events
        if isinstance(e, dict) and e["choices"]
    )


async def test_concurrent_agents_are_routed_by_their_captured_name() -> None:
    script = {
        "conversations": [
            {
                "match": r"Translate page (\w+)",
                "turns": [
                    {"content": "reading {1}", "chunk_delay_ms": 2, "chunks": 5},
                    {"content": "wrote {1}.fr.md", "chunks": 3},
                ],
            }
        ]
    }
    names = [f"p{i}" for i in range(30)]
    async with ReplayServer(script) as server, httpx.AsyncClient(timeout=30) as client:

        async def agent(name: str) -> list[str]:
            history = [user(f"Translate page {name} into French")]
            said = []
            for _ in range(2):
                body = {"model": "kimi-k2.5", "messages": history, "stream": True}
                text = streamed_text(await stream_events(client, server.url, body))
                said.append(text)
                history = [*history, {"role": "assistant", "content": text}, user("go on")]
            return said

        results = await asyncio.gather(*(agent(n) for n in names))
    for name, said in zip(names, results, strict=True):
        assert said == [f"reading {name}", f"wrote {name}.fr.md"]
    assert len(server.requests) == 60
    assert {r["key"] for r in server.requests} == set(names)
    assert not server.errors


async def test_a_fault_does_not_advance_the_cursor() -> None:
    script = {
        "conversations": [
            {
                "match": "task",
                "turns": [
                    {"content": "first", "fault": {"status": 500, "times": 2}},
                    {"content": "second", "fault": {"cut_after_chunks": 1}},
                ],
            }
        ]
    }
    body = {"messages": [user("task")], "stream": True}
    async with ReplayServer(script) as server, httpx.AsyncClient() as client:
        for _ in range(2):
            failed = await client.post(server.url + "/chat/completions", json=body)
            assert failed.status_code == 500
        assert streamed_text(await stream_events(client, server.url, body)) == "first"
        with pytest.raises(httpx.HTTPError):
            await stream_events(client, server.url, body)
        assert streamed_text(await stream_events(client, server.url, body)) == "second"
    assert [r["turn"] for r in server.requests] == [0, 0, 0, 1, 1]
    assert [r["status"] for r in server.requests] == [500, 500, 200, "cut", 200]


async def test_rate_limit_fault_sends_retry_after() -> None:
    script = {
        "conversations": [
            {"match": "x", "turns": [{"content": "ok", "fault": {"status": 429, "retry_after": 2}}]}
        ]
    }
    async with ReplayServer(script) as server, httpx.AsyncClient() as client:
        response = await client.post(
            server.url + "/chat/completions", json={"messages": [user("x")]}
        )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"


async def test_unexpected_requests_get_400_naming_the_problem() -> None:
    script = {
        "conversations": [
            {
                "match": "^fix the bug",
                "turns": [
                    {"content": "done"},
                    {"content": "again", "expect": {"last_message_contains": "tests pass"}},
                ],
            }
        ]
    }
    async with ReplayServer(script) as server, httpx.AsyncClient() as client:

        async def ask(messages: list) -> httpx.Response:
            return await client.post(server.url + "/chat/completions", json={"messages": messages})

        unknown = await ask([user("write a poem")])
        assert (await ask([user("fix the bug")])).status_code == 200
        wrong = await ask([user("fix the bug"), user("tests fail")])
        assert (await ask([user("fix the bug"), user("tests pass")])).status_code == 200
        past_end = await ask([user("fix the bug"), user("more")])
    for response, words in (
        (unknown, "no conversation matches"),
        (wrong, "tests pass"),
        (past_end, "no turn left"),
    ):
        assert response.status_code == 400
        message = response.json()["error"]["message"]
        assert message.startswith("replay: ") and words in message
    assert len(server.errors) == 3


async def test_turn_features_tool_calls_repeat_and_usage_estimate() -> None:
    script = {
        "usage_style": "moonshot",
        "conversations": [
            {
                "match": "loop",
                "turns": [
                    {
                        "repeat": 2,
                        "reasoning_content": "hmm",
                        "tool_calls": [
                            {"name": "read_file", "arguments": {"path": "a.py"}},
                            {"name": "grep", "arguments": "{not json"},
                        ],
                    },
                    {"content": "end", "usage": {"prompt_tokens": 7, "completion_tokens": 3}},
                ],
            }
        ],
    }
    async with ReplayServer(script) as server, httpx.AsyncClient() as client:
        small = {"messages": [user("loop")], "stream": False}
        big = {"messages": [user("loop"), user("x" * 4000)], "stream": False}
        first = (await client.post(server.url + "/chat/completions", json=small)).json()
        second = (await client.post(server.url + "/chat/completions", json=big)).json()
        events = await stream_events(
            client, server.url, {"messages": [user("loop")], "stream": True}
        )
    message = first["choices"][0]["message"]
    assert message["reasoning_content"] == "hmm"
    calls = message["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["read_file", "grep"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"path": "a.py"}
    assert calls[1]["function"]["arguments"] == "{not json"
    assert first["choices"][0]["finish_reason"] == "tool_calls"
    assert second["usage"]["prompt_tokens"] > first["usage"]["prompt_tokens"] + 900
    finish = events[-2]["choices"][0]
    assert finish["finish_reason"] == "stop"
    assert finish["usage"]["prompt_tokens"] == 7
    assert events[-1] == "[DONE]"


async def test_openai_usage_chunk_only_when_asked() -> None:
    script = {"conversations": [{"match": "u", "turns": [{"content": "a"}, {"content": "b"}]}]}
    async with ReplayServer(script) as server, httpx.AsyncClient() as client:
        plain = await stream_events(client, server.url, {"messages": [user("u")], "stream": True})
        asked = await stream_events(
            client,
            server.url,
            {"messages": [user("u")], "stream": True, "stream_options": {"include_usage": True}},
        )
    assert not any(isinstance(e, dict) and "usage" in e for e in plain)
    assert asked[-2]["choices"] == [] and asked[-2]["usage"]["completion_tokens"] >= 1


async def test_models_and_file_uploads() -> None:
    script = {
        "model": "kimi-k2.5",
        "models": {"kimi-k2.5": {"supports_video_in": True, "context_length": 8000}},
        "conversations": [{"match": ".", "turns": []}],
    }
    async with ReplayServer(script) as server, httpx.AsyncClient() as client:
        models = (await client.get(server.url + "/models")).json()["data"]
        uploaded = await client.post(
            server.url + "/files",
            data={"purpose": "video"},
            files={"file": ("clip.mp4", b"\x00\x01video", "video/mp4")},
        )
    assert models[0]["id"] == "kimi-k2.5"
    assert models[0]["supports_video_in"] is True and models[0]["context_length"] == 8000
    info = uploaded.json()
    assert info["object"] == "file" and info["purpose"] == "video"
    assert info["id"].startswith("file-")
    assert server.uploads[0]["content"] == b"\x00\x01video"
    assert server.uploads[0]["filename"] == "clip.mp4"


def test_server_in_a_thread_for_sync_callers() -> None:
    script = {"conversations": [{"match": "hi", "turns": [{"content": "hello"}]}]}
    with replay_in_thread(script) as server:
        response = httpx.post(server.url + "/chat/completions", json={"messages": [user("hi")]})
        assert response.json()["choices"][0]["message"]["content"] == "hello"
        state = httpx.get(server.url.removesuffix("/v1") + "/replay/state").json()
    assert state["requests"][0]["turn"] == 0


def test_module_entry_point_prints_its_url(tmp_path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"conversations": [{"match": "hi", "turns": [{"content": "yo"}]}]}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimicode.replay", str(path), "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        response = httpx.post(url + "/chat/completions", json={"messages": [user("hi")]})
        assert response.json()["choices"][0]["message"]["content"] == "yo"
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
