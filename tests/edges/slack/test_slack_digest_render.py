"""Slack rendering of digests: each P3 line shows who wrote what and where it stands, claimable while new, inert."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.core.catalogue import words
from bot.core.storms.views import DigestLine, DigestView
from bot.core.views import MentionState
from bot.slack.digest_render import render_digest
from bot.slack.ids import Action
from tests.edges.slack.test_slack_render import (
    ANNA,
    HOSTILE,
    assert_inert,
    assert_within_block_kit_limits,
    live_tokens,
    section_texts,
    shown,
)
from tests.views import NOW, POST

EN = words("en")

MINUTE = "2026-11-20T10:31"


def line(n: int, text: str = "Waar blijft mijn pakket?", **changes: object) -> DigestLine:
    view = DigestLine(mention_id=n, network="x", author_handle=f"user{n}", text=text, url=f"{POST}{n}",
                      state=MentionState.NEW, claimed_by=None)
    return replace(view, **changes)


def digest(*lines: DigestLine, total: int | None = None) -> DigestView:
    return DigestView(minute=MINUTE, lines=lines, total=len(lines) if total is None else total, now=NOW)


def accessories(blocks: list[dict]) -> dict[str, dict]:
    return {b["block_id"]: b["accessory"] for b in blocks if "accessory" in b}


def test_a_digest_lists_each_mention_with_a_claim_button_and_counts_the_rest() -> None:
    text, blocks = render_digest(digest(line(12), line(13, "Hoe wijzig ik mijn stoel?"), total=57), EN)
    assert blocks[0]["type"] == "header"
    assert blocks[0]["text"]["text"] == "📋 Digest 10:31 UTC · 57 P3 mentions (the channel is busy)"
    assert text == "Digest 10:31 UTC · 57 P3 mentions"
    assert [shown(t) for t in section_texts(blocks)] == [f"*<{POST}12|#12>* X @user12\nWaar blijft mijn pakket?",
                                                         f"*<{POST}13|#13>* X @user13\nHoe wijzig ik mijn stoel?"]
    assert {block: (a["action_id"], a["value"], a["text"]["text"]) for block, a in accessories(blocks).items()} == {
        "digest-line-12": (Action.CLAIM, "12", "Claim"), "digest-line-13": (Action.CLAIM, "13", "Claim")}
    assert blocks[-1]["elements"][0]["text"] == "…and 55 more in `/webcare queue`"


def test_a_digest_of_one_mention_says_so_and_has_no_more_line() -> None:
    text, blocks = render_digest(digest(line(12, author_handle=None, url=None)), EN)
    assert text == "Digest 10:31 UTC · 1 P3 mention"
    assert [shown(t) for t in section_texts(blocks)] == ["*#12* X someone\nWaar blijft mijn pakket?"]
    assert [b["type"] for b in blocks] == ["header", "section"]


@pytest.mark.parametrize(("changes", "status"), [
    ({"state": MentionState.CLAIMED, "claimed_by": ANNA}, "*Claimed* by <@U01ANNA>"),
    ({"state": MentionState.ESCALATED, "claimed_by": ANNA}, "*Escalated* · claimed by <@U01ANNA>"),
    ({"state": MentionState.AWAITING_APPROVAL, "claimed_by": ANNA}, "*Awaiting approval* · claimed by <@U01ANNA>"),
    ({"state": MentionState.ANSWERED, "claimed_by": ANNA}, "*Answered*"),
    ({"state": MentionState.DISMISSED}, "*Dismissed*"),
    ({"state": MentionState.CLAIMED, "claimed_by": replace(ANNA, chat_ids=())}, "*Claimed* by Anna de Vries"),
], ids=["claimed", "escalated", "awaiting-approval", "answered", "dismissed", "claimed-by-a-name"])
def test_a_line_taken_up_says_where_it_stands_instead_of_offering_claim(changes: dict, status: str) -> None:
    _, blocks = render_digest(digest(line(12), line(13, **changes)), EN)
    assert section_texts(blocks)[1] == f"*<{POST}13|#13>* X @user13 · {status}\nWaar blijft mijn pakket?"
    assert list(accessories(blocks)) == ["digest-line-12"]


def test_hostile_customer_text_stays_inert_in_a_digest() -> None:
    hostile = line(12, "<!channel> <https://evil|x> *bold* " + HOSTILE, author_handle=HOSTILE, network=HOSTILE,
                   url="javascript:alert(1)")
    message = render_digest(digest(hostile, line(13, HOSTILE, state=MentionState.CLAIMED,
                                                 claimed_by=replace(ANNA, name=HOSTILE, chat_ids=()))), EN)
    assert_inert(message)
    for s in (message[0], *section_texts(message[1])):
        assert "<https://evil" not in s and "*bold*" not in s
    assert live_tokens(message) == {f"<{POST}13|#13>"}  # our own link to a real post; nothing the customer wrote
    assert "<!channel> <https://evil|x> *bold*" in shown(section_texts(message[1])[0])


def test_a_long_text_is_cut_and_a_full_minute_stays_within_block_kits_limits() -> None:
    lines = [line(n, "koffer " * 400, author_handle="h" * 500) for n in range(60)]
    message = render_digest(digest(*lines, total=75), EN)
    assert_within_block_kit_limits(message)
    texts = section_texts(message[1])
    assert len(texts) == 48 and all(len(shown(t).split("\n")[1]) <= 200 for t in texts)
    assert texts[0].endswith("…")
    assert message[1][-1]["elements"][0]["text"] == "…and 27 more in `/webcare queue`"
