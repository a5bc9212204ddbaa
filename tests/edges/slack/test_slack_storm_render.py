"""Slack rendering of storm groups: the storm card and its modals show the truth and keep customer text inert."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.catalogue import words
from bot.core.storms.views import StormMember, StormState, StormView
from bot.core.views import CrisisTag, MentionState
from bot.slack.ids import Block, View
from bot.slack.modals import storm_answer_modal, storm_crisis_modal, storm_dismiss_modal
from bot.slack.render import render_card
from bot.slack.storm_render import render_member_list, render_storm
from tests.edges.slack.test_slack_render import (
    ANNA,
    HOSTILE,
    assert_inert,
    assert_within_block_kit_limits,
    elements,
    live_tokens,
    section_texts,
    shown,
)
from tests.views import NOW, POST, sample_card

EN = words("en")


def member(n: int, text: str = "Waar is mijn koffer?", **changes: object) -> StormMember:
    view = StormMember(mention_id=n, network="x", author_handle=f"user{n}", author_followers=100 * n, text=text,
                       url=f"{POST}{n}", state=MentionState.NEW, priority_level="P3", own_card=False)
    return replace(view, **changes)


def storm(**changes: object) -> StormView:
    view = StormView(
        storm_id=7, state=StormState.OPEN, members=42, recent=12, networks=(("x", 30), ("mastodon", 12)),
        authors=(member(3, author_followers=250_000), member(2, author_followers=1_200)),
        samples=(member(1), member(2, "Koffer kwijt, KLM?")), own_cards=(), first_at=NOW - timedelta(minutes=14),
        last_at=NOW, now=NOW, waiting=42, playbooks=(("outage", "Service outage"), ("rumour", "Rumour")))
    return replace(view, **changes)


def labels(blocks: list[dict]) -> list[str]:
    return [e["text"]["text"] for e in elements(blocks)]


def everything(blocks: list[dict]) -> str:
    texts = [e["text"] for b in blocks if b["type"] == "context" for e in b["elements"]]
    return "\n".join([*(shown(t) for t in texts + section_texts(blocks)),
                      *(b["text"]["text"] for b in blocks if b["type"] == "header")])


def test_storm_card_shows_size_networks_authors_and_samples() -> None:
    text, blocks = render_storm(storm(), EN)
    assert blocks[0] == {"type": "header", "block_id": "storm-7-header",
                         "text": {"type": "plain_text", "text": "🌪 Storm #7 · 42 mentions · 12 in the last 10 min",
                                  "emoji": True}}
    shown_text = everything(blocks)
    assert "*X* 30 · *Mastodon* 12 · started 14 min ago" in shown_text
    assert "Biggest authors: @user3 (250,000 followers) · @user2 (1,200 followers)" in shown_text
    assert "Waar is mijn koffer?" in shown_text and "Koffer kwijt, KLM?" in shown_text
    assert f"<{POST}1|#1>" in section_texts(blocks)[0]
    assert ":new: *New*: nobody has claimed it yet" in shown_text
    assert "answered" not in shown_text  # nobody acted on it yet: no counts
    assert labels(blocks) == ["Claim", "Answer all", "Dismiss", "Start crisis…", "Members"]
    assert {e["value"] for e in elements(blocks)} == {"7"}
    assert "Storm #7" in text and "42 mentions" in text


def test_hostile_customer_text_stays_inert_on_the_storm_card() -> None:
    hostile = member(1, HOSTILE, author_handle=HOSTILE, network=HOSTILE, url="javascript:alert(1)")
    message = render_storm(storm(samples=(hostile,), authors=(hostile,), own_cards=(hostile,),
                                 networks=((HOSTILE, 3),), state=StormState.ANSWERED, answer=HOSTILE,
                                 claimed_by=replace(ANNA, name=HOSTILE, chat_ids=())), EN)
    assert_inert(message)
    assert live_tokens(message) == set()
    assert_within_block_kit_limits(message)
    assert HOSTILE in [shown(t.removeprefix("_Reply:_ ")) for t in section_texts(message[1])]


def test_an_author_of_several_members_is_named_once() -> None:
    _, blocks = render_storm(storm(authors=(member(3), member(4, author_handle="user3", author_followers=300))), EN)
    assert "Biggest authors: @user3 (300 followers)\n" in everything(blocks) + "\n"


def test_p1_members_are_listed_as_keeping_their_own_card() -> None:
    vip = member(9, author_handle="nos", priority_level="P1", own_card=True)
    _, blocks = render_storm(storm(own_cards=(vip,)), EN)
    assert f"*P1, on their own card too:* <{POST}9|#9> @nos" in everything(blocks)


@pytest.mark.parametrize(("changes", "status", "buttons"), [
    ({"state": StormState.CLAIMED, "claimed_by": ANNA}, ":raising_hand: *Claimed* by <@U01ANNA>",
     ["Answer all", "Dismiss", "Start crisis…", "Members"]),
    ({"state": StormState.ANSWERED, "claimed_by": ANNA, "answer": "Sorry, we are on it.", "answered": 38,
      "failed": 2, "waiting": 2},
     ":white_check_mark: *Answered* by <@U01ANNA>: one reply to each open mention below P1\n"
     ":warning: answered 38 · failed 2 · waiting 2", []),
    ({"state": StormState.DISMISSED, "claimed_by": ANNA, "waiting": 0},
     ":no_entry_sign: *Dismissed* by <@U01ANNA>: every open mention below P1 needs no answer\n"
     "answered 0 · failed 0 · waiting 0", []),
    ({"crisis": CrisisTag(3, "Service outage", False)}, ":new: *New*", ["Claim", "Answer all", "Dismiss", "Members"]),
    ({"playbooks": ()}, ":new: *New*", ["Claim", "Answer all", "Dismiss", "Members"]),
], ids=["claimed", "answered", "dismissed", "crisis", "no-playbooks"])
def test_storm_card_says_where_it_stands_and_offers_what_it_allows(changes: dict, status: str,
                                                                     buttons: list[str]) -> None:
    _, blocks = render_storm(storm(**changes), EN)
    status_text = next(b["text"]["text"] for b in blocks if b["block_id"] == "storm-7-status")
    assert status_text.startswith(status)
    assert labels(blocks) == buttons


def test_answered_storm_shows_the_reply_it_sent() -> None:
    _, blocks = render_storm(storm(state=StormState.ANSWERED, claimed_by=ANNA, answer="Sorry, we are on it."), EN)
    assert "_Reply:_ Sorry, we are on it." in section_texts(blocks)


def test_linked_crisis_is_named_on_the_storm_card() -> None:
    _, blocks = render_storm(storm(crisis=CrisisTag(3, "Service outage", False)), EN)
    assert ":rotating_light: *Crisis #3: Service outage*: its members are linked to it" in everything(blocks)


def test_a_member_card_says_it_is_part_of_a_storm() -> None:
    _, blocks = render_card(sample_card(storm_id=7), EN)
    assert ":tornado: Part of *storm #7*" in everything(blocks)
    _, alone = render_card(sample_card(), EN)
    assert "storm" not in everything(alone)


def test_a_long_member_list_is_cut_between_lines_into_sections() -> None:
    lines = [f"• <{POST}{n}|#{n}> P3 x @user — new: " + "koffer " * 30 for n in range(50)]
    texts = render_member_list("\n".join(["*Storm #7: 120 mentions*, the 50 most urgent:", *lines]))
    assert len(texts) > 1 and all(len(t["text"]) <= 3000 and t["verbatim"] for t in texts)
    assert "\n".join(t["text"] for t in texts).split("\n")[1:] == lines


def test_storm_modals_carry_the_storm_and_ask_for_the_right_input() -> None:
    answer = storm_answer_modal(7, EN)
    assert (answer["callback_id"], answer["private_metadata"]) == (View.STORM_ANSWER, "7")
    assert [b.get("block_id") for b in answer["blocks"]][-1] == Block.REPLY_TEXT
    dismiss = storm_dismiss_modal(7, EN)
    assert (dismiss["callback_id"], dismiss["private_metadata"]) == (View.STORM_DISMISS, "7")
    reasons = dismiss["blocks"][-1]["element"]["options"]
    assert [o["value"] for o in reasons] == ["spam", "not_relevant", "handled_elsewhere"]
    crisis = storm_crisis_modal(7, [("outage", "Service outage"), ("rumour", "Rumour")], EN)
    assert (crisis["callback_id"], crisis["private_metadata"]) == (View.STORM_CRISIS, "7")
    picker = next(b for b in crisis["blocks"] if b.get("block_id") == Block.PLAYBOOK)["element"]
    assert [(o["text"]["text"], o["value"]) for o in picker["options"]] == [
        ("Service outage (outage)", "outage"), ("Rumour", "rumour")]
    assert "submit" not in storm_crisis_modal(7, [], EN)  # nothing to start on: nothing to submit


def test_a_dutch_team_reads_its_storm_card_in_dutch() -> None:
    text, blocks = render_storm(storm(), words("nl"))
    shown_text = everything(blocks)
    assert blocks[0]["text"]["text"] == "🌪 Storm #7 · 42 vermeldingen · 12 in de laatste 10 min"
    assert "Grootste afzenders: @user3 (250.000 volgers)" in shown_text
    assert "begonnen 14 min geleden" in shown_text
    assert labels(blocks) == ["Oppakken", "Alles beantwoorden", "Negeren", "Crisis starten…", "Vermeldingen"]
