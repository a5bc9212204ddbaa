"""Storm groups: the storm card's view, Claim, Answer all, Dismiss, Start crisis…, and the list of members.

Answer all and Dismiss change the storm at once and queue one `storm_batch` job, which then treats each open
member below P1 that nobody else holds like a click on its own card (a draft and a delivery each, or a
dismissal), so every member's reply is recorded and a failed delivery shows on the storm card. The job
picks up where it stopped: a member already handled is no longer open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.core import commands as c
from bot.core.access import Access
from bot.core.crisis.views import CrisisStarted
from bot.core.mentions import LEAD_ROLE, OPEN_STATES, SYSTEM, Actor, AlreadyClaimed, DomainError, NotFound, Phrase
from bot.core.replies import reply_length, reply_limit
from bot.core.storms.views import RECENT_MINUTES, StormMember, StormMembers, StormState, StormView
from bot.core.views import CrisisTag, DismissReason, MentionState, network_label
from bot.outbox.jobs import JobKind, job_key, job_kind
from bot.storage.database import UnitOfWork
from bot.storage.models import Mention, OutboxJob, Storm
from handlers import answering, crisis, triage
from handlers.access import require_access
from handlers.context import Context, person_ref

logger = logging.getLogger(__name__)

SAMPLES = 3
AUTHORS = 3
LISTED = 50  # members a private list shows; the rest are counted
BATCH = 100  # members read per round of a storm_batch job
MAX_DECISION_ROUNDS = 5
_ANSWERED = (MentionState.ANSWERED, MentionState.CLOSED)
_OPEN = tuple(s.value for s in (*OPEN_STATES, MentionState.AWAITING_APPROVAL))
_TO_HANDLE = tuple(s.value for s in OPEN_STATES)


def member_view(m: Mention) -> StormMember:
    """A stored member as a storm card or list shows it."""
    return StormMember(mention_id=m.id or 0, network=m.network, author_handle=m.author_handle,
                       author_followers=m.author_followers, text=m.text, url=m.url, state=MentionState(m.state),
                       priority_level=m.priority_level, own_card=m.priority_level == "P1")


async def storm_view(uow: UnitOfWork, ctx: Context, storm: Storm, now: datetime,
                     playbooks: tuple[tuple[str, str], ...] = ()) -> StormView:
    """Everything the storm's card must show right now."""
    storm_id = storm.id or 0
    first, last, recent = await uow.storms.span(storm_id, now - timedelta(minutes=RECENT_MINUTES))
    states = await uow.storms.by_state(storm_id)
    samples: dict[str, StormMember] = {}
    for m in await uow.storms.members(storm_id, order="first", limit=SAMPLES * 10):
        samples.setdefault(" ".join(m.text.lower().split()), member_view(m))
    authors: dict[tuple[str, str | None], StormMember] = {}  # each author once, however often they posted
    for m in await uow.storms.members(storm_id, order="reach", limit=AUTHORS * 10):
        authors.setdefault((m.network, m.author_handle), member_view(m))
    crises = await uow.storms.crises_of(storm_id)
    linked = await uow.crises.get(crises[0]) if crises else None
    return StormView(
        storm_id=storm_id, state=StormState(storm.state), members=sum(states.values()), recent=recent,
        networks=tuple(await uow.storms.by_network(storm_id)),
        authors=tuple(authors.values())[:AUTHORS],
        samples=tuple(samples.values())[:SAMPLES],
        own_cards=tuple(member_view(m) for m in await uow.storms.p1_members(storm_id)),
        first_at=first or storm.created_at, last_at=last or storm.last_member_at, now=now,
        claimed_by=person_ref(ctx.config, storm.claimed_by, storm.claimed_by_name) if storm.claimed_by else None,
        answer=storm.answer, answered=sum(states.get(s, 0) for s in _ANSWERED),
        failed=await uow.storms.failed_deliveries(storm_id), waiting=sum(states.get(s, 0) for s in _OPEN),
        crisis=CrisisTag(linked.id or 0, linked.title, linked.drill) if linked is not None else None,
        playbooks=playbooks)


async def current_storm(ctx: Context, storm_id: int) -> StormView | None:
    """The storm card as it must show now (None if there is no such storm); the redraw is noted, so the next
    one waits its turn."""
    catalogue = await crisis.list_playbooks(c.ListPlaybooks(SYSTEM), ctx=ctx)
    playbooks = tuple((p.key, p.title) for p in catalogue.playbooks)
    async with ctx.db.uow() as uow:
        storm = await uow.storms.get(storm_id)
        if storm is None:
            return None
        now = ctx.clock()
        view = await storm_view(uow, ctx, storm, now, playbooks)
        await uow.storms.shown(storm_id, now)
        await uow.commit()
    return view


