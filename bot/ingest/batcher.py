"""Group commit: concurrent ingest deliveries are written together, one transaction for many requests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.logs import Outage
from bot.storage.errors import Conflict, unreachable
from handlers.context import Context
from handlers.ingest import Delivery, Ingested, ingest, ingest_deliveries

logger = logging.getLogger(__name__)



class Overloaded(Exception):
    """More deliveries are waiting than the writer will queue."""


class IngestBatcher:
    """One writer task takes every waiting delivery and commits them at once; each caller gets its own answer.

    Nothing is acknowledged before its transaction committed: a caller's future resolves only after it.
    `on_stored` is called once per transaction that stored a new mention (its card jobs are then due).
    """

    def __init__(self, ctx: Context, *, on_stored: Callable[[], None] = lambda: None, max_batch: int = 200,
                 max_items: int = 500, max_waiting: int = 1000) -> None:
        # max_items: on SQLite the transaction runs on the event loop, so its size bounds the loop's pause.
        self._ctx, self._on_stored, self._max_batch, self._max_items = ctx, on_stored, max_batch, max_items
        self._queue: asyncio.Queue[tuple[Delivery, asyncio.Future[list[Ingested]]]] = asyncio.Queue(max_waiting)
        self._outage = Outage("ingest: the database", logger)

    async def submit(self, delivery: Delivery, *, wait: float | None = None) -> list[Ingested]:
        """Store one delivery (with whatever else is waiting) and return its answer once committed.

        Overloaded when the queue is full or the commit takes longer than `wait` seconds, if given (the database is
        locked or slow): the delivery is then either dropped before its write began or committed later, which
        a retry with the same webhook-id finds.
        """
        future: asyncio.Future[list[Ingested]] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((delivery, future))
        except asyncio.QueueFull:
            raise Overloaded(f"{self._queue.maxsize} deliveries are already waiting") from None
        deadline = asyncio.timeout(wait)
        try:
            async with deadline:
                return await future  # on timeout the future is cancelled, so a write not yet begun skips it
        except TimeoutError:
            if not deadline.expired():
                raise
            raise Overloaded(f"not committed within {wait:g} s") from None

    async def run(self) -> None:
        """Write batches until cancelled; a caller still waiting at shutdown is cancelled, never left hanging."""
        batch: list[tuple[Delivery, asyncio.Future[list[Ingested]]]] = []
        try:
            while True:
                batch = [await self._queue.get()]
                items = len(batch[0][0].items)
                while len(batch) < self._max_batch and items < self._max_items and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                    items += len(batch[-1][0].items)
                await self._write(batch)
        finally:
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            for _, future in batch:
                future.cancel()

    async def _write(self, batch: list[tuple[Delivery, asyncio.Future[list[Ingested]]]]) -> None:
        live = [(d, f) for d, f in batch if not f.done()]  # a caller that gave up before the write is skipped
        if not live:
            return
        try:
            answers = await ingest_deliveries([d for d, _ in live], ctx=self._ctx)
        except Exception as exc:  # nothing was committed
            if unreachable(exc):  # one by one would fail (or wait) as often
                self._outage.failed(exc)  # the log says so once per outage; each caller hears 503
                for _, future in live:
                    if not future.done():
                        future.set_exception(exc)
                return
            # write one by one, so one bad delivery fails alone
            if not isinstance(exc, Conflict):  # (Conflict: a delivery id committed elsewhere)
                logger.warning("ingest: a batch of %d failed (%s); writing them one by one", len(live),
                               type(exc).__name__)
            for delivery, future in live:
                await self._write_one(delivery, future)
            return
        self._outage.recovered()
        self._stored(answers)
        for (_, future), answer in zip(live, answers, strict=True):
            if not future.done():
                future.set_result(answer)

    def _stored(self, answers: list[list[Ingested]]) -> None:
        if any(not r.duplicate for results in answers for r in results):
            self._on_stored()

    async def _write_one(self, delivery: Delivery, future: asyncio.Future[list[Ingested]]) -> None:
        try:
            answer = await ingest(delivery.items, ctx=self._ctx, delivery_id=delivery.delivery_id)
        except Exception as exc:
            if not future.done():
                future.set_exception(exc)
            return
        self._stored([answer])
        if not future.done():
            future.set_result(answer)
