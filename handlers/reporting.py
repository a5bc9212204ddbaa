"""Answers to "what is mine", "how is the queue" and "how are we doing" (volume, response times, SLA)."""

from __future__ import annotations

from datetime import timedelta

from bot.core.clock_words import day_start
from bot.core.commands import ShowMine, ShowQueue, ShowStats
from bot.core.figures import median_working_minutes, response_figures
from bot.core.mentions import ACTIVE_STATES, DomainError
from bot.core.views import MentionState, MineItem, QueueItem, QueueReport, StatsReport, UndeliveredItem
from bot.storage.models import Mention
from handlers.context import Context, person_ref

PERIODS = {"today": 0, "week": 6}  # days before today the period starts, on the team's calendar
QUEUE_FIRST = 5  # unclaimed mentions `queue` names, most urgent first
QUEUE_UNDELIVERED = 10  # open mentions whose reply failed that `queue` names, oldest first


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
        undelivered = await uow.mentions.undelivered(ACTIVE_STATES, QUEUE_UNDELIVERED)
    oldest = min((published for _, published in levels.values()), default=None)
    return QueueReport(
        unclaimed=sum(count for count, _ in levels.values()),
        oldest_age_minutes=_minutes(now - oldest) if oldest else None,
        by_level=tuple((level, levels[level][0]) for level in sorted(levels)),
        first=tuple(QueueItem(mention_id=m.id or 0, network=m.network, author=_author(m),
                              priority_level=m.priority_level, priority_reasons=tuple(m.priority_reasons),
                              age_minutes=_minutes(now - m.published_at), url=m.url) for m in first),
        undelivered=tuple(UndeliveredItem(mention_id=m.id or 0, network=m.network, author=_author(m),
                                          claimed_by=person_ref(ctx.config, m.claimed_by, m.claimed_by_name)
                                          if m.claimed_by else None, url=m.url) for m in undelivered))


async def show_stats(cmd: ShowStats, *, ctx: Context) -> StatsReport:
    """Volume, median time to first response and share answered within the SLA, for today or the last 7 days
    (today and the six days before), counted by arrival from midnight in the team's time zone."""
    if cmd.period not in PERIODS:
        raise DomainError("command.unknown_period", period=repr(cmd.period))
    start = day_start(ctx.clock(), ctx.config.team.zone, days_ago=PERIODS[cmd.period])
    async with ctx.db.uow() as uow:
        rows = await uow.mentions.since(start)
        resolutions = await uow.sla.resolutions_since(start)
    sla = ctx.config.sla.first_response_minutes
    figures = response_figures(rows, sla_minutes=sla, hours=ctx.config.team.hours)
    return StatsReport(
        period=cmd.period, volume=figures.volume, answered=figures.answered, dismissed=figures.dismissed,
        median_first_response_minutes=figures.median_first_response_minutes,
        within_sla_share=figures.within_sla_share, sla_minutes=sla,
        median_resolution_minutes=median_working_minutes(resolutions, ctx.config.team.hours))


