"""The words for where a mention, a draft or a crisis step stands, in one table: renderers add icons and layout."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.core.crisis.views import StepStatus, StepView
from bot.core.replies import reply_limit
from bot.core.storms.views import StormState, StormView
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


@dataclass(frozen=True, slots=True)
class Style:
    """How one renderer writes what goes into the words: people, departments and typed text, escaped and cut."""

    person: Callable[[PersonRef], str]  # someone the words are about: pinged where the platform can
    name: Callable[[PersonRef], str]  # who wrote a draft or escalated: named, never pinged
    department: Callable[[DepartmentView], str]
    text: Callable[[str], str]  # a note or a delivery error, as someone typed or a network said it


@dataclass(frozen=True, slots=True)
class StatusLine:
    """A card's status in words: the state's label, the phrase right after it, and the parts that follow."""

    label: str  # "Awaiting approval"
    detail: str  # follows the label directly: " — draft by Ann waiting for Bob"
    parts: tuple[str, ...]  # each its own phrase: "claimed by Ann", "escalated to Legal"
    warning: str | None  # goes behind the renderer's warning sign: "reply not delivered: timeout"


_MENTION_LABELS = {
    MentionState.NEW: "New",
    MentionState.CLAIMED: "Claimed",
    MentionState.ESCALATED: "Escalated",
    MentionState.AWAITING_APPROVAL: "Awaiting approval",
    MentionState.ANSWERED: "Answered",
    MentionState.CLOSED: "Closed",
    MentionState.DISMISSED: "Dismissed",
}

_STEP_OUTCOMES = {StepStatus.DONE: "Done", StepStatus.SKIPPED: "Skipped"}


def mention_label(state: MentionState) -> str:
    """Name a mention's state as a card's status starts: "Awaiting approval"."""
    return _MENTION_LABELS[state]


def mention_state_name(state: MentionState) -> str:
    """Name a mention's state inside a sentence: "awaiting approval"."""
    return _MENTION_LABELS[state].lower()


def mention_status(view: CardView, style: Style) -> StatusLine:
    """Say where a mention stands: its state and who holds it, where it went, and a failed delivery."""
    parts = []
    if view.claimed_by and view.state in (MentionState.ESCALATED, MentionState.AWAITING_APPROVAL):
        parts.append(f"claimed by {style.person(view.claimed_by)}")
    if view.escalated_to and view.state is not MentionState.ESCALATED:
        parts.append(f"escalated{_to(view.escalated_to, style)}")
    warning = None
    if view.draft and view.draft.state is DraftState.FAILED:
        warning = f"reply not delivered: {style.text(delivery_error(view.draft))}"
    return StatusLine(mention_label(view.state), _detail(view, style), tuple(parts), warning)


def card_summary(view: CardView, author: Callable[[str], str] = str) -> str:
    """Sum a card up for a notification: "X mention by @sannedv (awaiting approval)"; `author` cuts the name."""
    who = f"@{view.author_handle.lstrip('@')}" if view.author_handle else view.author_name
    return f"{network_label(view.network)} mention by {author(who or 'someone')} ({mention_state_name(view.state)})"


def draft_headline(draft: DraftView, style: Style) -> str:
    """Say where a reply draft stands: "Draft by Ann awaiting Bob:", "Reply by Ann, approved by Bob, sent"."""
    author = style.name(draft.author)
    approved = f", approved by {style.person(draft.decided_by)}" if draft.decided_by else ""
    match draft.state:
        case DraftState.AWAITING_APPROVAL:
            by_hand = " (to be posted by hand)" if draft.manual else ""
            return f"Draft by {author} awaiting {_approvers(draft, style)}{by_hand}:"
        case DraftState.CHANGES_REQUESTED:
            who = style.person(draft.decided_by) if draft.decided_by else "an approver"
            return f"Changes requested by {who} on the draft by {author}"
        case DraftState.SENDING:
            return f"Reply by {author}{approved}, sending…"
        case DraftState.SENT:
            return f"Reply by {author}{approved}, sent"
        case DraftState.FAILED:
            return f"Reply by {author}{approved}, not delivered"
        case DraftState.BY_HAND:
            return f"Answered by hand by {author}{approved}:"


def undelivered_heading() -> str:
    """Head the list of open mentions whose reply the network refused (`queue`)."""
    return "Reply not delivered (Retry on the card):"


def delivery_error(draft: DraftView) -> str:
    """Say why a draft was not delivered, even when the network did not."""
    return draft.error or "unknown error"


def escalation_headline(notice: EscalationNotice, style: Style) -> str:
    """Say who escalated to which departments, naming each department's heads."""
    targets = ", ".join(_department_with_heads(d, style) for d in notice.departments) or "no department"
    return f"{style.name(notice.actor)} escalated to {targets}"


_STORM_DETAILS = {
    StormState.OPEN: "nobody has claimed it yet",
    StormState.ANSWERED: "one reply to each open mention below P1",
    StormState.DISMISSED: "every open mention below P1 needs no answer",
}


