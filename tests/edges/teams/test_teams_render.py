"""Teams rendering: Adaptive Cards show the truth, keep customer text inert and mention only known people."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.catalogue import words
from bot.core.crisis.views import ChecklistView, ReplyGate, StepStatus, StepView
from bot.core.views import (
    CardView,
    CrisisTag,
    DepartmentView,
    DismissReason,
    DraftState,
    DraftView,
    EscalationNotice,
    MentionState,
    PersonRef,
)
from bot.teams.checklist import render_checklist, render_report
from bot.teams.ids import Input, Verb
from bot.teams.render import escape_markdown, render_card, render_draft, render_escalation_notice
from tests.views import POST, sample_card, sample_draft

EN = words("en")

HOSTILE = "Hi [click](http://evil.example) **bold** <at>Bram</at> @Bram <!channel>\n- listed\n# big"
LIVE_BY_CUSTOMER = ("[click](", "http://evil", "**bold**", "<at>Bram</at>", "<!channel>", "\n- ", "\n# ")
TEAMS_MESSAGE_LIMIT = 28 * 1024

ANNA = PersonRef("anna", "Anna de Vries", chat_ids=(("slack", "U01ANNA"), ("teams", "29:1anna")))
BRAM = PersonRef("bram", "Bram Jansen", chat_ids=(("slack", "U02BRAM"), ("teams", "29:2bram")))
CARL = PersonRef("carl", "Carl Visser", chat_ids=(("teams", "8:orgid:6f1c0000-0000-0000-0000-00000000carl"),))
# A head Teams does not know: named, never pinged.
DORA = PersonRef("dora", "Dora *Boss*", chat_ids=(("slack", "U04DORA"),))
SALES = DepartmentView("sales", "Sales", (BRAM,))
LEGAL = DepartmentView("legal", "Legal", (CARL, DORA))
DEPARTMENTS = [SALES, LEGAL]


def card(**changes: object) -> CardView:
    return sample_card(**{"reply_via": "webhook", **changes})


def draft(**changes: object) -> DraftView:
    return sample_draft(**{"author": ANNA, "approvers": (BRAM, CARL, DORA), **changes})  # type: ignore[arg-type]


def nodes(value: object) -> list[dict]:
    """Every object anywhere in a card, ShowCards and fallbacks included."""
    if isinstance(value, dict):
        return [value] + [n for v in value.values() for n in nodes(v)]
    if isinstance(value, list):
        return [n for v in value for n in nodes(v)]
    return []


def strings_outside_text_runs(value: object) -> list[str]:
    """Every string a client might parse: all of them except the text of TextRuns."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        run = value.get("type") == "TextRun"
        return [s for k, v in value.items() if not (run and k == "text") for s in strings_outside_text_runs(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_outside_text_runs(v)]
    return []


def shown(text: str) -> str:
    """What a person reads: without invisible zero-width spaces."""
    return text.replace("\u200b", "")


def block(card: dict, block_id: str) -> dict:
    (found,) = [n for n in nodes(card["body"]) if n.get("id") == block_id]
    return found


def runs_text(rich_text_block: dict) -> str:
    return "".join(r["text"] for r in rich_text_block["inlines"])


def entities(card: dict) -> list[dict]:
    return card.get("msteams", {}).get("entities", [])


def actions(card: dict) -> list[dict]:
    return card.get("actions", [])


def assert_inert(card: dict) -> None:
    for s in strings_outside_text_runs(card):
        for live in LIVE_BY_CUSTOMER:
            assert live not in s, f"{live!r} is live in {s!r}"
    for entity in entities(card):
        assert entity["mentioned"]["id"] in {BRAM.chat_id("teams"), CARL.chat_id("teams"), ANNA.chat_id("teams")}


def assert_valid_card(card: dict) -> None:
    assert card["type"] == "AdaptiveCard"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert tuple(int(p) for p in card["version"].split(".")) >= (1, 4)
    assert len(json.dumps(card)) <= TEAMS_MESSAGE_LIMIT - 1024  # room left for the activity around it
    ids = [n["id"] for n in nodes(card) if "id" in n and n.get("type") != "mention"]
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
EVERY_DRAFT = [draft(state=state, decided_by=BRAM, note="Less *sorry*", error="timeout") for state in DraftState]


@pytest.mark.parametrize("view", EVERY_CARD, ids=lambda v: v.state.value)
def test_customer_text_is_never_live_on_a_card(view: CardView) -> None:
    hostile = replace(view, text=HOSTILE, author_name=HOSTILE, author_handle=HOSTILE, network=HOSTILE,
                      claimed_by=view.claimed_by and replace(ANNA, name=HOSTILE))
    rendered = render_card(hostile, DEPARTMENTS, EN)
    assert_inert(rendered)
    assert entities(rendered) == []
    assert_valid_card(rendered)


def test_customer_text_is_one_text_run_that_reads_the_same() -> None:
    rendered = render_card(card(text=HOSTILE), DEPARTMENTS, EN)
    text = block(rendered, "mention-42-text")
    assert text["type"] == "RichTextBlock"
    assert [r["type"] for r in text["inlines"]] == ["TextRun"]
    assert shown(runs_text(text)) == HOSTILE
    assert "<at>" not in runs_text(text)  # split, so not even a mention entity could match it


def test_card_shows_network_author_followers_and_age_as_text_runs() -> None:
    rendered = render_card(card(author_verified=True, author_followers=12_345), DEPARTMENTS, EN)
    byline = block(rendered, "mention-42-author")
    assert runs_text(byline) == "X · Sanne de Vries · @sannedv · verified · 12,345 followers · 12 min ago"
    handle = next(r for r in byline["inlines"] if r["text"] == "@sannedv")
    assert handle["selectAction"] == {"type": "Action.OpenUrl", "title": "Open profile", "url": "https://x.com/sannedv"}


@pytest.mark.parametrize(
    ("view", "label", "status"),
    [
        (EVERY_CARD[0], "New", "🆕 New — nobody has claimed it yet"),
        (EVERY_CARD[1], "Claimed", "✋ Claimed by Anna de Vries"),
        (EVERY_CARD[2], "Escalated", "🚨 Escalated to Sales, Legal · claimed by Anna de Vries"),
        (EVERY_CARD[3], "Awaiting approval",
         "⏳ Awaiting approval — draft by Anna de Vries waiting for Bram Jansen, Carl Visser, Dora *Boss*"
         " · claimed by Anna de Vries · escalated to Sales"),
        (EVERY_CARD[4], "Answered", "✅ Answered by Anna de Vries after 14 min"),
        (EVERY_CARD[5], "Closed", "🔒 Closed — answered by Anna de Vries after 14 min"),
        (EVERY_CARD[6], "Dismissed", "🚫 Dismissed by Anna de Vries: spam"),
    ],
    ids=lambda v: v.state.value if isinstance(v, CardView) else "",
)
def test_status_line_tells_who_did_what_without_pinging_anyone(view: CardView, label: str, status: str) -> None:
    rendered = render_card(view, DEPARTMENTS, EN)
    status_block = block(rendered, "mention-42-status")
    assert runs_text(status_block) == status
    assert [r["text"] for r in status_block["inlines"] if r.get("weight") == "bolder"] == [label]
    assert entities(rendered) == []


def test_status_tells_why_a_reply_was_not_delivered() -> None:
    failed = draft(state=DraftState.FAILED, decided_by=BRAM, error="HTTP 502 <b>Bad gateway</b>")
    rendered = render_card(card(state=MentionState.AWAITING_APPROVAL, draft=failed), DEPARTMENTS, EN)
    assert runs_text(block(rendered, "mention-42-status")).endswith(
        "⚠️ reply not delivered: HTTP 502 <b>Bad gateway</b>")


@pytest.mark.parametrize(
    ("view", "titles"),
    [
        (EVERY_CARD[0], ["Claim", "Escalate", "Answer", "Dismiss", "Open post"]),
        (EVERY_CARD[1], ["Escalate", "Answer", "Dismiss", "Open post", "Unclaim"]),
        (card(state=MentionState.ESCALATED, escalated_to=(SALES,)), ["Claim", "Escalate", "Answer", "Dismiss",
                                                                     "Open post"]),
        (EVERY_CARD[3], ["Open post"]),
        (EVERY_CARD[4], ["Open post", "Reopen", "Close"]),
        (EVERY_CARD[5], ["Open post", "Reopen"]),
        (EVERY_CARD[6], ["Open post", "Reopen"]),
    ],
    ids=lambda v: v.state.value if isinstance(v, CardView) else "",
)
def test_card_offers_the_actions_its_state_allows(view: CardView, titles: list[str]) -> None:
    rendered = actions(render_card(view, DEPARTMENTS, EN))
    assert [a["title"] for a in rendered] == titles
    secondary = [a["title"] for a in rendered if a.get("mode") == "secondary"]
    assert secondary == [t for t in titles if t in ("Unclaim", "Reopen", "Close")]


def test_card_actions_carry_their_verb_and_the_mention_id() -> None:
    rendered = actions(render_card(EVERY_CARD[0], DEPARTMENTS, EN))
    kinds = {a["title"]: a["type"] for a in rendered}
    assert kinds == {"Claim": "Action.Execute", "Escalate": "Action.ShowCard", "Answer": "Action.ShowCard",
                     "Dismiss": "Action.ShowCard", "Open post": "Action.OpenUrl"}
    executes = [n for n in nodes(rendered) if n.get("type") == "Action.Execute"]
    assert [(e["verb"], e["data"]) for e in executes] == [
        (Verb.CLAIM, {"mention_id": 42}), (Verb.ESCALATE, {"mention_id": 42}),
        (Verb.ANSWER, {"mention_id": 42}), (Verb.DISMISS, {"mention_id": 42})]
    assert rendered[-1]["url"] == POST
    secondary = nodes(actions(render_card(EVERY_CARD[4], DEPARTMENTS, EN)))
    assert [(e["verb"], e["data"]) for e in secondary if e.get("type") == "Action.Execute"] == [
        (Verb.REOPEN, {"mention_id": 42}), (Verb.CLOSE, {"mention_id": 42})]


@pytest.mark.parametrize("rendered", [render_card(v, DEPARTMENTS, EN) for v in EVERY_CARD]
                         + [render_draft(d, EN) for d in EVERY_DRAFT], ids=lambda c: c["body"][0]["id"])
def test_every_execute_falls_back_to_a_submit_with_the_same_data_and_its_verb(rendered: dict) -> None:
    for node in nodes(rendered):
        assert node.get("type") != "Action.Submit" or node in [n.get("fallback") for n in nodes(rendered)]
        if node.get("type") != "Action.Execute":
            continue
        assert node["verb"] in set(Verb)
        assert set(node["data"]) in ({"mention_id"}, {"draft_id"})
        fallback = node["fallback"]
        assert fallback["type"] == "Action.Submit"
        assert fallback["data"] == {**node["data"], "verb": node["verb"]}
        assert fallback["title"] == node["title"]
        assert fallback.get("mode") == node.get("mode")


def test_escalate_picks_departments_and_takes_a_note() -> None:
    escalate = next(a for a in actions(render_card(EVERY_CARD[0], DEPARTMENTS, EN)) if a["title"] == "Escalate")
    picker, _, note = escalate["card"]["body"]
    assert (picker["type"], picker["id"], picker["isMultiSelect"]) == ("Input.ChoiceSet", Input.DEPARTMENTS, True)
    assert picker["choices"] == [{"title": "Sales (Bram Jansen)", "value": "sales"},
                                 {"title": "Legal (Carl Visser, Dora \u2217Boss\u2217)", "value": "legal"}]
    assert (note["type"], note["id"], note["isMultiline"]) == ("Input.Text", Input.NOTE, True)
    assert "isRequired" not in note
    (submit,) = escalate["card"]["actions"]
    assert (submit["type"], submit["verb"]) == ("Action.Execute", Verb.ESCALATE)


def test_escalate_without_departments_says_so_and_cannot_be_submitted() -> None:
    escalate = next(a for a in actions(render_card(EVERY_CARD[0], [], EN)) if a["title"] == "Escalate")
    assert "actions" not in escalate["card"]
    assert "No departments are configured" in escalate["card"]["body"][0]["text"]


@pytest.mark.parametrize(
    ("view", "says", "submit"),
    [
        (card(), "Sent to X through the webhook connector when you submit. X allows 280 characters.", "Send reply"),
        (card(escalated_to=(SALES, LEGAL)), "Bram Jansen, Carl Visser, Dora ∗Boss∗ (someone other than you) must "
                                            "approve your reply before it is sent to X", "Ask approval"),
        (card(reply_via=None), "No connector sends replies for X: post this reply yourself on X, then submit to "
                               "record it as answered by hand.", "Save answer"),
        (card(reply_via=None, escalated_to=(SALES,)), "Bram Jansen (someone other than you) must approve it before"
                                                      " you post it yourself on X", "Ask approval"),
    ],
    ids=["direct", "approval", "by-hand", "by-hand-approval"],
)
def test_answer_explains_what_happens_to_the_reply(view: CardView, says: str, submit: str) -> None:
    answer = next(a for a in actions(render_card(view, DEPARTMENTS, EN)) if a["title"] == "Answer")
    explain, reply = answer["card"]["body"]
    assert says in explain["text"]
    assert (reply["type"], reply["id"], reply["isMultiline"], reply["maxLength"]) == (
        "Input.Text", Input.REPLY_TEXT, True, 3000)
    assert reply["isRequired"] is True
    (send,) = answer["card"]["actions"]
    assert (send["title"], send["verb"]) == (submit, Verb.ANSWER)


def test_dismiss_offers_every_reason() -> None:
    dismiss = next(a for a in actions(render_card(EVERY_CARD[0], DEPARTMENTS, EN)) if a["title"] == "Dismiss")
    (reason,) = dismiss["card"]["body"]
    assert (reason["type"], reason["id"], reason["isRequired"]) == ("Input.ChoiceSet", Input.REASON, True)
    assert [c["value"] for c in reason["choices"]] == [r.value for r in DismissReason]
    assert reason["choices"][2]["title"] == "Handled elsewhere"
    assert dismiss["card"]["actions"][0]["verb"] == Verb.DISMISS


def test_post_link_that_is_not_a_web_address_is_not_offered() -> None:
    rendered = render_card(card(url="javascript:alert(1)", author_url="javascript:x", state=MentionState.CLOSED),
                           DEPARTMENTS, EN)
    assert "javascript" not in json.dumps(rendered)
    assert [a["title"] for a in actions(rendered)] == ["Reopen"]


@pytest.mark.parametrize("text", ["Waited & waited. " * 3000, "😡" * 50_000, "x" * 50_000],
                         ids=["ascii", "emoji", "one-word"])
def test_long_mention_is_cut_to_fit_a_teams_message_and_keeps_the_link(text: str) -> None:
    rendered = render_card(card(text=text[:50_000], escalated_to=(SALES, LEGAL), state=MentionState.ESCALATED),
                           DEPARTMENTS, EN)
    assert_valid_card(rendered)
    first, *more = block(rendered, "mention-42-text")["inlines"]
    assert first["text"].endswith("…")
    assert text.startswith(first["text"][:-1].rstrip())
    assert len(first["text"]) > 1000
    assert more[0]["selectAction"]["url"] == POST
    assert actions(rendered)[-1]["title"] == "Open post"


def test_short_mention_is_shown_whole() -> None:
    rendered = render_card(card(text="x" * 4000), DEPARTMENTS, EN)
    assert block(rendered, "mention-42-text")["inlines"] == [{"type": "TextRun", "text": "x" * 4000}]


def test_draft_awaiting_approval_mentions_the_approvers_teams_knows_and_offers_a_decision() -> None:
    rendered = render_draft(draft(text=HOSTILE), EN)
    headline = block(rendered, "mention-42-draft-7-state")
    assert headline["type"] == "TextBlock"
    assert headline["text"] == (
        "⏳ Draft by Anna de Vries awaiting <at>Bram Jansen</at>, <at>Carl Visser</at>, Dora ∗Boss∗:")
    assert entities(rendered) == [
        {"type": "mention", "text": "<at>Bram Jansen</at>", "mentioned": {"id": "29:2bram", "name": "Bram Jansen"}},
        {"type": "mention", "text": "<at>Carl Visser</at>",
         "mentioned": {"id": CARL.chat_id("teams"), "name": "Carl Visser"}},
    ]
    assert shown(runs_text(block(rendered, "mention-42-draft-7-text"))) == HOSTILE
    assert_inert({**rendered, "msteams": {}})
    approve, request = actions(rendered)
    assert (approve["title"], approve["verb"], approve["data"]) == ("Approve & send", Verb.APPROVE, {"draft_id": 7})
    (note,) = request["card"]["body"]
    assert (request["type"], note["id"], note["isMultiline"]) == ("Action.ShowCard", Input.NOTE, True)
    (send,) = request["card"]["actions"]
    assert (send["verb"], send["data"]) == (Verb.REQUEST_CHANGES, {"draft_id": 7})
    assert "<at>" not in rendered["fallbackText"]


def test_customer_text_naming_an_approver_does_not_mention_them_twice() -> None:
    rendered = render_draft(draft(text="<at>Bram Jansen</at>", approvers=(CARL,)), EN)
    assert [e["mentioned"]["id"] for e in entities(rendered)] == [CARL.chat_id("teams")]
    texts = [n["text"] for n in nodes(rendered["body"]) if n.get("type") in ("TextBlock", "TextRun")]
    assert not any("<at>Bram Jansen</at>" in t for t in texts)


def test_person_with_a_malformed_teams_id_is_named_not_mentioned() -> None:
    rendered = render_draft(draft(approvers=(replace(BRAM, chat_ids=(("teams", "29:x </at><at>Eve"),)),)), EN)
    assert entities(rendered) == []
    assert block(rendered, "mention-42-draft-7-state")["text"].endswith("awaiting Bram Jansen:")


def test_manual_draft_is_approved_not_sent() -> None:
    rendered = render_draft(draft(manual=True), EN)
    assert "(to be posted by hand)" in rendered["body"][0]["text"]
    assert actions(rendered)[0]["title"] == "Approve"


@pytest.mark.parametrize(
    ("changes", "headline"),
    [
        ({"state": DraftState.SENDING, "decided_by": BRAM},
         "📤 Reply by Anna de Vries, approved by <at>Bram Jansen</at>, sending…"),
        ({"state": DraftState.SENT, "decided_by": BRAM},
         "✅ Reply by Anna de Vries, approved by <at>Bram Jansen</at>, sent"),
        ({"state": DraftState.CHANGES_REQUESTED, "decided_by": DORA, "note": "Less *sorry* <at>Bram</at>"},
         "📝 Changes requested by Dora ∗Boss∗ on the draft by Anna de Vries"),
        ({"state": DraftState.BY_HAND}, "✍️ Answered by hand by Anna de Vries:"),
    ],
    ids=["sending", "sent", "changes_requested", "by_hand"],
)
def test_decided_draft_says_what_happened_without_actions(changes: dict, headline: str) -> None:
    rendered = render_draft(draft(**changes), EN)
    assert rendered["body"][0]["text"] == headline
    assert actions(rendered) == []
    assert_inert({**rendered, "msteams": {}})


def test_changes_requested_note_is_shown_as_text_runs() -> None:
    rendered = render_draft(draft(state=DraftState.CHANGES_REQUESTED, decided_by=BRAM, note=HOSTILE), EN)
    assert shown(runs_text(block(rendered, "mention-42-draft-7-note"))) == f"Note: {HOSTILE}"
    assert_inert({**rendered, "msteams": {}})


def test_failed_draft_says_why_and_offers_retry() -> None:
    rendered = render_draft(draft(state=DraftState.FAILED, decided_by=BRAM, error="HTTP 502 [retry](http://evil)"), EN)
    assert rendered["body"][0]["text"] == "⚠️ Reply by Anna de Vries, approved by <at>Bram Jansen</at>, not delivered"
    assert runs_text(block(rendered, "mention-42-draft-7-error")) == "Not delivered: HTTP 502 [retry](http://evil)"
    (retry,) = actions(rendered)
    assert (retry["title"], retry["verb"], retry["data"]) == ("Retry", Verb.RETRY, {"draft_id": 7})


def test_approver_sees_a_long_draft_in_full() -> None:
    reply = "Q&A <3 " * 430
    rendered = render_draft(draft(text=reply), EN)
    assert runs_text(block(rendered, "mention-42-draft-7-text")) == reply
    assert_valid_card(rendered)


def test_escalation_notice_mentions_exactly_the_heads_teams_knows() -> None:
    rendered = render_escalation_notice(EscalationNotice(42, ANNA, (SALES, LEGAL), note=HOSTILE), EN)
    assert rendered["body"][0]["text"] == (
        "🚨 Anna de Vries escalated to Sales (<at>Bram Jansen</at>), Legal (<at>Carl Visser</at>, Dora ∗Boss∗)")
    assert [e["mentioned"]["id"] for e in entities(rendered)] == [BRAM.chat_id("teams"), CARL.chat_id("teams")]
    assert shown(runs_text(block(rendered, "mention-42-escalation-note"))) == HOSTILE
    assert_inert({**rendered, "msteams": {}})
    assert_valid_card(rendered)
    assert rendered["fallbackText"].startswith("🚨 Anna de Vries escalated to Sales (@Bram Jansen)")


def test_a_head_of_two_departments_gets_one_mention_entity() -> None:
    notice = EscalationNotice(42, ANNA, (SALES, DepartmentView("complaints", "Complaints", (BRAM,))), note=None)
    rendered = render_escalation_notice(notice, EN)
    assert rendered["body"][0]["text"].count("<at>Bram Jansen</at>") == 2
    assert len(entities(rendered)) == 1
    assert len(rendered["body"]) == 1


@pytest.mark.parametrize(
    "text",
    ["[click](http://evil.example)", "**bold** and *it* and _it_", "<at>Bram</at>", "- item\n+ item\n* item",
     "1. first\n2) second", "# Heading\n> quote", "see https://evil.example or www.evil.example", "[ref]: http://x"],
)
def test_escape_markdown_leaves_nothing_to_format_but_reads_the_same(text: str) -> None:
    escaped = escape_markdown(text)
    for live in ("](", "**", "*it*", "_it_", "<at", "://", "www."):
        assert live not in escaped
    for line in escaped.splitlines():
        assert not line.lstrip(" ").startswith(("-", "+", "*", "#", ">", "1.", "2)", "["))
    assert shown(escaped).translate(str.maketrans("\u2217\u02cd", "*_")) == text


# -- crises ----------------------------------------------------------------------------------------


def _checklist(**changes: object) -> ChecklistView:
    start = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    carla = PersonRef("carla", "Carla Smit")  # no Teams id: named, never pinged
    steps = (
        StepView("confirm", "Confirm the outage", "webcare", (ANNA, carla), StepStatus.DONE, False, False,
                 start + timedelta(minutes=10), by=ANNA, at=start + timedelta(minutes=4), note=HOSTILE),
        StepView("holding", "Approve the holding statement", "corporate-communications", (BRAM,), StepStatus.NEXT,
                 False, True, start + timedelta(minutes=30), overdue=True),
        StepView("legal", "Brief legal", "legal", (DORA,), StepStatus.WAITING, True, False),
        StepView("all-clear", "Post the all-clear", "webcare", (ANNA, carla), StepStatus.WAITING, False, False,
                 start + timedelta(hours=4)),
    )
    view = ChecklistView(id=3, playbook="outage", title="Service outage", severity="high", version="abc123",
                         drill=False, started_at=start, started_by=ANNA, lead_role="crisis-lead", leads=(ANNA,),
                         steps=steps, gate=ReplyGate.LOCKED, gate_step=steps[1], linked=2,
                         now=start + timedelta(minutes=40), note=HOSTILE)
    return replace(view, **changes)


def test_checklist_mentions_owners_by_teams_id_and_keeps_notes_inert() -> None:
    rendered = render_checklist(_checklist(), EN)
    assert_inert(rendered)
    assert_valid_card(rendered)
    assert sorted(e["mentioned"]["id"] for e in entities(rendered)) == ["29:1anna", "29:2bram"]
    text = shown(json.dumps(rendered, ensure_ascii=False))
    assert "Carla Smit" in text and "Dora" in text
    assert shown(runs_text(block(rendered, "crisis-3-note"))) == "Note: " + HOSTILE
    assert "Due 09:30 UTC — **overdue**" in block(rendered, "crisis-3-step-holding-due")["text"]
    verbs = [(a["verb"], a["data"]["step"]) for a in nodes(rendered) if a.get("type") == "Action.Execute"]
    assert verbs == [("webcare.crisis_done", "holding"), ("webcare.crisis_skip", "legal")]
    [reason] = [n for n in nodes(rendered) if n.get("type") == "Input.Text"]
    assert reason["id"] == "reason-legal" and reason["isRequired"] is True


def test_an_ended_checklist_offers_nothing_and_says_why_it_ended_early() -> None:
    view = _checklist()
    rendered = render_checklist(replace(view, ended_at=view.now, ended_by=ANNA, forced_reason="Restored <at>x</at>"),
                                EN)
    assert [n for n in nodes(rendered) if n.get("type") in ("Action.Execute", "Action.ShowCard")] == []
    assert shown(runs_text(block(rendered, "crisis-3-forced"))) == "Ended early: Restored <at>x</at>"
    assert "ended at 09:40 UTC by Anna de Vries after 40 min" in block(rendered, "crisis-3-state")["text"]


def test_a_long_report_is_cut_to_fit_a_message_and_says_how_to_get_all_of_it() -> None:
    rendered = render_report(CrisisTag(3, "Service outage", True), "| a | b |\n" * 5000, EN)
    assert_valid_card(rendered)
    assert "🧪 Drill #3" in shown(json.dumps(rendered, ensure_ascii=False))
    assert "webcare crisis report 3 --out FILE` saves all of it" in json.dumps(rendered, ensure_ascii=False)


def test_a_linked_card_shows_its_crisis_and_offers_unlink_and_the_holding_statements() -> None:
    linked = card(crisis=CrisisTag(3, "Service outage", False), templates=("We weten het.", "We know."))
    rendered = render_card(linked, DEPARTMENTS, EN)
    assert runs_text(block(rendered, "mention-42-crisis")) == "🚨 Crisis #3: Service outage"
    assert [a["title"] for a in actions(rendered)][-1] == "Unlink from crisis"
    [reply] = [n for n in nodes(rendered) if n.get("id") == str(Input.REPLY_TEXT)]
    assert reply["value"] == "We weten het."
    [second] = [n for n in nodes(rendered) if n.get("id") == "mention-42-template-2"]
    assert runs_text(second) == "We know."
    linkable = render_card(card(linkable=(CrisisTag(3, "Service outage", False), CrisisTag(4, "Outage", True))),
                           DEPARTMENTS, EN)
    links = [a for a in actions(linkable) if a.get("verb") == Verb.LINK]
    assert [(a["title"], a["data"]["crisis_id"]) for a in links] == [("Link to crisis: Service outage", 3),
                                                                    ("Link to crisis: Outage (drill)", 4)]
