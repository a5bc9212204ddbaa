"""The leads' daily summary: queued once per working day from the team's opening, shown in each triage channel."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from bot.core.clock_words import day_start
from bot.core.daily import DailySummaryView, overdue_count, summary_day
from bot.core.figures import response_figures
from bot.core.mentions import ACTIVE_STATES, LEAD_ROLE
from handlers.context import Context


async def post_daily_summary(ctx: Context) -> int:
    """Queue today's summary of yesterday for the leads, once per team date; returns how many were queued (0 or 1).

    Run periodically: the first run from the day's opening until it closes queues it, so a bot that was down at
    the opening catches up later that day, never on a later one. A bot that saw no mention before today stays
    quiet (nothing to summarise yet).
    """
    now = ctx.clock()
    hours, sla = ctx.config.team.hours, ctx.config.sla.first_response_minutes
    today = summary_day(now, hours)
    if today is None or not ctx.fanout.platforms:
        return 0
    async with ctx.db.uow() as uow:
        reads = uow.daily
        if await reads.queued(ctx.fanout.daily_keys(today.isoformat())):
            return 0
        start, end = day_start(now, hours.zone, days_ago=1), day_start(now, hours.zone)
        if not await reads.any_arrived_before(end):
            return 0
        figures = response_figures(await reads.arrived_between(start, end), sla_minutes=sla, hours=hours)
        clocks = await reads.clocks(ACTIVE_STATES)
        payload = {"covers": (today - timedelta(days=1)).isoformat(), "volume": figures.volume,
                   "median_minutes": figures.median_first_response_minutes, "sla_share": figures.within_sla_share,
                   "sla_minutes": sla, "open": len(clocks), "overdue": overdue_count(clocks, now, hours, sla)}
        queued = await ctx.fanout.daily_summary(uow.outbox, today.isoformat(), payload, now)
        await uow.commit()
    return int(queued)


def summary_view(ctx: Context, payload: dict[str, Any]) -> DailySummaryView:
    """The summary a job carries, addressed to the people with role `webcare-lead`, for the chat edges."""
    return DailySummaryView(
        day=date.fromisoformat(payload["covers"]), volume=int(payload["volume"]),
        median_first_response_minutes=payload["median_minutes"], within_sla_share=payload["sla_share"],
        sla_minutes=int(payload["sla_minutes"]), open=int(payload["open"]), overdue=int(payload["overdue"]),
        leads=tuple(person.ref for person in ctx.config.members(LEAD_ROLE)))
