"""Where a mention, a draft or a crisis step stands, in the catalogue's words: renderers add icons and layout."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bot.core.catalogue import Words
from bot.core.crisis.views import StepStatus, StepView
from bot.core.replies import reply_limit
from bot.core.storms.views import StormState, StormView
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
    MentionState.NEW: "state.new",
    MentionState.CLAIMED: "state.claimed",
    MentionState.ESCALATED: "state.escalated",
    MentionState.AWAITING_APPROVAL: "state.awaiting_approval",
    MentionState.ANSWERED: "state.answered",
    MentionState.CLOSED: "state.closed",
    MentionState.DISMISSED: "state.dismissed",
}
_REASONS = {
    DismissReason.SPAM: "state.reason_spam",
    DismissReason.NOT_RELEVANT: "state.reason_not_relevant",
    DismissReason.HANDLED_ELSEWHERE: "state.reason_handled_elsewhere",
}
_STEP_OUTCOMES = {StepStatus.DONE: "state.step_done", StepStatus.SKIPPED: "state.step_skipped"}
# A draft's headline, without and with the head who approved it.
_DRAFT_HEADLINES = {
    DraftState.SENDING: ("draft.sending", "draft.sending_approved"),
    DraftState.SENT: ("draft.sent", "draft.sent_approved"),
    DraftState.FAILED: ("draft.failed", "draft.failed_approved"),
    DraftState.BY_HAND: ("draft.by_hand", "draft.by_hand_approved"),
}
_STORM_DETAILS = {StormState.OPEN: "state.nobody_claimed", StormState.ANSWERED: "state.storm_answered",
                  StormState.DISMISSED: "state.storm_dismissed"}
# What the bot gave up on, by the job kind (bot/outbox/jobs.py JobKind) that failed.
_FAILURES = {
    "card": "card.failed_card", "draft": "card.failed_draft", "notice": "card.failed_notice",
    "crisis": "card.failed_crisis", "crisis_notice": "card.failed_crisis_notice", "reply": "card.failed_reply",
    "digest": "card.failed_digest", "storm_batch": "card.failed_storm_batch", "storm": "card.failed_storm",
    "spike": "card.failed_spike", "daily": "card.failed_daily",
}
_THOUSANDS = {"nl": "."}  # the thousands separator where it is not a comma


def mention_label(say: Words, state: MentionState) -> str:
    """Name a mention's state as a card's status starts: "Awaiting approval"."""
    return say(_MENTION_LABELS[state])


def mention_state_name(say: Words, state: MentionState) -> str:
    """Name a mention's state inside a sentence: "awaiting approval"."""
    return mention_label(say, state).lower()


def dismiss_reason(say: Words, reason: DismissReason) -> str:
    """Say why a mention needs no answer, as a choice in a dialog: "Not relevant"."""
    return say(_REASONS[reason])


def number(say: Words, value: int) -> str:
    """Write a whole number with its thousands grouped as the language does: 1,250 or 1.250."""
    return f"{value:,}".replace(",", _THOUSANDS.get(say.lang, ","))


