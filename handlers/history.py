"""Import history (`webcare ingest --closed`): past mentions for stats and de-duplication, never as live cards."""

from __future__ import annotations

from functools import partial

from bot.core.incoming import MentionIn
from bot.storage.history import write_closed
from bot.storage.ingest import Delivery, Ingested
from handlers.context import Context
from handlers.ingest import prioritiser


async def import_closed(items: list[MentionIn], *, ctx: Context, origin: str) -> list[Ingested]:
    """Store these mentions closed, audited as imported from `origin`; no chat card is posted for them."""
    write = partial(write_closed, deliveries=[Delivery(items)], now=ctx.clock(),
                    prioritise=prioritiser(ctx.config.priority), detail=f"imported from {origin}")
    [answer], new_ids = await ctx.db.run_in_transaction(write)
    ctx.metrics.ingested.inc(len(new_ids))
    return answer
