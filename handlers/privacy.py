"""Privacy (AVG/GDPR): erase a person's texts and profile data on request, and expire old data by retention.

Erasing keeps what is anonymous (network, kind, language, times, states, the team's actions), so counts and
response times stay true; every erased mention gets an audit row, its cards and drafts in chat are redrawn, and the
stored reports of crises it was linked to are rendered again without it.
"""

from __future__ import annotations

from datetime import timedelta

from bot.core.mentions import SYSTEM, Actor
from bot.core.views import PersonRef
from bot.outbox.fanout import Fanout
from bot.storage.database import UnitOfWork
from handlers.context import Context
from handlers.crisis import redo_reports

ERASE_ACTION = "privacy_erase"  # audit action: erased on a person's request
EXPIRE_ACTION = "retention_erase"  # audit action: erased because [retention] mentions_days passed
BATCH = 200  # mentions per transaction when retention catches up: a write lock is held only briefly


def operator(name: str) -> Actor:
    """The person at the terminal who runs `webcare privacy erase`."""
    return Actor(PersonRef(key=f"cli:{name}", name=name))


async def erase_author(network: str, handle: str, *, ctx: Context, actor: Actor) -> int:
    """Erase every mention this author wrote on this network; returns how many."""
    async with ctx.db.uow() as uow:
        mention_ids = await uow.mentions.by_author(network, handle)
        # The audit row never names the handle: that would keep what was erased.
        await _erase(uow, ctx, mention_ids, actor, ERASE_ACTION, "texts and profile data erased on request")
        await uow.commit()
    return len(mention_ids)


async def apply_retention(ctx: Context) -> tuple[int, int]:
    """Erase mentions older than `mentions_days` and raw payloads older than `raw_days`; returns both counts."""
    retention, now = ctx.config.retention, ctx.clock()
    erased = cleared = 0
    if retention.mentions_days is not None:
        before = now - timedelta(days=retention.mentions_days)
        while True:
            async with ctx.db.uow() as uow:
                mention_ids = await uow.mentions.expired(before, BATCH)
                await _erase(uow, ctx, mention_ids, SYSTEM, EXPIRE_ACTION,
                             f"kept {retention.mentions_days:g} days ([retention] mentions_days)")
                await uow.commit()
            erased += len(mention_ids)
            if len(mention_ids) < BATCH:
                break
    if retention.raw_days is not None:
        before = now - timedelta(days=retention.raw_days)
        while True:
            async with ctx.db.uow() as uow:
                count = await uow.mentions.clear_raw(before, BATCH)
                await uow.commit()
            cleared += count
            if count < BATCH:
                break
    return erased, cleared


async def _erase(uow: UnitOfWork, ctx: Context, mention_ids: list[int], actor: Actor, action: str,
                 detail: str) -> None:
    """Erase, audit each mention, and redraw what the bot already posted about them (never post anything new)."""
    if not mention_ids:
        return
    now = ctx.clock()
    await uow.mentions.erase_personal_data(mention_ids, now)
    await uow.audit.add_each(mention_ids, actor, action, now, detail)
    await redo_reports(uow, ctx, mention_ids)  # a stored crisis report lists the authors' handles
    for platform, subject, mention_id in await uow.mentions.chat_messages(mention_ids):
        if platform not in ctx.fanout.platforms:
            continue
        only_here = Fanout((platform,))
        kind, _, number = subject.partition(":")
        if kind == "card":
            await only_here.card_changed(uow.outbox, mention_id, now)
        elif kind == "draft" and number.isdigit():
            await only_here.draft_changed(uow.outbox, mention_id, int(number), now)
