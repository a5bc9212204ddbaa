"""Edge: the leads' daily summary on Slack — mentions in through the real ingest path on a Dutch team's clock, one
summary in the triage channel at the day's opening with yesterday's figures and the leads pinged, once per day,
also after a restart, and caught up later that day (never on a later one) when the bot was down at the opening."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.config import Team
from bot.core.working_time import parse_hours
from bot.slack.ids import Action, View
from handlers.daily import post_daily_summary
from tests.support import (
    REPLY_SECRET,
    TRIAGE_CHANNEL,
    HandClock,
    block_action,
    context_of,
    event,
    ingest,
    mention_data,
    post_interaction,
    running_app,
    settle_slack,
    team_config,
    view_submission,
)

AMS = ZoneInfo("Europe/Amsterdam")
DUTCH_TEAM = dataclasses.replace(team_config(), team=Team(hours=parse_hours(
    {"mon-fri": "08:00-22:00", "sat-sun": "10:00-18:00"}, AMS)))


def amsterdam(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of December 2026 on Amsterdam's wall clock (CET), in UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=AMS).astimezone(UTC)


@pytest.fixture
def clock() -> HandClock:
    return HandClock()


def serve(database_url: str, slack, receiver, clock: HandClock, **periodic: float):  # type: ignore[no-untyped-def]
    return running_app(database_url, slack.url, config=DUTCH_TEAM, clock=clock, reply_webhook_url=receiver.url,
                       reply_webhook_secret=REPLY_SECRET, **periodic)


@pytest.fixture
async def app(database_url, slack, receiver, clock):
    async with serve(database_url, slack, receiver, clock) as client:
        yield client


async def arrives(client, clock: HandClock, n: int, at: datetime) -> int:
    clock.now = at
    [m] = await ingest(client, event(mention_data(n)))
    await settle_slack(client)
    return m["id"]


async def answered(client, clock: HandClock, mention_id: int, at: datetime) -> None:
    """Carla claims the mention and answers it; the reply is delivered (the first response) at `at`."""
    clock.now = at
    response = await post_interaction(client, block_action("U03CARLA", Action.CLAIM, str(mention_id)))
    assert response.status == 200
    await settle_slack(client)
    response = await post_interaction(client, view_submission(
        "U03CARLA", View.ANSWER, str(mention_id),
        {"reply_text": {"type": "plain_text_input", "value": "Sorry, we're on it."}}))
    assert response.status == 200, await response.text()
    await settle_slack(client)


async def check(client) -> int:
    queued = await post_daily_summary(context_of(client))
    await settle_slack(client)
    return queued


def summaries(slack) -> list[dict]:
    return [m for m in slack.messages(TRIAGE_CHANNEL)
            if (m.get("metadata") or {}).get("event_payload", {}).get("subject", "").startswith("daily:")]


async def test_posted_once_at_the_opening_with_yesterdays_figures_in_amsterdam_and_the_leads_pinged(app, slack,
                                                                                                     clock):
    await arrives(app, clock, 1, amsterdam(6, 22))  # Sunday evening: the day before yesterday, still open
    early = await arrives(app, clock, 2, amsterdam(7, 0, 30))  # Monday in Amsterdam, still Sunday in UTC
    await answered(app, clock, early, amsterdam(7, 8, 50))  # 500 min later, but 50 working minutes
    soon = await arrives(app, clock, 3, amsterdam(7, 10))
    await answered(app, clock, soon, amsterdam(7, 10, 20))
    await arrives(app, clock, 4, amsterdam(7, 21, 30))  # due 08:30 on Tuesday: half an hour left at the opening
    await arrives(app, clock, 5, amsterdam(8, 0, 30))  # Tuesday in Amsterdam, still Monday in UTC

    clock.now = amsterdam(8, 7, 59)
    assert await check(app) == 0
    assert summaries(slack) == []

    clock.now = amsterdam(8, 8, 0)
    assert await check(app) == 1
    [summary] = summaries(slack)
    shown = summary["blocks"][0]["text"]["text"]
    assert shown == (":sunrise: *Daily summary* for <@U01ANNA>\nYesterday (Mon 7 Dec): 3 mentions · first response "
                     "median 260 min · 67% within 60 min · now open 3, overdue 1")
    assert summary["text"].startswith("Daily summary for <@U01ANNA>: Yesterday (Mon 7 Dec): 3 mentions")
    assert "U03CARLA" not in shown and "U05EVA" not in shown  # webcare and crisis-lead people are not leads

    assert await check(app) == 0
    clock.now = amsterdam(8, 14)
    assert await check(app) == 0
    assert len(summaries(slack)) == 1


async def test_a_bot_down_at_the_opening_posts_it_when_it_comes_back_that_day_and_not_again_after_a_restart(
        database_url, slack, receiver, clock):
    async with serve(database_url, slack, receiver, clock) as client:
        await arrives(client, clock, 1, amsterdam(7, 10))

    clock.now = amsterdam(8, 14)  # back at two in the afternoon: its periodic checks find the summary due
    async with serve(database_url, slack, receiver, clock, reminder_seconds=0.1) as client:
        for _ in range(100):
            await settle_slack(client)
            if summaries(slack):
                break
            await asyncio.sleep(0.1)
        [summary] = summaries(slack)
        assert summary["blocks"][0]["text"]["text"].endswith(
            "Yesterday (Mon 7 Dec): 1 mention · none answered · 0% within 60 min · now open 1, overdue 1")

    clock.now = amsterdam(8, 15)
    async with serve(database_url, slack, receiver, clock) as client:
        assert await check(client) == 0
    assert len(summaries(slack)) == 1


async def test_a_day_missed_entirely_is_never_posted_on_a_later_day(app, slack, clock):
    await arrives(app, clock, 1, amsterdam(7, 10))
    clock.now = amsterdam(8, 22, 30)  # Tuesday after closing: the bot was down all day
    assert await check(app) == 0
    clock.now = amsterdam(9, 7, 30)  # Wednesday before the opening: Tuesday's summary is gone, Wednesday's not due
    assert await check(app) == 0
    assert summaries(slack) == []

    clock.now = amsterdam(9, 8)
    assert await check(app) == 1
    [summary] = summaries(slack)
    assert summary["metadata"]["event_payload"]["subject"] == "daily:2026-12-09"
    assert summary["blocks"][0]["text"]["text"].endswith(
        "Yesterday (Tue 8 Dec): 0 mentions · now open 1, overdue 1")


async def test_a_dutch_team_reads_its_summary_in_dutch(database_url, slack, receiver, clock):
    dutch = dataclasses.replace(DUTCH_TEAM, team=dataclasses.replace(DUTCH_TEAM.team, lang="nl"))
    async with running_app(database_url, slack.url, config=dutch, clock=clock, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        await arrives(client, clock, 1, amsterdam(7, 10))
        clock.now = amsterdam(8, 8, 0)
        assert await check(client) == 1
    [summary] = summaries(slack)
    assert summary["blocks"][0]["text"]["text"] == (
        ":sunrise: *Dagsamenvatting* voor <@U01ANNA>\nGisteren (ma 7 dec): 1 vermelding · niets beantwoord · "
        "0% binnen 60 min · nu open 1, te laat 1")
