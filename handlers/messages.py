"""Where the bot's chat messages went and where it was installed: the posters' bookkeeping, and learning a channel."""

from __future__ import annotations

import time

from bot.core.commands import LearnChannel
from bot.storage.models import ChatChannel, ChatMessage
from handlers.context import Context


async def recorded(ctx: Context, platform: str, workspace: str, subject: str) -> ChatMessage | None:
    """The message posted for this subject (or the channel created for it), if any."""
    async with ctx.db.uow() as uow:
        return await uow.messages.get(platform, workspace, subject)


async def remember(ctx: Context, platform: str, workspace: str, subject: str, *, channel: str, ts: str,
                   mention_id: int | None = None, crisis_id: int | None = None, thread_ts: str | None = None) -> None:
    """Keep where the subject's message went, so later runs update it instead of posting it again."""
    async with ctx.db.uow() as uow:
        await uow.messages.add(ChatMessage(platform=platform, workspace=workspace, subject=subject,
                                           mention_id=mention_id, crisis_id=crisis_id, channel=channel, ts=ts,
                                           thread_ts=thread_ts, posted_at=ctx.clock()))
        await uow.commit()


async def note_start(ctx: Context, platform: str, workspace: str, note: str, channel: str) -> ChatMessage | None:
    """Note (under the subject `note`) that a post starts; returns the earlier note when one started before."""
    async with ctx.db.uow() as uow:
        started = await uow.messages.get(platform, workspace, note)
        if started is None:
            await uow.messages.add(ChatMessage(platform=platform, workspace=workspace, subject=note, channel=channel,
                                               ts="", posted_at=ctx.clock()))
            await uow.commit()
        return started


async def next_slot(ctx: Context, key: str, spacing: float, burst: float = 0.0) -> float:
    """Seconds to wait before a send on `key` (a platform's channel), in turn with every process on this database.

    Sends are booked `spacing` apart on one schedule per key; a send may go up to `burst` seconds ahead of its
    booking, so a quiet channel takes a short burst and a busy one its steady pace (a generic cell rate algorithm).
    """
    now = time.time()  # wall time, as every process reads it alike (the team's clock may be a test's)
    async with ctx.db.uow() as uow:
        booked = await uow.paces.take(key, spacing, now)
        await uow.commit()
    return max(0.0, booked - burst - now)


async def learned_channel(ctx: Context, platform: str) -> ChatChannel | None:
    """The channel the bot was installed in most recently on this platform."""
    async with ctx.db.uow() as uow:
        return await uow.channels.latest(platform)


async def learn_channel(cmd: LearnChannel, *, ctx: Context) -> None:
    """Remember (or refresh) where the bot was installed."""
    async with ctx.db.uow() as uow:
        await uow.channels.learn(cmd.platform, cmd.workspace, cmd.channel, cmd.name, cmd.service_url, cmd.reference,
                                 ctx.clock())
        await uow.commit()
