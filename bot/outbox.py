"""The relay: runs durable outbound jobs (chat posts and updates, replies) with leases and backoff."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from bot.metrics import Metrics
from bot.models import OutboxJob, utcnow
from bot.storage import Database

logger = logging.getLogger(__name__)

Sender = Callable[[OutboxJob], Awaitable[None]]

MAX_BACKOFF_SECONDS = 300.0
# A lease is renewed while its job runs, so it only has to outlast a crashed process's last renewal:
# jobs a killed server held run elsewhere (or after its restart) within this time.
LEASE = timedelta(seconds=20)
RENEWALS_PER_LEASE = 4


class RetryLater(Exception):
    """The job cannot run yet (e.g. its card is not posted) or hit a transient fault."""

    def __init__(self, reason: str, *, delay: float = 1.0, count_attempt: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.delay, self.count_attempt = reason, delay, count_attempt


def backoff(attempts: int) -> float:
    """Exponential backoff with jitter, capped at five minutes."""
    return min(MAX_BACKOFF_SECONDS, 2.0 ** min(attempts, 9)) * random.uniform(0.5, 1.0)


class Relay:
    """Leases due jobs and hands each to the sender for its kind; safe to run in several processes.

    Only as many jobs are leased as can start at once, their leases are renewed while they run, and
    on shutdown the unfinished ones are handed back, so another relay (or the restarted one) takes
    them over at once instead of after the lease.
    """

    def __init__(self, db: Database, senders: Mapping[str, Sender], metrics: Metrics, *,
                 clock: Callable[[], datetime] = utcnow, lease: timedelta = LEASE,
                 batch: int = 20, poll_seconds: float = 0.25, concurrency: int = 8) -> None:
        self._db, self._senders, self._metrics, self._clock = db, senders, metrics, clock
        self._lease, self._batch, self._poll, self._concurrency = lease, batch, poll_seconds, concurrency
        self._wake = asyncio.Event()
        self._running: dict[asyncio.Task[None], OutboxJob] = {}
        self._renew_every = lease.total_seconds() / RENEWALS_PER_LEASE
        self._renew_at = time.monotonic() + self._renew_every

    def wake(self) -> None:
        """New work was committed: look for it now instead of at the next poll."""
        if len(self._running) < self._concurrency:  # when every slot is taken, the next job to end wakes us
            self._wake.set()

    async def run(self) -> None:
        """Work until cancelled."""
        try:
            while True:
                try:
                    leased = await self.run_due()
                    await self._renew_leases()
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
            await self._stop_running()

    async def run_due(self) -> int:
        """Lease as many due jobs as can start now and start them; returns how many were leased."""
        free = min(self._batch, self._concurrency - len(self._running))
        if free <= 0:
            return 0
        async with self._db.uow() as uow:
            jobs = await uow.outbox.lease_due(self._clock(), self._lease, free)
            await uow.commit()
        for job in jobs:
            task = asyncio.create_task(self._run_one(job))
            self._running[task] = job
            task.add_done_callback(self._finished)
        return len(jobs)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._wake.set()  # a slot is free

    async def _renew_leases(self) -> None:
        """Keep the leases of running jobs from expiring while they wait or work."""
        if time.monotonic() < self._renew_at:
            return
        self._renew_at = time.monotonic() + self._renew_every
        ids = [job.id for job in self._running.values() if job.id is not None]
        if ids:
            async with self._db.uow() as uow:
                await uow.outbox.renew(ids, self._clock() + self._lease)
                await uow.commit()

    async def _stop_running(self) -> None:
        """Cancel running jobs and hand back their leases; an interrupted post is looked for before a repost."""
        running = dict(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        interrupted = [job for task, job in running.items() if task.cancelled()]
        if not interrupted:
            return
        try:
            async with self._db.uow() as uow:
                for job in interrupted:
                    await uow.outbox.reschedule(job, self._clock(), "interrupted by shutdown")
                await uow.commit()
        except Exception:  # the leases then expire on their own
            logger.exception("outbox: could not hand back %d interrupted jobs", len(interrupted))

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
