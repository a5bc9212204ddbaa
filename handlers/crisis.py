"""Run crises on playbooks: start, complete and skip steps, end, link mentions, remind, report."""

from __future__ import annotations

import asyncio
import difflib
import functools
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from bot.core.commands import (
    CompleteStep,
    EndCrisis,
    LinkMention,
    ListPlaybooks,
    Place,
    ReportCrisis,
    ShowCrisis,
    SkipStep,
    StartCrisis,
    UnlinkMention,
)
from bot.core.crisis import rules
from bot.core.crisis.playbooks import Playbook, Step, load_playbooks, parse_playbook, slugify
from bot.core.crisis.rules import CrisisState, StepDone, StepSkipped
from bot.core.crisis.views import (
    ChecklistView,
    CrisisChanged,
    CrisisReminder,
    CrisisReport,
    CrisisStarted,
    PlaybookCatalogue,
    PlaybookSummary,
    ReplyGate,
    StepStatus,
    StepView,
)
from bot.core.mentions import ACTIVE_STATES, LEAD_ROLE, SYSTEM, Actor, DomainError, Joined, NotAllowed, NotFound, Phrase
from bot.outbox.jobs import CrisisNoticeKind
from bot.storage.database import UnitOfWork
from bot.storage.models import Crisis, CrisisStep, Mention
from handlers.context import Context, get_mention, person_ref
from handlers.crisis_report import render_report

T = TypeVar("T")

DONE, SKIPPED = "done", "skipped"
MAX_ROUNDS = 5
# Open cards redrawn when a crisis starts or ends (their menus offer linking to the running crises);
# the newest ones are what people look at, and redrawing thousands would hold up the channel for minutes.
CARDS_REDRAWN = 100


# -- reading a crisis ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def frozen_playbook(path: str, text: str, version: str) -> Playbook:
    """The playbook as it was when the crisis started (parsed from the text stored with it)."""
    playbook, problems = parse_playbook(path, text, version=version)
    if playbook is None:  # the text was valid when the crisis started; a parser change must not lose it
        raise DomainError("refusal.playbook_broken", problem=problems[0])
    return playbook


async def crisis_state(uow: UnitOfWork, crisis: Crisis) -> CrisisState:
    """The crisis as the rules see it: its frozen playbook plus the steps recorded so far."""
    playbook = frozen_playbook(crisis.playbook_path, crisis.playbook_text, crisis.version)
    done: dict[str, StepDone] = {}
    skipped: dict[str, StepSkipped] = {}
    for row in await uow.crises.steps(crisis.id or 0):
        if row.outcome == DONE:
            done[row.step_id] = StepDone(row.by, row.at, row.note)
        else:
            skipped[row.step_id] = StepSkipped(row.by, row.at, row.note or "")
    return CrisisState(playbook=playbook, started_at=crisis.started_at, started_by=crisis.started_by,
                       drill=crisis.drill, done=done, skipped=skipped, ended_at=crisis.ended_at,
                       ended_by=crisis.ended_by, forced_reason=crisis.forced_reason)


async def linked_crisis(uow: UnitOfWork, mention: Mention) -> tuple[Crisis, CrisisState] | None:
    """The crisis a mention is linked to, with its state."""
    if mention.crisis_id is None:
        return None
    crisis = await uow.crises.get(mention.crisis_id)
    return None if crisis is None else (crisis, await crisis_state(uow, crisis))


def reply_gate(state: CrisisState) -> ReplyGate:
    """What replies to linked mentions need right now."""
    if state.drill:
        return ReplyGate.DRILL
    if not state.running:
        return ReplyGate.OPEN
    gate = rules.unlocking_step(state)
    if gate is not None and gate.id not in state.done:
        return ReplyGate.LOCKED
    return {"hold": ReplyGate.HOLD, "approval": ReplyGate.APPROVAL}.get(state.playbook.reply_policy, ReplyGate.OPEN)


