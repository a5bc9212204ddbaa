"""SLA reminders: found now and then, each sent once, in the card's thread or, in a storm, gathered per minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.config import Config
from bot.core.access import WEBCARE_ROLE
from bot.core.mentions import ACTIVE_STATES, LEAD_ROLE
from bot.core.sla import (
    APPROVAL_LEAD_FACTOR,
    GATHER_FROM,
    Due,
    ReminderView,
    SlaEvent,
    due_for_draft,
    due_for_mention,
    one_per_storm,
)
from bot.core.sla_clock import SlaClock, SlaTargets, first_response_clock
from bot.core.views import MentionState, network_label
from bot.storage.models import Mention
from handlers.context import Context

SUMMARY_CHARS = 80  # of a mention's text, on a line of a gathered reminder


def targets(config: Config) -> SlaTargets:
    """The team's SLA promises from webcare.toml."""
    sla = config.sla
    return SlaTargets(sla.first_response_minutes, sla.claim_reminder_minutes, sla.warn_at)


def clock_of(config: Config, mention: Mention, now: datetime) -> SlaClock:
    """The first-response clock of a stored mention at `now`, for its card."""
    ended = mention.state in (MentionState.CLOSED, MentionState.DISMISSED)
    return first_response_clock(mention.received_at, mention.first_response_at, now, ended=ended,
                                hours=config.team.hours, targets=targets(config))


async def remind_sla(ctx: Context) -> int:
    """Queue the SLA reminders that are due and redraw the cards whose clock reached its warn or breach moment;
    returns how many reminders were recorded.

    Run periodically. A few due at once each go to their card's thread; GATHER_FROM or more (a storm) go out as one
    message per chat platform per minute: when this minute's is out already, they wait for the next minute.
    """
    now = ctx.clock()
    if not ctx.fanout.platforms:
        return 0
    goals, hours = targets(ctx.config), ctx.config.team.hours
    webcare = tuple(p.key for p in ctx.config.members(WEBCARE_ROLE))
    leads = tuple(p.key for p in ctx.config.members(LEAD_ROLE))
    soonest = timedelta(minutes=min(goals.claim_reminder_minutes, goals.warn_minutes))  # working time ≤ real time
    async with ctx.db.uow() as uow:
        due: list[Due] = []
        for clock in await uow.sla.open_clocks(ACTIVE_STATES, now - soonest):
            due += due_for_mention(clock, now, hours=hours, targets=goals, webcare=webcare, leads=leads)
        for draft in await uow.sla.waiting_drafts(now - timedelta(minutes=goals.claim_reminder_minutes)):
            due += due_for_draft(draft, now, hours=hours, targets=goals, leads=leads)
        if not due:
            return 0
        told = [d for d in one_per_storm(due) if set(d.to) & set(ctx.config.people)]
        if len(told) >= GATHER_FROM:
            if not await ctx.fanout.gathered_reminders(uow.outbox, _minute(now), [_item(d) for d in told], now):
                return 0
        else:
            for reminder in told:
                await ctx.fanout.notice(uow.outbox, reminder.mention_id, _notice_key(reminder),
                                        {"kind": "sla", **_item(reminder)}, now)
        await uow.sla.record([(d.mention_id, d.event, d.draft_id) for d in due], now)
        await ctx.fanout.clocks_changed(uow.outbox, sorted({d.mention_id for d in due if d.redraw}), now)
        await uow.commit()
    return len(due)


def _item(due: Due) -> dict[str, Any]:
    item = {"event": due.event.value, "mention_id": due.mention_id, "draft_id": due.draft_id, "to": list(due.to),
            "due_at": due.due_at.astimezone(UTC).isoformat()}
    return item if due.storm_id is None else {**item, "storm_id": due.storm_id}


def _notice_key(due: Due) -> str:
    return f"sla:{due.event}:{due.mention_id}:{due.draft_id}"


def _minute(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


async def reminder_views(ctx: Context, items: list[dict[str, Any]]) -> list[ReminderView]:
    """The reminders a job carries, as the chat edges show them: who is told, and the mention in a few words."""
    now, goals = ctx.clock(), targets(ctx.config)
    async with ctx.db.uow() as uow:
        mentions = {m.id: m for m in await uow.sla.mentions([int(i["mention_id"]) for i in items])}
    views = []
    for item in items:
        mention = mentions.get(int(item["mention_id"]))
        if mention is None:
            continue  # erased meanwhile
        event = SlaEvent(item["event"])
        to = tuple(ctx.config.people[key].ref for key in item["to"] if key in ctx.config.people)
        deadline = ctx.config.team.hours.deadline(mention.received_at, goals.first_response_minutes)
        summary = ctx.config.team.words("clock.storm", storm=item["storm_id"]) if item.get("storm_id") else \
            _summary(mention)
        views.append(ReminderView(event, mention.id or 0, to, deadline, now, _minutes(ctx, event, mention, now, goals),
                                  summary))
    return views


def _minutes(ctx: Context, event: SlaEvent, mention: Mention, now: datetime, goals: SlaTargets) -> int:
    """What the reminder counts: minutes unclaimed or waiting, left before the breach, or the time promised."""
    if event in (SlaEvent.CLAIM_REMINDER, SlaEvent.APPROVAL_REMINDER):
        return goals.claim_reminder_minutes
    if event is SlaEvent.APPROVAL_LEAD:
        return goals.claim_reminder_minutes * APPROVAL_LEAD_FACTOR
    if event is SlaEvent.WARNING:
        return clock_of(ctx.config, mention, now).minutes
    return goals.first_response_minutes


def _summary(mention: Mention) -> str:
    """The mention in a few words, as typed (the edge escapes it): "X @klant: waar blijft mijn pakket…"."""
    text = " ".join(mention.text.split())
    text = text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "…"
    who = f" @{mention.author_handle.lstrip('@')}" if mention.author_handle else ""
    return f"{network_label(mention.network)}{who}: {text}"
