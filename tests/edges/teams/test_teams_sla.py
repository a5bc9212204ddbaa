"""Edge (Teams wire): SLA reminders — one in the card's thread @mentioning exactly the people it is for; in a storm one
card in the triage channel with a line per mention whose customer text stays inert; in the team's language."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from bot.config import Config, Team
from bot.core.storms.rules import StormRules
from handlers.sla import remind_sla
from tests.edges.teams.wire import (
    CHANNEL,
    card_post,
    card_text,
    cards_in,
    invoke,
    mention_entities,
    one_mention,
    quiet,
    settle,
    teams_settings,
    the_card,
    thread_of,
    until,
)
from tests.support import REPLY_SECRET, ShiftedClock, context_of, ingest, mention_data, running_app, team_config

CARLA = "29:3carla"  # webcare.toml gives Carla (webcare) no Teams id; these tests do
WEBCARE = {"29:1anna", CARLA}  # the people with role `webcare` (Anna is also the lead)
EVIL = "<at>x</at> @channel [x](http://evil) **loud**"
STORM_TEXT = "@AcmeWebcare my order #48213 still hasn't arrived, tracking stuck since Monday"


def config(lang: str, storm_min: int) -> Config:
    """The test team, Carla with a Teams id, speaking `lang`; `storm_min` similar mentions make a storm."""
    return dataclasses.replace(team_config(carla={"teams": CARLA}), team=Team(lang=lang),
                               storm=StormRules(group_min=storm_min))


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
def lang() -> str:
    return "en"


@pytest.fixture
def storm_min() -> int:
    return 1000  # as webcare.toml: no storms


@pytest.fixture
async def app(database_url, kit, connector, receiver, clock, lang, storm_min):
    async with running_app(database_url, None, clock=clock, config=config(lang, storm_min),
                           reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET,
                           **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


def reminders_in(messages: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    """The reminder cards among these messages (their first block's id starts with `prefix`)."""
    return [c for m in messages for c in cards_in(m) if str(c["body"][0].get("id", "")).startswith(prefix)]


def ids_of(card: dict[str, Any]) -> list[str]:
    return sorted(e["mentioned"]["id"] for e in mention_entities(card))


def blocks(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in card["body"] if b["type"] == kind]


async def remind(app, clock: ShiftedClock, minutes: float) -> int:
    """Let working time pass, then run the periodic SLA check once."""
    clock.advance(minutes=minutes)
    return await remind_sla(context_of(app))


async def test_a_claim_reminder_lands_in_the_cards_thread_mentioning_exactly_the_webcare_people(app, connector, clock):
    mention_id = await one_mention(app, connector)
    assert await remind(app, clock, 14) == 0
    assert await remind(app, clock, 2) == 1

    [reminder] = await until(app, lambda: reminders_in(thread_of(connector, mention_id), "sla-claim_reminder-"),
                             what="the reminder in the card's thread")
    text = card_text(reminder)
    assert "<at>Anna de Vries</at>, <at>Carla Smit</at>: nobody has claimed this mention for 15 min" in text
    assert ids_of(reminder) == sorted(WEBCARE)
    assert not reminders_in(connector.posts(CHANNEL), "sla-")  # not in the channel itself

    assert await remind(app, clock, 1) == 0  # sent once
    await quiet(app)
    assert len(reminders_in(thread_of(connector, mention_id), "sla-")) == 1


async def test_a_storm_of_reminders_is_one_channel_card_with_a_line_each_and_the_customer_text_inert(app, connector,
                                                                                                   clock):
    ids = [await one_mention(app, connector, n) for n in (1, 2)]
    ids.append(await one_mention(app, connector, 3, text=EVIL))
    assert await remind(app, clock, 16) == 3

    [gathered] = await until(app, lambda: reminders_in(connector.posts(CHANNEL), "sla-gathered"),
                             what="the gathered reminders in the channel")
    text = card_text(gathered)
    assert "⏰ **3 mentions need attention**" in text
    lines = [b for b in blocks(gathered, "RichTextBlock") if b["id"].removeprefix("sla-gathered-").isdigit()]
    assert len(lines) == 3
    assert all(": unclaimed for 15 min." in card_text(line) for line in lines)
    people = [b["text"] for b in blocks(gathered, "TextBlock") if b["id"].startswith("sla-gathered-")]
    assert people == ["<at>Anna de Vries</at>, <at>Carla Smit</at>"] * 3
    assert ids_of(gathered) == sorted(WEBCARE)  # one entity per person, nobody else

    # The customer's words are a TextRun: shown as typed, yet nothing in them formats, links or mentions.
    [evil] = [line for line in lines if "@channel" in card_text(line)]
    assert f"{EVIL}: unclaimed" in card_text(evil)
    [run] = [i for i in evil["inlines"] if "@channel" in i["text"]]
    assert "<at>" not in run["text"] and "</at>" not in run["text"]
    assert not any("evil" in b["text"] or "@channel" in b["text"] for b in blocks(gathered, "TextBlock"))
    assert "x" not in {e["mentioned"]["name"] for e in mention_entities(gathered)}

    await quiet(app)
    for mention_id in ids:  # gathered: nothing in the cards' threads
        assert not reminders_in(thread_of(connector, mention_id), "sla-")
    assert len(reminders_in(connector.posts(CHANNEL), "sla-gathered")) == 1


@pytest.mark.parametrize("storm_min", [3])
async def test_a_reminder_for_a_mention_shown_only_on_a_storm_card_goes_in_the_channel(app, connector, clock):
    members = [mention_data(n, text=f"{STORM_TEXT} #{n}", author={"id": str(n), "handle": f"fan{n}",
                                                                  "followers": 100 * n}) for n in (1, 2, 3)]
    envelope = {"type": "mention.batch", "timestamp": clock().isoformat(), "data": {"items": members}}
    mention_id = (await ingest(app, envelope))[0]["id"]
    await until(app, lambda: reminders_in(connector.posts(CHANNEL), "storm-"), what="the storm card")
    ctx = context_of(app)
    async with ctx.db.uow() as uow:  # one reminder (a storm of them would be gathered): as remind_sla queues it
        await ctx.fanout.notice(uow.outbox, mention_id, f"sla:claim_reminder:{mention_id}:0",
                                {"kind": "sla", "event": "claim_reminder", "mention_id": mention_id, "draft_id": 0,
                                 "to": ["anna"], "due_at": clock().isoformat()}, clock())
        await uow.commit()

    [reminder] = await until(app, lambda: reminders_in(connector.posts(CHANNEL), "sla-gathered"),
                             what="the reminder in the channel")
    assert "X @fan1: @AcmeWebcare my order #48213" in card_text(reminder)  # it says which mention it is about
    assert "unclaimed for 15 min" in card_text(reminder) and ids_of(reminder) == ["29:1anna"]


@pytest.mark.parametrize("lang", ["nl"])
async def test_a_dutch_team_is_reminded_in_dutch(app, connector, clock):
    mention_id = await one_mention(app, connector)
    assert await remind(app, clock, 16) == 1
    [reminder] = await until(app, lambda: reminders_in(thread_of(connector, mention_id), "sla-claim_reminder-"),
                             what="the reminder in the card's thread")
    assert "<at>Anna de Vries</at>, <at>Carla Smit</at>: niemand heeft deze vermelding al 15 min opgepakt. " \
           "Eerste reactie uiterlijk" in card_text(reminder)
    assert json.dumps(reminder).count("nobody") == 0


async def test_the_claimant_alone_hears_at_warn_at_the_lead_alone_at_the_breach_and_the_card_says_so(
        app, kit, connector, clock):
    mention_id = await one_mention(app, connector)
    await invoke(app, kit, connector, (CARLA, "Carla Smit"), "webcare.claim", {"mention_id": mention_id},
                 card_post(connector, mention_id)["id"])
    assert await remind(app, clock, 44) == 0  # claimed: no claim reminder
    assert await remind(app, clock, 1) == 1
    [warning] = await until(app, lambda: reminders_in(thread_of(connector, mention_id), "sla-warning-"),
                            what="the claimant's reminder")
    assert ids_of(warning) == [CARLA]
    await until(app, lambda: "15 min left" in card_text(the_card(connector, mention_id)), what="the clock redrawn")

    assert await remind(app, clock, 16) == 1
    [breach] = await until(app, lambda: reminders_in(thread_of(connector, mention_id), "sla-breach-"),
                           what="the leads' reminder")
    assert ids_of(breach) == ["29:1anna"]  # the lead; not Carla again, not Bram the head
    await until(app, lambda: "overdue 1 min" in card_text(the_card(connector, mention_id)), what="overdue on the card")
    assert await remind(app, clock, 30) == 0
