"""Batching callers' git work: callers that come together share a batch, each hears its
own answer, and one that comes while a batch runs is served in the next."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from kimicode.git.batch import Batcher


def recording(log: list[list[int]], delay: float):
    async def serve(requests: Sequence[int]) -> list[int | BaseException]:
        log.append(list(requests))
        await asyncio.sleep(delay)
        return [ValueError(f"no {r}") if r < 0 else r * 10 for r in requests]

    return serve


async def test_callers_share_batches_and_each_hears_its_own_answer() -> None:
    log: list[list[int]] = []
    batcher = Batcher(recording(log, 0.01), window=0.005)
    results = await asyncio.gather(
        *(batcher.submit(i) for i in [1, 2, -3, 4]), return_exceptions=True
    )
    assert results[:2] == [10, 20] and results[3] == 40
    assert isinstance(results[2], ValueError) and str(results[2]) == "no -3"
    assert log == [[1, 2, -3, 4]]


async def test_a_caller_that_comes_during_a_batch_is_served_in_the_next() -> None:
    log: list[list[int]] = []
    release, serving = asyncio.Event(), asyncio.Event()

    async def serve(requests: Sequence[int]) -> list[int]:
        log.append(list(requests))
        serving.set()
        if 1 in requests:
            await release.wait()  # the first batch is still being served
        return [r * 10 for r in requests]

    batcher = Batcher(serve, window=0.001)
    first = asyncio.ensure_future(batcher.submit(1))
    await serving.wait()
    late = [asyncio.ensure_future(batcher.submit(n)) for n in (2, 3)]
    await asyncio.sleep(0.05)
    assert not any(t.done() for t in late) and log == [[1]]  # queued behind the first batch
    release.set()
    assert await first == 10 and [await t for t in late] == [20, 30]
    assert log == [[1], [2, 3]]
