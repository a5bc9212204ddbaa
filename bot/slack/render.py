"""Render triage cards, draft replies and escalation notices as Block Kit messages."""

from __future__ import annotations

import re

from bot.core.catalogue import Words
from bot.core.sla_clock import ClockStage
from bot.core.sla_words import clock_line
from bot.core.storms.priority_words import reason_words
from bot.core.views import (
    CardView,
    CrisisTag,
    DepartmentView,
    DraftState,
    DraftView,
    EscalationNotice,
    MentionState,
    PersonRef,
    network_label,
)
from bot.core.wording import (
    Style,
    age,
    card_summary,
    crisis_name,
    delivery_error,
    draft_headline,
    escalation_headline,
    followers,
    mention_status,
)
from bot.slack.escape import escape_body, escape_mrkdwn, link, safe_url, split, truncate
from bot.slack.ids import PLATFORM, Action, MoreOption

Message = tuple[str, list[dict]]
"""The fallback (notification) text and the blocks of one message."""

SECTION_LIMIT = 3000  # Block Kit: mrkdwn text of a section; also our cap on notification text
_NAME_LIMIT = 80  # one name or handle inside a line
_SNIPPET_LIMIT = 300  # customer text in a card's notification
_NOTE_LIMIT = 1000  # a note or delivery error inside a line
_TEXT_LIMIT = 10 * SECTION_LIMIT  # long texts span at most ~11 sections, far below 50 blocks
_MENU_MAX = 5  # Block Kit: options of an overflow menu
_OPTION_LIMIT = 75  # Block Kit: text of an option
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")

_WORKING = frozenset({MentionState.NEW, MentionState.CLAIMED, MentionState.ESCALATED})
_DONE = frozenset({MentionState.ANSWERED, MentionState.CLOSED, MentionState.DISMISSED})
_STATE_ICONS = {
    MentionState.NEW: ":new:",
    MentionState.CLAIMED: ":raising_hand:",
    MentionState.ESCALATED: ":rotating_light:",
    MentionState.AWAITING_APPROVAL: ":hourglass_flowing_sand:",
    MentionState.ANSWERED: ":white_check_mark:",
    MentionState.CLOSED: ":lock:",
    MentionState.DISMISSED: ":no_entry_sign:",
}
_DRAFT_ICONS = {
    DraftState.AWAITING_APPROVAL: ":hourglass_flowing_sand:",
    DraftState.CHANGES_REQUESTED: ":memo:",
    DraftState.SENDING: ":outbox_tray:",
    DraftState.SENT: ":white_check_mark:",
    DraftState.FAILED: ":warning:",
    DraftState.BY_HAND: ":writing_hand:",
}


def render_card(view: CardView, say: Words) -> Message:
    """Render a mention as a triage card: who wrote what, where, and where it stands."""
    url = safe_url(view.url)
    prefix = f"mention-{view.mention_id}"
    text = truncate(escape_body(view.text), SECTION_LIMIT, url) or f"_{say('card.no_text')}_"
    blocks = [
        {"type": "context", "block_id": f"{prefix}-author", "elements": [_mrkdwn(_byline(view, say))]},
        {"type": "context", "block_id": f"{prefix}-priority", "elements": [_mrkdwn(_priority(view, say))]},
        *_crisis_tag(prefix, view.crisis, view.crisis_rule, say),
        *_storm_tag(prefix, view.storm_id, say),
        _section(f"{prefix}-text", text),
        _section(f"{prefix}-status", truncate(_status(view, say), SECTION_LIMIT)),
        *_clock(prefix, view, say),
    ]
    if elements := _card_elements(view, url, say):
        blocks.append({"type": "actions", "block_id": f"{prefix}-actions", "elements": elements})
    return _card_fallback(view, say), blocks


def render_draft(draft: DraftView, say: Words) -> Message:
    """Render a reply draft in the card's thread, with approval buttons while it waits."""
    prefix = f"mention-{draft.mention_id}-draft-{draft.id}"
    headline = truncate(_draft_headline(draft, say), SECTION_LIMIT)
    blocks = [_section(f"{prefix}-state", headline), *_text_sections(f"{prefix}-text", draft.text, say)]
    value = str(draft.id)
    if draft.state is DraftState.AWAITING_APPROVAL:
        approve = say("draft.approve") if draft.manual else say("draft.approve_send")
        buttons = [
            _button(approve, Action.APPROVE, value, style="primary"),
            _button(say("draft.request_changes"), Action.REQUEST_CHANGES, value),
        ]
        blocks.append({"type": "actions", "block_id": f"{prefix}-actions", "elements": buttons})
    elif draft.state is DraftState.FAILED:
        retry = [_button(say("card.retry"), Action.RETRY, value, style="primary")]
        blocks.append({"type": "actions", "block_id": f"{prefix}-actions", "elements": retry})
    return headline, blocks


