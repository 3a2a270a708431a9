"""The endpoint's request scheduler: against the replay server's cap, and its rules alone."""

from __future__ import annotations

import asyncio

import pytest

from kimicode.config import ModelSettings, RetrySettings
from kimicode.llm.client import OpenAIChatModel
from kimicode.llm.scheduler import RequestScheduler
from kimicode.replay.server import ReplayServer

FAST = RetrySettings(attempts=2, base_delay=0.001, max_delay=0.05)


def capped_script(turns_each: int = 2) -> dict:
    turn = {"content": "step of {1}", "latency_ms": 100}
    return {"conversations": [{"match": r"agent (\w+)", "turns": [turn] * turns_each}]}


async def test_many_agents_on_a_capped_endpoint_all_finish_without_spending_retries() -> None:
    async with ReplayServer(capped_script(), max_in_flight=3) as server:
        main = OpenAIChatModel(
            ModelSettings(base_url=server.url, provider="moonshot"), FAST, "sk", concurrency=16
        )
        sub = main.for_model("kimi-sub")
        assert sub.scheduler is main.scheduler

        async def agent(i: int) -> list[str]:
            model = main if i % 2 else sub
            history = [{"role": "user", "content": f"agent a{i}"}]
            return [(await model.complete(history, [])).content for _ in range(2)]

        answers = await asyncio.gather(*(agent(i) for i in range(12)))
    assert answers == [[f"step of a{i}"] * 2 for i in range(12)]
    figures = main.scheduler.figures()
    assert server.cap.throttled > 0 and figures["throttled"] == server.cap.throttled
    assert figures["lowest_limit"] <= 3 < figures["start_limit"] == 16
    assert main.scheduler.in_flight == 0


async def test_a_refusal_cuts_the_limit_to_what_was_still_in_flight() -> None:
    scheduler = RequestScheduler(10)
    for _ in range(6):
        await scheduler.acquire()
    backoff = scheduler.refused(None, attempt=1)
    scheduler.release()
    assert scheduler.limit == 5 and scheduler.lowest_limit == 5
    assert 0 < backoff <= 0.25
    scheduler.refused(None, attempt=1)  # a second refusal from the same burst
    scheduler.release()
    assert scheduler.limit == 4 and scheduler.figures()["throttled"] == 2


async def test_retry_after_holds_back_every_request_not_only_the_refused_one() -> None:
    scheduler = RequestScheduler(4)
    await scheduler.acquire()
    assert scheduler.refused(0.3, attempt=1) == 0.0
    scheduler.release()
    loop = asyncio.get_running_loop()
    started = loop.time()
    waited = await scheduler.acquire()  # a fresh request from another agent
    assert loop.time() - started >= 0.29 and waited >= 0.29
    scheduler.release(answered=True)


async def test_waiters_go_in_order_and_the_limit_grows_back_after_a_quiet_spell() -> None:
    now = [0.0]
    scheduler = RequestScheduler(3, quiet_s=5.0, clock=lambda: now[0])
    for _ in range(3):
        await scheduler.acquire()
    scheduler.refused(None, attempt=1)
    scheduler.release()
    assert scheduler.limit == 2
    order: list[int] = []

    async def wait(i: int) -> None:
        await scheduler.acquire()
        order.append(i)

    waiters = [asyncio.create_task(wait(i)) for i in range(3)]
    await asyncio.sleep(0)
    assert order == []  # two in flight, limit two: everyone waits
    now[0] = 1.0
    scheduler.release(answered=True)  # not quiet long enough: no growth, one slot handed on
    await asyncio.sleep(0)
    assert order == [0] and scheduler.limit == 2
    now[0] = 6.0
    scheduler.release(answered=True)  # quiet for 5 s with requests waiting: grows by one
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2] and scheduler.limit == 3
    assert scheduler.in_flight == 3


async def test_a_cancelled_waiter_gives_its_place_and_slot_back() -> None:
    scheduler = RequestScheduler(1)
    await scheduler.acquire()
    waiter = asyncio.create_task(scheduler.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    scheduler.release(answered=True)
    assert scheduler.in_flight == 0
    assert await scheduler.acquire() == 0.0
