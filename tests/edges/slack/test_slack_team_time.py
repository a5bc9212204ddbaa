"""Edge (Slack wire): the team's time zone — stats by arrival from its midnight, crisis times with their date."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Team
from bot.core.working_time import parse_hours
from tests.support import (
    REPLY_SECRET,
    HandClock,
    block_action,
    event,
    ingest,
    mention_data,
    post_interaction,
    running_app,
    settle_slack,
    slash,
    team_config,
    view_submission,
)

AMS = ZoneInfo("Europe/Amsterdam")
DUTCH_TEAM = dataclasses.replace(team_config(), team=Team(hours=parse_hours(
    {"mon-fri": "08:00-22:00", "sat-sun": "10:00-18:00"}, AMS)))


@pytest.fixture
def clock():
    return HandClock()


@pytest.fixture
async def app(database_url, slack, receiver, clock):
    async with running_app(database_url, slack.url, config=DUTCH_TEAM, clock=clock, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        yield client


async def typed(client, user: str, text: str, channel: str | None = None) -> str:
    response = await (slash(client, user, text, channel_id=channel) if channel else slash(client, user, text))
    assert response.status == 200, await response.text()
    await settle_slack(client)
    return (await response.json())["text"]


async def arrives(client, n: int, published_at: str) -> int:
    [m] = await ingest(client, event(mention_data(n, published_at=published_at)))
    await settle_slack(client)
    return m["id"]


def text_of(value) -> str:
    return json.dumps(value, ensure_ascii=False)


async def test_stats_count_what_arrived_since_midnight_in_the_team_time_zone(app, slack, clock):
    clock.now = datetime(2026, 3, 28, 22, 50, tzinfo=UTC)  # Saturday 23:50 in Amsterdam
    await arrives(app, 1, "2026-03-28T22:45:00Z")
    clock.now = datetime(2026, 3, 28, 23, 10, tzinfo=UTC)  # Sunday 00:10 in Amsterdam, still Saturday in UTC
    late = await arrives(app, 2, "2026-03-27T10:00:00Z")  # published the day before yesterday, arrived now
    clock.now = datetime(2026, 3, 28, 23, 20, tzinfo=UTC)
    await arrives(app, 3, "2026-03-26T10:00:00Z")

    # At 00:30 in Amsterdam: the two that arrived since midnight (by UTC's day it would be 3, by publishing 1).
    clock.now = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    assert "*Stats (today):* 2 mentions, 0 answered" in await typed(app, "U03CARLA", "stats")
    assert "*Stats (last 7 days):* 3 mentions" in await typed(app, "U03CARLA", "stats week")

    # Answered at 10:20 CEST: nine hours after it arrived, but the first 20 minutes of Sunday's working hours.
    clock.now = datetime(2026, 3, 29, 8, 20, tzinfo=UTC)
    response = await post_interaction(app, block_action("U03CARLA", "webcare.claim", str(late)))
    assert response.status == 200
    await settle_slack(app)
    response = await post_interaction(app, view_submission(
        "U03CARLA", "webcare.answer_modal", str(late),
        {"reply_text": {"type": "plain_text_input", "value": "Replied in the X app."}}))
    assert response.status == 200, await response.text()
    await settle_slack(app)
    stats = await typed(app, "U03CARLA", "stats")
    assert "2 mentions, 1 answered" in stats
    assert "Median time to first response: 550 min" in stats  # real time since it arrived, night included
    assert "Answered within 60 min: 50%" in stats  # the SLA clock only runs in working hours; one is open
    assert "Median time to resolution (answered, closed or dismissed; working time): 20 min" in stats


async def test_crisis_times_are_in_the_team_time_zone_with_a_date_when_not_today(app, slack, clock):
    clock.now = datetime(2026, 12, 7, 21, 0, tzinfo=UTC)  # Monday 22:00 in Amsterdam
    answer = await typed(app, "U01ANNA", "crisis start outage")
    assert answer.startswith("Crisis #1 started."), answer
    room = slack.channel_named("crisis-outage-20261207")
    status = await typed(app, "U01ANNA", "crisis status", channel=room)
    assert "due 22:10 (+10 min)" in status and "due 22:30 (+30 min)" in status
    assert "due 02:00 tomorrow (+4 h)" in status  # not "02:00 UTC (+4 h)", which reads as earlier today

    [message] = [m for m in slack.messages(room)
                 if (m.get("metadata") or {}).get("event_payload", {}).get("subject") == "crisis:1:checklist"]
    shown = text_of(message["blocks"])
    later = int((clock.now + timedelta(hours=4)).timestamp())
    # Slack writes the time in each reader's zone; where it cannot, the team's time with the date stands.
    assert f"due <!date^{later}^{{date_short_pretty}} at {{time}}|02:00 on Tue 8 Dec> (+4 h)" in shown
    assert "|22:00>" in shown  # started, today

    clock.now = datetime(2026, 12, 7, 23, 42, tzinfo=UTC)  # 00:42 on Tuesday in Amsterdam
    await typed(app, "U01ANNA", "crisis end --force drill over", channel=room)
    [report] = [m for m in slack.messages(room)
                if (m.get("metadata") or {}).get("event_payload", {}).get("subject") == "crisis-notice:report:1:end"]
    [markdown] = [b["text"] for b in report["blocks"] if b["type"] == "markdown"]
    assert "- **Started:** 2026-12-07 22:00 CET by Anna de Vries" in markdown
    assert "- **Ended:** 2026-12-08 00:42 CET by Anna de Vries, after 2 h 42 min" in markdown
