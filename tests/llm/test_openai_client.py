"""OpenAIChatModel against the replay server: streaming, retries, errors, request shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kimicode.config import ModelSettings, RetrySettings
from kimicode.errors import ModelError, TemporaryModelError, UsageError
from kimicode.llm.client import OpenAIChatModel
from kimicode.llm.types import Delta
from kimicode.replay.server import ReplayServer

FAST = RetrySettings(attempts=4, base_delay=0.001, max_delay=0.01)


def one_conversation(*turns: dict, usage_style: str = "openai") -> dict:
    return {"usage_style": usage_style, "conversations": [{"match": "task", "turns": list(turns)}]}


def model_for(
    server: ReplayServer, retry: RetrySettings = FAST, **settings: Any
) -> OpenAIChatModel:
    settings.setdefault("provider", "moonshot")
    return OpenAIChatModel(ModelSettings(base_url=server.url, **settings), retry, "sk-test")


TASK = [{"role": "user", "content": "task"}]


async def test_text_and_reasoning_are_kept_apart() -> None:
    turn = {"reasoning_content": "let me think", "content": "the answer is 42", "chunks": 6}
    deltas: list[Delta] = []
    async with ReplayServer(one_conversation(turn)) as server:
        done = await model_for(server).complete(TASK, [], on_delta=deltas.append)
    assert done.content == "the answer is 42"
    assert done.reasoning == "let me think"
    assert done.finish_reason == "stop"
    assert "".join(d.text for d in deltas) == "the answer is 42"
    assert "".join(d.reasoning for d in deltas) == "let me think"
    assert len(deltas) >= 6


async def test_tool_calls_are_assembled_from_small_deltas() -> None:
    args = {"path": "src/app.py", "content": "print('hi')\n" * 5}
    turn = {
        "content": "writing",
        "chunks": 25,
        "tool_calls": [
            {"name": "write_file", "arguments": args},
            {"name": "read_file", "arguments": {"path": "b.py"}},
            {"name": "grep", "arguments": "{broken"},
        ],
    }
    async with ReplayServer(one_conversation(turn)) as server:
        done = await model_for(server).complete(TASK, [])
    assert [c.name for c in done.tool_calls] == ["write_file", "read_file", "grep"]
    assert json.loads(done.tool_calls[0].arguments) == args
    assert json.loads(done.tool_calls[1].arguments) == {"path": "b.py"}
    assert done.tool_calls[2].arguments == "{broken"
    assert len({c.id for c in done.tool_calls}) == 3
    assert done.finish_reason == "tool_calls"


@pytest.mark.parametrize("style", ["openai", "moonshot"])
async def test_usage_is_read_in_both_styles(style: str) -> None:
    turn = {"content": "hi", "usage": {"prompt_tokens": 120, "completion_tokens": 9}}
    async with ReplayServer(one_conversation(turn, usage_style=style)) as server:
        done = await model_for(server).complete(TASK, [])
    assert (done.usage.prompt_tokens, done.usage.completion_tokens) == (120, 9)


async def test_rate_limit_waits_as_retry_after_says_then_succeeds() -> None:
    turn = {"content": "ok", "fault": {"status": 429, "retry_after": 0.2, "times": 1}}
    retries: list[tuple] = []
    throttles: list[Any] = []
    async with ReplayServer(one_conversation(turn)) as server:
        model = model_for(server)
        done = await model.complete(
            TASK, [], on_retry=lambda *a: retries.append(a), on_throttle=throttles.append
        )
    assert done.content == "ok"
    assert retries == []  # a refusal is not a failed attempt
    assert len(throttles) == 2 and throttles[1] is None
    assert throttles[0].retry_after == pytest.approx(0.2) and "429" in throttles[0].reason
    assert done.wait_s >= 0.2
    assert model.scheduler.figures()["throttled"] == 1


async def test_503_with_retry_after_is_a_throttle_and_spends_no_attempt() -> None:
    turn = {"content": "ok", "fault": {"status": 503, "retry_after": 0, "times": 5}}
    throttles: list[Any] = []
    retry = FAST.model_copy(update={"attempts": 2})
    async with ReplayServer(one_conversation(turn)) as server:
        done = await model_for(server, retry).complete(TASK, [], on_throttle=throttles.append)
    assert done.content == "ok"
    assert len(throttles) == 6 and throttles[-1] is None  # five refusals, then through
    assert len(server.requests) == 6 > retry.attempts


async def test_server_errors_are_retried_until_success() -> None:
    turn = {"content": "fine", "fault": {"status": 500, "times": 2}}
    retries: list[tuple] = []
    async with ReplayServer(one_conversation(turn)) as server:
        done = await model_for(server).complete(TASK, [], on_retry=lambda *a: retries.append(a))
    assert done.content == "fine"
    assert [r[0] for r in retries] == [1, 2]
    assert all(0 <= r[1] <= FAST.max_delay for r in retries)
    assert len(server.requests) == 3


async def test_a_cut_stream_is_retried_without_duplicated_content() -> None:
    turn = {
        "reasoning_content": "think",
        "content": "abcdefgh",
        "chunks": 8,
        "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}],
        "fault": {"cut_after_chunks": 10, "times": 1},
    }
    reasons: list[str] = []
    async with ReplayServer(one_conversation(turn)) as server:
        done = await model_for(server).complete(
            TASK, [], on_retry=lambda a, w, r: reasons.append(r)
        )
    assert done.content == "abcdefgh"
    assert done.reasoning == "think"
    assert len(done.tool_calls) == 1 and json.loads(done.tool_calls[0].arguments) == {
        "path": "a.py"
    }
    assert len(reasons) == 1 and "stream" in reasons[0]


async def test_spent_retries_raise_a_temporary_error_that_says_what_to_do() -> None:
    turn = {"content": "never", "fault": {"status": 502, "times": 99}}
    async with ReplayServer(one_conversation(turn)) as server:
        with pytest.raises(TemporaryModelError) as caught:
            await model_for(server).complete(TASK, [])
    message = str(caught.value)
    assert "502" in message and "4 times" in message and "retry later" in message
    assert caught.value.exit_code == 75
    assert len(server.requests) == FAST.attempts


async def test_429_forever_ends_after_the_rate_limit_wait_not_the_attempts() -> None:
    turn = {"content": "never", "fault": {"status": 429, "times": 10_000}}
    retry = FAST.model_copy(update={"rate_limit_wait": 1.0})
    async with ReplayServer(one_conversation(turn)) as server:
        with pytest.raises(TemporaryModelError) as caught:
            await model_for(server, retry).complete(TASK, [])
    message = str(caught.value)
    assert "rate limited" in message and "rate_limit_wait" in message
    assert "max_concurrency" in message and "1 request(s) in flight" in message
    assert caught.value.exit_code == 75
    assert len(server.requests) > FAST.attempts  # refusals used up no retry attempt


async def test_unreachable_endpoint_is_a_temporary_error() -> None:
    settings = ModelSettings(base_url="http://127.0.0.1:9/v1", provider="vllm")
    model = OpenAIChatModel(settings, RetrySettings(attempts=2, base_delay=0.001), "k")
    with pytest.raises(TemporaryModelError, match="could not reach"):
        await model.complete(TASK, [])


async def test_a_refused_request_is_not_retried() -> None:
    async with ReplayServer(one_conversation({"content": "x"})) as server:
        with pytest.raises(ModelError) as caught:
            await model_for(server).complete([{"role": "user", "content": "other"}], [])
    assert not isinstance(caught.value, TemporaryModelError)
    assert "replay: no conversation matches" in str(caught.value)
    assert len(server.requests) == 1


async def test_a_rejected_key_says_where_keys_come_from() -> None:
    turn = {"content": "x", "fault": {"status": 401, "message": "Invalid Authentication"}}
    async with ReplayServer(one_conversation(turn)) as server:
        with pytest.raises(UsageError) as caught:
            await model_for(server).complete(TASK, [])
    assert "Invalid Authentication" in str(caught.value)
    assert "KIMICODE_API_KEY" in str(caught.value)
    assert caught.value.exit_code == 2
    assert len(server.requests) == 1


HISTORY = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "task"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "glob", "arguments": "{}"}}
        ],
    },
    {"role": "tool", "tool_call_id": "c1", "content": "a.py"},
    {"role": "assistant", "content": "found it", "reasoning_content": "ok"},
    {"role": "user", "content": "thanks"},
]


@pytest.mark.parametrize(
    ("provider", "thinking", "expected"),
    [
        ("moonshot", True, {"thinking": {"type": "enabled"}}),
        ("moonshot", False, {"thinking": {"type": "disabled"}}),
        ("vllm", True, {"chat_template_kwargs": {"thinking": True, "enable_thinking": True}}),
        ("vllm", False, {"chat_template_kwargs": {"thinking": False, "enable_thinking": False}}),
        ("openai", True, {}),
    ],
)
async def test_request_carries_the_providers_thinking_switch(
    provider: str, thinking: bool, expected: dict
) -> None:
    async with ReplayServer(one_conversation({"content": "x"})) as server:
        await model_for(server, provider=provider, thinking=thinking).complete(HISTORY, [])
    body = server.requests[0]["body"]
    for key in ("thinking", "chat_template_kwargs"):
        assert body.get(key) == expected.get(key)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assistants = [m for m in body["messages"] if m["role"] == "assistant"]
    with_tools = assistants[0]
    assert "content" not in with_tools and with_tools["tool_calls"][0]["id"] == "c1"
    if thinking and provider != "openai":
        assert [m["reasoning_content"] for m in assistants] == ["", "ok"]
    else:
        assert all("reasoning_content" not in m for m in assistants)


async def test_history_given_is_left_untouched_and_tools_are_sent() -> None:
    tools = [{"type": "function", "function": {"name": "glob", "parameters": {"type": "object"}}}]
    before = json.dumps(HISTORY)
    async with ReplayServer(one_conversation({"content": "x"})) as server:
        await model_for(server).complete(HISTORY, tools)
    assert json.dumps(HISTORY) == before
    assert server.requests[0]["body"]["tools"] == tools
    assert server.requests[0]["body"]["model"] == "kimi-k2.5"


async def test_a_sub_agent_model_shares_the_endpoint() -> None:
    async with ReplayServer(one_conversation({"content": "a"}, {"content": "b"})) as server:
        main = model_for(server)
        sub = main.for_model("kimi-k2-turbo")
        await main.complete(TASK, [])
        await sub.complete(TASK, [])
    assert [r["body"]["model"] for r in server.requests] == ["kimi-k2.5", "kimi-k2-turbo"]


async def test_calls_in_turn_reuse_one_connection_and_carry_the_key() -> None:
    turns = [{"content": f"answer {i}", "chunks": 4} for i in range(5)]
    async with ReplayServer(one_conversation(*turns)) as server:
        model = model_for(server)
        answers = [(await model.complete(TASK, [])).content for _ in range(5)]
        await model.aclose()
    assert answers == [f"answer {i}" for i in range(5)]
    assert len({r["peer"] for r in server.requests}) == 1
    assert {r["api_key"] for r in server.requests} == {"sk-test"}


async def test_calls_at_once_each_get_a_connection_then_share_the_pool() -> None:
    import asyncio

    turns = [{"content": "x", "chunks": 6, "chunk_delay_ms": 20} for _ in range(16)]
    async with ReplayServer(one_conversation(*turns)) as server:
        model = model_for(server)
        await asyncio.gather(*(model.complete(TASK, []) for _ in range(8)))
        await asyncio.gather(*(model.complete(TASK, []) for _ in range(8)))
        await model.aclose()
    first, second = server.requests[:8], server.requests[8:]
    assert len({r["peer"] for r in first}) == 8  # no request waited for another's connection
    assert {r["peer"] for r in second} <= {r["peer"] for r in first}


async def test_the_tools_sent_follow_the_tool_list_call_by_call() -> None:
    from kimicode.tools.registry import ToolSet, core_tools

    schemas = ToolSet(core_tools()).schemas()
    fewer = [t for t in schemas if t["function"]["name"] != "grep"]
    renamed = [{**t, "function": {**t["function"], "description": "other"}} for t in fewer]
    odd = [{"type": "function", "function": {"name": "x", "parameters": {}}, "strict": True}]
    lists = [schemas, schemas, fewer, renamed, odd, [], schemas]
    async with ReplayServer(one_conversation(*({"content": "x"} for _ in lists))) as server:
        model = model_for(server)
        for tools in lists:
            assert json.loads(model.payload(TASK, tools)) == model.request_body(TASK, tools)
            await model.complete(TASK, tools)
        await model.aclose()
    assert [r["body"].get("tools") for r in server.requests] == [t or None for t in lists]


async def test_a_stream_that_stops_is_ended_and_retried_then_says_it_stalled() -> None:
    stalls = {"content": "never finished", "chunks": 3, "chunk_delay_ms": 3_000}
    async with ReplayServer(one_conversation(stalls)) as server:
        model = model_for(server, RetrySettings(attempts=2, base_delay=0.001), request_timeout=0.3)
        retries: list[str] = []
        with pytest.raises(TemporaryModelError, match=r"stalled for 0\.3 s"):
            await model.complete(TASK, [], on_retry=lambda n, wait, why: retries.append(why))
        await model.aclose()
    assert retries == ["the stream stalled for 0.3 s"]  # ended, and asked again
    assert len(server.requests) == 2
