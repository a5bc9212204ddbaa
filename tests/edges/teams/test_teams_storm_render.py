"""Edge (Teams render): the storm card keeps customer text inert, fits one message, and offers what its state allows."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

from bot.core.catalogue import words
from bot.core.storms.views import StormMember, StormState, StormView
from bot.core.views import CrisisTag, MentionState, PersonRef
from bot.teams.cards import CARD_LIMIT, size
from bot.teams.storm_render import render_storm
from tests.edges.teams.wire import card_text, executes, mention_entities

EN = words("en")

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
HOSTILE = ("<at>Anna de Vries</at> [win a prize](javascript:alert(1)) **bold** https://evil.example/x "
           "- list\n# heading @channel")


def sample(n: int, text: str = HOSTILE, **changes) -> StormMember:
    member = StormMember(mention_id=n, network="x", author_handle=f"<at>fan{n}</at>", author_followers=10 * n,
                         text=text, url="javascript:alert(1)", state=MentionState.NEW, priority_level="P3",
                         own_card=False)
    return dataclasses.replace(member, **changes)


def storm(**changes) -> StormView:
    view = StormView(storm_id=7, state=StormState.OPEN, members=42, recent=12, networks=(("x", 30), ("mastodon", 12)),
                     authors=(sample(3),), samples=(sample(1), sample(2), sample(3)), own_cards=(),
                     first_at=NOW - timedelta(minutes=25), last_at=NOW, now=NOW,
                     playbooks=(("outage", "Service *outage*"), ("rumour", "Rumour")))
    return dataclasses.replace(view, **changes)


def titles(card: dict) -> list[str]:
    return [a["title"] for a in card.get("actions", [])]


def test_header_counts_networks_and_authors_are_shown() -> None:
    shown = card_text(render_storm(storm(), EN))
    assert "🌪 **Storm #7 · 42 mentions · 12 in the last 10 min**" in shown
    assert "X 30 · Mastodon 12 · started 25 min ago" in shown
    assert "Biggest authors: @<at>fan3</at> 30 followers" in shown  # as written (its tags split, see below)


def test_hostile_customer_text_stays_inert() -> None:
    card = render_storm(storm(own_cards=(sample(9, own_card=True, priority_level="P1"),)), EN)
    assert mention_entities(card) == []
    blocks = [b for b in card["body"] if b["type"] == "TextBlock"]  # markdown: none carries customer text
    assert all("evil" not in b["text"] and "fan" not in b["text"] for b in blocks)
    runs = json.dumps([b for b in card["body"] if b["type"] == "RichTextBlock"])
    assert "<at>" not in runs and "</at>" not in runs  # every tag split, so it can never become a mention
    assert "javascript:" not in json.dumps([a for a in card["actions"] if a.get("type") == "Action.OpenUrl"])
    assert all("selectAction" not in run for b in card["body"] for run in b.get("inlines", []))


def test_an_enormous_storm_still_fits_one_teams_message() -> None:
    text = "💥🚨 " * 2000
    view = storm(samples=tuple(sample(n, text) for n in (1, 2, 3)), state=StormState.ANSWERED, answer="é" * 3000,
                 claimed_by=PersonRef("anna", "Anna de Vries"), own_cards=tuple(
                     sample(n, own_card=True, priority_level="P1") for n in range(10, 60)),
                 networks=tuple((f"net{n}", n) for n in range(40)))
    card = render_storm(view, EN)
    assert size(card) <= CARD_LIMIT
    shown = card_text(card)
    assert "Storm #7" in shown and "Answered by Anna de Vries" in shown and "and 40 more" in shown
    assert "other networks" in shown


def test_open_storm_offers_everything_and_each_action_carries_its_storm() -> None:
    card = render_storm(storm(), EN)
    assert titles(card) == ["Claim", "Answer all", "Dismiss", "Start crisis…", "Members"]
    assert all(a["data"] == {"storm_id": 7} for a in executes(card))
    [answer] = [a for a in card["actions"] if a["title"] == "Answer all"]
    assert [i["id"] for i in answer["card"]["body"] if i["type"].startswith("Input.")] == ["reply_text"]
    [start] = [a for a in card["actions"] if a["title"] == "Start crisis…"]
    [picker] = [i for i in start["card"]["body"] if i.get("id") == "playbook"]
    assert [c["value"] for c in picker["choices"]] == ["outage", "rumour"]
    assert "*outage*" not in json.dumps(picker)  # playbook titles are escaped in choice titles


def test_claimed_storm_has_no_claim_and_a_linked_crisis_hides_start_crisis() -> None:
    card = render_storm(storm(state=StormState.CLAIMED, claimed_by=PersonRef("anna", "Anna de Vries"),
                              crisis=CrisisTag(3, "Service outage", False)), EN)
    assert titles(card) == ["Answer all", "Dismiss", "Members"]
    shown = card_text(card)
    assert "Claimed by Anna de Vries" in shown and "Crisis #3: Service outage" in shown
    assert "answered" not in shown  # nothing done yet: no counts


def test_a_handled_storm_shows_who_did_what_and_the_counts() -> None:
    answered = render_storm(storm(state=StormState.ANSWERED, claimed_by=PersonRef("anna", "Anna de Vries"),
                                  answer="We're on it.", answered=38, failed=1, waiting=3), EN)
    assert titles(answered) == ["Members"]
    assert "✅ Answered by Anna de Vries: “We're on it.” · answered 38 · failed 1 · waiting 3" in card_text(answered)
    dismissed = render_storm(storm(state=StormState.DISMISSED, claimed_by=PersonRef("anna", "Anna de Vries")), EN)
    assert "🚫 Dismissed by Anna de Vries · answered 0 · failed 0 · waiting 0" in card_text(dismissed)


def test_a_dutch_team_reads_its_storm_card_in_dutch() -> None:
    card = render_storm(storm(state=StormState.DISMISSED, claimed_by=None, waiting=0), words("nl"))
    shown = card_text(card)
    assert "🌪 **Storm #7 · 42 vermeldingen · 12 in de laatste 10 min**" in shown
    assert "begonnen 25 min geleden" in shown and "Grootste afzenders:" in shown
    assert "Genegeerd" in shown
    assert titles(render_storm(storm(), words("nl")))[:3] == ["Oppakken", "Alles beantwoorden", "Negeren"]
