"""The relay: runs durable outbound jobs (chat posts and updates, replies) with leases and backoff."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from bot.metrics import Metrics
from bot.models import OutboxJob, utcnow
from bot.storage import Database

logger = logging.getLogger(__name__)

Sender = Callable[[OutboxJob], Awaitable[None]]

MAX_BACKOFF_SECONDS = 300.0


class RetryLater(Exception):
    """The job cannot run yet (e.g. its card is not posted) or hit a transient fault."""

    def __init__(self, reason: str, *, delay: float = 1.0, count_attempt: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.delay, self.count_attempt = reason, delay, count_attempt


def backoff(attempts: int) -> float:
    """Exponential backoff with jitter, capped at five minutes."""
    return min(MAX_BACKOFF_SECONDS, 2.0 ** min(attempts, 9)) * random.uniform(0.5, 1.0)


class Relay:
    """Leases due jobs and hands each to the sender for its kind; safe to run in several processes."""

    def __init__(self, db: Database, senders: Mapping[str, Sender], metrics: Metrics, *,
                 clock: Callable[[], datetime] = utcnow, lease: timedelta = timedelta(seconds=120),
                 batch: int = 20, poll_seconds: float = 0.25, concurrency: int = 8) -> None:
        self._db, self._senders, self._metrics, self._clock = db, senders, metrics, clock
        self._lease, self._batch, self._poll = lease, batch, poll_seconds
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._running: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        """New work was committed: look for it now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Work until cancelled."""
        try:
            while True:
                try:
                    leased = await self.run_due()
                except Exception:  # the database may be briefly unreachable; keep the relay alive
                    logger.exception("outbox: leasing jobs failed")
                    leased = 0
                if leased < self._batch:
                    self._wake.clear()
                    try:
                        await asyncio.wait_for(self._wake.wait(), self._poll)
                    except TimeoutError:
                        pass
        finally:
            for task in self._running:
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)

    async def run_due(self) -> int:
        """Lease due jobs and start them; returns how many were leased."""
        async with self._db.uow() as uow:
            jobs = await uow.outbox.lease_due(self._clock(), self._lease, self._batch)
            await uow.commit()
        for job in jobs:
            await self._slots.acquire()
            task = asyncio.create_task(self._run_one(job))
            self._running.add(task)
            task.add_done_callback(self._finished)
        return len(jobs)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._slots.release()

    async def drain(self) -> None:
        """Run every job that is due now, and what they make due, until none is left (tests, CLI)."""
        while await self.run_due() or self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def _run_one(self, job: OutboxJob) -> None:
        sender = self._senders.get(job.kind)
        try:
            if sender is None:
                raise RetryLater(f"no sender for {job.kind} is configured", delay=60)
            await sender(job)
        except RetryLater as exc:
            if exc.count_attempt:
                self._metrics.outbox_retries.labels(kind=job.kind).inc()
            await self._release(job, exc.delay, exc.reason, count_attempt=exc.count_attempt)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            incident = uuid.uuid4().hex[:12]
            logger.exception("outbox: job %s (%s) failed, incident %s", job.key, job.kind, incident)
            self._metrics.outbox_failures.labels(kind=job.kind).inc()
            await self._release(job, backoff(job.attempts), f"{type(exc).__name__} (incident {incident})")
        else:
            async with self._db.uow() as uow:
                await uow.outbox.complete(job, self._clock())
                await uow.commit()

    async def _release(self, job: OutboxJob, delay: float, reason: str, *, count_attempt: bool = True) -> None:
        async with self._db.uow() as uow:
            await uow.outbox.reschedule(job, self._clock() + timedelta(seconds=delay), reason[:500],
                                        count_attempt=count_attempt)
            await uow.commit()
