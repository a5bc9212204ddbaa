"""Mention lifecycle rules (docs/contract.md §5): who may do what, from which state. Pure, no I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.core.catalogue import DEFAULT_LANG, Words, words
from bot.core.views import DismissReason, DraftState, MentionState, PersonRef

LEAD_ROLE = "webcare-lead"
OPEN_STATES = frozenset({MentionState.NEW, MentionState.CLAIMED, MentionState.ESCALATED})
DONE_STATES = frozenset({MentionState.ANSWERED, MentionState.CLOSED, MentionState.DISMISSED})
# What storage keeps of a person (claimed_by, audit actor, …): 200 characters, on SQLite and PostgreSQL alike.
KEY_LIMIT = 200
NAME_LIMIT = 200
_DIGEST = 24
# Still being handled: open, or a reply waiting for approval (values, as stored).
ACTIVE_STATES = tuple(s.value for s in (*OPEN_STATES, MentionState.AWAITING_APPROVAL))


class Phrase:
    """Words said later, in the reader's language: a catalogue key and its fields.

    A field may be a Phrase too, or a Joined list of them.
    """

    __slots__ = ("fields", "key")

    def __init__(self, key: str, /, **fields: object) -> None:
        self.key = key
        self.fields = fields

    def said(self, say: Words) -> str:
        """The phrase in `say`'s language."""
        return say(self.key, **{name: _said(value, say) for name, value in self.fields.items()})

    def __str__(self) -> str:
        return self.said(words(DEFAULT_LANG))

    def __repr__(self) -> str:
        return f"Phrase({self.key!r}, {self.fields!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and (self.key, self.fields) == (other.key, other.fields)

    __hash__ = None  # type: ignore[assignment]


def _said(value: object, say: Words) -> object:
    if isinstance(value, Phrase):
        return value.said(say)
    if isinstance(value, Joined):
        return value.separator.join(str(_said(item, say)) for item in value.items)
    return value


@dataclass(frozen=True, slots=True)
class Joined:
    """Phrases (or plain text) said one after the other, as one field of a Phrase."""

    items: tuple[Phrase | str, ...]
    separator: str = ", "


def either(names: Sequence[str], joined_by: str = "or") -> str | Phrase:
    """Names as a sentence lists them: "A", "A or B", "A, B or C" (`joined_by` "and": "A, B and C")."""
    if len(names) == 1:
        return names[0]
    key = "refusal.names_and" if joined_by == "and" else "refusal.names_or"
    return Phrase(key, first=", ".join(names[:-1]), last=names[-1])


class DomainError(Exception):
    """A refusal meant for the person who clicked: a catalogue key and its fields, said in their language.

    `str(exc)` (and `user_message`) is the English, for logs and the audit trail.
    """

    def __init__(self, key: str, /, **fields: object) -> None:
        self.phrase = Phrase(key, **fields)
        super().__init__(key)

    def said(self, say: Words) -> str:
        """The refusal in `say`'s language."""
        return self.phrase.said(say)

    @property
    def user_message(self) -> str:
        """The refusal in English."""
        return str(self.phrase)

    def __str__(self) -> str:
        return self.user_message


class NotFound(DomainError):
    """The mention or draft does not exist."""


class NotAllowed(DomainError):
    """This person may not do this."""


class IllegalTransition(DomainError):
    """The mention is not in a state where this makes sense."""


