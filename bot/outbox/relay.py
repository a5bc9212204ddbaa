"""The relay: runs durable outbound jobs (chat posts and updates, replies), held by live relays, with backoff."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from bot.logs import Outage, describe
from bot.metrics import Metrics
from bot.outbox.fanout import Fanout
from bot.outbox.jobs import URGENT
from bot.storage.database import Database
from bot.storage.errors import unreachable
from bot.storage.models import OutboxJob, utcnow
from bot.storage.presence import Presence, presence_for

logger = logging.getLogger(__name__)

Sender = Callable[[OutboxJob], Awaitable[None]]

MAX_BACKOFF_SECONDS = 300.0
GIVE_UP_AFTER = 5  # unexpected errors in a row before a job is given up on (about half a minute of backoff)
HOUSEKEEPING_SECONDS = 1.0  # how often jobs of stopped relays are looked for
# How often the queue gauges are counted: a count reads every waiting job, which in a storm is many, and on
# SQLite it runs on the event loop; Prometheus scrapes far less often than once a second anyway.
GAUGE_SECONDS = 15.0
OUTAGE_MAX_DELAY = 10.0  # the longest wait between two tries while the database is away
REASON_LIMIT = 500
URGENT_SLOTS = 4  # beyond `concurrency`, for urgent jobs only (see Relay.run_due)


class RetryLater(Exception):
    """The job cannot run yet (e.g. its card is not posted) or hit a transient fault."""

    def __init__(self, reason: str, *, delay: float = 1.0, count_attempt: bool = True) -> None:
        super().__init__(reason)
        self.reason, self.delay, self.count_attempt = reason, delay, count_attempt


class GiveUp(Exception):
    """The job can never succeed as it is (e.g. the platform refused it for good): stop and show it to people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def backoff(attempts: int) -> float:
    """Exponential backoff with jitter, capped at five minutes."""
    return min(MAX_BACKOFF_SECONDS, 2.0 ** min(attempts, 9)) * random.uniform(0.5, 1.0)


