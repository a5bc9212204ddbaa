"""Edge (Teams render): the digest card lists each P3 mention on one inert line, claimable while new, in one message."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from bot.core.catalogue import words
from bot.core.storms.views import DigestLine, DigestView
from bot.core.views import MentionState, PersonRef
from bot.teams.cards import CARD_LIMIT, size
from bot.teams.digest_render import render_digest
from tests.edges.teams.wire import all_of, card_text, executes, mention_entities

EN = words("en")

NOW = datetime(2026, 11, 20, 10, 31, 40, tzinfo=UTC)
MINUTE = "2026-11-20T10:31"
HOSTILE = ("<at>Anna de Vries</at> [win a prize](javascript:alert(1)) **bold** https://evil.example/x "
           "- list\n# heading @channel")
ANNA = PersonRef("anna", "Anna de Vries")


def line(n: int, text: str = "Where is my parcel?", **changes) -> DigestLine:
    entry = DigestLine(mention_id=n, network="x", author_handle=f"fan{n}", text=text,
                       url=f"https://x.com/fan{n}/status/{n}", state=MentionState.NEW, claimed_by=None)
    return dataclasses.replace(entry, **changes)


def digest(*lines: DigestLine, total: int | None = None) -> DigestView:
    return DigestView(minute=MINUTE, lines=lines, total=len(lines) if total is None else total, now=NOW)


def claims(card: dict) -> list[dict]:
    return [a for a in executes(card) if a["verb"] == "webcare.claim"]


def test_header_lines_and_a_claim_per_new_line_naming_the_mention_and_the_digest() -> None:
    card = render_digest(digest(line(1), line(2, network="mastodon"), total=57), EN)
    shown = card_text(card)
    assert "📋 **Digest 10:31 UTC · 57 P3 mentions (the channel is busy)**" in shown
    assert "#1 · X · @fan1: Where is my parcel?" in shown and "#2 · Mastodon · @fan2: Where is my parcel?" in shown
    assert "…and 55 more: type @Webcare queue" in shown
    assert [a["data"] for a in claims(card)] == [{"mention_id": n, "digest": MINUTE} for n in (1, 2)]
    assert [a["fallback"]["data"]["verb"] for a in claims(card)] == ["webcare.claim"] * 2  # older clients too
    links = [r["selectAction"]["url"] for r in all_of(card, "TextRun") if "selectAction" in r]
    assert links == ["https://x.com/fan1/status/1", "https://x.com/fan2/status/2"]  # "#id" opens the post
    assert "more" not in card_text(render_digest(digest(line(1)), EN))


def test_a_line_someone_holds_says_who_instead_of_offering_claim() -> None:
    card = render_digest(digest(line(1, state=MentionState.CLAIMED, claimed_by=ANNA), line(2),
                                line(3, state=MentionState.DISMISSED, claimed_by=ANNA)), EN)
    shown = card_text(card)
    assert "Claimed by Anna de Vries" in shown and "Dismissed · Anna de Vries" in shown
    assert [a["data"]["mention_id"] for a in claims(card)] == [2]
    assert "1 P3 mention (" in card_text(render_digest(digest(line(1)), EN))


def test_hostile_customer_text_stays_inert() -> None:
    card = render_digest(digest(line(1, HOSTILE, author_handle="<at>Anna de Vries</at>", url="javascript:alert(1)"),
                                line(2, HOSTILE, url="https://evil.example/x) [x](https://evil.example")), EN)
    assert mention_entities(card) == []
    blocks = all_of(card, "TextBlock")  # markdown: none carries customer text
    assert all("evil" not in b["text"] and "fan" not in b["text"] and "Anna" not in b["text"] for b in blocks)
    runs = json.dumps(all_of(card, "RichTextBlock"))
    assert "<at>" not in runs and "</at>" not in runs  # every tag split, so it can never become a mention
    assert "[win a prize](javascript:alert(1)) **bold**" in card_text(card)  # shown as written, as plain text
    assert all("selectAction" not in r for r in all_of(card, "TextRun"))  # neither is a plain http(s) address
    assert all_of(card, "Action.OpenUrl") == []


def test_a_long_text_is_cut_to_one_short_line() -> None:
    shown = card_text(render_digest(digest(line(1, "word " * 300)), EN))
    [text] = [row for row in shown.splitlines() if row.startswith("#1 ")]
    assert text.endswith("…") and len(text) < 240 and "\n" not in text


def test_forty_enormous_lines_still_fit_one_teams_message_and_every_mention_is_counted() -> None:
    lines = tuple(line(n, "💥🚨 " * 2000, author_handle="🚨" * 200, network="🚨" * 200) for n in range(1, 41))
    card = render_digest(digest(*lines, total=95), EN)
    assert size(card) <= CARD_LIMIT
    listed = len(claims(card))
    assert listed >= 5
    assert f"…and {95 - listed} more: type @Webcare queue" in card_text(card)


def test_forty_ordinary_lines_keep_most_of_them_listed() -> None:
    text = "Waar blijft mijn pakket? Ik wacht al drie dagen en niemand reageert op mijn mails of berichten. " * 3
    card = render_digest(digest(*(line(n, text, author_handle=f"klant_{n}_uit_utrecht") for n in range(1, 41))), EN)
    assert size(card) <= CARD_LIMIT
    listed = len(claims(card))
    assert listed >= 25 and all(len(row) < 160 for row in card_text(card).splitlines())
    assert f"…and {40 - listed} more" in card_text(card)


def test_a_dutch_team_reads_its_digest_in_dutch() -> None:
    card = render_digest(digest(line(1), total=1234), words("nl"))
    shown = card_text(card)
    assert "📋 **Overzicht 10:31 UTC · 1.234 P3-vermeldingen (het kanaal is druk)**" in shown
    assert "…en nog 1.233: typ @Webcare queue" in shown
    assert [a["title"] for a in claims(card)] == ["Oppakken"]
