"""Digests: a minute's P3 mentions in one message while the channel's backlog is long; each line claimable."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.storms.views import DigestLine, DigestView
from bot.core.views import MentionState
from handlers.context import Context, person_ref

DIGEST_LINES = 40  # lines a digest shows (a Slack message holds 50 blocks); the rest are counted


def minute_at(minute: str) -> datetime:
    """The moment a digest's minute (`2026-11-20T10:31`) names, in UTC."""
    return datetime.strptime(minute, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)


async def digest_view(ctx: Context, minute: str) -> DigestView:
    """The digest of the minute as it must show now."""
    async with ctx.db.uow() as uow:
        total, mentions = await uow.mentions.in_digest(minute_at(minute), DIGEST_LINES)
    lines = tuple(DigestLine(mention_id=m.id or 0, network=m.network, author_handle=m.author_handle, text=m.text,
                             url=m.url, state=MentionState(m.state),
                             claimed_by=person_ref(ctx.config, m.claimed_by, m.claimed_by_name)
                             if m.claimed_by else None) for m in mentions)
    return DigestView(minute=minute, lines=lines, total=total, now=ctx.clock(), zone=ctx.config.team.zone)


async def shown_elsewhere(ctx: Context, mention_id: int) -> bool:
    """Whether the mention has no card of its own: a member of a storm below P1 (its storm's card shows it) or a
    new line in a digest. A digest line's message is redrawn to show the line as it is now; once someone took
    the line up, it gets its card too, where the claimant answers, escalates or dismisses it."""
    async with ctx.db.uow() as uow:
        m = await uow.mentions.get(mention_id)
        if m is None:
            return False
        if m.digest_at is not None:
            await ctx.fanout.digest_changed(uow.outbox, m.digest_at.strftime("%Y-%m-%dT%H:%M"), ctx.clock())
            await uow.commit()
            if m.state == MentionState.NEW:
                return True
    return m.storm_id is not None and m.priority_level != "P1"
