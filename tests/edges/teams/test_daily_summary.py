"""Edge: the leads' daily summary on Teams — mentions in through the real ingest path on a Dutch team's clock, one
card starting a thread in the triage channel at the day's opening, with yesterday's figures and the leads mentioned
(entities only from webcare.toml), once per day."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.config import Team
from bot.core.working_time import parse_hours
from handlers.daily import post_daily_summary
from tests.edges.teams.wire import CHANNEL, card_text, cards_in, mention_entities, settle, teams_settings, until
from tests.support import REPLY_SECRET, ShiftedClock, context_of, event, ingest, mention_data, running_app, team_config

AMS = ZoneInfo("Europe/Amsterdam")
DUTCH_TEAM = dataclasses.replace(team_config(), team=Team(hours=parse_hours(
    {"mon-fri": "08:00-22:00", "sat-sun": "10:00-18:00"}, AMS)))


def amsterdam(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of December 2026 on Amsterdam's wall clock (CET), in UTC."""
    return datetime(2026, 12, day, hour, minute, tzinfo=AMS).astimezone(UTC)


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
async def app(database_url, kit, connector, receiver, clock):
    async with running_app(database_url, None, clock=clock, config=DUTCH_TEAM, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


async def arrives(client, clock: ShiftedClock, n: int, at: datetime) -> None:
    clock.set(at)
    await ingest(client, event(mention_data(n)))
    await settle(client)


def summaries(connector) -> list[dict[str, Any]]:
    """The summary cards in the triage channel."""
    return [c for p in connector.posts(CHANNEL) for c in cards_in(p) if '"daily-' in json.dumps(c)]


async def test_posted_once_at_the_opening_with_yesterdays_figures_and_the_leads_mentioned(app, connector, clock):
    await arrives(app, clock, 1, amsterdam(6, 22))  # Sunday evening: open, its first response overdue
    await arrives(app, clock, 2, amsterdam(7, 21, 30))  # Monday: due 08:30 on Tuesday
    await arrives(app, clock, 3, amsterdam(8, 0, 30))  # Tuesday in Amsterdam, still Monday in UTC

    clock.set(amsterdam(7, 23, 59))
    assert await post_daily_summary(context_of(app)) == 0
    clock.set(amsterdam(8, 8))
    assert await post_daily_summary(context_of(app)) == 1
    [summary] = await until(app, lambda: summaries(connector), what="the daily summary")
    text = card_text(summary)
    assert "Daily summary** for <at>Anna de Vries</at>" in text
    assert "Yesterday (Mon 7 Dec): 1 mention · none answered · 0% within 60 min · now open 3, overdue 1" in text
    assert [e["mentioned"]["id"] for e in mention_entities(summary)] == ["29:1anna"]

    assert await post_daily_summary(context_of(app)) == 0
    await settle(app)
    assert len(summaries(connector)) == 1


async def test_a_dutch_team_reads_its_summary_in_dutch(database_url, kit, connector, receiver, clock):
    dutch = dataclasses.replace(DUTCH_TEAM, team=dataclasses.replace(DUTCH_TEAM.team, lang="nl"))
    async with running_app(database_url, None, clock=clock, config=dutch, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, **teams_settings(kit, connector)) as client:
        await arrives(client, clock, 1, amsterdam(7, 10))
        clock.set(amsterdam(8, 8))
        assert await post_daily_summary(context_of(client)) == 1
        [summary] = await until(client, lambda: summaries(connector), what="the daily summary")
        await settle(client)
    text = card_text(summary)
    assert "🌅 **Dagsamenvatting** voor <at>Anna de Vries</at>" in text
    assert "Gisteren (ma 7 dec): 1 vermelding · niets beantwoord · 0% binnen 60 min · nu open 1, te laat 1" in text
