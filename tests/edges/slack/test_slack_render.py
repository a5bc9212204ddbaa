"""Slack rendering: cards, drafts, notices and modals show the truth and keep customer text inert."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.catalogue import words
from bot.core.views import (
    CardView,
    DepartmentView,
    DismissReason,
    DraftState,
    DraftView,
    EscalationNotice,
    MentionState,
    PersonRef,
)
from bot.slack.escape import escape_mrkdwn, slack_len, split, truncate
from bot.slack.ids import Action, Block, View
from bot.slack.modals import answer_modal, dismiss_modal, escalate_modal, request_changes_modal
from bot.slack.render import render_card, render_draft, render_escalation_notice
from tests.views import NOW, POST, sample_card, sample_draft

EN = words("en")

HOSTILE = (
    "<!channel> <!here> <!everyone> <@U999> <#C999> <http://evil.example|click> "
    "Tom & Jerry *bold* _slanted_ ~struck~ `code`\n> quoted line"
)
LIVE_BY_CUSTOMER = ("<!channel>", "<!here>", "<!everyone>", "<@U999>", "<#C999>", "<http://evil")

ANNA = PersonRef("anna", "Anna de Vries", chat_ids=(("slack", "U01ANNA"),))
BRAM = PersonRef("bram", "Bram Jansen", chat_ids=(("slack", "U02BRAM"),))
CARL = PersonRef("carl", "Carl Visser", chat_ids=(("slack", "U03CARL"),))
DORA = PersonRef("dora", "Dora *Boss*")  # a head Slack does not know: named, never pinged
TEAM_PINGS = {"<@U01ANNA>", "<@U02BRAM>", "<@U03CARL>"}
SALES = DepartmentView("sales", "Sales", (BRAM,))
LEGAL = DepartmentView("legal", "Legal", (CARL, DORA))


card = sample_card


def draft(**changes: object) -> DraftView:
    return sample_draft(**{"author": ANNA, "approvers": (BRAM, CARL), **changes})  # type: ignore[arg-type]


def strings(value: object) -> list[str]:
    """Every string anywhere in a rendered message or view."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in strings(v)]
    return []


def mrkdwn(message: tuple[str, list[dict]] | object) -> list[str]:
    """The texts Slack parses as mrkdwn: the fallback text and every mrkdwn text object."""
    if isinstance(message, tuple):
        return [message[0], *mrkdwn(message[1])]
    if isinstance(message, dict):
        own = [message["text"]] if message.get("type") == "mrkdwn" else []
        return own + [s for v in message.values() for s in mrkdwn(v)]
    if isinstance(message, list):
        return [s for v in message for s in mrkdwn(v)]
    return []


def live_tokens(value: object) -> set[str]:
    """The `<…>` sequences Slack would turn into pings, channel links or links."""
    return {t for s in strings(value) for t in re.findall(r"<[^<>]*>", s)}


def shown(mrkdwn: str) -> str:
    """What a person reads: mrkdwn without invisible marks and with entities decoded."""
    return html.unescape(mrkdwn.replace("\u200b", ""))


def assert_inert(message: tuple[str, list[dict]]) -> None:
    for s in strings(message):
        for live in LIVE_BY_CUSTOMER:
            assert live not in s
    for s in mrkdwn(message):
        assert not re.search(r"&(?!amp;|lt;|gt;)", s), f"bare & in {s!r}"
        for formatted in ("*bold*", "_slanted_", "~struck~", "`code`", "\n&gt; quoted"):
            assert formatted not in s