async def _change(ctx: Context, storm_id: int, decide: Callable[[Storm], dict[str, Any]],
                  after: Callable[[UnitOfWork, Storm], Any] | None = None) -> None:
    """Decide on the storm's fresh state and change it only if nobody changed it meanwhile; redraw its card."""
    for _ in range(MAX_DECISION_ROUNDS):
        async with ctx.db.uow() as uow:
            storm = await uow.storms.get(storm_id)
            if storm is None:
                raise NotFound("refusal.no_storm", storm=storm_id)
            if not await uow.storms.move(storm, **decide(storm)):
                continue
            if after is not None:
                await after(uow, storm)
            await ctx.fanout.storm_changed(uow.outbox, storm_id, ctx.clock())
            await uow.commit()
            return
    raise DomainError("refusal.storm_busy")


# A handled storm's state, as "Cannot answer: this storm is already …" says it.
_STORM_STATES = {StormState.OPEN: "refusal.storm_open", StormState.CLAIMED: "refusal.storm_claimed",
                 StormState.ANSWERED: "refusal.storm_answered", StormState.DISMISSED: "refusal.storm_dismissed"}


def _holder_check(storm: Storm, actor: Actor, action: Phrase) -> dict[str, Any]:
    """Only whoever claimed a storm (or a webcare lead) answers or dismisses it; acting on an open one claims it."""
    if storm.state in (StormState.ANSWERED, StormState.DISMISSED):
        raise DomainError("refusal.storm_is", action=action, state=Phrase(_STORM_STATES[storm.state]))
    if storm.claimed_by not in (None, actor.key) and LEAD_ROLE not in actor.roles:
        raise DomainError("refusal.storm_held_by", action=action, person=storm.claimed_by_name or storm.claimed_by)
    return {"claimed_by": actor.key, "claimed_by_name": actor.ref.name}


async def claim_storm(cmd: c.ClaimStorm, *, ctx: Context) -> None:
    """Take a storm; whoever loses a simultaneous claim is told who has it."""
    require_access(ctx, cmd.actor, Access.TEAM)

    def decide(storm: Storm) -> dict[str, Any]:
        if storm.claimed_by == cmd.actor.key:
            raise DomainError("refusal.storm_claimed_by_you")
        if storm.claimed_by is not None:
            raise AlreadyClaimed(person_ref(ctx.config, storm.claimed_by, storm.claimed_by_name))
        if storm.state != StormState.OPEN:
            raise DomainError("refusal.storm_is", action=Phrase("refusal.do_claim"),
                              state=Phrase(_STORM_STATES[storm.state]))
        return {"state": StormState.CLAIMED.value, "claimed_by": cmd.actor.key, "claimed_by_name": cmd.actor.ref.name}

    await _change(ctx, cmd.storm_id, decide)


def _batch(ctx: Context, storm_id: int, action: str, actor: Actor, **extra: Any) -> Callable[[UnitOfWork, Storm], Any]:
    async def queue(uow: UnitOfWork, storm: Storm) -> None:
        payload = {"storm_id": storm_id, "action": action, "actor": actor.key, "actor_name": actor.ref.name, **extra}
        await uow.outbox.once(job_key(None, JobKind.STORM_BATCH, f"{storm_id}:{action}"),
                              job_kind(None, JobKind.STORM_BATCH), None, payload, ctx.clock())
    return queue


async def answer_storm(cmd: c.AnswerStorm, *, ctx: Context) -> None:
    """One text for every open member below P1 that nobody else holds, each delivered by its own connector."""
    require_access(ctx, cmd.actor, Access.TEAM)
    text = cmd.text.strip()
    if not text:
        raise DomainError("refusal.reply_empty")
    if len(text) > answering.MAX_REPLY_CHARS:
        raise DomainError("refusal.reply_too_long", length=len(text), limit=answering.MAX_REPLY_CHARS)
    async with ctx.db.uow() as uow:
        networks = await uow.storms.networks_to_handle(cmd.storm_id, _TO_HANDLE, cmd.actor.key)
    for network in networks:  # one text for all: it must fit the strictest network among them
        if (length := reply_length(network, text)) > (limit := reply_limit(network)):
            raise DomainError("refusal.storm_too_long_for", network=network_label(network), limit=limit,
                              length=length)

    def decide(storm: Storm) -> dict[str, Any]:
        return {**_holder_check(storm, cmd.actor, Phrase("refusal.do_answer")), "state": StormState.ANSWERED.value,
                "answer": text}

    await _change(ctx, cmd.storm_id, decide, _batch(ctx, cmd.storm_id, "answer", cmd.actor))