class Relay:
    """Leases due jobs and hands each to the sender for its kind; safe to run in several processes.

    A leased job is held for as long as this relay's process lives (see `bot.storage.presence`), however slowly it
    works; a stopped or killed relay's jobs are taken over by the next housekeeping round of any relay,
    at once after a restart. A job that fails for good (`GiveUp`, or `give_up_after` unexpected errors in a
    row) is marked failed, counted, and announced in the triage channel; a sender with a `failed(job, reason)`
    method is told too (e.g. to show it on the card). While the database is away the relay logs one line,
    backs off, and logs one line when it is back.
    """

    def __init__(self, db: Database, senders: Mapping[str, Sender], metrics: Metrics, *, fanout: Fanout,
                 presence: Presence | None = None, clock: Callable[[], datetime] = utcnow, batch: int = 20,
                 poll_seconds: float = 0.25, concurrency: int = 8, urgent_slots: int = URGENT_SLOTS,
                 give_up_after: int = GIVE_UP_AFTER, housekeeping_seconds: float = HOUSEKEEPING_SECONDS) -> None:
        self._db, self._senders, self._metrics, self._fanout, self._clock = db, senders, metrics, fanout, clock
        self._presence = presence if presence is not None else presence_for(db.engine)
        self._batch, self._poll, self._concurrency, self._urgent_slots = batch, poll_seconds, concurrency, urgent_slots
        self._give_up_after, self._housekeeping_every = give_up_after, housekeeping_seconds
        self._wake = asyncio.Event()
        self._leasing = asyncio.Lock()  # leasing and handing back orphans never interleave
        self._running: dict[asyncio.Task[None], OutboxJob] = {}
        self._housekeeping_at = self._gauges_at = 0.0
        self._outage = Outage("outbox relay: database", logger, max_delay=OUTAGE_MAX_DELAY)

    @property
    def owner(self) -> str:
        """The id this relay's leases carry."""
        return self._presence.owner

    def wake(self) -> None:
        """New work was committed: look for it now instead of at the next poll."""
        if len(self._running) < self._concurrency + self._urgent_slots:  # else the next job to end wakes us
            self._wake.set()

    async def run(self) -> None:
        """Work until cancelled."""
        try:
            while True:
                try:
                    await self.housekeeping()
                    leased = await self.run_due()
                except Exception as exc:  # the database is away: one line, then quiet backoff
                    await asyncio.sleep(self._outage.failed(exc))
                    continue
                self._outage.recovered()
                if leased < self._batch:
                    self._wake.clear()
                    try:  # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancel that meets a wake-up
                        async with asyncio.timeout(self._poll):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
        finally:
            await self._stop_running()
            await self.close()

    async def close(self) -> None:
        """Let go of this relay's presence (`run` does on its way out; a relay only drained must be closed)."""
        await self._presence.release()

    async def housekeeping(self, *, force: bool = False) -> None:
        """Now and then: take over the jobs of relays that are gone, rerun our own whose outcome was never
        recorded (the database was away when they ended), and, less often, refresh the queue gauges for `/metrics`."""
        if not force and time.monotonic() < self._housekeeping_at:
            return
        count = force or time.monotonic() >= self._gauges_at
        await self._presence.hold(check=True)
        async with self._leasing, self._db.uow() as uow:
            holders = await uow.outbox.holders()
            gone = await self._presence.gone(uow.outbox, holders - {self.owner})
            taken_over = await uow.outbox.free_jobs_of(gone)
            if self.owner in holders:
                await uow.outbox.free_jobs_of({self.owner}, keep=[job.id for job in self._running.values()
                                                                  if job.id is not None])
            gauges = (await uow.outbox.depth(), await uow.outbox.failed_by_kind()) if count else None
            await uow.commit()
        self._housekeeping_at = time.monotonic() + self._housekeeping_every
        if gauges is not None:
            self._gauges_at = time.monotonic() + GAUGE_SECONDS
            self._metrics.queue_depth.set(gauges[0])
            self._metrics.count_failed(gauges[1])
        if taken_over:
            logger.info("outbox: took over %d jobs of %d stopped relays", taken_over, len(gone))

    async def run_due(self) -> int:
        """Lease as many due jobs as can start now and start them; returns how many were leased.

        When every slot is taken (in a storm: P3 cards waiting out the channel's pace), a few more slots take only
        urgent jobs — what people just did and P1 cards — so those reach the pacer's queue at once, ahead of the rest.
        """
        free = min(self._batch, self._concurrency - len(self._running))
        urgent_only = free <= 0
        if urgent_only:
            free = min(self._batch, self._concurrency + self._urgent_slots - len(self._running))
            if free <= 0:
                return 0
        await self._presence.hold()
        async with self._leasing:
            async with self._db.uow() as uow:
                jobs = await uow.outbox.lease_due(self._clock(), self.owner, free,
                                                  up_to_priority=URGENT if urgent_only else None)
                await uow.commit()
            for job in jobs:
                task = asyncio.create_task(self._run_one(job))
                self._running[task] = job
                task.add_done_callback(self._finished)
        return len(jobs)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        if not task.cancelled() and task.exception() is not None:  # its outcome is unrecorded: housekeeping reruns it
            logger.warning("outbox: could not record how a job ended (%s)", describe(task.exception()))
        self._wake.set()  # a slot is free

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
        except Exception as exc:  # our lock goes with us: the next relay takes them over at once anyway
            logger.warning("outbox: could not hand back %d interrupted jobs (%s)", len(interrupted), describe(exc))

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
        except GiveUp as exc:
            await self._give_up(job, exc.reason, sender)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if unreachable(exc) and not await self._database_answers():
                # The database went away mid-job: no traceback (the run loop logs the outage once); the job is
                # handed back, or, if even that fails, rerun by housekeeping once the database is back.
                await self._release(job, backoff(job.failures + 1), f"database unavailable ({describe(exc)})",
                                    count_attempt=False)
                return
            await self._failed(job, exc, sender)
        else:
            async with self._db.uow() as uow:
                await uow.outbox.complete(job, self._clock())
                await uow.commit()

    async def _database_answers(self) -> bool:
        try:
            await self._db.ping()
        except Exception:  # any failure: the database does not answer now
            return False
        return True

    async def _failed(self, job: OutboxJob, exc: Exception, sender: Sender | None) -> None:
        """An unexpected error: one traceback per job (its first), a line for each later one, then give up."""
        incident = uuid.uuid4().hex[:12]
        reason = f"{describe(exc)} (incident {incident})"
        self._metrics.outbox_failures.labels(kind=job.kind).inc()
        failures = job.failures + 1
        if failures == 1:
            logger.error("outbox: job %s (%s) failed, incident %s", job.key, job.kind, incident, exc_info=exc)
        else:
            logger.warning("outbox: job %s (%s) failed again (%d in a row): %s", job.key, job.kind, failures, reason)
        if failures >= self._give_up_after:
            await self._give_up(job, reason, sender)
        else:
            await self._release(job, backoff(failures), reason, failure=True)

    async def _give_up(self, job: OutboxJob, reason: str, sender: Sender | None) -> None:
        reason = reason[:REASON_LIMIT]
        async with self._db.uow() as uow:
            now = self._clock()
            failed = await uow.outbox.fail(job, now, reason)
            if failed:
                await self._fanout.job_failed(uow.outbox, job, reason, now)
            await uow.commit()
        if not failed:  # asked for again while it ran: it runs again instead
            return
        logger.error("outbox: gave up on job %s (%s): %s", job.key, job.kind, reason)
        self._metrics.outbox_given_up.labels(kind=job.kind).inc()
        self.wake()  # the line in the triage channel is due now
        on_failure = getattr(sender, "failed", None)
        if on_failure is not None:
            try:
                await on_failure(job, reason)
            except Exception as exc:  # the job stays failed; its line is on its way
                logger.warning("outbox: could not show that job %s failed (%s)", job.key, describe(exc))

    async def _release(self, job: OutboxJob, delay: float, reason: str, *, count_attempt: bool = True,
                       failure: bool = False) -> None:
        async with self._db.uow() as uow:
            await uow.outbox.reschedule(job, self._clock() + timedelta(seconds=delay), reason[:REASON_LIMIT],
                                        count_attempt=count_attempt, failure=failure)
            await uow.commit()
