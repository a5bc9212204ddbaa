"""Spike alerts: check the topics' volumes now and then, alert once per spike, and carry out people's answer."""

from __future__ import annotations

import asyncio
import functools
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.core.commands import DismissSpike, StartCrisis, StartSpikeCrisis
from bot.core.crisis.playbooks import parse_playbook, playbook_files
from bot.core.crisis.triggers import trigger_pattern
from bot.core.mentions import DomainError, NotAllowed, NotFound
from bot.core.storms.spikes import (
    SpikeAlertView,
    SpikeDecision,
    SpikeSample,
    find_spikes,
    windows,
)
from bot.core.views import CrisisTag
from bot.storage.database import UnitOfWork
from bot.storage.models import SpikeAlert
from handlers import crisis
from handlers.context import Context, person_ref

CARDS_REDRAWN = crisis.CARDS_REDRAWN  # the newest linked mentions' cards are redrawn to show their crisis


@functools.lru_cache(maxsize=64)
def _pattern(path: str, text: str) -> tuple[str, re.Pattern[str] | None] | None:
    playbook, _ = parse_playbook(path, text)
    return None if playbook is None else (playbook.key, trigger_pattern(playbook.triggers))


def trigger_patterns(directory: Path) -> dict[str, re.Pattern[str]]:
    """Each valid playbook's triggers as one pattern, by playbook key (playbooks without triggers left out)."""
    found: dict[str, re.Pattern[str]] = {}
    for path in playbook_files(directory):
        try:
            parsed = _pattern(str(path), path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
        if parsed is not None and parsed[1] is not None:
            found[parsed[0]] = parsed[1]
    return found


def _payload(alert: SpikeAlert) -> dict[str, Any]:
    return {"topic": alert.topic, "count": alert.count, "window_minutes": alert.window_minutes,
            "usual": alert.usual, "samples": list(alert.samples), "playbook": alert.playbook}


async def check_spikes(ctx: Context) -> int:
    """Alert on the topics that spike now, once per spike; returns how many alerts were queued.

    Run periodically (and by tests with a controlled clock).
    """
    rules = ctx.config.storm
    patterns = await asyncio.to_thread(trigger_patterns, ctx.playbooks_dir)
    async with ctx.db.uow() as uow:
        await uow.spikes.hold_checks()
        now = ctx.clock()
        seen = await uow.spikes.seen(windows(now, rules))
        check = find_spikes(seen, now, rules, patterns, await uow.spikes.holding())
        if not check.alerts and not check.ended:
            return 0
        await uow.spikes.end(check.ended, now)
        for spike in check.alerts:
            alert_id = await uow.spikes.record(spike, now)
            alert = await uow.spikes.get(alert_id)
            assert alert is not None
            await ctx.fanout.spike_alert(uow.outbox, alert_id, _payload(alert), now, found=True)
        await uow.commit()
    return len(check.alerts)


async def _alert(uow: UnitOfWork, alert_id: int) -> SpikeAlert:
    alert = await uow.spikes.get(alert_id)
    if alert is None:
        raise NotFound("refusal.no_spike_alert", alert=alert_id)
    return alert


async def alert_view(uow: UnitOfWork, ctx: Context, alert: SpikeAlert) -> SpikeAlertView:
    """Everything the alert's message shows now."""
    samples = []
    for mention_id in alert.samples:
        mention = await uow.mentions.get(mention_id)
        if mention is not None:
            samples.append(SpikeSample(mention_id, mention.text))
    started = await uow.crises.get(alert.crisis_id) if alert.crisis_id is not None else None
    return SpikeAlertView(
        id=alert.id or 0, topic=alert.topic, count=alert.count, usual=alert.usual,
        window_minutes=alert.window_minutes, samples=tuple(samples), playbook=alert.playbook,
        decision=alert.decision,
        decided_by=person_ref(ctx.config, alert.decided_by, alert.decided_by_name) if alert.decided_by else None,
        crisis=CrisisTag(started.id or 0, started.title, started.drill) if started is not None else None)


async def current_alert(ctx: Context, alert_id: int) -> SpikeAlertView | None:
    """The alert's message as it must show now (None if there is no such alert), for the chat edges."""
    async with ctx.db.uow() as uow:
        alert = await uow.spikes.get(alert_id)
        return None if alert is None else await alert_view(uow, ctx, alert)


def _known(ctx: Context, key: str) -> None:
    if key not in ctx.config.people:
        raise NotAllowed("refusal.listed_only_spike")


def _answered(ctx: Context, alert: SpikeAlert) -> DomainError:
    who = person_ref(ctx.config, alert.decided_by or "", alert.decided_by_name).name
    if alert.decision == SpikeDecision.CRISIS:
        return DomainError("refusal.spike_crisis_started", person=who)
    return DomainError("refusal.spike_not_now", person=who)


async def start_crisis(cmd: StartSpikeCrisis, *, ctx: Context) -> SpikeAlertView:
    """Start a crisis on the alert's playbook, then link the spike's mentions to it (a storm's: all its members)."""
    _known(ctx, cmd.actor.key)
    async with ctx.db.uow() as uow:
        alert = await _alert(uow, cmd.alert_id)
        if alert.playbook is None:
            raise DomainError("refusal.spike_no_playbook")
        if not await uow.spikes.decide(cmd.alert_id, SpikeDecision.CRISIS, cmd.actor.key, cmd.actor.ref.name,
                                       ctx.clock()):
            raise _answered(ctx, await _alert(uow, cmd.alert_id))
        await uow.commit()
    try:
        note = ctx.config.team.words("spike.started_from", alert=cmd.alert_id)
        started = await crisis.start_crisis(StartCrisis(cmd.actor, alert.playbook, note), ctx=ctx)
    except BaseException:  # no crisis: the alert can be answered again
        async with ctx.db.uow() as uow:
            await uow.spikes.decide(cmd.alert_id, None, None, None, None)
            await uow.commit()
        raise
    crisis_id, title = started.checklist.id, started.checklist.title
    patterns = await asyncio.to_thread(trigger_patterns, ctx.playbooks_dir)
    async with ctx.db.uow() as uow:
        now = ctx.clock()
        linked = await uow.spikes.link(await _topic_mentions(uow, alert, patterns, now), crisis_id, now)
        for mention_id in linked:
            await uow.audit.add(mention_id, cmd.actor, "crisis_link", now, crisis_id=crisis_id,
                                detail=f"#{crisis_id} {title} (spike alert #{cmd.alert_id})")
        await uow.spikes.started(cmd.alert_id, crisis_id)
        await ctx.fanout.crisis_changed(uow.outbox, crisis_id, now)
        await ctx.fanout.cards_changed(uow.outbox, linked[-CARDS_REDRAWN:], now)
        fresh = await _alert(uow, cmd.alert_id)
        await ctx.fanout.spike_alert(uow.outbox, cmd.alert_id, _payload(fresh), now)
        view = await alert_view(uow, ctx, fresh)
        await uow.commit()
    return view


async def _topic_mentions(uow: UnitOfWork, alert: SpikeAlert, patterns: dict[str, re.Pattern[str]],
                          now: datetime) -> list[int]:
    """The spike's mentions: a storm's members; else the topic's mentions since the alert's window began."""
    kind, _, name = alert.topic.partition(":")
    if kind == "storm":
        return await uow.spikes.storm_members(int(name))
    since = alert.alerted_at - timedelta(minutes=alert.window_minutes)
    seen = await uow.spikes.seen([(since, now)])
    if kind == "playbook":
        pattern = patterns.get(name)
        return sorted(m.id for m in seen if pattern is not None and pattern.search(m.text))
    return sorted(m.id for m in seen)


async def not_now(cmd: DismissSpike, *, ctx: Context) -> SpikeAlertView:
    """Answer the alert with "not now": its buttons go, and it says who decided."""
    _known(ctx, cmd.actor.key)
    async with ctx.db.uow() as uow:
        now = ctx.clock()
        if not await uow.spikes.decide(cmd.alert_id, SpikeDecision.NOT_NOW, cmd.actor.key, cmd.actor.ref.name, now):
            raise _answered(ctx, await _alert(uow, cmd.alert_id))
        alert = await _alert(uow, cmd.alert_id)
        await ctx.fanout.spike_alert(uow.outbox, cmd.alert_id, _payload(alert), now)
        view = await alert_view(uow, ctx, alert)
        await uow.commit()
    return view


async def spike_after(ctx: Context, command: object) -> SpikeAlertView | None:
    """What a clicked spike alert shows after its command ran (None when the command is not about an alert)."""
    if not isinstance(command, StartSpikeCrisis | DismissSpike):
        return None
    view = await current_alert(ctx, command.alert_id)
    if view is None:
        raise NotFound("refusal.no_spike_alert", alert=command.alert_id)
    return view