class AlreadyClaimed(DomainError):
    """Someone else holds the mention (or the storm)."""

    def __init__(self, by: PersonRef) -> None:
        super().__init__("refusal.already_claimed", person=by.name)
        self.by = by


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind a click or command, with their webcare.toml roles."""

    ref: PersonRef
    roles: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        """The stable identity stored in claims and audit rows."""
        return self.ref.key


SYSTEM = Actor(PersonRef(key="system", name="Webcare bot"))  # the bot itself, in audit rows and claims


def chat_actor(ref: PersonRef, roles: frozenset[str] = frozenset()) -> Actor:
    """The actor behind a chat payload, its name and key held to what storage keeps.

    A display name longer than `NAME_LIMIT` is cut with "…"; a key that long (a chat id nobody
    sends, but a payload could) keeps a digest of the whole, so two people never share a key.
    """
    key, name = ref.key, ref.name
    if len(key) > KEY_LIMIT:
        key = f"{key[:KEY_LIMIT - _DIGEST - 1]}~{hashlib.sha256(key.encode()).hexdigest()[:_DIGEST]}"
    if len(name) > NAME_LIMIT:
        name = name[:NAME_LIMIT - 1].rstrip() + "…"
    return Actor(replace(ref, key=key, name=name) if (key, name) != (ref.key, ref.name) else ref, roles)


@dataclass(frozen=True, slots=True)
class MentionFacts:
    """The part of a stored mention the rules look at."""

    id: int
    state: MentionState
    claimed_by: PersonRef | None
    escalated_to: tuple[str, ...] = ()
    reply_via: str | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """A decided change: the new state, the columns to set, and what the audit row says."""

    action: str
    to_state: MentionState
    changes: dict[str, Any] = field(default_factory=dict)
    detail: str | None = None


_STATE_WORDS = {
    MentionState.NEW: "refusal.state_new",
    MentionState.CLAIMED: "refusal.state_claimed",
    MentionState.ESCALATED: "refusal.state_escalated",
    MentionState.AWAITING_APPROVAL: "refusal.state_awaiting_approval",
    MentionState.ANSWERED: "refusal.state_answered",
    MentionState.CLOSED: "refusal.state_closed",
    MentionState.DISMISSED: "refusal.state_dismissed",
}
# What was refused, as "Cannot {action}: …" says it.
_CLAIM, _UNCLAIM, _ESCALATE = Phrase("refusal.do_claim"), Phrase("refusal.do_unclaim"), Phrase("refusal.do_escalate")
_ANSWER, _RETRY, _DISMISS = Phrase("refusal.do_answer"), Phrase("refusal.do_retry"), Phrase("refusal.do_dismiss")
_REOPEN, _CLOSE = Phrase("refusal.do_reopen"), Phrase("refusal.do_close")


def _refuse(action: Phrase, m: MentionFacts) -> IllegalTransition:
    return IllegalTransition("refusal.mention_is", action=action, state=Phrase(_STATE_WORDS[m.state]))


def _claim_fields(actor: Actor) -> dict[str, Any]:
    return {"claimed_by": actor.key, "claimed_by_name": actor.ref.name}


_UNCLAIMED = {"claimed_by": None, "claimed_by_name": None}


def _require_holder(action: Phrase, m: MentionFacts, actor: Actor) -> dict[str, Any]:
    """Only the claimant (or a lead) handles a claimed mention; acting on an unclaimed one claims it."""
    if m.claimed_by is None:
        return _claim_fields(actor)
    if m.claimed_by.key != actor.key and LEAD_ROLE not in actor.roles:
        raise NotAllowed("refusal.held_by", action=action, person=m.claimed_by.name)
    return {}


def claim(m: MentionFacts, actor: Actor) -> Transition:
    """Take a mention so nobody else handles it."""
    if m.claimed_by is not None:
        if m.claimed_by.key == actor.key:
            raise IllegalTransition("refusal.claimed_by_you")
        raise AlreadyClaimed(m.claimed_by)
    if m.state not in OPEN_STATES:
        raise _refuse(_CLAIM, m)
    to = MentionState.CLAIMED if m.state == MentionState.NEW else m.state
    return Transition("claim", to, _claim_fields(actor))


def unclaim(m: MentionFacts, actor: Actor) -> Transition:
    """Give a mention back to the queue: its claimant or a webcare lead."""
    if m.claimed_by is None:
        raise IllegalTransition("refusal.nobody_claimed")
    if m.claimed_by.key != actor.key and LEAD_ROLE not in actor.roles:
        raise NotAllowed("refusal.unclaim_not_yours", person=m.claimed_by.name)
    if m.state not in OPEN_STATES:
        raise _refuse(_UNCLAIM, m)
    to = MentionState.NEW if m.state == MentionState.CLAIMED else m.state
    return Transition("unclaim", to, dict(_UNCLAIMED), detail=f"was {m.claimed_by.name}")


def escalate(m: MentionFacts, actor: Actor, departments: tuple[str, ...], known: set[str]) -> Transition:
    """Pull departments in: from now on a reply needs one of their heads' approval."""
    if not departments:
        raise DomainError("refusal.pick_department")
    unknown = [d for d in departments if d not in known]
    if unknown:
        raise DomainError("refusal.unknown_department", departments=", ".join(unknown))
    if m.state not in OPEN_STATES:
        raise _refuse(_ESCALATE, m)
    changes = _require_holder(_ESCALATE, m, actor)
    merged = tuple(dict.fromkeys((*m.escalated_to, *departments)))
    return Transition("escalate", MentionState.ESCALATED, {**changes, "escalated_to": list(merged)},
                      detail=", ".join(departments))


