"""Mention lifecycle rules (docs/contract.md §5): who may do what, from which state. Pure, no I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

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


class DomainError(Exception):
    """A refusal with a message meant for the person who clicked."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class NotFound(DomainError):
    """The mention or draft does not exist."""


class NotAllowed(DomainError):
    """This person may not do this."""


class IllegalTransition(DomainError):
    """The mention is not in a state where this makes sense."""


class AlreadyClaimed(DomainError):
    """Someone else holds the mention."""

    def __init__(self, by: PersonRef) -> None:
        super().__init__(f"Already claimed by {by.name}.")
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
    MentionState.NEW: "new",
    MentionState.CLAIMED: "claimed",
    MentionState.ESCALATED: "escalated",
    MentionState.AWAITING_APPROVAL: "waiting for approval of a reply",
    MentionState.ANSWERED: "already answered",
    MentionState.CLOSED: "closed",
    MentionState.DISMISSED: "dismissed",
}


def _refuse(verb: str, m: MentionFacts) -> IllegalTransition:
    return IllegalTransition(f"Cannot {verb}: this mention is {_STATE_WORDS[m.state]}.")


def _claim_fields(actor: Actor) -> dict[str, Any]:
    return {"claimed_by": actor.key, "claimed_by_name": actor.ref.name}


_UNCLAIMED = {"claimed_by": None, "claimed_by_name": None}


def _require_holder(verb: str, m: MentionFacts, actor: Actor) -> dict[str, Any]:
    """Only the claimant (or a lead) handles a claimed mention; acting on an unclaimed one claims it."""
    if m.claimed_by is None:
        return _claim_fields(actor)
    if m.claimed_by.key != actor.key and LEAD_ROLE not in actor.roles:
        raise NotAllowed(f"Cannot {verb}: {m.claimed_by.name} has claimed this mention.")
    return {}


def claim(m: MentionFacts, actor: Actor) -> Transition:
    """Take a mention so nobody else handles it."""
    if m.claimed_by is not None:
        if m.claimed_by.key == actor.key:
            raise IllegalTransition("You have already claimed this mention.")
        raise AlreadyClaimed(m.claimed_by)
    if m.state not in OPEN_STATES:
        raise _refuse("claim", m)
    to = MentionState.CLAIMED if m.state == MentionState.NEW else m.state
    return Transition("claim", to, _claim_fields(actor))


def unclaim(m: MentionFacts, actor: Actor) -> Transition:
    """Give a mention back to the queue: its claimant or a webcare lead."""
    if m.claimed_by is None:
        raise IllegalTransition("Nobody has claimed this mention.")
    if m.claimed_by.key != actor.key and LEAD_ROLE not in actor.roles:
        raise NotAllowed(f"Only {m.claimed_by.name} or a webcare lead can unclaim this mention.")
    if m.state not in OPEN_STATES:
        raise _refuse("unclaim", m)
    to = MentionState.NEW if m.state == MentionState.CLAIMED else m.state
    return Transition("unclaim", to, dict(_UNCLAIMED), detail=f"was {m.claimed_by.name}")


def escalate(m: MentionFacts, actor: Actor, departments: tuple[str, ...], known: set[str]) -> Transition:
    """Pull departments in: from now on a reply needs one of their heads' approval."""
    if not departments:
        raise DomainError("Pick at least one department to escalate to.")
    unknown = [d for d in departments if d not in known]
    if unknown:
        raise DomainError(f"Unknown department: {', '.join(unknown)}.")
    if m.state not in OPEN_STATES:
        raise _refuse("escalate", m)
    changes = _require_holder("escalate", m, actor)
    merged = tuple(dict.fromkeys((*m.escalated_to, *departments)))
    return Transition("escalate", MentionState.ESCALATED, {**changes, "escalated_to": list(merged)},
                      detail=", ".join(departments))


def submit_reply(m: MentionFacts, actor: Actor, *, crisis_approval: bool = False) -> tuple[Transition, DraftState]:
    """Decide what a written reply becomes: a draft awaiting approval, a delivery, or a by-hand answer.

    A reply waits for approval when the mention was escalated, or when its crisis' policy says so.
    """
    if m.state not in OPEN_STATES:
        raise _refuse("answer", m)
    changes = _require_holder("answer", m, actor)
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
        raise IllegalTransition("This reply is already on its way.")
    if draft_state is not DraftState.FAILED:
        raise IllegalTransition("Only a failed delivery can be retried.")
    if m.state not in OPEN_STATES:
        raise _refuse("retry the reply", m)
    if needs_approval and not approved:
        raise IllegalTransition("This reply now needs approval: answer again so that it can be approved.")
    changes = _require_holder("retry the reply", m, actor)
    return Transition("retry_delivery", MentionState.ANSWERED, changes)


def approve(m: MentionFacts, actor: Actor, draft_author: str, draft_state: DraftState, heads: set[str]) -> Transition:
    """A head of an escalated department (not the author) lets a draft go out."""
    _check_approver(m, actor, draft_author, draft_state, heads, "approve")
    return Transition("approve", MentionState.ANSWERED)


def request_changes(m: MentionFacts, actor: Actor, draft_author: str, draft_state: DraftState,
                    heads: set[str], note: str | None) -> Transition:
    """A head sends a draft back to its author."""
    _check_approver(m, actor, draft_author, draft_state, heads, "request changes to")
    return Transition("request_changes", MentionState.ESCALATED, detail=note)


def _check_approver(m: MentionFacts, actor: Actor, author: str, draft_state: DraftState,
                    heads: set[str], verb: str) -> None:
    if draft_state != DraftState.AWAITING_APPROVAL or m.state != MentionState.AWAITING_APPROVAL:
        raise IllegalTransition(f"Cannot {verb} this draft: it is no longer waiting for approval.")
    if actor.key not in heads:
        raise NotAllowed(f"Only a head of {', '.join(m.escalated_to)} can {verb} this draft.")
    if actor.key == author:
        raise NotAllowed(f"Four eyes: you wrote this draft, so another head must {verb} it.")


def dismiss(m: MentionFacts, actor: Actor, reason: DismissReason) -> Transition:
    """Close a mention that needs no answer, with the reason."""
    if m.state not in OPEN_STATES:
        raise _refuse("dismiss", m)
    changes = _require_holder("dismiss", m, actor)
    return Transition("dismiss", MentionState.DISMISSED, {**changes, "dismissed_reason": reason.value},
                      detail=reason.label)


def reopen(m: MentionFacts, actor: Actor) -> Transition:
    """Put an answered, closed or dismissed mention back in the queue."""
    if m.state not in DONE_STATES:
        raise _refuse("reopen", m)
    return Transition("reopen", MentionState.NEW, {**_UNCLAIMED, "dismissed_reason": None, "escalated_to": []})


def close(m: MentionFacts, actor: Actor) -> Transition:
    """Mark an answered mention as finished."""
    if m.state != MentionState.ANSWERED:
        raise _refuse("close", m)
    return Transition("close", MentionState.CLOSED)
