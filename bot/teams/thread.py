"""Render what goes into a card's thread: reply drafts and escalation notices, with @mentions."""

from __future__ import annotations

import re

from bot.core.catalogue import Words
from bot.core.views import DepartmentView, DraftState, DraftView, EscalationNotice, PersonRef
from bot.core.wording import Style, delivery_error, draft_headline, escalation_headline
from bot.teams.cards import (
    INPUT_LIMIT,
    NAME_LIMIT,
    Mentions,
    adaptive_card,
    execute,
    fit,
    rich_text,
    run,
    show_card,
    text_block,
)
from bot.teams.escape import clip, escape_markdown
from bot.teams.ids import Input, Verb

DRAFT_LIMIT = 10_000  # characters of a draft; replies hold 3,000, so an approver reads it all
_NOTE_LIMIT = 1000  # a note or delivery error
_AT = re.compile(r"<at>(.*?)</at>")
_DRAFT_ICONS = {
    DraftState.AWAITING_APPROVAL: "⏳",
    DraftState.CHANGES_REQUESTED: "📝",
    DraftState.SENDING: "📤",
    DraftState.SENT: "✅",
    DraftState.FAILED: "⚠️",
    DraftState.BY_HAND: "✍️",
}


def render_draft(draft: DraftView, say: Words) -> dict:
    """Render a reply draft for the card's thread, @mentioning its approvers while it waits.

    While it awaits approval it offers Approve (& send) and Request changes (a note); once
    decided it says what happened; a failed delivery offers Retry.
    """
    mentions = Mentions()
    style = _style(mentions)
    headline = f"{_DRAFT_ICONS[draft.state]} {draft_headline(say, draft, style)}"
    prefix = f"mention-{draft.mention_id}-draft-{draft.id}"
    details = []
    if draft.state is DraftState.CHANGES_REQUESTED and draft.note:
        note = [run(f"{say('draft.note')}: ", weight="bolder"), run(style.text(draft.note))]
        details.append(rich_text(f"{prefix}-note", note))
    if draft.state is DraftState.FAILED:
        error = style.text(delivery_error(say, draft))
        details.append(rich_text(f"{prefix}-error", [run(f"{say('draft.not_delivered')}: ", weight="bolder"),
                                                     run(error)]))
    actions = _draft_actions(draft, say)

    def build(text: str, was_cut: bool) -> dict:
        shown = [run(text)] if text else [run(say("draft.empty"), italic=True, isSubtle=True)]
        body = [text_block(headline, id=f"{prefix}-state"), *details,
                rich_text(f"{prefix}-text", shown, separator=True)]
        return adaptive_card(body, actions, entities=mentions.entities, fallback_text=_plain(headline))

    return fit(build, draft.text, chars=DRAFT_LIMIT)


def render_escalation_notice(notice: EscalationNotice, say: Words) -> dict:
    """Render the thread card that @mentions the heads of the departments escalated to.

    A card (not a plain message) so the note, which anyone may write, is a TextRun; the
    mentions in its TextBlock notify exactly like those of a message.
    """
    mentions = Mentions()
    headline = f"🚨 {escalation_headline(say, notice, _style(mentions))}"
    prefix = f"mention-{notice.mention_id}-escalation"

    def build(note: str, was_cut: bool) -> dict:
        body = [text_block(headline, id=prefix)]
        if note:
            body.append(rich_text(f"{prefix}-note", [run(note)]))
        return adaptive_card(body, entities=mentions.entities, fallback_text=_plain(headline))

    return fit(build, notice.note or "", chars=INPUT_LIMIT)


def _plain(headline: str) -> str:
    """Return the headline for clients that cannot show the card: `@Name` instead of `<at>` tags."""
    return _AT.sub(r"@\1", headline)


def _draft_actions(draft: DraftView, say: Words) -> list[dict]:
    data = {"draft_id": draft.id}
    if draft.state is DraftState.AWAITING_APPROVAL:
        note = {"type": "Input.Text", "id": str(Input.NOTE), "label": say("draft.what_should_change"),
                "isMultiline": True, "maxLength": INPUT_LIMIT, "isRequired": True,
                "errorMessage": say("draft.say_what_should_change")}
        approve = say("draft.approve") if draft.manual else say("draft.approve_send")
        return [
            execute(approve, Verb.APPROVE, data, style="positive"),
            show_card(say("draft.request_changes"), [note], [execute(say("draft.send"), Verb.REQUEST_CHANGES, data)]),
        ]
    if draft.state is DraftState.FAILED:
        return [execute(say("card.retry"), Verb.RETRY, data, style="positive")]
    return []


def _style(mentions: Mentions) -> Style:
    """How a thread card fills in the core's words: people @mentioned, names escaped, typed text cut for a TextRun."""
    return Style(person=mentions, name=_name, department=_department, text=lambda text: clip(text, _NOTE_LIMIT))


def _name(person: PersonRef) -> str:
    return escape_markdown(clip(person.name, NAME_LIMIT))


def _department(department: DepartmentView) -> str:
    return escape_markdown(clip(department.name, NAME_LIMIT))