def render_escalation_notice(notice: EscalationNotice, say: Words) -> Message:
    """Render the thread message that pings the heads of the departments escalated to."""
    prefix = f"mention-{notice.mention_id}-escalation"
    headline = truncate(f":rotating_light: {escalation_headline(say, notice, _STYLE)}", SECTION_LIMIT)
    notes = _text_sections(f"{prefix}-note", notice.note, say) if notice.note else []
    return headline, [_section(prefix, headline), *notes]


def crisis_label(say: Words, tag: CrisisTag) -> str:
    """Name a crisis in plain words: "Crisis #3: Service outage" (or "Drill #3: …")."""
    return crisis_name(say, tag)


def _crisis_tag(prefix: str, tag: CrisisTag | None, rule: str | None, say: Words) -> list[dict]:
    if tag is None:
        return []
    icon = ":performing_arts:" if tag.drill else ":rotating_light:"
    text = f"{icon} *{escape_mrkdwn(crisis_label(say, tag))}*" + (f" — {escape_mrkdwn(rule)}" if rule else "")
    text = truncate(text, _NOTE_LIMIT)
    return [{"type": "context", "block_id": f"{prefix}-crisis", "elements": [_mrkdwn(text)]}]


def _storm_tag(prefix: str, storm_id: int | None, say: Words) -> list[dict]:
    if storm_id is None:
        return []
    storm = f"*{say('card.storm_name', id=storm_id)}*"
    text = f":tornado: {say('card.storm_member', storm=storm)}"
    return [{"type": "context", "block_id": f"{prefix}-storm", "elements": [_mrkdwn(text)]}]


def mention(person: PersonRef) -> str:
    """Return a Slack ping for someone with a known Slack id, else their escaped name."""
    slack_id = person.chat_id(PLATFORM)
    if slack_id and _SLACK_USER.fullmatch(slack_id):
        return f"<@{slack_id}>"
    return _name(person)


def _name(person: PersonRef) -> str:
    return truncate(escape_mrkdwn(person.name), _NAME_LIMIT)


def _byline(view: CardView, say: Words) -> str:
    parts = [f"*{truncate(escape_mrkdwn(network_label(view.network)), _NAME_LIMIT)}*"]
    if view.author_name:
        parts.append(truncate(escape_mrkdwn(view.author_name), _NAME_LIMIT))
    if view.author_handle:
        handle = "@" + view.author_handle.lstrip("@")[:_NAME_LIMIT]
        profile = safe_url(view.author_url)
        parts.append(link(profile, handle) if profile else escape_mrkdwn(handle))
    if view.author_verified:
        parts.append(say("card.verified"))
    if view.author_followers is not None:
        parts.append(followers(say, view.author_followers))
    parts.append(age(say, view.age_minutes))
    return " · ".join(parts)


def _priority(view: CardView, say: Words) -> str:
    """The level in bold, then why (the reasons name keywords from webcare.toml: escaped all the same)."""
    reasons = (escape_mrkdwn(reason_words(reason, say)) for reason in view.priority_reasons)
    return " · ".join((f"*{view.priority_level}*", *reasons))


def _status(view: CardView, say: Words) -> str:
    status = mention_status(say, view, _STYLE)
    parts = [f"{_STATE_ICONS[view.state]} *{status.label}*{status.detail}", *status.parts]
    if status.warning:
        parts.append(f":warning: {status.warning}")
    return " · ".join(parts)


def _department(department: DepartmentView) -> str:
    return truncate(escape_mrkdwn(department.name), _NAME_LIMIT)


def _note(text: str) -> str:
    return truncate(escape_mrkdwn(text), _NOTE_LIMIT)


# How Slack writes names into the core's words: people pinged where Slack knows them, all text escaped for mrkdwn.
_STYLE = Style(person=mention, name=_name, department=_department, text=_note)


