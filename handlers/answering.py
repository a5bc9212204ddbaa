"""Write, approve, deliver and retry replies; record what the network said."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.core import mentions as domain
from bot.core.access import Access
from bot.core.commands import Approve, PrepareAnswer, RequestChanges, RetryDelivery, RetryReply, SubmitReply
from bot.core.crisis import rules
from bot.core.crisis.rules import CrisisState
from bot.core.mentions import SYSTEM, Actor, DomainError, NotFound
from bot.core.replies import (
    MAX_REPLY_CHARS,
    REPLY_LIMITS,
    ReplyOption,
    addressee,
    fill,
    reply_length,
    reply_limit,
)
from bot.core.views import CrisisTag, DraftState, PersonRef, network_label
from bot.replies.base import DeliveryReceipt
from bot.storage.database import UnitOfWork
from bot.storage.models import Crisis, Draft, Mention
from handlers.access import require_access
from handlers.context import Context, facts, get_mention, transition
from handlers.crisis import linked_crisis
from handlers.reply_options import connector_for, offered


@dataclass(frozen=True, slots=True)
class AnswerForm:
    """What the Answer dialog must tell its user, and the holding statements and saved replies it offers."""

    mention_id: int
    needs_approval: bool
    manual: bool  # no connector of this server sends the reply: it is posted by hand
    approvers: tuple[PersonRef, ...]
    templates: tuple[str, ...] = ()
    crisis: CrisisTag | None = None
    network: str = ""
    connector: str | None = None
    replies: tuple[ReplyOption, ...] = ()

    def reply(self, key: str) -> ReplyOption:
        """The saved reply picked in the dialog, or a refusal when it is gone."""
        found = next((r for r in self.replies if r.key == key), None)
        if found is None:
            raise DomainError("refusal.saved_reply_gone")
        return found


@dataclass(frozen=True, slots=True)
class _Gate:
    """What the crisis a mention is linked to says about replying to it."""

    crisis: Crisis | None = None
    state: CrisisState | None = None

    @property
    def approval(self) -> bool:
        return self.state is not None and rules.needs_approval(self.state)

    @property
    def decision(self) -> tuple[int | None, bool, bool]:
        """Which crisis, whether it refuses replies now, and whether it wants approval: to spot a change."""
        refused = self.state is not None and rules.may_reply(self.state) is not None
        return (self.crisis.id if self.crisis else None), refused, self.approval

    def approvers(self, ctx: Context, author: str) -> list[str]:
        assert self.state is not None
        return sorted(p.key for p in ctx.config.members(self.state.playbook.lead_role) if p.key != author)


async def _gate(uow: UnitOfWork, mention: Mention) -> _Gate:
    linked = await linked_crisis(uow, mention)
    return _Gate() if linked is None else _Gate(*linked)


async def _check_gate(ctx: Context, gate: _Gate, actor: Actor, mention_id: int) -> None:
    """Refuse a reply the crisis does not allow yet, and keep the refusal in the audit trail."""
    if gate.state is None or gate.crisis is None:
        return
    refusal = rules.may_reply(gate.state)
    if refusal is not None:
        async with ctx.db.uow() as uow:
            await uow.audit.add(mention_id, actor, "reply_refused", ctx.clock(), detail=refusal.user_message,
                                crisis_id=gate.crisis.id)
            await uow.commit()
        raise refusal


async def prepare_answer(cmd: PrepareAnswer, *, ctx: Context) -> AnswerForm:
    """Refuse early if this person may not answer; otherwise say how the reply will go out."""
    require_access(ctx, cmd.actor, Access.TEAM)
    async with ctx.db.uow() as uow:
        mention = await get_mention(uow, cmd.mention_id)
        gate = await _gate(uow, mention)
    m = facts(ctx.config, mention)
    domain.submit_reply(m, cmd.actor)  # raises the same refusal the submission would
    await _check_gate(ctx, gate, cmd.actor, cmd.mention_id)
    if gate.approval:
        approvers = gate.approvers(ctx, cmd.actor.key)
    else:
        approvers = sorted(ctx.config.heads_of(m.escalated_to) - {cmd.actor.key})
    templates = tuple(rules.templates_available(gate.state)) if gate.state is not None else ()
    tag = CrisisTag(gate.crisis.id or 0, gate.crisis.title, gate.crisis.drill) if gate.crisis else None
    connector = connector_for(ctx, m.reply_via)
    replies = tuple(ReplyOption(r.key, r.label, fill(r.text, name=mention.author_name, handle=mention.author_handle,
                                                     agent=cmd.actor.ref.name))
                    for r in offered(ctx, mention.network, mention.lang))
    return AnswerForm(mention_id=cmd.mention_id, needs_approval=bool(m.escalated_to) or gate.approval,
                      manual=connector is None, approvers=tuple(ctx.config.people[h].ref for h in approvers),
                      templates=templates, crisis=tag, network=mention.network, connector=connector, replies=replies)


async def submit_reply(cmd: SubmitReply, *, ctx: Context) -> None:
    """Turn written text into a draft for approval, a delivery, or a by-hand answer."""
    require_access(ctx, cmd.actor, Access.TEAM)
    text = cmd.text.strip()
    if not text:
        raise DomainError("refusal.reply_empty")
    if len(text) > MAX_REPLY_CHARS:
        raise DomainError("refusal.reply_too_long", length=len(text), limit=MAX_REPLY_CHARS)
    async with ctx.db.uow() as uow:
        mention = await get_mention(uow, cmd.mention_id)
        gate = await _gate(uow, mention)
    length = reply_length(mention.network, text, to=mention.author_handle)
    if length > (limit := reply_limit(mention.network)):
        if length != reply_length(mention.network, text):  # Mastodon: the @author in front counts too
            raise DomainError("refusal.too_long_with_addressee", network=network_label(mention.network),
                              limit=limit, length=length, user=addressee(mention.author_handle))
        if mention.network in REPLY_LIMITS:
            raise DomainError("refusal.too_long_for", network=network_label(mention.network), limit=limit,
                              length=length)
        raise DomainError("refusal.too_long_for_a_reply", limit=limit, length=length)
    await _check_gate(ctx, gate, cmd.actor, cmd.mention_id)
    decided_state: list[DraftState] = []

    def decide(m: domain.MentionFacts) -> domain.Transition:
        m = replace(m, reply_via=connector_for(ctx, m.reply_via))  # no connector here: the reply was posted by hand
        decided, draft_state = domain.submit_reply(m, cmd.actor, crisis_approval=gate.approval)
        decided_state[:] = [draft_state]
        return decided

    async def write_draft(uow: UnitOfWork, mention: Mention, decided: domain.Transition) -> None:
        now, state = ctx.clock(), decided_state[0]
        if (await _gate(uow, mention)).decision != gate.decision:
            raise DomainError("refusal.crisis_changed_meanwhile")
        if gate.approval:
            approvers = gate.approvers(ctx, cmd.actor.key)
            if not approvers:
                raise DomainError("refusal.no_other_crisis_lead")
        else:
            approvers = sorted(ctx.config.heads_of(mention.escalated_to) - {cmd.actor.key})
        if state == DraftState.AWAITING_APPROVAL and not approvers:
            raise DomainError("refusal.no_other_head")
        draft = await uow.drafts.add(Draft(
            mention_id=mention.id or 0, author=cmd.actor.key, author_name=cmd.actor.ref.name, text=text,
            state=state.value, approvers=approvers, created_at=now,
            sent_at=now if state == DraftState.BY_HAND else None,
            crisis_id=gate.crisis.id if gate.approval and gate.crisis else None))
        if state == DraftState.BY_HAND:
            await uow.mentions.set_first_response(mention.id or 0, now)
        if state == DraftState.SENDING:
            await ctx.fanout.deliver_reply(uow.outbox, mention.id or 0, draft.id or 0, now)
        await ctx.fanout.draft_changed(uow.outbox, mention.id or 0, draft.id or 0, now)

    await transition(ctx, cmd.mention_id, cmd.actor, decide, write_draft)


async def _load_draft(uow: UnitOfWork, draft_id: int) -> Draft:
    draft = await uow.drafts.get(draft_id)
    if draft is None:
        raise NotFound("refusal.no_draft", draft=draft_id)
    return draft


async def _approvers(ctx: Context, draft: Draft, actor: Actor) -> set[str]:
    """Who may decide on this draft: the crisis' leads (checked here, four eyes) or the escalated heads.

    A reply the mention's crisis does not allow (any more) is refused and audited.
    """
    async with ctx.db.uow() as uow:
        mention = await get_mention(uow, draft.mention_id)
        gate = await _gate(uow, mention)
    await _check_gate(ctx, gate, actor, draft.mention_id)
    if draft.crisis_id is None:
        return ctx.config.heads_of(mention.escalated_to)
    if gate.state is not None and gate.crisis is not None and gate.crisis.id == draft.crisis_id:
        refusal = rules.approval_refusal(gate.state, actor, draft.author)
        if refusal is not None:
            raise refusal
    return set(draft.approvers)


async def approve(cmd: Approve, *, ctx: Context) -> None:
    """A head of an escalated department (or a crisis lead) lets the draft go out."""
    require_access(ctx, cmd.actor, Access.LISTED)
    async with ctx.db.uow() as uow:
        draft = await _load_draft(uow, cmd.draft_id)
    approvers = await _approvers(ctx, draft, cmd.actor)

    async def send(uow: UnitOfWork, mention: Mention, decided: domain.Transition) -> None:
        """Deliver it through the mention's connector; without one here, its author posts it by hand (as the
        Answer dialog said), so it is answered by hand now."""
        now = ctx.clock()
        by_hand = connector_for(ctx, mention.reply_via) is None
        state = DraftState.BY_HAND if by_hand else DraftState.SENDING
        if not await uow.drafts.move(draft, [DraftState.AWAITING_APPROVAL], state=state.value,
                                     decided_by=cmd.actor.key, decided_by_name=cmd.actor.ref.name,
                                     **({"sent_at": now} if by_hand else {})):
            raise DomainError("refusal.draft_not_waiting")
        if by_hand:
            await uow.mentions.set_first_response(mention.id or 0, now)
        else:
            await ctx.fanout.deliver_reply(uow.outbox, mention.id or 0, cmd.draft_id, now)
        await ctx.fanout.draft_changed(uow.outbox, mention.id or 0, cmd.draft_id, now)

    await transition(ctx, draft.mention_id, cmd.actor,
                     lambda m: domain.approve(m, cmd.actor, draft.author, DraftState(draft.state), approvers), send)


async def request_changes(cmd: RequestChanges, *, ctx: Context) -> None:
    """A head sends the draft back to its author with a note."""
    require_access(ctx, cmd.actor, Access.LISTED)
    async with ctx.db.uow() as uow:
        draft = await _load_draft(uow, cmd.draft_id)
    approvers = await _approvers(ctx, draft, cmd.actor)
    note = (cmd.note or "").strip() or None

    async def send_back(uow: UnitOfWork, mention: Mention, decided: domain.Transition) -> None:
        if not await uow.drafts.move(draft, [DraftState.AWAITING_APPROVAL], state=DraftState.CHANGES_REQUESTED.value,
                                     decided_by=cmd.actor.key, decided_by_name=cmd.actor.ref.name, note=note):
            raise DomainError("refusal.draft_not_waiting")
        await ctx.fanout.draft_changed(uow.outbox, mention.id or 0, cmd.draft_id, ctx.clock())

    await transition(ctx, draft.mention_id, cmd.actor,
                     lambda m: domain.request_changes(m, cmd.actor, draft.author, DraftState(draft.state),
                                                      approvers, note), send_back)


async def retry_delivery(cmd: RetryDelivery, *, ctx: Context) -> None:
    """Send a failed reply again, unchanged; its mention counts as answered again until the network decides."""
    require_access(ctx, cmd.actor, Access.TEAM)
    async with ctx.db.uow() as uow:
        draft = await _load_draft(uow, cmd.draft_id)
        gate = await _gate(uow, await get_mention(uow, draft.mention_id))
        latest = await uow.drafts.latest_for(draft.mention_id)
    if latest is not None and latest.id != draft.id:
        raise DomainError("refusal.newer_reply")
    await _check_gate(ctx, gate, cmd.actor, draft.mention_id)

    def decide(m: domain.MentionFacts) -> domain.Transition:
        return domain.retry_delivery(m, cmd.actor, DraftState(draft.state), approved=draft.decided_by is not None,
                                     needs_approval=bool(m.escalated_to) or gate.approval)

    async def resend(uow: UnitOfWork, mention: Mention, decided: domain.Transition) -> None:
        now = ctx.clock()
        if not await uow.drafts.move(draft, [DraftState.FAILED], state=DraftState.SENDING.value, error=None):
            raise DomainError("refusal.reply_on_its_way")  # a second click, just before this one
        await ctx.fanout.deliver_reply(uow.outbox, mention.id or 0, cmd.draft_id, now)
        await ctx.fanout.draft_changed(uow.outbox, mention.id or 0, cmd.draft_id, now)

    await transition(ctx, draft.mention_id, cmd.actor, decide, resend)


async def retry_reply(cmd: RetryReply, *, ctx: Context) -> None:
    """Retry, from its card, the mention's reply that could not be delivered."""
    async with ctx.db.uow() as uow:
        draft = await uow.drafts.latest_for(cmd.mention_id)
    if draft is None:
        raise DomainError("refusal.nothing_to_retry")
    await retry_delivery(RetryDelivery(draft.id or 0, cmd.actor), ctx=ctx)


