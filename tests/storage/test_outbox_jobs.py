"""Outbox keys, kinds and message subjects keep their exact spelling: rows stored by earlier releases still match."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.outbox.fanout import Fanout
from bot.outbox.jobs import (
    CrisisPart,
    JobKind,
    card_subject,
    crisis_notice_subject,
    crisis_subject,
    draft_subject,
    job_key,
    job_kind,
    notice_subject,
    read_kind,
    reminders_subject,
    started_subject,
)
from bot.storage.database import Database
from bot.storage.models import OutboxJob

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
STEP = "tell-every-regional-office-and-the-franchise-partners-before-the-press-release-goes-out"
LONG = f"reminder:7:{STEP}:lead"  # a crisis notice whose subject is too long for chat_message.subject


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def stored_jobs(db: Database) -> set[tuple[str, str, int | None]]:
    async with db.uow() as uow:
        rows = (await uow.session.exec(select(OutboxJob))).all()
    return {(job.key, job.kind, job.mention_id) for job in rows}


async def test_fanout_stores_the_keys_and_kinds_earlier_releases_stored(db):
    fanout = Fanout(platforms=("slack", "teams"))
    async with db.uow() as uow:
        await fanout.card_changed(uow.outbox, 12, NOW)
        await fanout.draft_changed(uow.outbox, 12, 5, NOW)
        await fanout.notice(uow.outbox, 12, "escalate:12:3", {"kind": "escalation"}, NOW)
        await fanout.crisis_changed(uow.outbox, 3, NOW)
        await fanout.crisis_notice(uow.outbox, 3, "report:3:end", {"kind": "report"}, NOW)
        await fanout.deliver_reply(uow.outbox, 12, 5, NOW)
        await uow.commit()
    assert await stored_jobs(db) == {
        ("slack:card:12", "slack.card", 12), ("teams:card:12", "teams.card", 12),
        ("slack:draft:5", "slack.draft", 12), ("teams:draft:5", "teams.draft", 12),
        ("slack:notice:escalate:12:3", "slack.notice", 12), ("teams:notice:escalate:12:3", "teams.notice", 12),
        ("slack:crisis:3", "slack.crisis", None), ("teams:crisis:3", "teams.crisis", None),
        ("slack:crisis-notice:report:3:end", "slack.crisis_notice", None),
        ("teams:crisis-notice:report:3:end", "teams.crisis_notice", None),
        ("reply:5", "reply", 12),
    }


async def test_a_given_up_job_is_announced_under_the_key_earlier_releases_used(db):
    async with db.uow() as uow:
        await uow.outbox.sync("slack:card:12", "slack.card", 12, {}, NOW)
        await uow.commit()
        [job] = (await uow.session.exec(select(OutboxJob))).all()
        await Fanout(platforms=("slack", "teams")).job_failed(uow.outbox, job, "Slack refused it", NOW)
        await uow.commit()
    notices = {key: kind for key, kind, _ in await stored_jobs(db) if key != "slack:card:12"}
    assert notices == {f"slack:notice:failed:{job.id}:1": "slack.notice"}


def test_message_subjects_are_spelled_as_stored_rows_have_them():
    assert card_subject(12) == "card:12"
    assert draft_subject(5) == "draft:5"
    assert notice_subject("slack:notice:escalate:12:3") == "notice:escalate:12:3"
    assert notice_subject("teams:notice:failed:40:2") == "notice:failed:40:2"
    assert [crisis_subject(3, part) for part in CrisisPart] == [
        "crisis:3:checklist", "crisis:3:banner", "crisis:3:room", "crisis:3:channel"]
    assert crisis_notice_subject("slack:crisis-notice:report:3:end") == "crisis-notice:report:3:end"
    assert crisis_notice_subject("teams:crisis-notice:report:3:end", keep_start=True) == "crisis-notice:report:3:end"
    assert started_subject("card:12") == "sending:card:12"


def test_long_subjects_are_shortened_the_way_each_platform_always_has():
    slack = crisis_notice_subject(f"slack:crisis-notice:{LONG}")
    teams = crisis_notice_subject(f"teams:crisis-notice:{LONG}", keep_start=True)
    assert slack == "crisis-notice:a1edaf55b7e3d9397b3e08113c90a4bd2e8f6536001f49d2483fc67d9547d8b8"
    assert teams == ("crisis-notice:reminder:7:tell-every-regional-office-and-the-franchise-partn"
                     "~a1edaf55b7e3d9397b3e0811")
    assert started_subject(teams) == "sending:f22bc8a9acf83f806521bc446d033358037a7af4f647eeee7c51bf72b2222668"
    assert max(len(slack), len(teams), len(started_subject(teams))) <= 100


def test_stored_kinds_read_back_to_their_platform_and_kind():
    assert [job_kind("slack", kind) for kind in JobKind if kind not in (JobKind.REPLY, JobKind.STORM_BATCH)] == [
        "slack.card", "slack.draft", "slack.notice", "slack.crisis", "slack.crisis_notice", "slack.storm",
        "slack.digest", "slack.spike", "slack.daily", "slack.reminders"]
    assert job_key("slack", JobKind.REMINDERS, "2026-12-08T09:15") == "slack:reminders:2026-12-08T09:15"
    assert reminders_subject("2026-12-08T09:15") == "reminders:2026-12-08T09:15"
    assert job_kind(None, JobKind.REPLY) == "reply"
    key = job_key("teams", JobKind.CRISIS_NOTICE, "reminder:3:confirm:owner")
    assert key == "teams:crisis-notice:reminder:3:confirm:owner"
    assert read_kind("teams.crisis_notice") == ("teams", JobKind.CRISIS_NOTICE)
    assert read_kind("reply") == ("", JobKind.REPLY)
    assert read_kind("slack.storm") == ("slack", JobKind.STORM)
    assert read_kind("slack.weather") == ("slack", None)