def section_texts(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def elements(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def assert_within_block_kit_limits(message: tuple[str, list[dict]]) -> None:
    text, blocks = message
    assert 0 < slack_len(text) <= 3000
    assert len(blocks) <= 50
    for block in blocks:
        assert 0 < len(block["block_id"]) <= 255
        if block["type"] == "section":
            assert 0 < slack_len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(slack_len(e["text"]) <= 3000 for e in block["elements"])
        if block["type"] == "actions":
            assert 0 < len(block["elements"]) <= 25
            for element in block["elements"]:
                if element["type"] == "button":
                    assert len(element["text"]["text"]) <= 75
                    assert len(element["value"]) <= 2000
                    assert len(element.get("url", "")) <= 3000
                else:
                    assert 1 <= len(element["options"]) <= 5
    ids = [b["block_id"] for b in blocks]
    assert len(ids) == len(set(ids))


EVERY_CARD = [
    card(state=MentionState.NEW),
    card(state=MentionState.CLAIMED, claimed_by=ANNA),
    card(state=MentionState.ESCALATED, claimed_by=ANNA, escalated_to=(SALES, LEGAL)),
    card(state=MentionState.AWAITING_APPROVAL, claimed_by=ANNA, escalated_to=(SALES,), draft=draft()),
    card(state=MentionState.ANSWERED, answered_by=ANNA, response_minutes=14),
    card(state=MentionState.CLOSED, answered_by=ANNA, response_minutes=14),
    card(state=MentionState.DISMISSED, dismissed_by=ANNA, dismissed_reason=DismissReason.SPAM),
]


@pytest.mark.parametrize("view", EVERY_CARD, ids=lambda v: v.state.value)
def test_customer_text_is_never_live_on_a_card(view: CardView) -> None:
    hostile = replace(
        view, text=HOSTILE, author_name=HOSTILE, author_handle=HOSTILE, network=HOSTILE,
        claimed_by=view.claimed_by and replace(ANNA, name=HOSTILE, chat_ids=()),
    )
    message = render_card(hostile, EN)
    assert_inert(message)
    for token in live_tokens(message):
        assert token in TEAM_PINGS or token.startswith("<https://x.com/sannedv|@")
    assert_within_block_kit_limits(message)


def test_customer_text_still_reads_the_same() -> None:
    _, blocks = render_card(card(text=HOSTILE), EN)
    assert HOSTILE in [shown(t) for t in section_texts(blocks)]


def test_card_fallback_text_names_the_post_without_anything_live() -> None:
    text, _ = render_card(card(text=HOSTILE), EN)
    assert text.startswith("X mention by @sannedv (new): ")
    assert "Tom &amp; Jerry" in text
    assert_inert((text, []))


def test_long_mention_is_cut_with_an_ellipsis_and_a_link_to_the_post() -> None:
    long_text = "Waited & waited. " * 600  # 10,200 characters, 12,000 once escaped
    message = render_card(card(text=long_text, mention_id=43), EN)
    _, blocks = message
    text = next(b for b in blocks if b["block_id"] == "mention-43-text")["text"]["text"]
    assert text.endswith(f"… <{POST}|read more>")
    assert shown(text).startswith("Waited & waited. Waited")
    assert_within_block_kit_limits(message)


def test_long_emoji_mention_fits_slack_limits_counted_in_utf16() -> None:
    message = render_card(card(text="😡" * 10_000), EN)
    assert_within_block_kit_limits(message)


def test_card_shows_network_author_followers_and_age() -> None:
    _, blocks = render_card(card(author_verified=True, author_followers=12_345), EN)
    byline = blocks[0]["elements"][0]["text"]
    assert byline == (
        "*X* · Sanne de Vries · <https://x.com/sannedv|@sannedv> · verified"
        " · 12,345 followers · 12 min ago"
    )
    assert all(b["block_id"].startswith("mention-42-") for b in blocks)


@pytest.mark.parametrize(("minutes", "age"), [(0, "just now"), (59, "59 min ago"), (190, "3 h ago"),
                                              (3 * 24 * 60, "3 d ago")])
def test_card_age_is_said_the_way_a_person_would(minutes: int, age: str) -> None:
    _, blocks = render_card(card(published_at=NOW - timedelta(minutes=minutes)), EN)
    assert blocks[0]["elements"][0]["text"].endswith(f" · {age}")


@pytest.mark.parametrize(
    ("view", "status"),
    [
        (EVERY_CARD[0], ":new: *New* — nobody has claimed it yet"),
        (EVERY_CARD[1], ":raising_hand: *Claimed* by <@U01ANNA>"),
        (EVERY_CARD[2], ":rotating_light: *Escalated* to Sales, Legal · claimed by <@U01ANNA>"),
        (EVERY_CARD[3], ":hourglass_flowing_sand: *Awaiting approval* — draft by <@U01ANNA> waiting"
                        " for <@U02BRAM>, <@U03CARL> · claimed by <@U01ANNA> · escalated to Sales"),
        (EVERY_CARD[4], ":white_check_mark: *Answered* by <@U01ANNA> after 14 min"),
        (EVERY_CARD[5], ":lock: *Closed* — answered by <@U01ANNA> after 14 min"),
        (EVERY_CARD[6], ":no_entry_sign: *Dismissed* by <@U01ANNA>: spam"),
    ],
    ids=lambda v: v.state.value if isinstance(v, CardView) else "",
)
def test_status_line_tells_who_did_what(view: CardView, status: str) -> None:
    _, blocks = render_card(view, EN)
    assert section_texts(blocks)[1] == status


def test_status_names_a_claimer_slack_does_not_know() -> None:
    _, blocks = render_card(card(state=MentionState.CLAIMED, claimed_by=PersonRef("x", "Eve <!here>")), EN)
    assert section_texts(blocks)[1] == ":raising_hand: *Claimed* by Eve &lt;!here&gt;"


def test_status_tells_why_a_reply_was_not_delivered() -> None:
    failed = draft(state=DraftState.FAILED, decided_by=BRAM, error="HTTP 502 <b>Bad gateway</b>")
    _, blocks = render_card(card(state=MentionState.AWAITING_APPROVAL, draft=failed), EN)
    assert section_texts(blocks)[1].endswith(
        ":warning: reply not delivered: HTTP 502 &lt;b&gt;Bad gateway&lt;/b&gt;"
    )


@pytest.mark.parametrize(
    ("view", "buttons"),
    [
        (EVERY_CARD[0], ["Claim", "Escalate", "Answer", "Dismiss", "Open post"]),
        (EVERY_CARD[1], ["Escalate", "Answer", "Dismiss", "Open post", "Unclaim"]),
        (card(state=MentionState.ESCALATED, escalated_to=(SALES,)),
         ["Claim", "Escalate", "Answer", "Dismiss", "Open post"]),
        (EVERY_CARD[3], ["Open post"]),
        (EVERY_CARD[4], ["Open post", "Reopen", "Close"]),
        (EVERY_CARD[5], ["Open post", "Reopen"]),
        (EVERY_CARD[6], ["Open post", "Reopen"]),
    ],
    ids=lambda v: v.state.value if isinstance(v, CardView) else "",
)
def test_card_offers_the_actions_its_state_allows(view: CardView, buttons: list[str]) -> None:
    _, blocks = render_card(view, EN)
    labels = []
    for element in elements(blocks):
        if element["type"] == "overflow":
            labels += [o["text"]["text"] for o in element["options"]]
        else:
            labels.append(element["text"]["text"])
    assert labels == buttons


def test_card_buttons_carry_the_mention_id() -> None:
    _, blocks = render_card(EVERY_CARD[0], EN)
    values = {e["action_id"]: e["value"] for e in elements(blocks)}
    actions = (Action.CLAIM, Action.ESCALATE, Action.ANSWER, Action.DISMISS, Action.OPEN_POST)
    assert values == dict.fromkeys(actions, "42")
    assert elements(blocks)[-1]["url"] == POST


def test_more_menu_values_name_the_option_and_the_mention() -> None:
    _, answered = render_card(EVERY_CARD[4], EN)
    (menu,) = [e for e in elements(answered) if e["action_id"] == Action.MORE]
    assert [o["value"] for o in menu["options"]] == ["reopen:42", "close:42"]
    _, claimed = render_card(EVERY_CARD[1], EN)
    (single,) = [e for e in elements(claimed) if e["action_id"] == Action.MORE]
    assert [o["value"] for o in single["options"]] == ["unclaim:42"]


def test_post_link_that_is_not_a_web_address_is_not_offered() -> None:
    message = render_card(card(url="javascript:alert(1)", text="x" * 4000, state=MentionState.CLOSED), EN)
    assert "javascript" not in " ".join(strings(message))
    (menu,) = elements(message[1])
    assert [o["text"]["text"] for o in menu["options"]] == ["Reopen"]


def test_draft_awaiting_approval_pings_the_approvers_and_offers_a_decision() -> None:
    text, blocks = render_draft(draft(text=HOSTILE), EN)
    assert text == ":hourglass_flowing_sand: Draft by Anna de Vries awaiting <@U02BRAM>, <@U03CARL>:"
    assert_inert((text, blocks))
    assert HOSTILE in [shown(t) for t in section_texts(blocks)]
    buttons = [(e["action_id"], e["text"]["text"], e["value"]) for e in elements(blocks)]
    assert buttons == [(Action.APPROVE, "Approve & send", "7"),
                       (Action.REQUEST_CHANGES, "Request changes", "7")]


@pytest.mark.parametrize(
    ("changes", "headline"),
    [
        ({"state": DraftState.SENDING, "decided_by": BRAM},
         ":outbox_tray: Reply by Anna de Vries, approved by <@U02BRAM>, sending…"),
        ({"state": DraftState.SENT, "decided_by": BRAM},
         ":white_check_mark: Reply by Anna de Vries, approved by <@U02BRAM>, sent"),
        ({"state": DraftState.CHANGES_REQUESTED, "decided_by": CARL, "note": "Less *sorry* <!here>"},
         ":memo: Changes requested by <@U03CARL> on the draft by Anna de Vries: "
         "Less \u200b*\u200bsorry\u200b*\u200b &lt;!here&gt;"),
    ],
    ids=["sending", "sent", "changes_requested"],
)
def test_decided_draft_says_what_happened_without_buttons(changes: dict, headline: str) -> None:
    text, blocks = render_draft(draft(**changes), EN)
    assert section_texts(blocks)[0] == headline == text
    assert elements(blocks) == []


def test_failed_draft_says_why_and_offers_retry() -> None:
    _, blocks = render_draft(draft(state=DraftState.FAILED, decided_by=BRAM, error="timeout"), EN)
    assert section_texts(blocks)[0].endswith("approved by <@U02BRAM>, not delivered: timeout")
    assert [(e["action_id"], e["value"]) for e in elements(blocks)] == [(Action.RETRY, "7")]


def test_approver_sees_a_long_draft_in_full() -> None:
    reply = "Q&A <3 " * 430  # 3,010 characters, over 6,000 once escaped
    message = render_draft(draft(text=reply), EN)
    assert "".join(shown(t) for t in section_texts(message[1])[1:]) == reply
    assert_within_block_kit_limits(message)


def test_escalation_notice_pings_exactly_the_heads() -> None:
    notice = EscalationNotice(42, ANNA, (SALES, LEGAL), note=HOSTILE)
    message = render_escalation_notice(notice, EN)
    text, blocks = message
    assert live_tokens(message) == {"<@U02BRAM>", "<@U03CARL>"}
    assert text == (
        ":rotating_light: Anna de Vries escalated to Sales (<@U02BRAM>), "
        "Legal (<@U03CARL>, Dora \u200b*\u200bBoss\u200b*\u200b)"
    )
    assert_inert(message)
    assert shown(section_texts(blocks)[1]) == HOSTILE
    assert_within_block_kit_limits(message)


def test_escalate_modal_lists_departments_for_the_mention() -> None:
    modal = escalate_modal(42, [SALES, LEGAL], EN)
    assert (modal["callback_id"], modal["private_metadata"]) == (View.ESCALATE, "42")
    blocks = {b["block_id"]: b for b in modal["blocks"]}
    picker = blocks[Block.DEPARTMENTS]["element"]
    assert picker["action_id"] == Block.DEPARTMENTS
    assert [(o["text"]["text"], o["value"]) for o in picker["options"]] == [
        ("Sales (Bram Jansen)", "sales"), ("Legal (Carl Visser, Dora *Boss*)", "legal")]
    assert blocks[Block.NOTE]["optional"] is True


def test_escalate_modal_without_departments_says_so_and_cannot_be_submitted() -> None:
    modal = escalate_modal(42, [], EN)
    assert "submit" not in modal
    assert "No departments are configured" in modal["blocks"][0]["text"]["text"]


@pytest.mark.parametrize(
    ("needs_approval", "manual", "says", "submit"),
    [
        (False, False, "Sent to X through the webhook connector when you submit.", "Send reply"),
        (True, False, "<@U02BRAM>, <@U03CARL> must approve your reply before it is sent to X through the webhook",
         "Ask approval"),
        (False, True, "No connector sends replies for X: post this reply yourself on X, then submit to record it as "
                      "answered by hand.", "Save answer"),
        (True, True, "<@U02BRAM>, <@U03CARL> must approve it before you post it yourself on X", "Ask approval"),
    ],
)
def test_answer_modal_explains_what_happens_to_the_reply(
    needs_approval: bool, manual: bool, says: str, submit: str
) -> None:
    modal = answer_modal(42, EN, needs_approval=needs_approval, manual=manual, approvers=[BRAM, CARL], network="x",
                         connector=None if manual else "webhook")
    assert (modal["callback_id"], modal["private_metadata"]) == (View.ANSWER, "42")
    assert says in modal["blocks"][0]["text"]["text"]
    assert modal["submit"]["text"] == submit
    reply = modal["blocks"][1]
    assert (reply["block_id"], reply["element"]["action_id"]) == (Block.REPLY_TEXT, Block.REPLY_TEXT)
    assert reply["element"]["max_length"] == 3000
    assert reply["hint"]["text"] == "X allows 280 characters."


def test_dismiss_modal_offers_every_reason() -> None:
    modal = dismiss_modal(42, EN)
    assert (modal["callback_id"], modal["private_metadata"]) == (View.DISMISS, "42")
    (reason,) = modal["blocks"]
    assert reason["block_id"] == Block.REASON
    assert [o["value"] for o in reason["element"]["options"]] == [r.value for r in DismissReason]
    assert reason["element"]["options"][2]["text"]["text"] == "Handled elsewhere"


def test_request_changes_modal_carries_the_draft_id() -> None:
    modal = request_changes_modal(7, EN)
    assert (modal["callback_id"], modal["private_metadata"]) == (View.REQUEST_CHANGES, "7")
    assert modal["blocks"][0]["block_id"] == Block.NOTE


def test_modal_titles_and_buttons_fit_slack() -> None:
    modals = [escalate_modal(1, [SALES], EN), escalate_modal(1, [], EN), dismiss_modal(1, EN),
              request_changes_modal(1, EN)]
    both = (False, True)
    modals += [answer_modal(1, EN, needs_approval=a, manual=m, approvers=[]) for a in both for m in both]
    for modal in modals:
        for key in ("title", "submit", "close"):
            assert len(modal.get(key, {"text": ""})["text"]) <= 24


def test_truncate_never_breaks_an_escape_or_a_character() -> None:
    escaped = escape_mrkdwn("&*é" * 100 + "👍🏽")
    for limit in range(1, 60):
        cut = truncate(escaped, limit)
        assert slack_len(cut) <= limit
        assert re.fullmatch(r"((&amp;|\u200b\*\u200b|é)*)…", cut), cut


def test_split_keeps_everything_within_the_limit() -> None:
    escaped = escape_mrkdwn("<&>*" * 2000)
    pieces = split(escaped, 3000)
    assert "".join(pieces) == escaped
    assert all(slack_len(p) <= 3000 for p in pieces)
