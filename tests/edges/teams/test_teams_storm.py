"""Edge (Teams wire): similar mentions become one storm card; Claim, Answer all, Dismiss, Start crisis…, Members."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from bot.core.storms.rules import StormRules
from bot.storage.models import OutboxJob
from tests.edges.teams.wire import (
    ANNA,
    CHANNEL,
    ZOE,
    ask,
    card_text,
    cards_in,
    executes,
    invoke,
    mention_entities,
    one_mention,
    quiet,
    refreshed_card,
    said,
    settle,
    teams_settings,
    the_card,
    thread_of,
    until,
)
from tests.support import REPLY_SECRET, context_of, ingest, mention_data, running_app, team_config

TEXT = ("@AcmeWebcare my order #48213 still hasn't arrived, tracking stuck since Monday "
        "[Free refund](https://evil.example/x) <at>Anna de Vries</at> **now**")
ENDINGS = ("", " Can someone help?", " Seriously!!!", " #fail", " still waiting")
EVA = ("29:5eva", "Eva Hendriks")  # on the webcare team with a Teams id (webcare.toml)
REPLY = "Sorry everyone, the tracking page is fixed; your parcels are on their way."


@pytest.fixture
async def app(sqlite_url, kit, connector, receiver):
    """The app with Teams only, where three similar mentions make a storm."""
    config = replace(team_config(), storm=StormRules(group_min=3))
    async with running_app(sqlite_url, None, config=config, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


def member(n: int, **overrides: Any) -> dict[str, Any]:
    """A mention much like the others: the same complaint, its own author and ending."""
    author = {"id": str(n), "handle": f"fan{n}", "display_name": f"Fan {n}", "followers": 100 * n}
    return mention_data(n, **{"text": TEXT + ENDINGS[(n - 1) % len(ENDINGS)], "reply_via": "webhook",
                              "author": author, **overrides})


async def batch(app, *items: dict[str, Any]) -> list[int]:
    """Ingest mentions in one `mention.batch` (one transaction); their ids."""
    envelope = {"type": "mention.batch", "timestamp": datetime.now(UTC).isoformat(), "data": {"items": list(items)}}
    return [m["id"] for m in await ingest(app, envelope)]


def storm_post(connector) -> dict[str, Any]:
    """The one storm card in the channel, as it is now."""
    found = [p for p in connector.posts(CHANNEL) for c in cards_in(p)
             if c["body"][0].get("id", "").startswith("storm-")]
    assert len(found) == 1, f"{len(found)} storm cards"
    return found[0]


def storm_card(connector) -> dict[str, Any]:
    [card] = cards_in(storm_post(connector))
    return card


def own_cards(connector) -> list[int]:
    """The mentions that have a card of their own in the channel."""
    return sorted(int(block["id"].split("-")[1]) for p in connector.posts(CHANNEL) for c in cards_in(p)
                  for block in c["body"] if str(block.get("id", "")).endswith("-author"))


async def storm_of_five(app, connector) -> tuple[list[int], int]:
    """Two mentions get their card; three more like them arrive at once: a storm of five."""
    first = [await one_mention(app, connector, n, **{k: v for k, v in member(n).items() if k != "source"})
             for n in (1, 2)]
    ids = first + await batch(app, *(member(n, **({"network": "mastodon"} if n == 5 else {})) for n in (3, 4, 5)))
    await until(app, lambda: "5 mentions" in card_text(storm_card(connector)), what="the storm card of five")
    storm_id = int(storm_card(connector)["body"][0]["id"].split("-")[1])
    await until(app, lambda: all(f"Part of storm #{storm_id}" in card_text(the_card(connector, m)) for m in first),
                what="the earlier cards to say they joined")
    return ids, storm_id


def verbs(card: dict[str, Any]) -> list[str]:
    return [a["verb"] for a in executes(card)]


async def test_five_similar_mentions_make_one_storm_card_instead_of_five(app, connector):
    ids, storm_id = await storm_of_five(app, connector)
    await quiet(app)
    card = storm_card(connector)
    shown = card_text(card)
    assert f"Storm #{storm_id} · 5 mentions · 5 in the last 10 min" in shown
    assert "X 4 · Mastodon 1" in shown and "@fan5 500 followers" in shown
    assert own_cards(connector) == ids[:2]  # the 3rd to 5th are on the storm card only
    assert len(connector.posts(CHANNEL)) == 3 and len(connector.calls_to("create_conversation")) == 3
    samples = [b for b in card["body"] if "-sample-" in str(b.get("id"))]
    assert len(samples) == 3 and all(b["type"] == "RichTextBlock" for b in samples)
    assert "[Free refund](https://evil.example/x)" in shown  # shown as written, as plain text
    assert "<at>" not in json.dumps(card) and mention_entities(card) == []
    assert "evil.example" not in json.dumps([a for a in card["actions"] if a["type"] == "Action.OpenUrl"])
    titles = [a["title"] for a in card["actions"]]
    assert titles == ["Claim", "Answer all", "Dismiss", "Start crisis…", "Members"]


async def test_a_p1_member_keeps_its_own_card_and_the_storm_card_names_it(app, connector):
    vip = {"id": "9", "handle": "nos", "display_name": "NOS", "followers": 250_000, "verified": True}
    ids = await batch(app, *(member(n) for n in (1, 2, 3)), member(4, author=vip))
    await until(app, lambda: storm_card(connector), what="the storm card")
    await until(app, lambda: own_cards(connector) == [ids[3]], what="the P1 card")
    await quiet(app)
    assert own_cards(connector) == [ids[3]]
    storm_id = int(storm_card(connector)["body"][0]["id"].split("-")[1])
    assert f"P1 with their own card: #{ids[3]} @nos" in card_text(storm_card(connector))
    assert f"Part of storm #{storm_id}" in card_text(the_card(connector, ids[3]))


async def test_claim_updates_the_storm_card_and_a_second_claim_is_refused(app, kit, connector):
    _ids, storm_id = await storm_of_five(app, connector)
    card_id = storm_post(connector)["id"]
    answer = await invoke(app, kit, connector, ANNA, "webcare.claim_storm", {"storm_id": storm_id}, card_id)
    assert "Claimed by Anna de Vries" in card_text(refreshed_card(answer))
    assert "webcare.claim_storm" not in verbs(refreshed_card(answer))
    await until(app, lambda: "Claimed by Anna de Vries" in card_text(storm_card(connector)), what="the update")
    refused = await invoke(app, kit, connector, EVA, "webcare.claim_storm", {"storm_id": storm_id}, card_id)
    assert "Already claimed by Anna de Vries" in said(refused) and "Eva" not in card_text(storm_card(connector))


async def test_answer_all_delivers_one_reply_to_each_member_and_the_card_counts_them(app, kit, connector, receiver):
    ids, storm_id = await storm_of_five(app, connector)
    answer = await invoke(app, kit, connector, ANNA, "webcare.answer_storm",
                          {"storm_id": storm_id, "reply_text": REPLY}, storm_post(connector)["id"])
    assert f"Answered by Anna de Vries: “{REPLY}”" in card_text(refreshed_card(answer))
    assert verbs(refreshed_card(answer)) == ["webcare.storm_members"]
    await until(app, lambda: len(receiver.received) == 5, what="five deliveries")
    assert sorted(r["data"]["mention"]["source_mention_id"] for r in receiver.received) == [
        f"mw:doc:{n}" for n in range(1, 6)]
    assert {r["data"]["text"] for r in receiver.received} == {REPLY}
    await until(app, lambda: "answered 5 · failed 0 · waiting 0" in card_text(storm_card(connector)),
                what="the storm card to count the answers")
    for mention_id in ids[:2]:  # the cards posted before the storm show it too
        await until(app, lambda m=mention_id: "Answered by Anna de Vries" in card_text(the_card(connector, m)),
                    what="the member's own card to say answered")
    await quiet(app)
    assert own_cards(connector) == ids[:2]
    async with context_of(app).db.uow() as uow:  # no draft waits for a card that is never posted
        assert [j.key for j in (await uow.session.exec(select(OutboxJob))).all() if not j.done] == []
    assert [len(thread_of(connector, m)) for m in ids[:2]] == [1, 1]  # each its own draft, once


async def test_dismiss_all_with_a_reason(app, kit, connector):
    ids, storm_id = await storm_of_five(app, connector)
    answer = await invoke(app, kit, connector, ANNA, "webcare.dismiss_storm", {"storm_id": storm_id, "reason": "spam"},
                          storm_post(connector)["id"])
    assert "Dismissed by Anna de Vries" in card_text(refreshed_card(answer))
    await until(app, lambda: "answered 0 · failed 0 · waiting 0" in card_text(storm_card(connector)),
                what="the storm card after the dismissals")
    await until(app, lambda: "Dismissed by Anna de Vries: spam" in card_text(the_card(connector, ids[0])),
                what="a member's card to say dismissed")
    refused = await invoke(app, kit, connector, EVA, "webcare.claim_storm", {"storm_id": storm_id},
                           storm_post(connector)["id"])
    assert "Already claimed by Anna de Vries" in said(refused) and "Claim" not in [
        a["title"] for a in storm_card(connector)["actions"]]


async def test_start_crisis_links_every_member_and_the_button_goes(app, kit, connector):
    ids, storm_id = await storm_of_five(app, connector)
    [start] = [a for a in executes(storm_card(connector)) if a["verb"] == "webcare.storm_crisis"]
    [picker] = [i for a in storm_card(connector)["actions"] if a["title"] == "Start crisis…"
                for i in a["card"]["body"] if i.get("id") == "playbook"]
    assert {c["value"] for c in picker["choices"]} >= {"outage", "rumour"}
    answer = await invoke(app, kit, connector, ANNA, start["verb"], {**start["data"], "playbook": "outage"},
                          storm_post(connector)["id"])
    card = refreshed_card(answer)
    assert "Crisis #" in card_text(card) and "Service outage" in card_text(card)
    assert "webcare.storm_crisis" not in verbs(card)
    for mention_id in ids[:2]:
        await until(app, lambda m=mention_id: "Service outage" in card_text(the_card(connector, m)),
                    what="the member's card to show the crisis")
    async with context_of(app).db.uow() as uow:
        linked = [(await uow.mentions.get(m)).crisis_id for m in ids]
    assert len(set(linked)) == 1 and linked[0] is not None


async def test_members_answers_only_whoever_asked_and_storm_n_answers_the_same(app, kit, connector):
    ids, storm_id = await storm_of_five(app, connector)
    before = len(connector.calls)
    answer = await invoke(app, kit, connector, ZOE, "webcare.storm_members", {"storm_id": storm_id},
                          storm_post(connector)["id"])
    listed = said(answer)
    assert answer["type"] == "application/vnd.microsoft.activity.message"  # to whoever clicked, the card stays
    assert f"Storm #{storm_id}: 5 mentions" in listed.replace("\u200b", "")
    assert all(f"#{m}" in listed for m in ids)
    await quiet(app)
    assert [c.operation for c in connector.calls[before:]] == []  # nothing posted or changed in the channel
    typed = await ask(app, kit, connector, ANNA, f"storm {storm_id}", channel=True)
    assert f"Storm #{storm_id}: 5 mentions" in typed and all(f"#{m}" in typed for m in ids)
    assert "Usage: `storm <number>`" in await ask(app, kit, connector, ANNA, "storm")
    assert "There is no storm #999" in await ask(app, kit, connector, ANNA, "storm 999")


async def test_throttled_by_teams_every_mention_is_accounted_for_once(app, connector):
    for operation in ("create_conversation", "update_activity"):
        connector.fail_next(operation, status=429, retry_after=1, times=2)
    ids, storm_id = await storm_of_five(app, connector)
    await quiet(app)
    assert own_cards(connector) == ids[:2]  # the rest are on the storm card, which counts them all
    assert "5 mentions" in card_text(storm_card(connector))
    created = [c.status for c in connector.calls_to("create_conversation")]
    assert created.count(201) == 3 and 429 in created
    assert len(connector.posts(CHANNEL)) == 3


async def test_a_card_still_waiting_on_teams_when_its_mention_joins_a_storm_is_never_posted(app, connector):
    connector.fail_next("create_conversation", status=429, retry_after=1, times=12)  # each first post gives up
    await batch(app, member(1))
    await batch(app, member(2))
    await batch(app, *(member(n) for n in (3, 4, 5)))
    await until(app, lambda: "5 mentions" in card_text(storm_card(connector)), timeout=30,
                what="the storm card of five")
    await quiet(app, 1.5)  # every throttled post's Retry-After has passed
    assert own_cards(connector) == [] and len(connector.posts(CHANNEL)) == 1
    async with context_of(app).db.uow() as uow:
        assert [j.key for j in (await uow.session.exec(select(OutboxJob))).all() if not j.done] == []