class _Settled(Exception):
    """The network's verdict came for a draft that is no longer being sent: there is nothing to record."""


async def record_delivery(draft_id: int, *, ctx: Context, receipt: DeliveryReceipt | None = None,
                          error: str | None = None) -> None:
    """Record the network's verdict: sent (the first response counts from now), or failed (the mention is open
    again, held as before, with the reason and Retry on its card)."""
    async with ctx.db.uow() as uow:
        draft = await _load_draft(uow, draft_id)
        if receipt is not None:
            now = ctx.clock()
            if await uow.drafts.move(draft, [DraftState.SENDING], state=DraftState.SENT.value, sent_at=now,
                                     remote_id=receipt.remote_id, remote_url=receipt.url, error=None):
                await uow.mentions.set_first_response(draft.mention_id, now)
                await uow.audit.add(draft.mention_id, SYSTEM, "reply_sent", now,
                                    detail=receipt.url or receipt.remote_id)
                await ctx.fanout.draft_changed(uow.outbox, draft.mention_id, draft_id, now)
                await ctx.fanout.card_changed(uow.outbox, draft.mention_id, now)
            await uow.commit()
            return
    reason = error or "unknown error"

    async def fail(uow: UnitOfWork, mention: Mention, decided: domain.Transition) -> None:
        if not await uow.drafts.move(draft, [DraftState.SENDING], state=DraftState.FAILED.value, error=reason):
            raise _Settled
        await ctx.fanout.draft_changed(uow.outbox, draft.mention_id, draft_id, ctx.clock())

    try:
        await transition(ctx, draft.mention_id, SYSTEM, lambda m: domain.delivery_failed(m, reason), fail)
    except _Settled:
        pass
