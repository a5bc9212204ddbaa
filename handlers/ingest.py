"""Store incoming mentions (de-duplicated) with their card work; many deliveries share one transaction."""

from __future__ import annotations

from functools import partial

from bot.core.incoming import MentionIn
from bot.storage.errors import Conflict
from bot.storage.ingest import Delivery, Ingested, write_ingest
from handlers.context import Context

__all__ = ["Delivery", "Ingested", "ingest", "ingest_deliveries"]


async def ingest_deliveries(deliveries: list[Delivery], *, ctx: Context) -> list[list[Ingested]]:
    """Store the deliveries in one transaction; each gets its answer (a replayed delivery id, its first one)."""
    write = partial(write_ingest, deliveries=deliveries, now=ctx.clock(), card_jobs=ctx.fanout.card_jobs,
                    crisis_jobs=ctx.fanout.crisis_jobs)
    answers, new_ids = await ctx.db.run_in_transaction(write)
    ctx.metrics.ingested.inc(len(new_ids))
    ctx.metrics.duplicates.inc(sum(r.duplicate for results in answers for r in results) if answers else 0)
    return answers


async def ingest(items: list[MentionIn], *, ctx: Context, delivery_id: str | None = None) -> list[Ingested]:
    """Store one delivery; if the same delivery id was committed concurrently, answer as it did."""
    try:
        [answer] = await ingest_deliveries([Delivery(items, delivery_id)], ctx=ctx)
    except Conflict:
        if delivery_id is None:
            raise
        [answer] = await ingest_deliveries([Delivery(items, delivery_id)], ctx=ctx)
    return answer