def age(say: Words, minutes: int) -> str:
    """How long ago, in the largest unit that fits: "just now", "12 min ago", "3 h ago", "2 d ago"."""
    if minutes < 1:
        return say("card.age_now")
    if minutes < 60:
        return say("card.age_minutes", minutes=minutes)
    if minutes < 24 * 60:
        return say("card.age_hours", hours=minutes // 60)
    return say("card.age_days", days=minutes // (24 * 60))


def followers(say: Words, count: int) -> str:
    """Count an author's followers: "1 follower", "12,345 followers"."""
    return say("card.followers", count=count, shown=number(say, count))


def mention_status(say: Words, view: CardView, style: Style) -> StatusLine:
    """Say where a mention stands: its state and who holds it, where it went, and a failed delivery."""
    parts = []
    if view.claimed_by and view.state in (MentionState.ESCALATED, MentionState.AWAITING_APPROVAL):
        parts.append(say("card.claimed_by", person=style.person(view.claimed_by)))
    if view.escalated_to and view.state is not MentionState.ESCALATED:
        names = _departments(view.escalated_to, style)
        parts.append(say("card.escalated_to", departments=names) if names else say("card.escalated"))
    warning = None
    if view.draft and view.draft.state is DraftState.FAILED:
        warning = say("card.not_delivered", error=style.text(delivery_error(say, view.draft)))
    return StatusLine(mention_label(say, view.state), _detail(say, view, style), tuple(parts), warning)


def card_summary(say: Words, view: CardView, author: Callable[[str], str] = str) -> str:
    """Sum a card up for a notification: "X mention by @sannedv (awaiting approval)"; `author` cuts the name."""
    who = f"@{view.author_handle.lstrip('@')}" if view.author_handle else view.author_name
    return say("card.summary", network=network_label(view.network), author=author(who or say("card.someone")),
               state=mention_state_name(say, view.state))


def draft_headline(say: Words, draft: DraftView, style: Style) -> str:
    """Say where a reply draft stands: "Draft by Ann awaiting Bob:", "Reply by Ann, approved by Bob, sent"."""
    author = style.name(draft.author)
    match draft.state:
        case DraftState.AWAITING_APPROVAL:
            key = "draft.awaiting_by_hand" if draft.manual else "draft.awaiting"
            return say(key, author=author, approvers=_approvers(say, draft, style))
        case DraftState.CHANGES_REQUESTED:
            who = style.person(draft.decided_by) if draft.decided_by else say("draft.an_approver")
            return say("draft.changes_requested", approver=who, author=author)
    plain, approved = _DRAFT_HEADLINES[draft.state]
    if draft.decided_by:
        return say(approved, author=author, approver=style.person(draft.decided_by))
    return say(plain, author=author)


def undelivered_heading(say: Words) -> str:
    """Head the list of open mentions whose reply the network refused (`queue`)."""
    return say("draft.undelivered_heading")


def delivery_error(say: Words, draft: DraftView) -> str:
    """Say why a draft was not delivered, even when the network did not."""
    return draft.error or say("draft.unknown_error")


def escalation_headline(say: Words, notice: EscalationNotice, style: Style) -> str:
    """Say who escalated to which departments, naming each department's heads."""
    targets = ", ".join(_department_with_heads(d, style) for d in notice.departments) or say("draft.no_department")
    return say("draft.escalation", actor=style.name(notice.actor), departments=targets)


def failure_notice(say: Words, facts: Mapping[str, object]) -> str:
    """Say what the bot gave up on and why: "Mention #12 could not be shown on Slack: timeout".

    `facts`: the failed job's `kind` and `key`, the `platform` by name, the `mention`, `crisis` or `storm` it was
    about, a digest's `minute` or a summary's `day`, and the `reason`.
    """
    key = _FAILURES.get(str(facts.get("kind")))
    what = say(key, **facts) if key else say("card.failed_job", **facts)
    return f"{what}: {facts.get('reason')}"


def storm_detail(say: Words, view: StormView) -> str:
    """What a storm's state means for its members, in words ("" when its label says it all)."""
    key = _STORM_DETAILS.get(view.state)
    return say(key) if key else ""


def storm_counts(say: Words, view: StormView) -> str | None:
    """How its members stand once someone acted on the storm: answered, failed delivery, still waiting."""
    if not (view.handled or view.answered or view.failed):
        return None
    return say("state.storm_counts", answered=view.answered, failed=view.failed, waiting=view.waiting)


def crisis_name(say: Words, tag: CrisisTag, title: Callable[[str], str] = str) -> str:
    """Name a crisis: "Crisis #3: Service outage", or "Drill #3: …"; `title` escapes or cuts the title."""
    return say("card.drill_name" if tag.drill else "card.crisis_name", id=tag.id, title=title(tag.title))


def linked_mentions(say: Words, count: int) -> str:
    """Count the mentions linked to a crisis: "1 linked mention", "3 linked mentions"."""
    return say("state.linked_mentions", count=count)


def role_holders(say: Words, people: Iterable[PersonRef], person: Callable[[PersonRef], str]) -> str:
    """Name the people who hold a crisis role, or say that nobody does."""
    return ", ".join(person(p) for p in people) or say("state.nobody_holds_role")


def step_outcome(say: Words, step: StepView, person: Callable[[PersonRef], str]) -> str:
    """Say who closed a step: "Done by Ann", "Skipped by Bob"."""
    assert step.by is not None, "only a step someone closed has an outcome"
    return say(_STEP_OUTCOMES[step.status], person=person(step.by))


def _detail(say: Words, view: CardView, style: Style) -> str:
    match view.state:
        case MentionState.NEW:
            return f" — {say('state.nobody_claimed')}"
        case MentionState.CLAIMED:
            return _by(say, view.claimed_by, style)
        case MentionState.ESCALATED:
            names = _departments(view.escalated_to, style)
            return f" {say('card.to', departments=names)}" if names else ""
        case MentionState.AWAITING_APPROVAL:
            if view.draft is None:
                return ""
            waiting = say("card.draft_waiting", author=style.person(view.draft.author),
                          approvers=_approvers(say, view.draft, style))
            return f" — {waiting}"
        case MentionState.ANSWERED:
            return _answered(say, view, style)
        case MentionState.CLOSED:
            answered = _answered(say, view, style)
            return f" — {say('card.answered_how', how=answered.strip())}" if answered else ""
        case MentionState.DISMISSED:
            reason = f": {dismiss_reason(say, view.dismissed_reason).lower()}" if view.dismissed_reason else ""
            return f"{_by(say, view.dismissed_by, style)}{reason}"


def _by(say: Words, person: PersonRef | None, style: Style) -> str:
    return f" {say('card.by', person=style.person(person))}" if person else ""


def _departments(departments: tuple[DepartmentView, ...], style: Style) -> str:
    return ", ".join(style.department(d) for d in departments)


def _approvers(say: Words, draft: DraftView, style: Style) -> str:
    return ", ".join(style.person(p) for p in draft.approvers) or say("draft.a_department_head")


def _answered(say: Words, view: CardView, style: Style) -> str:
    after = f" {say('card.after', minutes=view.response_minutes)}" if view.response_minutes is not None else ""
    return f"{_by(say, view.answered_by, style)}{after}"


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


def answer_prompt(say: Words, network: str, connector: str | None, *, approval: str | None, heads: str,
                  escape: Callable[[str], str] = str) -> AnswerPrompt:
    """Say honestly where a reply goes: sent by a connector (`approval` by whom first), or posted by hand.

    `approval` is None, "escalated" or "crisis"; `heads` names who approves, as the renderer writes names;
    `escape` makes the network's and connector's names safe for the renderer's markup.
    """
    where = escape(network_label(network)) if network else say("answer.the_network")
    hint = say("answer.hint", network=where, limit=number(say, reply_limit(network)))
    if connector is None:
        if approval:
            return AnswerPrompt(say("answer.by_hand_approval", network=where, heads=heads),
                                say("answer.reply_to_approve"), say("answer.ask_approval"), hint)
        return AnswerPrompt(say("answer.by_hand", network=where), say("answer.what_you_replied"),
                            say("answer.save_answer"), hint)
    if approval:
        key = "answer.crisis_approval" if approval == "crisis" else "answer.escalated_approval"
        return AnswerPrompt(say(key, heads=heads, network=where, connector=escape(connector)),
                            say("answer.your_reply"), say("answer.ask_approval"), hint)
    return AnswerPrompt(say("answer.sent", network=where, connector=escape(connector)), say("answer.your_reply"),
                        say("answer.send_reply"), hint)
