"""Edge (Teams wire): crisis due times on the checklist card and in `crisis status`, in the team's time zone."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Team
from bot.core.working_time import WorkingHours, wall_clock
from tests.edges.teams.wire import ANNA, CHANNEL, ask, card_text, cards_in, settle, teams_settings, until
from tests.support import REPLY_SECRET, running_app, team_config

AMS = ZoneInfo("Europe/Amsterdam")
DUTCH_TEAM = dataclasses.replace(team_config(), team=Team(hours=WorkingHours(zone=AMS)))


class Clock:
    """Real time moved to 22:00 tomorrow in Amsterdam (tokens and retries keep real time running)."""

    def __init__(self) -> None:
        tomorrow = datetime.now(AMS).date() + timedelta(days=1)
        self.started = wall_clock(tomorrow, time(22, 0), AMS)
        self.offset = self.started - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(database_url, kit, connector, receiver, clock):
    async with running_app(database_url, None, config=DUTCH_TEAM, clock=clock, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


def checklist_text(connector) -> str | None:
    found = [c for p in connector.posts(CHANNEL) for c in cards_in(p) if '"crisis-1-title"' in json.dumps(c)]
    return card_text(found[0]) if found else None


async def test_due_times_say_the_date_when_they_fall_on_another_day(app, kit, connector, clock):
    answer = await ask(app, kit, connector, ANNA, "crisis start outage", channel=True)
    assert "Crisis #1 started." in answer, answer
    text = await until(app, lambda: checklist_text(connector), what="the checklist")
    later = (clock.started + timedelta(hours=4)).astimezone(AMS)  # 02:00 the next day
    assert "Due 22:10" in text and "Due 22:30" in text and "started 22:00 by" in text, text
    assert f"Due 02:00 on {later:%a} {later.day} {later:%b}" in text, text  # the card stays: a date
    assert "UTC" not in text

    status = await ask(app, kit, connector, ANNA, "crisis status", channel=True)
    assert "due 22:10 (+10 min)" in status and "due 02:00 tomorrow (+4 h)" in status, status