def _step_view(ctx: Context, crisis: Crisis, state: CrisisState, step: Step, ready: bool, now: datetime) -> StepView:
    owners = tuple(p.ref for p in ctx.config.members(step.owner))
    due_at = crisis.started_at + step.due if step.due is not None else None
    if step.id in state.done:
        done = state.done[step.id]
        return StepView(step.id, step.title, step.owner, owners, StepStatus.DONE, step.optional,
                        "replies" in step.unlocks, due_at, by=person_ref(ctx.config, done.by, None), at=done.at,
                        note=done.note)
    if step.id in state.skipped:
        skip = state.skipped[step.id]
        return StepView(step.id, step.title, step.owner, owners, StepStatus.SKIPPED, step.optional,
                        "replies" in step.unlocks, due_at, by=person_ref(ctx.config, skip.by, None), at=skip.at,
                        note=skip.reason)
    late = state.running and due_at is not None and now > due_at and not step.optional
    return StepView(step.id, step.title, step.owner, owners, StepStatus.NEXT if ready else StepStatus.WAITING,
                    step.optional, "replies" in step.unlocks, due_at, overdue=late)


async def checklist(uow: UnitOfWork, ctx: Context, crisis: Crisis, now: datetime) -> ChecklistView:
    """Everything the checklist of a crisis shows right now."""
    state = await crisis_state(uow, crisis)
    steps: list[StepView] = []
    blocked = False
    for step in state.playbook.steps:
        view = _step_view(ctx, crisis, state, step, not blocked, now)
        steps.append(view)
        if not step.optional and view.status not in (StepStatus.DONE, StepStatus.SKIPPED):
            blocked = True
    gate_step = rules.unlocking_step(state)
    return ChecklistView(
        id=crisis.id or 0, playbook=crisis.playbook, title=crisis.title, severity=state.playbook.severity,
        version=crisis.version, drill=crisis.drill, started_at=crisis.started_at,
        started_by=person_ref(ctx.config, crisis.started_by, crisis.started_by_name),
        lead_role=state.playbook.lead_role,
        leads=tuple(p.ref for p in ctx.config.members(state.playbook.lead_role)), steps=tuple(steps),
        gate=reply_gate(state), gate_step=next((s for s in steps if gate_step and s.id == gate_step.id), None),
        linked=len(await uow.crises.linked(crisis.id or 0)), now=now, note=crisis.note, ended_at=crisis.ended_at,
        ended_by=person_ref(ctx.config, crisis.ended_by, crisis.ended_by_name) if crisis.ended_by else None,
        forced_reason=crisis.forced_reason, private_channel=state.playbook.channel == "private",
        zone=ctx.config.team.zone)


async def current_checklist(ctx: Context, crisis_id: int) -> ChecklistView | None:
    """The checklist of a crisis as it is now (None if there is no such crisis), for the chat edges."""
    async with ctx.db.uow() as uow:
        crisis = await uow.crises.get(crisis_id)
        return None if crisis is None else await checklist(uow, ctx, crisis, ctx.clock())


async def _resolve(uow: UnitOfWork, place: Place | None, crisis_id: int | None, *,
                   ended_ok: bool = False) -> Crisis:
    """The crisis a command means: the one named, the one of this channel or thread, or the only running one."""
    if crisis_id is None and place is not None:
        crisis_id = await uow.crises.place_of(place.platform, place.channel)
    if crisis_id is not None:
        crisis = await uow.crises.get(crisis_id)
        if crisis is None:
            raise NotFound("refusal.no_crisis", crisis=crisis_id)
        return crisis
    running = await uow.crises.running()
    if len(running) == 1:
        return running[0]
    if not running:
        if ended_ok and (latest := await uow.crises.latest()) is not None:
            return latest
        raise NotFound("refusal.no_crisis_running")
    names = Joined(tuple(Phrase("refusal.crisis_drill" if c.drill else "refusal.crisis_named", crisis=c.id,
                                title=c.title) for c in running))
    raise DomainError("refusal.several_crises", crises=names)


# -- playbooks ----------------------------------------------------------------------------------


async def _playbooks(ctx: Context) -> list[Playbook]:
    """The valid playbooks on disk now (read fresh, so a merged playbook needs no restart)."""
    playbooks, _problems = await asyncio.to_thread(load_playbooks, ctx.playbooks_dir, ctx.config)
    return playbooks


