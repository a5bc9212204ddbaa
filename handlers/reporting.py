"""Answers to "what is mine", "how is the queue" and "how are we doing" (volume, response times, SLA)."""

from __future__ import annotations

import statistics
from datetime import timedelta

from bot.core.commands import ShowMine, ShowQueue, ShowStats
from bot.core.mentions import ACTIVE_STATES, DomainError
from bot.core.storms.priority import priority_label
from bot.core.views import MentionState, MineItem, QueueItem, QueueReport, StatsReport
from bot.storage.models import Mention
from handlers.context import Context

PERIODS = {"today": None, "week": timedelta(days=7)}
QUEUE_FIRST = 5  # unclaimed mentions `queue` names, most urgent first


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def _author(m: Mention) -> str:
    return m.author_handle or m.author_name or "unknown"


async def show_mine(cmd: ShowMine, *, ctx: Context) -> list[MineItem]:
    """The open mentions this person holds, oldest first."""
    now = ctx.clock()
    async with ctx.db.uow() as uow:
        rows = await uow.mentions.claimed_by(cmd.actor.key, ACTIVE_STATES)
    return [MineItem(mention_id=m.id or 0, network=m.network, author=_author(m),
                     state=MentionState(m.state), age_minutes=_minutes(now - m.published_at), url=m.url)
            for m in rows]


async def show_queue(cmd: ShowQueue, *, ctx: Context) -> QueueReport:
    """How many open mentions nobody holds (by priority level), how old the oldest is, and the few that come first."""
    now = ctx.clock()
    async with ctx.db.uow() as uow:
        levels = await uow.mentions.unclaimed_by_level(ACTIVE_STATES)
        first = await uow.mentions.unclaimed_first(ACTIVE_STATES, QUEUE_FIRST) if levels else []
    oldest = min((published for _, published in levels.values()), default=None)
    return QueueReport(
        unclaimed=sum(count for count, _ in levels.values()),
        oldest_age_minutes=_minutes(now - oldest) if oldest else None,
        by_level=tuple((level, levels[level][0]) for level in sorted(levels)),
        first=tuple(QueueItem(mention_id=m.id or 0, network=m.network, author=_author(m),
                              priority=priority_label(m.priority_level, m.priority_reasons),
                              age_minutes=_minutes(now - m.published_at), url=m.url) for m in first))


async def show_stats(cmd: ShowStats, *, ctx: Context) -> StatsReport:
    """Volume, median time to first response and share answered within the SLA, for today or the last week."""
    if cmd.period not in PERIODS:
        raise DomainError(f"Unknown period {cmd.period!r}: use today or week.")
    now = ctx.clock()
    window = PERIODS[cmd.period]
    start = now - window if window else now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with ctx.db.uow() as uow:
        rows = await uow.mentions.since(start)
    sla = ctx.config.sla.first_response_minutes
    waits = [(first - published).total_seconds() / 60 for published, first, _ in rows if first is not None]
    dismissed = sum(1 for *_, state in rows if state == MentionState.DISMISSED)
    needing_answer = len(rows) - dismissed
    return StatsReport(
        period=cmd.period, volume=len(rows), answered=len(waits), dismissed=dismissed,
        median_first_response_minutes=round(statistics.median(waits), 1) if waits else None,
        within_sla_share=(sum(1 for w in waits if w <= sla) / needing_answer) if needing_answer else None,
        sla_minutes=sla)


