"""Edge: storm groups on Slack — similar mentions in through the real ingest path become one storm card, whose Claim,
Answer all, Dismiss, Start crisis… and Members are clicked over the wire against the local Slack fake."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import col, select

from bench.paced_slack import PacedSlackFake
from bot.core.storms.priority import PriorityRules
from bot.core.storms.rules import StormRules
from bot.slack.ids import Action, View
from bot.storage.models import OutboxJob
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
    relay_of,
    running_app,
    settle_slack,
    slash,
    team_config,
    view_submission,
)

COMPLAINT = "<!channel> waar is mijn koffer? *Al drie dagen* niets gehoord <http://evil.example|refund> @KLM"
SIMILAR = [COMPLAINT, COMPLAINT + " !!!", "RT " + COMPLAINT, COMPLAINT + " #klm", COMPLAINT.replace("drie", "3")]
LIVE = ("<!channel>", "<http://evil")
CONFIG = replace(team_config(), storm=StormRules(group_min=3, group_window_minutes=30),
                 priority=PriorityRules(vip=frozenset({"x:nos"})))
NOS = {"id": "9", "handle": "nos", "display_name": "NOS", "followers": 900_000}


@pytest.fixture
def clock() -> HandClock:
    return HandClock()


@pytest.fixture
async def app(database_url, slack, receiver, clock):
    async with running_app(database_url, slack.url, clock=clock, config=CONFIG, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        yield client


async def arrive(client, n: int, text: str | None = None, **overrides) -> int:
    [m] = await ingest(client, event(mention_data(n, text=text or SIMILAR[(n - 1) % 5], reply_via="webhook",
                                                  **overrides)))
    await settle_slack(client)
    return m["id"]


async def storm_of_three(client) -> list[int]:
    return [await arrive(client, n) for n in (1, 2, 3)]


def subject(message: dict) -> str:
    return (message.get("metadata") or {}).get("event_payload", {}).get("subject", "")


def posted(slack, prefix: str) -> list[dict]:
    return [m for m in slack.messages(TRIAGE_CHANNEL) if subject(m).startswith(prefix)]


def the_storm_card(slack) -> dict:
    [card] = posted(slack, "storm:")
    return card


def shown(message: dict) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def buttons(message: dict) -> dict[str, tuple[str, str]]:
    return {e["text"]["text"]: (e["action_id"], e["value"]) for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]}


async def click(client, user: str, action_id: str, value: str) -> None:
    response = await post_interaction(client, block_action(user, action_id, value))
    assert response.status == 200, await response.text()
    await settle_slack(client)


async def submit(client, user: str, callback_id: str, metadata: str, values: dict) -> str:
    response = await post_interaction(client, view_submission(user, callback_id, metadata, values))
    assert response.status == 200, await response.text()
    await settle_slack(client)
    return await response.text()


def sent_payloads(slack) -> list[str]:
    return [json.dumps(call) for method in ("chat.postMessage", "chat.update", "chat.postEphemeral")
            for call in slack.calls_to(method)]


async def test_five_similar_mentions_make_one_storm_card_redrawn_at_most_every_30_seconds(app, slack, clock):
    ids = [await arrive(app, n) for n in range(1, 6)]
    assert Counter(subject(c) for c in slack.calls_to("chat.postMessage")) == Counter(
        {f"card:{ids[0]}": 1, f"card:{ids[1]}": 1, "storm:1": 1})  # the 3rd to 5th: no card of their own
    card = the_storm_card(slack)
    assert "🌪 Storm #1 · 3 mentions · 3 in the last 10 min" in shown(card)  # the 4th and 5th wait their turn
    for first in ids[:2]:
        [own] = posted(slack, f"card:{first}")
        assert "Part of *storm #1*" in shown(own)

    clock.now += timedelta(seconds=30)
    await settle_slack(app)
    card = the_storm_card(slack)
    assert "🌪 Storm #1 · 5 mentions · 5 in the last 10 min" in shown(card)
    assert "*X* 5" in shown(card) and "@sannedv (312 followers)" in shown(card)
    assert shown(card).count("storm-1-sample-") == 3 and "&lt;!channel&gt;" in shown(card)
    assert set(buttons(card)) == {"Claim", "Answer all", "Dismiss", "Start crisis…", "Members"}
    for payload in sent_payloads(slack):
        assert not any(live in payload for live in LIVE)


async def test_a_p1_member_keeps_its_own_card_and_the_storm_card_lists_it(app, slack):
    ids = [await arrive(app, 1), await arrive(app, 2), await arrive(app, 3, author=NOS)]
    [vip] = posted(slack, f"card:{ids[2]}")
    assert "*P1*" in shown(vip) and "Part of *storm #1*" in shown(vip)
    assert f"#{ids[2]}> @nos" in shown(the_storm_card(slack))


async def test_claim_shows_who_has_the_storm_and_a_second_claim_is_refused_privately(app, slack):
    await storm_of_three(app)
    await click(app, "U03CARLA", Action.STORM_CLAIM, "1")
    card = the_storm_card(slack)
    assert ":raising_hand: *Claimed* by <@U03CARLA>" in shown(card) and "Claim" not in buttons(card)
    await click(app, "U05EVA", Action.STORM_CLAIM, "1")
    [told] = slack.ephemerals
    assert (told["user"], told["text"]) == ("U05EVA", "Already claimed by <@U03CARLA>.")


async def test_answer_all_delivers_one_reply_to_each_member_through_its_connector(app, slack, receiver):
    ids = await storm_of_three(app)
    await click(app, "U03CARLA", Action.STORM_ANSWER, "1")
    [opened] = slack.calls_to("views.open")
    assert (opened["view"]["callback_id"], opened["view"]["private_metadata"]) == (View.STORM_ANSWER, "1")
    reply = "Sorry, we are looking for your suitcase. Please DM us your file number."
    await submit(app, "U03CARLA", View.STORM_ANSWER, "1", {"reply_text": {"type": "plain_text_input", "value": reply}})

    assert sorted(r["data"]["mention"]["source_mention_id"] for r in receiver.received) == [
        "mw:doc:1", "mw:doc:2", "mw:doc:3"]
    assert {r["data"]["text"] for r in receiver.received} == {reply}
    card = shown(the_storm_card(slack))
    assert ":white_check_mark: *Answered* by <@U03CARLA>" in card and "answered 3 · failed 0 · waiting 0" in card
    assert reply in card and buttons(the_storm_card(slack)) == {}
    for own in ids[:2]:  # the earlier members' cards show the answer; the third has no card and nothing waits for one
        [message] = posted(slack, f"card:{own}")
        assert "*Answered* by <@U03CARLA>" in shown(message)
    assert posted(slack, f"card:{ids[2]}") == []
    async with context_of(app).db.uow() as uow:
        waiting = (await uow.session.exec(select(OutboxJob).where(col(OutboxJob.done).is_(False)))).all()
    assert [job.key for job in waiting if not job.key.startswith("slack:storm:")] == []


async def test_dismiss_asks_why_and_closes_the_storm(app, slack):
    ids = await storm_of_three(app)
    await click(app, "U03CARLA", Action.STORM_DISMISS, "1")
    assert slack.calls_to("views.open")[-1]["view"]["callback_id"] == View.STORM_DISMISS
    await submit(app, "U03CARLA", View.STORM_DISMISS, "1",
                 {"reason": {"type": "radio_buttons", "selected_option": {"value": "spam"}}})
    card = the_storm_card(slack)
    assert ":no_entry_sign: *Dismissed* by <@U03CARLA>" in shown(card) and buttons(card) == {}
    [first] = posted(slack, f"card:{ids[0]}")
    assert "Dismissed* by <@U03CARLA>: spam" in shown(first)


async def test_an_answer_by_someone_else_than_the_claimant_is_refused_in_the_dialog(app, slack, receiver):
    await storm_of_three(app)
    await click(app, "U03CARLA", Action.STORM_CLAIM, "1")
    body = await submit(app, "U05EVA", View.STORM_ANSWER, "1", {"reply_text": {"type": "plain_text_input",
                                                                               "value": "hi"}})
    assert json.loads(body) == {"response_action": "errors",
                                "errors": {"reply_text": "Cannot answer: Carla Smit has claimed this storm."}}
    assert receiver.received == []


async def test_start_crisis_links_every_member_and_the_storm_card_names_the_crisis(app, slack):
    ids = await storm_of_three(app)
    await click(app, "U01ANNA", Action.STORM_CRISIS, "1")
    view = slack.calls_to("views.open")[-1]["view"]
    picker = next(b for b in view["blocks"] if b.get("block_id") == "playbook")["element"]
    assert {o["value"] for o in picker["options"]} == {"outage", "rumour"}
    await submit(app, "U01ANNA", View.STORM_CRISIS, "1",
                 {"playbook": {"type": "static_select", "selected_option": {"value": "outage"}},
                  "note": {"type": "plain_text_input", "value": "Suitcases lost at Schiphol"}})
    async with context_of(app).db.uow() as uow:
        linked = await uow.crises.linked(1)
    assert sorted(m.id for m in linked) == sorted(ids)
    card = the_storm_card(slack)
    assert "*Crisis #1: Service outage*: its members are linked to it" in shown(card)
    assert "Start crisis…" not in buttons(card)


async def test_members_are_listed_privately_to_whoever_asks(app, slack):
    ids = await storm_of_three(app)
    await click(app, "U05EVA", Action.STORM_MEMBERS, "1")
    [told] = slack.ephemerals
    listed = json.dumps(told["blocks"], ensure_ascii=False)
    assert told["user"] == "U05EVA" and "*Storm #1: 3 mentions*" in listed
    assert all(f"|#{n}>" in listed for n in ids) and "&lt;!channel&gt;" in listed
    assert not any(live in listed for live in LIVE)
    typed = (await (await slash(app, "U05EVA", "storm 1")).json())
    assert typed["response_type"] == "ephemeral" and "*Storm #1: 3 mentions*" in typed["text"]
    assert len(slack.calls_to("chat.postMessage")) == 3  # two cards and the storm card: nothing posted in public


async def test_against_slacks_pace_every_mention_is_accounted_for_and_nothing_is_posted_twice(sqlite_url):
    async with PacedSlackFake(rate=0.5, burst=1) as fake, running_app(sqlite_url, fake.url, config=CONFIG) as app:
        others = ["Hoe wijzig ik de naam op mijn boeking?", "Great crew on my flight to Lisbon today"]
        found = await ingest(app, *(event(mention_data(n, text=text)) for n, text in enumerate(others, 1)),
                             *(event(mention_data(n, text=text)) for n, text in enumerate(SIMILAR, 3)))
        ids = [m["id"] for m in found]
        async with context_of(app).db.uow() as uow:
            storms = {m: (await uow.mentions.get(m)).storm_id for m in ids}
        assert len({s for s in storms.values() if s is not None}) == 1

        def accounted() -> list[int]:
            subjects = {p.subject for p in fake.posted}
            return [m for m in ids if f"card:{m}" in subjects or f"storm:{storms[m]}" in subjects]

        for _ in range(200):  # at most 40 s; Retry-After sends each refused post back for a second or two
            await relay_of(app).drain()
            if accounted() == ids:
                break
            await asyncio.sleep(0.2)
        assert accounted() == ids
        assert fake.limited[TRIAGE_CHANNEL] >= 1  # Slack did say 429 on the way
        assert [s for s, n in Counter(p.subject for p in fake.posted).items() if n > 1] == []
