"""Coalescing many callers' git work into one batch: a handful of processes, not one each.

A hundred sub-agents start (and end) within milliseconds of each other and
each wants the same few git commands run for it. A `Batcher` holds the
requests that arrive within a short window and hands them to one function
that serves them all; requests that arrive while a batch runs form the next.
A caller that is cancelled stops waiting, but its request is still served
(`on_abandoned` gets a result nobody took, so it can be undone).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Req = TypeVar("Req")
Res = TypeVar("Res")

Serve = Callable[[Sequence[Req]], Awaitable[Sequence[Res | BaseException]]]


class Batcher(Generic[Req, Res]):
    def __init__(
        self,
        serve: Serve[Req, Res],
        *,
        window: float = 0.005,
        on_abandoned: Callable[[Res], Awaitable[None]] | None = None,
    ) -> None:
        self.serve = serve
        self.window = window
        self.on_abandoned = on_abandoned
        self._pending: list[tuple[Req, asyncio.Future[Res]]] = []
        self._runner: asyncio.Task[None] | None = None
        self._undoing: set[asyncio.Future[None]] = set()
        self.batches = 0
        """How many batches ran (a test checks that many callers shared a few)."""

    async def submit(self, request: Req) -> Res:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Res] = loop.create_future()
        self._pending.append((request, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.ensure_future(self._run())
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if not future.done():
                future.add_done_callback(self._abandoned)
            raise

    def _abandoned(self, future: asyncio.Future[Res]) -> None:
        if self.on_abandoned is not None and not future.cancelled() and not future.exception():
            undo = asyncio.ensure_future(self.on_abandoned(future.result()))
            self._undoing.add(undo)
            undo.add_done_callback(self._undoing.discard)

    async def _run(self) -> None:
        while self._pending:
            await asyncio.sleep(self.window)
            batch, self._pending = self._pending, []
            self.batches += 1
            try:
                results = await self.serve([r for r, _ in batch])
            except BaseException as exc:  # every caller of the batch hears of it
                results = [exc] * len(batch)
                if isinstance(exc, asyncio.CancelledError):
                    for _, future in batch:
                        if not future.done():
                            future.cancel()
                    raise
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)


_batchers: dict[tuple[object, ...], Batcher] = {}  # type: ignore[type-arg]


def batcher_for(
    key: tuple[object, ...], make: Callable[[], Batcher[Req, Res]]
) -> Batcher[Req, Res]:
    """The batcher for `key` in the running event loop (tests run many loops)."""
    loop = asyncio.get_running_loop()
    full = (id(loop), *key)
    found = _batchers.get(full)
    if found is None or (found._runner is not None and found._runner.get_loop() is not loop):
        if len(_batchers) > 64:
            _batchers.clear()
        found = _batchers[full] = make()
    return found
