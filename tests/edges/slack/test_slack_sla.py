"""Edge: SLA reminders on Slack, on a hand-set clock through the real app — who is @mentioned in the card's thread
at each moment (and who is not), each once; a storm's reminders gathered in one channel message per minute; Dutch
for a Dutch team; a delivered reply stops the clock."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import Team
from bot.core.storms.rules import StormRules
from bot.core.working_time import parse_hours
from handlers.sla import remind_sla
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

PEOPLE = ("U01ANNA", "U02BRAM", "U03CARLA", "U04DIRK", "U05EVA")


@pytest.fixture
def clock() -> HandClock:
    return HandClock()


@pytest.fixture
async def app(database_url, slack, receiver, clock):
    async with running_app(database_url, slack.url, clock=clock, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        yield client


async def arrive(client, *numbers: int) -> list[int]:
    stored = await ingest(client, *(event(mention_data(n)) for n in numbers))
    await settle_slack(client)
    return [m["id"] for m in stored]


async def act(client, payload) -> None:
    response = await post_interaction(client, payload)
    assert response.status == 200, await response.text()
    await settle_slack(client)


async def check_at(client, clock: HandClock, minutes: float, start) -> int:
    clock.now = start + timedelta(minutes=minutes)
    recorded = await remind_sla(context_of(client))
    await settle_slack(client)
    return recorded


def card_of(slack, mention_id: int) -> dict:
    return next(m for m in slack.messages(TRIAGE_CHANNEL)
                if (m.get("metadata") or {}).get("event_payload", {}).get("subject") == f"card:{mention_id}")


def card_shows(slack, mention_id: int) -> str:
    return json.dumps(card_of(slack, mention_id)["blocks"], ensure_ascii=False)


def reminders_in_thread(slack, mention_id: int) -> list[str]:
    card = card_of(slack, mention_id)
    return [m["blocks"][0]["text"]["text"] for m in slack.thread(TRIAGE_CHANNEL, card["ts"])
            if m["ts"] != card["ts"] and m["blocks"][0]["block_id"].startswith("sla-")]


def pinged(text: str) -> set[str]:
    return {user for user in PEOPLE if f"<@{user}>" in text}


def gathered(slack) -> list[dict]:
    return [m for m in slack.messages(TRIAGE_CHANNEL)
            if (m.get("metadata") or {}).get("event_payload", {}).get("subject", "").startswith("reminders:")]


async def test_unclaimed_then_overdue_pings_the_webcare_people_then_the_leads_each_once(app, slack, clock):
    start = clock.now
    [mention_id] = await arrive(app, 1)
    assert await check_at(app, clock, 14, start) == 0
    assert reminders_in_thread(slack, mention_id) == []

    assert await check_at(app, clock, 15, start) == 1
    [unclaimed] = reminders_in_thread(slack, mention_id)
    assert pinged(unclaimed) == {"U01ANNA", "U03CARLA"}  # role webcare; not the heads, not the crisis lead
    assert "nobody has claimed this mention for 15 min" in unclaimed
    assert await check_at(app, clock, 16, start) == 0

    await check_at(app, clock, 45, start)  # warn_at: nobody holds it, so nobody is pinged; the card says it
    assert len(reminders_in_thread(slack, mention_id)) == 1
    assert "15 min left" in card_shows(slack, mention_id)

    await check_at(app, clock, 61, start)
    breach = reminders_in_thread(slack, mention_id)[-1]
    assert pinged(breach) == {"U01ANNA"}  # the lead alone
    assert "overdue" in breach and "overdue 1 min" in card_shows(slack, mention_id)
    assert await check_at(app, clock, 90, start) == 0
    assert len(reminders_in_thread(slack, mention_id)) == 2


async def test_the_claimant_alone_is_reminded_at_warn_at(app, slack, clock):
    start = clock.now
    [mention_id] = await arrive(app, 1)
    clock.now = start + timedelta(minutes=5)
    await act(app, block_action("U03CARLA", "webcare.claim", str(mention_id)))
    await check_at(app, clock, 44, start)
    assert reminders_in_thread(slack, mention_id) == []  # claimed: no claim reminder
    await check_at(app, clock, 45, start)
    [warning] = reminders_in_thread(slack, mention_id)
    assert pinged(warning) == {"U03CARLA"}
    assert "15 min is left" in warning


async def test_a_draft_waiting_for_approval_pings_its_heads_then_the_lead(app, slack, clock):
    start = clock.now
    [mention_id] = await arrive(app, 1)
    await act(app, view_submission("U03CARLA", "webcare.escalate_modal", str(mention_id), {
        "departments": {"type": "multi_static_select", "selected_options": [{"value": "legal"}]}}))
    clock.now = start + timedelta(minutes=2)
    await act(app, view_submission("U03CARLA", "webcare.answer_modal", str(mention_id),
                                   {"reply_text": {"type": "plain_text_input", "value": "Sorry, we're on it."}}))
    await check_at(app, clock, 17, start)
    heads = [text for text in reminders_in_thread(slack, mention_id) if "approval" in text]
    assert [pinged(text) for text in heads] == [{"U02BRAM", "U04DIRK"}]
    await check_at(app, clock, 32, start)
    heads = [text for text in reminders_in_thread(slack, mention_id) if "approval" in text]
    assert [pinged(text) for text in heads] == [{"U02BRAM", "U04DIRK"}, {"U01ANNA"}]


async def test_a_delivered_reply_stops_the_clock(app, slack, clock, receiver):
    start = clock.now
    [mention_id] = await arrive(app, 1)
    await act(app, block_action("U03CARLA", "webcare.claim", str(mention_id)))
    await act(app, view_submission("U03CARLA", "webcare.answer_modal", str(mention_id),
                                   {"reply_text": {"type": "plain_text_input", "value": "Sorry, we're on it."}}))
    assert await check_at(app, clock, 120, start) == 0
    assert reminders_in_thread(slack, mention_id) == []
    assert "left" not in card_shows(slack, mention_id)


async def test_a_storms_reminders_are_gathered_in_one_channel_message_per_minute(app, slack, clock):
    start = clock.now
    ids = await arrive(app, 1, 2, 3, 4)
    clock.now = start + timedelta(seconds=30)
    [late] = await arrive(app, 5)
    assert await check_at(app, clock, 15, start) == 4
    [message] = gathered(slack)
    lines = [b["text"]["text"] for b in message["blocks"][1:]]
    assert len(lines) == 4 and all(pinged(line) == {"U01ANNA", "U03CARLA"} for line in lines)
    assert "4 mentions need attention" in message["blocks"][0]["text"]["text"]
    assert all(reminders_in_thread(slack, mention_id) == [] for mention_id in ids)

    assert await check_at(app, clock, 15.6, start) == 1  # one more due, the same minute: alone, in its thread
    assert len(reminders_in_thread(slack, late)) == 1 and len(gathered(slack)) == 1


async def test_a_dutch_team_is_reminded_in_dutch(database_url, slack, receiver, clock):
    dutch = dataclasses.replace(team_config(), team=Team(lang="nl"))
    async with running_app(database_url, slack.url, clock=clock, config=dutch) as client:
        start = clock.now
        [mention_id] = await arrive(client, 1)
        await check_at(client, clock, 15, start)
        [unclaimed] = reminders_in_thread(slack, mention_id)
        assert "niemand heeft deze vermelding al 15 min opgepakt" in unclaimed


async def test_outside_working_hours_the_clock_stands_still_and_nobody_is_reminded(database_url, slack, clock):
    amsterdam = ZoneInfo("Europe/Amsterdam")
    hours = parse_hours({"mon-fri": "08:00-22:00"}, amsterdam)
    team = dataclasses.replace(team_config(), team=Team(hours=hours))
    evening = datetime(2026, 12, 7, 21, 50, tzinfo=amsterdam).astimezone(UTC)  # Monday, ten minutes before closing
    async with running_app(database_url, slack.url, clock=clock, config=team) as client:
        clock.now = evening
        [mention_id] = await arrive(client, 1)
        assert "1 h left · due 08:50 on Tue 8 Dec" in card_shows(slack, mention_id)
        assert await check_at(client, clock, 70, evening) == 0  # 23:00: ten working minutes so far
        assert await check_at(client, clock, 60 * 10 + 14, evening) == 0  # 08:04 on Tuesday: 14 working minutes
        assert await check_at(client, clock, 60 * 10 + 15, evening) == 1  # 08:05: 15
        [unclaimed] = reminders_in_thread(slack, mention_id)
        assert pinged(unclaimed) == {"U01ANNA", "U03CARLA"} and "First response due 08:50" in unclaimed


async def test_a_storms_members_are_reminded_of_as_one_in_the_channel(database_url, slack, clock):
    stormy = dataclasses.replace(team_config(), storm=StormRules(group_min=3))
    text = "@AcmeWebcare my order #48213 still hasn't arrived, tracking stuck since Monday"
    members = [mention_data(n, text=f"{text} #{n}", author={"id": str(n), "handle": f"fan{n}", "followers": 100 * n})
               for n in (1, 2, 3)]
    async with running_app(database_url, slack.url, clock=clock, config=stormy) as client:
        start = clock.now
        await ingest(client, {"type": "mention.batch", "timestamp": start.isoformat(), "data": {"items": members}})
        await settle_slack(client)
        assert await check_at(client, clock, 15, start) == 3  # each member's clock is recorded…
        [reminder] = [m for m in slack.messages(TRIAGE_CHANNEL)
                      if (m.get("metadata") or {}).get("event_payload", {}).get("subject", "").startswith("notice:")]
        shown = json.dumps(reminder["blocks"], ensure_ascii=False)
        assert "Storm #" in shown and "unclaimed for 15 min" in shown  # …and the storm is reminded of once
        assert pinged(shown) == {"U01ANNA", "U03CARLA"}
        assert "fan2" not in shown and "fan3" not in shown
