"""Outbox: a job that fails for good stops, is counted in /metrics, and says so in the triage channel — once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.metrics import Metrics
from bot.outbox.fanout import Fanout
from bot.outbox.relay import GiveUp, Relay
from bot.storage.database import Database
from bot.storage.models import OutboxJob, utcnow
from tests.support import TRIAGE_CHANNEL, event, ingest, mention_data, relay_of, running_app


class Clock:
    """A clock the test moves forward, so backed-off retries come due without waiting."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Broken:
    """A sender for one kind whose every run raises what `fault` makes; it remembers being told it failed."""

    def __init__(self, fault: Callable[[], Exception]) -> None:
        self.fault, self.runs, self.told = fault, 0, []

    async def __call__(self, job: OutboxJob) -> None:
        self.runs += 1
        raise self.fault()

    async def failed(self, job: OutboxJob, reason: str) -> None:
        self.told.append(reason)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def relays(db: Database) -> AsyncIterator[Callable[..., Relay]]:
    """Relays on the test's database, closed at the end."""
    made: list[Relay] = []

    def make(senders: dict[str, Any], metrics: Metrics, fanout: Fanout, clock: Clock, **options: Any) -> Relay:
        made.append(Relay(db, senders, metrics, fanout=fanout, clock=clock, **options))
        return made[-1]

    yield make
    for relay in made:
        await relay.close()


async def jobs(db: Database) -> dict[str, OutboxJob]:
    async with db.uow() as uow:
        return {job.key: job for job in (await uow.session.exec(select(OutboxJob))).all()}


async def queue(db: Database, key: str, kind: str, now: datetime, mention_id: int | None = 12) -> None:
    async with db.uow() as uow:
        await uow.outbox.sync(key, kind, mention_id, {"draft_id": 3}, now)
        await uow.commit()


async def run_until_settled(relay: Relay, clock: Clock, rounds: int = 12) -> None:
    """Drain, move past any backoff, drain again: what keeps failing gets every chance it would get."""
    for _ in range(rounds):
        await relay.drain()
        clock.advance(600)


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info and r.name.startswith("bot.")]


async def test_an_unexpected_error_gives_up_after_a_few_tries_with_one_traceback_and_a_line(db, relays, caplog):
    clock, metrics = Clock(), Metrics()
    broken = Broken(lambda: ValueError("Invalid IPv6 URL\nsecond line"))
    relay = relays({"slack.card": broken}, metrics, Fanout(platforms=("slack",)), clock, give_up_after=3)
    await queue(db, "slack:card:12", "slack.card", clock())

    await run_until_settled(relay, clock)
    await relay.housekeeping(force=True)

    assert broken.runs == 3  # and then never again, however long the relay runs
    job = (await jobs(db))["slack:card:12"]
    assert not job.done and job.failed_at is not None and job.lease_owner is None
    assert job.last_error is not None and job.last_error.startswith("ValueError: Invalid IPv6 URL (incident ")
    assert len(tracebacks(caplog)) == 1  # the first failure only
    notice = (await jobs(db))[f"slack:notice:failed:{job.id}:1"]
    assert notice.kind == "slack.notice" and notice.payload["kind"] == "failed"
    assert notice.payload["text"].startswith("Mention #12 could not be shown on Slack: ValueError: Invalid IPv6 URL")
    assert broken.told and broken.told[0].startswith("ValueError")
    shown = metrics.render().decode()
    assert 'webcare_outbox_failed_jobs{kind="slack.card"} 1.0' in shown
    assert 'webcare_outbox_given_up_total{kind="slack.card"} 1.0' in shown
    assert "webcare_outbox_queue_depth 1.0" in shown  # the line waiting to be posted; the failed card is not waiting


async def test_a_refusal_gives_up_at_once_and_a_new_state_asks_for_the_job_again(db, relays):
    clock, metrics = Clock(), Metrics()
    refused = Broken(lambda: GiveUp("Slack refused chat_postMessage: invalid_blocks"))
    relay = relays({"teams.card": refused}, metrics, Fanout(platforms=("slack", "teams")), clock)
    await queue(db, "teams:card:12", "teams.card", clock())

    await run_until_settled(relay, clock)

    assert refused.runs == 1
    found = await jobs(db)
    failed = found["teams:card:12"]
    assert failed.failed_at is not None and failed.last_error == "Slack refused chat_postMessage: invalid_blocks"
    assert f"teams:notice:failed:{failed.id}:1" in found and f"slack:notice:failed:{failed.id}:1" not in found

    await queue(db, "teams:card:12", "teams.card", clock())  # e.g. someone claimed the mention elsewhere
    revived = (await jobs(db))["teams:card:12"]
    assert revived.failed_at is None and revived.failures == 0 and revived.generation == 2
    await relay.drain()
    assert refused.runs == 2


async def test_a_line_that_cannot_be_posted_does_not_ask_for_another_line(db, relays):
    clock = Clock()
    relay = relays({"slack.card": Broken(lambda: GiveUp("refused")), "slack.notice": Broken(lambda: GiveUp("no"))},
                   Metrics(), Fanout(platforms=("slack",)), clock)
    await queue(db, "slack:card:12", "slack.card", clock())

    await run_until_settled(relay, clock)

    assert sorted(job.kind for job in (await jobs(db)).values() if job.failed_at is not None) == \
        ["slack.card", "slack.notice"]
    assert len(await jobs(db)) == 2


def section_texts(message: dict[str, Any]) -> list[str]:
    return [block["text"]["text"] for block in message.get("blocks", []) if block.get("type") == "section"]


async def test_slack_refusing_a_card_shows_a_line_in_the_triage_channel_and_on_metrics(database_url, slack, caplog):
    slack.fail_next("chat.postMessage", error="invalid_blocks")
    async with running_app(database_url, slack.url) as client:
        [mention] = await ingest(client, event(mention_data(1)))
        relay = relay_of(client)
        await relay.drain()
        await relay.housekeeping(force=True)
        metrics = await (await client.get("/metrics")).text()

    posts = slack.calls_to("chat.postMessage")
    assert len(posts) == 2  # the refused card, then the line; the card is not tried again
    [line] = slack.messages(TRIAGE_CHANNEL)
    assert line.get("thread_ts") is None
    [text] = section_texts(line)
    assert visible(text) == (f":warning: Mention #{mention['id']} could not be shown on Slack: "
                             "Slack refused chat_postMessage: invalid_blocks")
    assert 'webcare_outbox_failed_jobs{kind="slack.card"} 1.0' in metrics
    assert "webcare_outbox_queue_depth 0.0" in metrics
    assert not tracebacks(caplog)


def visible(text: str) -> str:
    """The text as people read it (without the invisible characters escaping puts in)."""
    return text.replace("\u200b", "").replace("\u2060", "")
