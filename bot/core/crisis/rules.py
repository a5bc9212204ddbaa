"""Crisis rules (docs/contract.md §7): step order, owners, the reply gate, reminders and ending. Pure, no I/O."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import NamedTuple

from bot.core.crisis.playbooks import Playbook, Step, slugify
from bot.core.mentions import Actor, DomainError, IllegalTransition, Joined, NotAllowed, NotFound, Phrase

OWNER = "owner"
LEAD = "lead"


class UnknownStep(NotFound):
    """No step with this id in the crisis' playbook; carries the closest ids."""

    def __init__(self, key: str, suggestions: tuple[str, ...], **fields: object) -> None:
        super().__init__(key, **fields)
        self.suggestions = suggestions


class StepDone(NamedTuple):
    """Who completed a step, when, and what they noted."""

    by: str
    at: datetime
    note: str | None


class StepSkipped(NamedTuple):
    """Which lead skipped an optional step, when, and why."""

    by: str
    at: datetime
    reason: str


class Overdue(NamedTuple):
    """A required step past its due time and who to remind: its owner role, or (past twice the due) the lead."""

    step: Step
    level: str


@dataclass(frozen=True, slots=True)
class CrisisState:
    """A crisis as the rules see it: the playbook frozen when it started, and what happened since."""

    playbook: Playbook
    started_at: datetime
    started_by: str
    drill: bool = False
    done: Mapping[str, StepDone] = field(default_factory=dict)
    skipped: Mapping[str, StepSkipped] = field(default_factory=dict)
    ended_at: datetime | None = None
    ended_by: str | None = None
    forced_reason: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "done", MappingProxyType(dict(self.done)))
        object.__setattr__(self, "skipped", MappingProxyType(dict(self.skipped)))

    @property
    def running(self) -> bool:
        """True until the crisis has ended."""
        return self.ended_at is None


def start(playbook: Playbook, actor: Actor, now: datetime, *, drill: bool = False) -> CrisisState:
    """Begin a crisis (or drill) on a playbook; the state keeps that playbook, whatever its file does later."""
    return CrisisState(playbook=playbook, started_at=now, started_by=actor.key, drill=drill)


def is_lead(state: CrisisState, actor: Actor) -> bool:
    """Whether the actor holds the playbook's lead role."""
    return state.playbook.lead_role in actor.roles


def find_step(state: CrisisState, step_id: str) -> Step:
    """The step with this id (or heading), or a refusal suggesting the closest ids."""
    playbook = state.playbook
    step = playbook.step(step_id) or playbook.step(slugify(step_id))
    if step is not None:
        return step
    ids = [s.id for s in playbook.steps]
    close = tuple(difflib.get_close_matches(slugify(step_id) or step_id, ids, n=3, cutoff=0.5))
    hint = Phrase("refusal.did_you_mean", names=", ".join(close)) if close else \
        Phrase("refusal.steps_are", steps=", ".join(ids))
    raise UnknownStep("refusal.no_step", close, step=repr(step_id), playbook=playbook.title, hint=hint)


def missing_steps(state: CrisisState) -> list[Step]:
    """The required steps that are not done yet, in playbook order."""
    return [s for s in state.playbook.steps if not s.optional and s.id not in state.done]


def complete_step(state: CrisisState, actor: Actor, step_id: str, note: str | None, now: datetime) -> CrisisState:
    """Mark a step done: only after every earlier required step, by a member of its owner role or the lead."""
    step = _open_step(state, step_id, "complete")
    if step.owner not in actor.roles and not is_lead(state, actor):
        raise NotAllowed("refusal.step_not_yours", owner=step.owner, lead=state.playbook.lead_role, step=step.title)
    earlier = state.playbook.steps[:state.playbook.steps.index(step)]
    waiting = [s for s in earlier if not s.optional and s.id not in state.done]
    if waiting:
        raise IllegalTransition("refusal.step_waits", step=step.title, waiting=_list(waiting))
    note = (note or "").strip() or None
    return replace(state, done={**state.done, step.id: StepDone(actor.key, now, note)})