def storm_detail(view: StormView) -> str:
    """What a storm's state means for its members, in words ("" when its label says it all)."""
    return _STORM_DETAILS.get(view.state, "")


def storm_counts(view: StormView) -> str | None:
    """How its members stand once someone acted on the storm: answered, failed delivery, still waiting."""
    if not (view.handled or view.answered or view.failed):
        return None
    return f"answered {view.answered} · failed {view.failed} · waiting {view.waiting}"


def crisis_name(tag: CrisisTag, title: Callable[[str], str] = str) -> str:
    """Name a crisis: "Crisis #3: Service outage", or "Drill #3: …"; `title` escapes or cuts the title."""
    return f"{'Drill' if tag.drill else 'Crisis'} #{tag.id}: {title(tag.title)}"


def linked_mentions(count: int) -> str:
    """Count the mentions linked to a crisis: "1 linked mention", "3 linked mentions"."""
    return f"{count} linked mention{'' if count == 1 else 's'}"


def role_holders(people: Iterable[PersonRef], person: Callable[[PersonRef], str]) -> str:
    """Name the people who hold a crisis role, or say that nobody does."""
    return ", ".join(person(p) for p in people) or "nobody holds this role"


def step_outcome(step: StepView, person: Callable[[PersonRef], str]) -> str:
    """Say who closed a step: "Done by Ann", "Skipped by Bob"."""
    assert step.by is not None, "only a step someone closed has an outcome"
    return f"{_STEP_OUTCOMES[step.status]} by {person(step.by)}"


def _detail(view: CardView, style: Style) -> str:
    match view.state:
        case MentionState.NEW:
            return " — nobody has claimed it yet"
        case MentionState.CLAIMED:
            return _by(view.claimed_by, style)
        case MentionState.ESCALATED:
            return _to(view.escalated_to, style)
        case MentionState.AWAITING_APPROVAL:
            return _waiting(view.draft, style)
        case MentionState.ANSWERED:
            return _answered(view, style)
        case MentionState.CLOSED:
            answered = _answered(view, style)
            return f" — answered{answered}" if answered else ""
        case MentionState.DISMISSED:
            reason = f": {view.dismissed_reason.label}" if view.dismissed_reason else ""
            return f"{_by(view.dismissed_by, style)}{reason}"


def _by(person: PersonRef | None, style: Style) -> str:
    return f" by {style.person(person)}" if person else ""


def _to(departments: tuple[DepartmentView, ...], style: Style) -> str:
    names = ", ".join(style.department(d) for d in departments)
    return f" to {names}" if names else ""


def _waiting(draft: DraftView | None, style: Style) -> str:
    if draft is None:
        return ""
    return f" — draft by {style.person(draft.author)} waiting for {_approvers(draft, style)}"


def _approvers(draft: DraftView, style: Style) -> str:
    return ", ".join(style.person(p) for p in draft.approvers) or "a department head"


def _answered(view: CardView, style: Style) -> str:
    after = f" after {view.response_minutes} min" if view.response_minutes is not None else ""
    return f"{_by(view.answered_by, style)}{after}"


def _department_with_heads(department: DepartmentView, style: Style) -> str:
    heads = ", ".join(style.person(h) for h in department.heads)
    return f"{style.department(department)} ({heads})" if heads else style.department(department)


@dataclass(frozen=True, slots=True)
class AnswerPrompt:
    """What the Answer dialog says happens to the reply, the reply field's label and hint, and its submit button."""

    explain: str
    label: str
    submit: str
    hint: str  # "X allows 280 characters."


def answer_prompt(network: str, connector: str | None, *, approval: str | None, heads: str,
                  escape: Callable[[str], str] = str) -> AnswerPrompt:
    """Say honestly where a reply goes: sent by a connector (`approval` by whom first), or posted by hand.

    `approval` is None, "escalated" or "crisis"; `heads` names who approves, as the renderer writes names;
    `escape` makes the network's and connector's names safe for the renderer's markup.
    """
    where = escape(network_label(network)) if network else "the network"
    hint = f"{where} allows {reply_limit(network):,} characters."
    if connector is None:
        if approval:
            return AnswerPrompt(f"No connector sends replies for {where}: {heads} must approve it before you post it "
                                f"yourself on {where}.", "Reply to approve", "Ask approval", hint)
        return AnswerPrompt(f"No connector sends replies for {where}: post this reply yourself on {where}, then "
                            "submit to record it as answered by hand.", "What you replied", "Save answer", hint)
    sent = f"sent to {where} through the {escape(connector)} connector"
    if approval:
        why = "linked to a crisis" if approval == "crisis" else "escalated"
        return AnswerPrompt(f"This mention is {why}: {heads} must approve your reply before it is {sent}.",
                            "Your reply", "Ask approval", hint)
    return AnswerPrompt(f"{sent[0].upper()}{sent[1:]} when you submit.", "Your reply", "Send reply", hint)