def _clock(prefix: str, view: CardView, say: Words) -> list[dict]:
    """The first-response clock while one is owed: time left and the due time, or how long overdue."""
    line = clock_line(view.clock, view.now, view.zone, say)
    if line is None or view.clock is None:
        return []
    icon = ":red_circle:" if view.clock.stage is ClockStage.OVERDUE else ":stopwatch:"
    return [{"type": "context", "block_id": f"{prefix}-clock", "elements": [_mrkdwn(f"{icon} {line}")]}]


def _card_elements(view: CardView, url: str | None, say: Words) -> list[dict]:
    value = str(view.mention_id)
    elements = []
    if view.state in _WORKING:
        if view.claimed_by is None:
            elements.append(_button(say("card.claim"), Action.CLAIM, value, style="primary"))
        if view.draft is not None and view.draft.state is DraftState.FAILED:  # the reason is in the status line
            elements.append(_button(say("card.retry"), Action.RETRY, str(view.draft.id), style="primary"))
        elements.append(_button(say("card.escalate"), Action.ESCALATE, value))
        elements.append(_button(say("card.answer"), Action.ANSWER, value))
        elements.append(_button(say("card.dismiss"), Action.DISMISS, value))
    if url:
        elements.append({**_button(say("card.open_post"), Action.OPEN_POST, value), "url": url})
    return elements + _more(view, say)


def _more(view: CardView, say: Words) -> list[dict]:
    """Return the overflow menu of secondary actions (Slack allows 1 to 5 options)."""
    options = []
    if view.claimed_by and view.state in _WORKING:
        options.append((say("card.unclaim"), f"{MoreOption.UNCLAIM}:{view.mention_id}"))
    if view.state in _DONE:
        options.append((say("card.reopen"), f"{MoreOption.REOPEN}:{view.mention_id}"))
    if view.state is MentionState.ANSWERED:
        options.append((say("card.close"), f"{MoreOption.CLOSE}:{view.mention_id}"))
    if view.crisis is not None:
        options.append((say("card.unlink"), f"{MoreOption.UNLINK}:{view.mention_id}"))
    for tag in view.linkable[: _MENU_MAX - len(options)]:
        label = say("card.link", crisis=crisis_label(say, tag))
        options.append((label, f"{MoreOption.LINK}:{view.mention_id}:{tag.id}"))
    if not options:
        return []
    menu = [{"text": _plain(_option_text(label)), "value": value} for label, value in options]
    return [{"type": "overflow", "action_id": str(Action.MORE), "options": menu}]


def _option_text(label: str) -> str:
    """Cut an option's label to what Slack allows (plain text: nothing in it is live)."""
    return label if len(label) <= _OPTION_LIMIT else label[: _OPTION_LIMIT - 1] + "…"


def _card_fallback(view: CardView, say: Words) -> str:
    snippet = truncate(escape_mrkdwn(view.text), _SNIPPET_LIMIT)
    return f"{truncate(escape_mrkdwn(card_summary(say, view)), _NOTE_LIMIT)}: {snippet}"


def _draft_headline(draft: DraftView, say: Words) -> str:
    """The draft's state in words; Slack adds the change note and the delivery error to the line itself."""
    headline = f"{_DRAFT_ICONS[draft.state]} {draft_headline(say, draft, _STYLE)}"
    if draft.state is DraftState.CHANGES_REQUESTED and draft.note:
        return f"{headline}: {_note(draft.note)}"
    if draft.state is DraftState.FAILED:
        return f"{headline}: {_note(delivery_error(say, draft))}"
    return headline


def _text_sections(block_id: str, text: str, say: Words) -> list[dict]:
    escaped = truncate(escape_body(text), _TEXT_LIMIT) or f"_{say('draft.empty')}_"
    pieces = split(escaped, SECTION_LIMIT)
    return [_section(f"{block_id}-{i}", piece) for i, piece in enumerate(pieces)]


def _section(block_id: str, text: str) -> dict:
    return {"type": "section", "block_id": block_id, "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict:
    """Return a `verbatim` mrkdwn text object: Slack links and pings only what our own `<…>` syntax says."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def _button(label: str, action: Action, value: str, *, style: str | None = None) -> dict:
    button = {"type": "button", "action_id": str(action), "text": _plain(label), "value": value}
    return {**button, "style": style} if style else button