async def list_playbooks(cmd: ListPlaybooks, *, ctx: Context) -> PlaybookCatalogue:
    """Every playbook a crisis can be started on."""
    return PlaybookCatalogue(tuple(PlaybookSummary(p.key, p.title, p.severity, len(p.steps), p.version)
                                   for p in await _playbooks(ctx)))


def _find_playbook(playbooks: list[Playbook], name: str, directory: Path) -> Playbook:
    wanted = slugify(name)
    for playbook in playbooks:
        if wanted in (playbook.key, slugify(playbook.title)):
            return playbook
    keys = [p.key for p in playbooks]
    if not keys:
        raise NotFound("refusal.no_valid_playbooks", directory=str(directory))
    close = difflib.get_close_matches(wanted, keys, n=3, cutoff=0.4)
    hint = Phrase("refusal.did_you_mean", names=", ".join(close)) if close else \
        Phrase("refusal.playbooks_are", playbooks=", ".join(keys))
    raise NotFound("refusal.no_playbook", playbook=repr(name), hint=hint)


# -- running a crisis ---------------------------------------------------------------------------


def _known(ctx: Context, actor: Actor, refusal: str) -> None:
    if actor.key not in ctx.config.people:
        raise NotAllowed(refusal)


async def start_crisis(cmd: StartCrisis, *, ctx: Context) -> CrisisStarted:
    """Freeze the playbook into a new crisis, open its room and checklist, and show the banner."""
    _known(ctx, cmd.actor, "refusal.listed_only_start_crisis")
    playbook = _find_playbook(await _playbooks(ctx), cmd.playbook, ctx.playbooks_dir)
    note = (cmd.note or "").strip() or None
    async with ctx.db.uow() as uow:
        now = ctx.clock()
        crisis = await uow.crises.add(Crisis(
            playbook=playbook.key, title=playbook.title, version=playbook.version, playbook_path=playbook.path,
            playbook_text=playbook.text, drill=cmd.drill, note=note, started_at=now, started_by=cmd.actor.key,
            started_by_name=cmd.actor.ref.name))
        await uow.audit.add(None, cmd.actor, "drill_started" if cmd.drill else "crisis_started", now,
                            detail=f"{playbook.key}@{playbook.version}" + (f": {note}" if note else ""),
                            crisis_id=crisis.id)
        await ctx.fanout.crisis_changed(uow.outbox, crisis.id or 0, now)
        await ctx.fanout.cards_changed(uow.outbox, await uow.mentions.recent_ids(ACTIVE_STATES, CARDS_REDRAWN), now)
        view = await checklist(uow, ctx, crisis, now)
        await uow.commit()
    return CrisisStarted(view)


async def show_crisis(cmd: ShowCrisis, *, ctx: Context) -> ChecklistView:
    """The checklist of the crisis the command means."""
    async with ctx.db.uow() as uow:
        crisis = await _resolve(uow, cmd.place, cmd.crisis_id, ended_ok=True)
        return await checklist(uow, ctx, crisis, ctx.clock())


async def _refused(ctx: Context, crisis_id: int, actor: Actor, action: str, refusal: DomainError,
                   mention_id: int | None = None) -> None:
    """Keep a refusal in the audit trail (its own transaction: the refused one rolled back)."""
    async with ctx.db.uow() as uow:
        await uow.audit.add(mention_id, actor, action, ctx.clock(), detail=refusal.user_message, crisis_id=crisis_id)
        await uow.commit()