def skip_step(state: CrisisState, actor: Actor, step_id: str, reason: str, now: datetime) -> CrisisState:
    """Skip an optional step: the lead only, with a reason."""
    step = _open_step(state, step_id, "skip")
    if not is_lead(state, actor):
        raise NotAllowed("refusal.skip_lead_only", lead=state.playbook.lead_role)
    if not step.optional:
        raise IllegalTransition("refusal.step_required", step=step.title)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("refusal.skip_reason", step=step.title)
    return replace(state, skipped={**state.skipped, step.id: StepSkipped(actor.key, now, reason)})


def may_reply(state: CrisisState) -> DomainError | None:
    """The refusal for a reply to a mention linked to this crisis, or None when a reply may be written.

    A drill never gates replies, and an ended crisis no longer does.
    """
    if state.drill or not state.running:
        return None
    gate = unlocking_step(state)
    if gate is not None and gate.id not in state.done:
        return NotAllowed("refusal.replies_wait", step=gate.title, owner=gate.owner)
    if state.playbook.reply_policy == "hold":
        return NotAllowed("refusal.replies_on_hold")
    return None


def needs_approval(state: CrisisState) -> bool:
    """Whether an allowed reply to a linked mention still needs a second lead's approval (`reply_policy: approval`)."""
    return may_reply(state) is None and state.running and not state.drill \
        and state.playbook.reply_policy == "approval"


def approval_refusal(state: CrisisState, approver: Actor, author_key: str) -> NotAllowed | None:
    """Why this person may not approve the author's reply (four eyes, lead role only), or None."""
    if not is_lead(state, approver):
        return NotAllowed("refusal.crisis_approve_lead_only", lead=state.playbook.lead_role)
    if approver.key == author_key:
        return NotAllowed("refusal.crisis_own_reply", lead=state.playbook.lead_role)
    return None


def unlocking_step(state: CrisisState) -> Step | None:
    """The step that unlocks replies, if the playbook has one."""
    return next((s for s in state.playbook.steps if "replies" in s.unlocks), None)


def overdue(state: CrisisState, now: datetime) -> list[Overdue]:
    """Required steps not done past their due (remind the owner), or past twice their due (remind the lead)."""
    if not state.running:
        return []
    late = []
    elapsed = now - state.started_at
    for step in missing_steps(state):
        if step.due is None or elapsed <= step.due:
            continue
        late.append(Overdue(step, LEAD if elapsed > 2 * step.due else OWNER))
    return late


def end(state: CrisisState, actor: Actor, now: datetime, force_reason: str | None = None) -> CrisisState:
    """End the crisis once every required step is done; before that only the lead may, with a reason."""
    if not state.running:
        raise IllegalTransition("refusal.crisis_ended")
    missing = missing_steps(state)
    if not missing:
        return replace(state, ended_at=now, ended_by=actor.key)
    open_steps = _list(missing)
    if not is_lead(state, actor):
        raise NotAllowed("refusal.crisis_not_done", steps=open_steps, lead=state.playbook.lead_role)
    reason = (force_reason or "").strip()
    if not reason:
        raise DomainError("refusal.crisis_end_reason", steps=open_steps)
    return replace(state, ended_at=now, ended_by=actor.key, forced_reason=reason)


def templates_available(state: CrisisState) -> list[str]:
    """The holding statements of the steps that are done, in playbook order."""
    return [t for s in state.playbook.steps if s.id in state.done for t in s.templates]


def _open_step(state: CrisisState, step_id: str, verb: str) -> Step:
    if not state.running:
        raise IllegalTransition("refusal.skip_after_end" if verb == "skip" else "refusal.complete_after_end")
    step = find_step(state, step_id)
    if step.id in state.done:
        by = state.done[step.id].by
        raise IllegalTransition("refusal.step_done_already", step=step.title, person=by)
    if step.id in state.skipped:
        raise IllegalTransition("refusal.step_skipped_already", step=step.title, reason=state.skipped[step.id].reason)
    return step


def _list(steps: list[Step]) -> Joined:
    return Joined(tuple(Phrase("refusal.step_owned", step=s.title, owner=s.owner) for s in steps), "; ")
