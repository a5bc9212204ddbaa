"""Edge (Teams wire): while the channel's backlog is long, new P3 mentions go to the minute's digest card, each
line claimable there."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlmodel import select

from bot.core.storms.rules import StormRules
from bot.storage.models import OutboxJob
from tests.edges.teams.wire import (
    ANNA,
    CHANNEL,
    card_text,
    cards_in,
    claims_of,
    executes,
    invoke,
    quiet,
    refreshed_card,
    said,
    settle,
    teams_settings,
    until,
)
from tests.support import REPLY_SECRET, context_of, event, ingest, mention_data, running_app, team_config

EVA = ("29:5eva", "Eva Hendriks")  # on the webcare team with a Teams id (webcare.toml)

TEXTS = ["Waar blijft mijn pakket", "How do I change my seat", "Is the lounge open at Schiphol", "Wifi on board?",
         "Can I bring my bike", "Refund for a cancelled flight", "Extra legroom prices", "Lost my boarding pass",
         "Pet in the cabin rules", "Where do I find my booking code", "Is breakfast included",
         "Can I pay with iDEAL"]
MENTIONS = len(TEXTS)


@pytest.fixture
async def app(sqlite_url, kit, connector, receiver):
    """The app with Teams only, where a backlog of cards longer than 3 s sends new P3 mentions to the digest."""
    config = replace(team_config(), storm=StormRules(digest_after_seconds=3))
    async with running_app(sqlite_url, None, config=config, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


async def arrive(app) -> list[int]:
    """Twelve different P3 questions arrive one right after the other; their ids."""
    ids = []
    for n, text in enumerate(TEXTS, 1):
        [m] = await ingest(app, event(mention_data(n, text=f"{text} (question {n} of the day)")))
        ids.append(m["id"])
    return ids


def digest_posts(connector) -> list[dict[str, Any]]:
    """The digest messages in the channel, as they are now."""
    return [p for p in connector.posts(CHANNEL) for c in cards_in(p) if "digest-" in str(c["body"][0].get("id"))]


def own_cards(connector) -> list[int]:
    """The mentions that have a card of their own in the channel."""
    return sorted(int(block["id"].split("-")[1]) for p in connector.posts(CHANNEL) for c in cards_in(p)
                  for block in c["body"] if str(block.get("id", "")).endswith("-author"))


def lines(connector) -> list[int]:
    """The mentions listed as digest lines, over every digest in the channel."""
    return sorted(int(block["id"].rsplit("-", 1)[1]) for p in digest_posts(connector) for c in cards_in(p)
                  for block in c["body"] if block["type"] == "ColumnSet")


async def digested(app, connector) -> list[int]:
    """Every mention arrived and is shown: its own card or a digest line; the ids."""
    ids = await arrive(app)
    await until(app, lambda: sorted(own_cards(connector) + lines(connector)) == ids, timeout=30,
                what="every mention on its card or in a digest")
    return ids


def digest_card_of(connector, mention_id: int) -> tuple[str, dict[str, Any]]:
    """The id and card of the digest message that lists the mention."""
    [(post_id, card)] = [(p["id"], c) for p in digest_posts(connector) for c in cards_in(p)
                         if any(b.get("id") == f"digest-line-{mention_id}" for b in c["body"])]
    return post_id, card


def line_text(card: dict[str, Any], mention_id: int) -> str:
    [block] = [b for b in card["body"] if b.get("id") == f"digest-line-{mention_id}"]
    return card_text(block)


def claim_of(card: dict[str, Any], mention_id: int) -> list[dict[str, Any]]:
    return [a for a in executes(card) if a["verb"] == "webcare.claim" and a["data"]["mention_id"] == mention_id]


async def accounted_once(app, connector, ids: list[int]) -> list[int]:
    """Each mention has its card or a digest line, never both; one digest message a minute; nothing left to do.
    The mentions listed in a digest."""
    await quiet(app)
    carded, listed = own_cards(connector), lines(connector)
    assert carded[:2] == ids[:2] and listed  # the first ones got cards; then the backlog was too long
    assert sorted(carded + listed) == ids and not set(carded) & set(listed)
    minutes = [cards_in(p)[0]["body"][0]["id"] for p in digest_posts(connector)]
    assert len(minutes) == len(set(minutes))  # one message a minute (12 arrivals may straddle a minute)
    assert len(connector.posts(CHANNEL)) == len(carded) + len(minutes)  # nothing posted twice
    async with context_of(app).db.uow() as uow:
        assert [j.key for j in (await uow.session.exec(select(OutboxJob))).all() if not j.done] == []
    return listed


async def test_a_long_backlog_lists_the_rest_in_a_digest_and_each_mention_shows_once(app, connector):
    ids = await digested(app, connector)
    listed = await accounted_once(app, connector, ids)
    shown = "\n".join(card_text(c) for p in digest_posts(connector) for c in cards_in(p))
    assert "P3 mention" in shown and "(the channel is busy)" in shown
    for mention_id in listed:
        n = ids.index(mention_id) + 1
        assert f"#{mention_id} · X · @sannedv: {TEXTS[n - 1]} (question {n} of the day)" in shown
        assert claim_of(digest_card_of(connector, mention_id)[1], mention_id)


async def test_throttled_by_teams_every_mention_is_still_shown_once(app, connector):
    for operation in ("create_conversation", "update_activity"):
        connector.fail_next(operation, status=429, retry_after=1, times=3)
    ids = await digested(app, connector)
    await accounted_once(app, connector, ids)
    assert 429 in [c.status for c in connector.calls_to("create_conversation")]


async def test_claim_on_a_digest_line_answers_with_the_digest_and_a_second_claim_is_refused(app, kit, connector):
    ids = await digested(app, connector)
    await quiet(app)
    mention_id = lines(connector)[0]
    post_id, card = digest_card_of(connector, mention_id)
    [claim] = claim_of(card, mention_id)
    answer = refreshed_card(await invoke(app, kit, connector, ANNA, claim["verb"], claim["data"], post_id))
    assert answer["body"][0]["id"] == card["body"][0]["id"]  # the digest, redrawn, not the mention's own card
    assert "Claimed by Anna de Vries" in line_text(answer, mention_id) and not claim_of(answer, mention_id)
    others = [m for m in lines(connector) if m != mention_id and digest_card_of(connector, m)[0] == post_id]
    assert all(claim_of(answer, m) for m in others)  # the other lines can still be claimed
    await until(app, lambda: "Claimed by Anna de Vries" in line_text(digest_card_of(connector, mention_id)[1],
                                                                      mention_id), what="the digest to be updated")
    refused = await invoke(app, kit, connector, EVA, claim["verb"], claim["data"], post_id)
    assert "Already claimed by Anna de Vries" in said(refused)
    shown = refreshed_card(refused)["body"]
    assert shown[0]["text"].startswith("⚠") and shown[1]["id"] == card["body"][0]["id"]  # on top of the digest
    assert "Claimed by Anna de Vries" in line_text(refreshed_card(refused), mention_id)
    await until(app, lambda: mention_id in own_cards(connector), what="its card, to answer it on")
    await quiet(app)
    assert own_cards(connector).count(mention_id) == 1 and len(ids) == len(set(ids))
    assert await claims_of(app, mention_id) == ["Anna de Vries"]
