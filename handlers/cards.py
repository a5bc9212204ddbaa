"""Read models for the chat edges: the card, draft and notice views of stored mentions, and crisis notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.config import Config
from bot.core.commands import Approve, CompleteStep, RequestChanges, RetryDelivery, SkipStep
from bot.core.crisis import rules
from bot.core.crisis.rules import CrisisState
from bot.core.crisis.views import ChecklistView, CrisisReminder
from bot.core.mentions import DomainError
from bot.core.sla_clock import ClockStage
from bot.core.views import CardView, CrisisTag, DismissReason, DraftState, DraftView, EscalationNotice, MentionState
from bot.outbox.jobs import CrisisNoticeKind
from bot.storage.database import UnitOfWork
from bot.storage.models import Draft
from handlers.context import Context, get_mention, person_ref
from handlers.crisis import checklist, linked_crisis, reminder_view
from handlers.reply_options import with_answering
from handlers.sla import clock_of


def _department_views(config: Config, keys: list[str]) -> tuple:  # type: ignore[type-arg]
    return tuple(config.department_view(k) for k in keys if k in config.departments)


def draft_view(config: Config, draft: Draft) -> DraftView:
    """A stored draft as its thread message shows it."""
    return DraftView(
        id=draft.id or 0, mention_id=draft.mention_id, author=person_ref(config, draft.author, draft.author_name),
        text=draft.text, state=DraftState(draft.state),
        approvers=tuple(person_ref(config, key, None) for key in draft.approvers),
        decided_by=person_ref(config, draft.decided_by, draft.decided_by_name) if draft.decided_by else None,
        note=draft.note, error=draft.error, manual=draft.state == DraftState.BY_HAND)


async def card_view(uow: UnitOfWork, config: Config, mention_id: int, now: datetime) -> CardView:
    """Everything the card of this mention must show right now."""
    m = await get_mention(uow, mention_id)
    draft = await uow.drafts.latest_for(mention_id)
    state = MentionState(m.state)
    answered_by = None
    response_minutes = None
    if draft is not None and state in (MentionState.ANSWERED, MentionState.CLOSED):
        answered_by = person_ref(config, draft.author, draft.author_name)
    clock = clock_of(config, m, now)
    if clock.stage in (ClockStage.MET, ClockStage.LATE):
        response_minutes = clock.minutes
    running = tuple(CrisisTag(c.id or 0, c.title, c.drill) for c in await uow.crises.running())
    linked = await linked_crisis(uow, m)
    dismissed_by = None
    if state == MentionState.DISMISSED and m.claimed_by:
        dismissed_by = person_ref(config, m.claimed_by, m.claimed_by_name)
    return CardView(
        mention_id=mention_id, network=m.network, url=m.url, author_handle=m.author_handle,
        author_name=m.author_name, author_url=m.author_url, author_followers=m.author_followers,
        author_verified=m.author_verified, text=m.text, published_at=m.published_at, state=state, now=now,
        reply_via=m.reply_via, priority_level=m.priority_level, priority_reasons=tuple(m.priority_reasons),
        storm_id=m.storm_id, lang=m.lang,
        claimed_by=person_ref(config, m.claimed_by, m.claimed_by_name) if m.claimed_by else None,
        escalated_to=_department_views(config, m.escalated_to),
        draft=draft_view(config, draft) if draft is not None else None,
        answered_by=answered_by, response_minutes=response_minutes, dismissed_by=dismissed_by,
        dismissed_reason=DismissReason(m.dismissed_reason) if m.dismissed_reason else None,
        crisis=CrisisTag(linked[0].id or 0, linked[0].title, linked[0].drill) if linked else None,
        linkable=running if m.crisis_id is None else (),
        templates=tuple(rules.templates_available(linked[1])) if linked else (),
        crisis_rule=_crisis_rule(config, linked[1]) if linked else None,
        crisis_approval=rules.needs_approval(linked[1]) if linked else False, clock=clock, zone=config.team.zone)


def _crisis_rule(config: Config, state: CrisisState) -> str | None:
    """What the linked crisis says about replying now (the refusal, the approvers, or nothing), in the team's words:
    the card shows it in the channel."""
    refusal = rules.may_reply(state)
    if refusal is not None:
        return refusal.said(config.team.words)
    if rules.needs_approval(state):
        leads = ", ".join(p.name for p in config.members(state.playbook.lead_role)) or state.playbook.lead_role
        return config.team.words("notice.crisis_approval", leads=leads)
    return None


def escalation_notice(config: Config, mention_id: int, payload: dict[str, Any]) -> EscalationNotice:
    """The thread message announcing an escalation, from its outbox payload."""
    actor = person_ref(config, payload["actor"], payload.get("actor_name"))
    return EscalationNotice(mention_id=mention_id, actor=actor,
                            departments=_department_views(config, payload["departments"]), note=payload.get("note"))


async def current_card(ctx: Context, mention_id: int) -> CardView:
    """The card of this mention as it must show now, for the chat edges."""
    async with ctx.db.uow() as uow:
        return with_answering(ctx, await card_view(uow, ctx.config, mention_id, ctx.clock()))


async def current_draft(ctx: Context, draft_id: int) -> DraftView | None:
    """The draft's thread message as it must show now; None if there is no such draft."""
    async with ctx.db.uow() as uow:
        draft = await uow.drafts.get(draft_id)
    return None if draft is None else draft_view(ctx.config, draft)


async def view_after(ctx: Context, command: object) -> CardView | DraftView | ChecklistView:
    """What a clicked card shows after its command ran: the crisis' checklist, the draft, or the mention's card."""
    async with ctx.db.uow() as uow:
        if isinstance(command, CompleteStep | SkipStep):
            crisis = await uow.crises.get(command.crisis_id or 0)
            if crisis is None:
                raise DomainError("refusal.no_crisis", crisis=command.crisis_id)
            return await checklist(uow, ctx, crisis, ctx.clock())
        if isinstance(command, Approve | RequestChanges | RetryDelivery):
            draft = await uow.drafts.get(command.draft_id)
            if draft is None:
                raise DomainError("refusal.no_draft", draft=command.draft_id)
            return draft_view(ctx.config, draft)
        view = await card_view(uow, ctx.config, command.mention_id, ctx.clock())  # type: ignore[attr-defined]
    return with_answering(ctx, view)


@dataclass(frozen=True, slots=True)
class CrisisNotice:
    """What a queued crisis notice says now: a reminder or the report; neither when nothing is left to say."""

    crisis: CrisisTag
    reminder: CrisisReminder | None = None
    report: str | None = None


async def crisis_notice(ctx: Context, crisis_id: int, kind: CrisisNoticeKind, step: str | None = None,
                        level: str | None = None) -> CrisisNotice | None:
    """A reminder of `step` (to its owners or, at the lead `level`, the leads) or the report; None if no crisis."""
    async with ctx.db.uow() as uow:
        crisis = await uow.crises.get(crisis_id)
        if crisis is None:
            return None
        tag = CrisisTag(crisis_id, crisis.title, crisis.drill)
        if kind is CrisisNoticeKind.REMINDER:
            return CrisisNotice(tag, reminder=await reminder_view(uow, ctx, crisis_id, str(step), str(level),
                                                                   ctx.clock()))
        return CrisisNotice(tag, report=crisis.report or None)