async def dismiss_storm(cmd: c.DismissStorm, *, ctx: Context) -> None:
    """Dismiss every open member below P1 that nobody else holds, with one reason."""
    require_access(ctx, cmd.actor, Access.TEAM)

    def decide(storm: Storm) -> dict[str, Any]:
        return {**_holder_check(storm, cmd.actor, Phrase("refusal.do_dismiss")), "state": StormState.DISMISSED.value}

    await _change(ctx, cmd.storm_id, decide, _batch(ctx, cmd.storm_id, "dismiss", cmd.actor, reason=cmd.reason.value))


async def show_storm(cmd: c.ShowStorm, *, ctx: Context) -> StormMembers:
    """A storm's members, the most urgent first."""
    async with ctx.db.uow() as uow:
        if await uow.storms.get(cmd.storm_id) is None:
            raise NotFound("refusal.no_storm", storm=cmd.storm_id)
        total = sum((await uow.storms.by_state(cmd.storm_id)).values())
        members = await uow.storms.members(cmd.storm_id, order="urgent", limit=LISTED)
    return StormMembers(storm_id=cmd.storm_id, total=total, members=tuple(map(member_view, members)),
                        now=ctx.clock())


async def start_storm_crisis(cmd: c.StartStormCrisis, *, ctx: Context) -> CrisisStarted:
    """Start a crisis on the playbook and link every member of the storm not linked to another crisis yet."""
    require_access(ctx, cmd.actor, Access.LISTED)
    async with ctx.db.uow() as uow:
        if await uow.storms.get(cmd.storm_id) is None:
            raise NotFound("refusal.no_storm", storm=cmd.storm_id)
    started = await crisis.start_crisis(c.StartCrisis(cmd.actor, cmd.playbook, cmd.note), ctx=ctx)
    crisis_id = started.checklist.id
    if started.checklist.drill:
        return started
    async with ctx.db.uow() as uow:
        now = ctx.clock()
        linked = await uow.storms.link_members(cmd.storm_id, crisis_id, now)
        await uow.audit.add_each(linked, cmd.actor, "link", now, detail=f"crisis #{crisis_id} (storm #{cmd.storm_id})")
        await ctx.fanout.cards_changed(uow.outbox, linked, now)
        await ctx.fanout.crisis_changed(uow.outbox, crisis_id, now)
        await ctx.fanout.storm_changed(uow.outbox, cmd.storm_id, now)
        await uow.commit()
    return started


async def forget_old_keys(ctx: Context) -> int:
    """Drop the grouping keys of mentions that arrived before the group window: they can join no storm now."""
    async with ctx.db.uow() as uow:
        dropped = await uow.storms.forget_keys(ctx.clock() - timedelta(minutes=ctx.config.storm.group_window_minutes))
        await uow.commit()
    return dropped


class StormBatches:
    """The outbox sender for `storm_batch` jobs: Answer all's replies and Dismiss's dismissals, member by member."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def __call__(self, job: OutboxJob) -> None:
        """Act on each member still to handle; a member someone else took meanwhile is left to them."""
        ctx, payload = self._ctx, job.payload
        storm_id, action = int(payload["storm_id"]), str(payload["action"])
        person = ctx.config.people.get(payload["actor"])
        actor = Actor(person_ref(ctx.config, payload["actor"], payload.get("actor_name")),
                      person.roles if person is not None else frozenset())
        done = skipped = 0
        after = 0
        while True:
            async with ctx.db.uow() as uow:
                storm = await uow.storms.get(storm_id)
                members = [] if storm is None else await uow.storms.to_handle(
                    storm_id, _TO_HANDLE, actor.key, after=after, limit=BATCH)
            if storm is None or not members:
                break
            for member in members:
                after = member.id or 0
                try:
                    await self._act(action, member.id or 0, actor, storm, payload)
                    done += 1
                except DomainError as refusal:  # a crisis holds replies, someone took it meanwhile…
                    skipped += 1
                    logger.info("storm #%d: member #%s not %sed: %s", storm_id, member.id, action, refusal)
        logger.info("storm #%d: %s for %d members (%d left as they were)", storm_id, action, done, skipped)
        async with ctx.db.uow() as uow:
            await ctx.fanout.storm_changed(uow.outbox, storm_id, ctx.clock())
            await uow.commit()

    async def _act(self, action: str, mention_id: int, actor: Actor, storm: Storm, payload: dict[str, Any]) -> None:
        if action == "answer":
            await answering.submit_reply(c.SubmitReply(mention_id, actor, storm.answer or ""), ctx=self._ctx)
        else:
            await triage.dismiss(c.Dismiss(mention_id, actor, DismissReason(payload["reason"])), ctx=self._ctx)