def submit_reply(m: MentionFacts, actor: Actor, *, crisis_approval: bool = False) -> tuple[Transition, DraftState]:
    """Decide what a written reply becomes: a draft awaiting approval, a delivery, or a by-hand answer.

    A reply waits for approval when the mention was escalated, or when its crisis' policy says so.
    """
    if m.state not in OPEN_STATES:
        raise _refuse(_ANSWER, m)
    changes = _require_holder(_ANSWER, m, actor)
    if m.escalated_to or crisis_approval:
        return Transition("submit_draft", MentionState.AWAITING_APPROVAL, changes), DraftState.AWAITING_APPROVAL
    if m.reply_via is None:
        return Transition("answer_by_hand", MentionState.ANSWERED, changes), DraftState.BY_HAND
    return Transition("answer", MentionState.ANSWERED, changes), DraftState.SENDING


def delivery_failed(m: MentionFacts, reason: str) -> Transition:
    """A reply the network refused for good: its mention is open again, held as before, until Retry delivers it.

    A mention reopened while its reply was on its way keeps its state; the failure is only noted.
    """
    if m.state not in (MentionState.ANSWERED, MentionState.CLOSED):
        return Transition("reply_failed", m.state, detail=reason)
    if m.escalated_to:
        to = MentionState.ESCALATED
    else:
        to = MentionState.CLAIMED if m.claimed_by else MentionState.NEW
    return Transition("reply_failed", to, detail=reason)


def retry_delivery(m: MentionFacts, actor: Actor, draft_state: DraftState, *, approved: bool,
                   needs_approval: bool) -> Transition:
    """Send a failed reply again, unchanged: the claimant or a lead, while nothing newer was decided.

    A reply written before the mention was escalated (or its crisis asked for approval) is not sent
    without that approval: it has to be answered again.
    """
    if draft_state is DraftState.SENDING:
        raise IllegalTransition("refusal.reply_on_its_way")
    if draft_state is not DraftState.FAILED:
        raise IllegalTransition("refusal.retry_only_failed")
    if m.state not in OPEN_STATES:
        raise _refuse(_RETRY, m)
    if needs_approval and not approved:
        raise IllegalTransition("refusal.retry_needs_approval")
    changes = _require_holder(_RETRY, m, actor)
    return Transition("retry_delivery", MentionState.ANSWERED, changes)


def approve(m: MentionFacts, actor: Actor, draft_author: str, draft_state: DraftState, heads: set[str]) -> Transition:
    """A head of an escalated department (not the author) lets a draft go out."""
    _check_approver(m, actor, draft_author, draft_state, heads, _APPROVE)
    return Transition("approve", MentionState.ANSWERED)


def request_changes(m: MentionFacts, actor: Actor, draft_author: str, draft_state: DraftState,
                    heads: set[str], note: str | None) -> Transition:
    """A head sends a draft back to its author."""
    _check_approver(m, actor, draft_author, draft_state, heads, _REQUEST_CHANGES)
    return Transition("request_changes", MentionState.ESCALATED, detail=note)


# A reviewer's refusals: (no longer waiting, not a head, own draft), for Approve and for Request changes.
_APPROVE = ("refusal.approve_not_waiting", "refusal.approve_not_head", "refusal.approve_own_draft")
_REQUEST_CHANGES = ("refusal.request_changes_not_waiting", "refusal.request_changes_not_head",
                    "refusal.request_changes_own_draft")


def _check_approver(m: MentionFacts, actor: Actor, author: str, draft_state: DraftState,
                    heads: set[str], refusals: tuple[str, str, str]) -> None:
    not_waiting, not_head, own_draft = refusals
    if draft_state != DraftState.AWAITING_APPROVAL or m.state != MentionState.AWAITING_APPROVAL:
        raise IllegalTransition(not_waiting)
    if actor.key not in heads:
        raise NotAllowed(not_head, departments=", ".join(m.escalated_to))
    if actor.key == author:
        raise NotAllowed(own_draft)


def dismiss(m: MentionFacts, actor: Actor, reason: DismissReason) -> Transition:
    """Close a mention that needs no answer, with the reason."""
    if m.state not in OPEN_STATES:
        raise _refuse(_DISMISS, m)
    changes = _require_holder(_DISMISS, m, actor)
    return Transition("dismiss", MentionState.DISMISSED, {**changes, "dismissed_reason": reason.value},
                      detail=reason.value.replace("_", " "))


def reopen(m: MentionFacts, actor: Actor) -> Transition:
    """Put an answered, closed or dismissed mention back in the queue."""
    if m.state not in DONE_STATES:
        raise _refuse(_REOPEN, m)
    return Transition("reopen", MentionState.NEW, {**_UNCLAIMED, "dismissed_reason": None, "escalated_to": []})


def close(m: MentionFacts, actor: Actor) -> Transition:
    """Mark an answered mention as finished."""
    if m.state != MentionState.ANSWERED:
        raise _refuse(_CLOSE, m)
    return Transition("close", MentionState.CLOSED)