async def _audited(ctx: Context, crisis_id: int, actor: Actor, action: str, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a crisis change; a refusal by the rules is audited before it reaches the person."""
    try:
        return await attempt()
    except DomainError as refusal:
        if crisis_id:
            await _refused(ctx, crisis_id, actor, action, refusal)
        raise


async def _record_step(ctx: Context, place: Place | None, crisis_id: int | None, actor: Actor, outcome: str,
                       decide: Callable[[CrisisState, datetime], CrisisState], step_name: str) -> CrisisChanged:
    async with ctx.db.uow() as uow:
        crisis = await _resolve(uow, place, crisis_id)

    async def attempt() -> CrisisChanged:
        for _ in range(MAX_ROUNDS):
            async with ctx.db.uow() as uow:
                # Locked: a step is recorded before the crisis ends (and is in its report), or not at all.
                fresh = await uow.crises.get(crisis.id or 0, lock=True)
                assert fresh is not None
                state = await crisis_state(uow, fresh)
                now = ctx.clock()
                after = decide(state, now)
                step = rules.find_step(state, step_name)
                recorded = (after.done.get(step.id) or after.skipped.get(step.id))
                text = getattr(recorded, "note", None) if outcome == DONE else getattr(recorded, "reason", None)
                if not await uow.crises.record_step(CrisisStep(
                        crisis_id=fresh.id or 0, step_id=step.id, outcome=outcome, by=actor.key,
                        by_name=actor.ref.name, at=now, note=text)):
                    continue  # someone recorded this step meanwhile: decide again on what they did
                action = "step_done" if outcome == DONE else "step_skipped"
                await uow.audit.add(None, actor, action, now, detail=f"{step.id}" + (f": {text}" if text else ""),
                                    crisis_id=fresh.id)
                await ctx.fanout.crisis_changed(uow.outbox, fresh.id or 0, now)
                if "replies" in step.unlocks:
                    await ctx.fanout.cards_changed(uow.outbox, [m.id or 0 for m in await uow.crises.linked(
                        fresh.id or 0)], now)
                view = await checklist(uow, ctx, fresh, now)
                await uow.commit()
            verb = "command.step_done" if outcome == DONE else "command.step_skipped"
            return CrisisChanged(Phrase(verb, step=step.title), view)
        raise DomainError("refusal.crisis_busy")

    return await _audited(ctx, crisis.id or 0, actor, "step_refused", attempt)


async def complete_step(cmd: CompleteStep, *, ctx: Context) -> CrisisChanged:
    """Mark a step done, in playbook order, by its owner role or the lead."""
    return await _record_step(ctx, cmd.place, cmd.crisis_id, cmd.actor, DONE,
                              lambda state, now: rules.complete_step(state, cmd.actor, cmd.step, cmd.note, now),
                              cmd.step)


async def skip_step(cmd: SkipStep, *, ctx: Context) -> CrisisChanged:
    """Skip an optional step: the lead, with a reason."""
    return await _record_step(ctx, cmd.place, cmd.crisis_id, cmd.actor, SKIPPED,
                              lambda state, now: rules.skip_step(state, cmd.actor, cmd.step, cmd.reason, now),
                              cmd.step)


async def end_crisis(cmd: EndCrisis, *, ctx: Context) -> CrisisChanged:
    """End the crisis once every required step is done, or force it (the lead, with a reason)."""
    async with ctx.db.uow() as uow:
        crisis = await _resolve(uow, cmd.place, cmd.crisis_id)

    async def attempt() -> CrisisChanged:
        async with ctx.db.uow() as uow:
            fresh = await uow.crises.get(crisis.id or 0, lock=True)
            assert fresh is not None
            now = ctx.clock()
            ended = rules.end(await crisis_state(uow, fresh), cmd.actor, now, cmd.force_reason)
            if not await uow.crises.end(fresh.id or 0, at=now, by=cmd.actor.key, by_name=cmd.actor.ref.name,
                                        forced_reason=ended.forced_reason):
                raise DomainError("refusal.crisis_ended")
            action = "crisis_forced_end" if ended.forced_reason else "crisis_ended"
            await uow.audit.add(None, cmd.actor, action, now, detail=ended.forced_reason, crisis_id=fresh.id)
            fresh = await uow.crises.get(fresh.id or 0)
            assert fresh is not None
            report = await _report(uow, ctx, fresh, now)
            await uow.crises.store_report(fresh.id or 0, report)
            await ctx.fanout.crisis_changed(uow.outbox, fresh.id or 0, now)
            await ctx.fanout.crisis_notice(uow.outbox, fresh.id or 0, f"report:{fresh.id}:end",
                                           {"kind": CrisisNoticeKind.REPORT}, now)
            redrawn = {m.id or 0 for m in await uow.crises.linked(fresh.id or 0)}
            redrawn.update(await uow.mentions.recent_ids(ACTIVE_STATES, CARDS_REDRAWN))
            await ctx.fanout.cards_changed(uow.outbox, sorted(redrawn), now)
            view = await checklist(uow, ctx, fresh, now)
            await uow.commit()
        if ended.forced_reason:
            return CrisisChanged(Phrase("command.crisis_ended_early", title=fresh.title, person=cmd.actor.ref.name,
                                        reason=ended.forced_reason), view)
        return CrisisChanged(Phrase("command.crisis_ended", title=fresh.title), view)

    return await _audited(ctx, crisis.id or 0, cmd.actor, "end_refused", attempt)


async def _report(uow: UnitOfWork, ctx: Context, crisis: Crisis, now: datetime) -> str:
    state = await crisis_state(uow, crisis)
    return render_report(ctx.config, crisis, state, await uow.audit.for_crisis(crisis.id or 0),
                         await uow.crises.linked(crisis.id or 0), await uow.crises.sent_replies(crisis.id or 0), now,
                         ctx.config.team.words)


async def report_crisis(cmd: ReportCrisis, *, ctx: Context) -> CrisisReport:
    """The markdown timeline of a crisis: stored, posted to its room, and returned."""
    async with ctx.db.uow() as uow:
        crisis = await _resolve(uow, cmd.place, cmd.crisis_id, ended_ok=True)
        now = ctx.clock()
        report = await _report(uow, ctx, crisis, now)
        await uow.crises.store_report(crisis.id or 0, report)
        await ctx.fanout.crisis_notice(uow.outbox, crisis.id or 0, f"report:{crisis.id}:{now.timestamp():.6f}",
                                       {"kind": CrisisNoticeKind.REPORT}, now)
        await uow.commit()
    return CrisisReport(crisis.id or 0, report)


async def redo_reports(uow: UnitOfWork, ctx: Context, mention_ids: list[int]) -> None:
    """Render again the stored reports that list these mentions, after their personal data was erased."""
    for crisis in await uow.crises.reported_with(mention_ids):
        await uow.crises.store_report(crisis.id or 0, await _report(uow, ctx, crisis, crisis.ended_at or ctx.clock()))


async def stored_report(ctx: Context, crisis_id: int) -> str:
    """The report of a crisis as of now, for `webcare crisis report` (nothing is posted)."""
    async with ctx.db.uow() as uow:
        crisis = await uow.crises.get(crisis_id)
        if crisis is None:
            raise NotFound("refusal.no_crisis", crisis=crisis_id)
        return await _report(uow, ctx, crisis, ctx.clock())


# -- linked mentions ----------------------------------------------------------------------------


async def link_mention(cmd: LinkMention, *, ctx: Context) -> CrisisChanged:
    """Link a mention to a running crisis by hand (its replies then follow the crisis' gate)."""
    try:
        _known(ctx, cmd.actor, "refusal.listed_only_link")
    except NotAllowed as refusal:
        if cmd.crisis_id is not None:
            await _refused(ctx, cmd.crisis_id, cmd.actor, "link_refused", refusal, cmd.mention_id)
        raise
    async with ctx.db.uow() as uow:
        mention = await get_mention(uow, cmd.mention_id)
        crisis = await _resolve(uow, None, cmd.crisis_id)
        if crisis.ended_at is not None:
            raise DomainError("refusal.link_ended", title=crisis.title)
        if mention.crisis_id is not None:
            other = await uow.crises.get(mention.crisis_id)
            raise DomainError("refusal.already_linked",
                              crisis=f"#{mention.crisis_id} {other.title}" if other else f"#{mention.crisis_id}")
        now = ctx.clock()
        if not await uow.crises.link(mention.id or 0, crisis.id, now):
            raise DomainError("refusal.linked_meanwhile")
        view = await _link_changed(uow, ctx, cmd.actor, "crisis_link", mention, crisis, now)
    return CrisisChanged(Phrase("command.linked", mention=cmd.mention_id, title=crisis.title), view)


async def _link_changed(uow: UnitOfWork, ctx: Context, actor: Actor, action: str, mention: Mention,
                        crisis: Crisis, now: datetime) -> ChecklistView:
    """Audit a link or unlink, redraw the card and the checklist, and commit; the checklist as it now is."""
    await uow.audit.add(mention.id, actor, action, now, detail=f"#{crisis.id} {crisis.title}", state=mention.state,
                        crisis_id=crisis.id)
    await ctx.fanout.card_changed(uow.outbox, mention.id or 0, now)
    await ctx.fanout.crisis_changed(uow.outbox, crisis.id or 0, now)
    view = await checklist(uow, ctx, crisis, now)
    await uow.commit()
    return view


async def unlink_mention(cmd: UnlinkMention, *, ctx: Context) -> CrisisChanged:
    """Take a mention out of its crisis (the lead of that crisis, or a webcare lead)."""
    async with ctx.db.uow() as uow:
        mention = await get_mention(uow, cmd.mention_id)
        if mention.crisis_id is None:
            raise DomainError("refusal.not_linked")
        crisis = await uow.crises.get(mention.crisis_id)
        assert crisis is not None
        state = await crisis_state(uow, crisis)
        if not rules.is_lead(state, cmd.actor) and LEAD_ROLE not in cmd.actor.roles:
            refusal = NotAllowed("refusal.unlink_lead_only", lead=state.playbook.lead_role, title=crisis.title)
        else:
            refusal = None
    if refusal is not None:
        await _refused(ctx, crisis.id or 0, cmd.actor, "unlink_refused", refusal, mention.id)
        raise refusal
    async with ctx.db.uow() as uow:
        now = ctx.clock()
        if not await uow.crises.link(mention.id or 0, None, None):
            raise DomainError("refusal.unlinked_meanwhile")
        view = await _link_changed(uow, ctx, cmd.actor, "crisis_unlink", mention, crisis, now)
    return CrisisChanged(Phrase("command.unlinked", mention=cmd.mention_id, title=crisis.title), view)


# -- reminders ----------------------------------------------------------------------------------


async def remind_overdue(ctx: Context) -> int:
    """Queue a reminder for every overdue step not reminded yet at its level; returns how many were queued.

    Run periodically (and by tests with a controlled clock); each (step, level) is reminded once.
    """
    queued = 0
    async with ctx.db.uow() as uow:
        now = ctx.clock()
        for crisis in await uow.crises.running():
            state = await crisis_state(uow, crisis)
            reminded = 0
            for late in rules.overdue(state, now):
                key = f"reminder:{crisis.id}:{late.step.id}:{late.level}"
                payload = {"kind": CrisisNoticeKind.REMINDER, "step": late.step.id, "level": late.level}
                if await ctx.fanout.crisis_notice(uow.outbox, crisis.id or 0, key, payload, now):
                    await uow.audit.add(None, SYSTEM, "step_reminder", now,
                                        detail=f"{late.step.id} → {'lead' if late.level == rules.LEAD else 'owner'}",
                                        crisis_id=crisis.id)
                    reminded += 1
            if reminded:  # the checklist flags the step as overdue
                await ctx.fanout.crisis_changed(uow.outbox, crisis.id or 0, now)
            queued += reminded
        await uow.commit()
    return queued


async def reminder_view(uow: UnitOfWork, ctx: Context, crisis_id: int, step_id: str, level: str,
                        now: datetime) -> CrisisReminder | None:
    """What a queued reminder says; None when the step was done meanwhile (nothing to remind)."""
    crisis = await uow.crises.get(crisis_id)
    if crisis is None or crisis.ended_at is not None:
        return None
    view = await checklist(uow, ctx, crisis, now)
    step = next((s for s in view.steps if s.id == step_id), None)
    if step is None or step.status in (StepStatus.DONE, StepStatus.SKIPPED):
        return None
    to_lead = level == rules.LEAD
    notify = view.leads if to_lead else step.owners
    return CrisisReminder(view.tag, step, notify, to_lead, now, view.zone)
