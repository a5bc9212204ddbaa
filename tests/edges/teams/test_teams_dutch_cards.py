"""Edge (Teams wire): a Dutch team's cards and drafts are in Dutch; a refilled Answer form is in its user's language."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from bot.config import Team
from tests.edges.teams.wire import (
    ANNA,
    card_post,
    card_text,
    invoke,
    one_mention,
    quiet,
    refreshed_card,
    settle,
    teams_settings,
    the_card,
    thread_of,
    until,
)
from tests.support import REPLY_SECRET, event, ingest, mention_data, running_app, team_config

SHIPPED_PLAYBOOKS = Path(__file__).parents[3] / "playbooks"  # with the shipped saved replies
# A Dutch team; Anna reads the bot in English.
DUTCH_TEAM = dataclasses.replace(team_config(anna={"lang": "en"}), team=Team(lang="nl"))


@pytest.fixture
async def app(database_url, kit, connector, receiver):
    async with running_app(database_url, None, config=DUTCH_TEAM, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, playbooks_dir=SHIPPED_PLAYBOOKS,
                           **teams_settings(kit, connector)) as client:
        yield client
        await quiet(client)


def titles(card: dict[str, Any]) -> list[str]:
    return [a["title"] for a in card.get("actions", [])]


def form(card: dict[str, Any], title: str) -> dict[str, Any]:
    [found] = [a for a in card.get("actions", []) if a.get("title") == title]
    return found["card"]


async def test_a_dutch_team_sees_its_card_in_dutch_and_a_refilled_form_comes_back_in_its_users_language(
        app, kit, connector, receiver):
    mention_id = await one_mention(app, connector, reply_via="webhook", lang="nl")
    card = the_card(connector, mention_id)
    assert titles(card)[:5] == ["Oppakken", "Escaleren", "Beantwoorden", "Negeren", "Bericht openen"]
    assert "Nieuw — nog niemand heeft hem opgepakt" in card_text(card)
    answer = form(card, "Beantwoorden")
    assert answer["body"][0]["text"] == ("Gaat via de webhook-koppeling naar X zodra je verstuurt. "
                                         "X staat 280 tekens toe.")
    assert [a["title"] for a in answer["actions"]] == ["Invullen", "Antwoord versturen"]
    assert [c["title"] for c in form(card, "Negeren")["body"][0]["choices"]] == ["Spam", "Niet relevant",
                                                                                 "Elders afgehandeld"]

    refilled = refreshed_card(await invoke(app, kit, connector, ANNA, "webcare.fill_reply",
                                           {"mention_id": mention_id, "saved_reply": "order-delayed-nl"},
                                           card_post(connector, mention_id)["id"]))
    assert "“Bestelling vertraagd (NL)” is filled in under Answer" in refilled["body"][0]["text"]
    assert [a["title"] for a in form(refilled, "Answer")["actions"]] == ["Fill in", "Send reply"]

    text = next(n for n in form(refilled, "Answer")["body"] if n.get("id") == "reply_text")["value"]
    after = refreshed_card(await invoke(app, kit, connector, ANNA, "webcare.answer",
                                        {"mention_id": mention_id, "reply_text": text},
                                        card_post(connector, mention_id)["id"]))
    assert "Beantwoord" in card_text(after)  # a click that changes the card: the card everyone sees
    await until(app, lambda: receiver.received, what="the delivery")
    [draft] = await until(app, lambda: [m for m in thread_of(connector, mention_id)
                                        if "verstuurd" in card_text(m)] or None, what="the sent draft")
    assert "Antwoord van Anna de Vries, verstuurd" in card_text(draft)


async def test_a_card_teams_refuses_is_reported_in_the_channel_in_the_teams_language(app, connector):
    connector.fail_next("create_conversation", status=400)
    [m] = await ingest(app, event(mention_data(1)))
    await settle(app)
    [refused, line] = connector.calls_to("create_conversation")
    assert refused.status == 400
    assert f"Vermelding #{m['id']} kon niet worden getoond op Teams" in card_text(line.body)
