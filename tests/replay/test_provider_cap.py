"""The replay server emulating a provider's cap: requests in flight and per minute."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import httpx
import pytest
from test_replay_server import streamed_text, user

from kimicode.replay.script import ScriptError
from kimicode.replay.server import ReplayServer


def slow_script(**top: object) -> dict:
    """One conversation per captured name; each answer takes 300 ms before its first byte."""
    turn = {"content": "done {1}", "latency_ms": 300}
    return {"conversations": [{"match": r"job (\w+)", "turns": [turn]}], **top}


async def _post(client: httpx.AsyncClient, url: str, name: str) -> httpx.Response:
    body = {"messages": [user(f"job {name}")], "stream": False}
    return await client.post(url + "/chat/completions", json=body)


async def test_requests_past_max_in_flight_get_429_without_retry_after() -> None:
    server = ReplayServer(slow_script(limits={"max_in_flight": 2}))
    async with server, httpx.AsyncClient(timeout=10) as client:
        answers = await asyncio.gather(*(_post(client, server.url, f"n{i}") for i in range(5)))
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 200, 429, 429, 429]
        refused = [a for a in answers if a.status_code == 429]
        assert all("retry-after" not in a.headers for a in refused)
        assert "limit is 2" in refused[0].json()["error"]["message"]
        # the slots are free again once the answers ended: a refused one now gets through
        again = await _post(client, server.url, "n9")
    assert again.status_code == 200
    assert again.json()["choices"][0]["message"]["content"] == "done n9"
    assert server.cap.peak_in_flight == 2
    assert server.cap.throttled == 3
    assert server.cap.in_flight == 0


async def test_a_streamed_answer_holds_its_slot_until_the_last_chunk() -> None:
    script = {
        "conversations": [
            {"match": r"job (\w+)", "turns": [{"content": "abcdef", "chunks": 6}]},
        ],
        "defaults": {"chunk_delay_ms": 100},
    }
    server = ReplayServer(script, max_in_flight=1, retry_after=1.5)
    async with server, httpx.AsyncClient(timeout=10) as client:
        body = {"messages": [user("job a")], "stream": True}
        async with client.stream("POST", server.url + "/chat/completions", json=body) as answer:
            lines = answer.aiter_lines()
            first = await anext(lines)  # the stream has begun: its slot is taken
            refused = await _post(client, server.url, "b")
            rest = [line async for line in lines]
    events = [json.loads(x[6:]) for x in [first, *rest] if x.startswith("data: {")]
    assert streamed_text(events) == "abcdef"
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1.5"
    assert [r["status"] for r in server.requests] == [200, 429]


async def test_per_minute_budget_refuses_past_it_and_names_it() -> None:
    server = ReplayServer(slow_script(), requests_per_minute=2, retry_after=0)
    async with server, httpx.AsyncClient(timeout=10) as client:
        codes = [(await _post(client, server.url, f"m{i}")).status_code for i in range(2)]
        refused = await _post(client, server.url, "m2")
    assert codes == [200, 200]
    assert refused.status_code == 429
    assert "per-minute" in refused.json()["error"]["message"]
    assert 50 < float(refused.headers["retry-after"]) <= 60


def test_bad_limits_are_a_script_error() -> None:
    with pytest.raises(ScriptError, match="max_in_flight"):
        ReplayServer(slow_script(limits={"max_in_flight": 0}))
    with pytest.raises(ScriptError, match="unknown keys"):
        ReplayServer(slow_script(limits={"max_inflight": 3}))


def test_module_entry_point_takes_a_cap(tmp_path) -> None:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(slow_script()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "kimicode.replay", str(path), "--max-in-flight", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()

        async def two() -> list[int]:
            async with httpx.AsyncClient(timeout=10) as client:
                answers = await asyncio.gather(_post(client, url, "x"), _post(client, url, "y"))
            return sorted(a.status_code for a in answers)

        assert asyncio.run(two()) == [200, 429]
        state = httpx.get(url.removesuffix("/v1") + "/replay/state").json()
        assert state["limits"]["throttled"] == 1 and state["limits"]["max_in_flight"] == 1
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
