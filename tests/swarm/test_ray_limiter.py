"""The Ray swarm's shared limiter, its rules alone (the cluster test runs it on Ray).

Every slot is a ticket, so a request that stops waiting and an agent whose
node died give their slots back: a lost node must not shrink the cluster's
capacity for the rest of the run.
"""

from __future__ import annotations

import asyncio

from kimicode.swarm.ray_limiter import Limiter, ticket


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_cap_holds_and_waiters_go_first_come_first_served() -> None:
    limiter = Limiter(2, wait_budget=60)
    await limiter.acquire(ticket("a", 1), False)
    await limiter.acquire(ticket("b", 1), False)
    third = asyncio.create_task(limiter.acquire(ticket("c", 1), False))
    fourth = asyncio.create_task(limiter.acquire(ticket("d", 1), False))
    await settle()
    assert not third.done() and limiter.scheduler.in_flight == 2
    await limiter.release(ticket("a", 1), True, None)
    await settle()
    assert third.done() and not fourth.done()
    await limiter.release(ticket("a", 1), True, None)  # twice: the second does nothing
    await settle()
    assert not fourth.done() and limiter.scheduler.in_flight == 2
    await limiter.release(ticket("b", 1), True, None)
    assert (await fourth)[2]["limit"] == 2


async def test_a_refusal_cuts_the_limit_for_everyone() -> None:
    limiter = Limiter(4, wait_budget=60)
    for name in "abc":
        await limiter.acquire(ticket(name, 1), False)
    await limiter.release(ticket("c", 1), False, (None, 1, 1.0))  # 429 with three in flight
    assert limiter.scheduler.limit == 2
    assert (await limiter.figures())["throttled"] == 1


async def test_an_abandoned_wait_leaves_the_queue_and_a_forgotten_agent_its_slots() -> None:
    limiter = Limiter(1, wait_budget=60)
    await limiter.acquire(ticket("lost", 1), False)
    waiting = asyncio.create_task(limiter.acquire(ticket("lost", 2), False))
    later = asyncio.create_task(limiter.acquire(ticket("kept", 1), False))
    await settle()
    await limiter.forget("lost")  # its node died: the slot it held and its place in line
    grant = await later
    assert grant[2]["limit"] == 1 and limiter.scheduler.in_flight == 1
    assert waiting.cancelled() or waiting.done()
    await limiter.release(ticket("kept", 1), True, None)
    assert limiter.scheduler.in_flight == 0


async def test_a_slot_granted_as_its_requester_gave_up_comes_back() -> None:
    limiter = Limiter(1, wait_budget=60)
    await limiter.acquire(ticket("a", 1), False)
    waiting = asyncio.create_task(limiter.acquire(ticket("b", 1), False))
    await settle()
    await limiter.release(ticket("a", 1), True, None)  # hands the slot to b's wait...
    await limiter.abandon(ticket("b", 1))  # ...as b stops waiting
    await asyncio.gather(waiting, return_exceptions=True)
    assert limiter.scheduler.in_flight == 0
    assert limiter.granted == set()
