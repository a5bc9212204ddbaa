"""Store incoming mentions (de-duplicated) with their card work; many deliveries share one transaction."""

from __future__ import annotations

from datetime import datetime
from functools import partial

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from bot.ingest.schema import MentionIn
from bot.outbox.fanout import Fanout
from bot.storage.crisis_links import link_new_mentions
from bot.storage.ingest import Delivery, Ingested, write_deliveries
from bot.storage.repositories import fresh_job, outbox_sync_statement
from handlers.context import Context

__all__ = ["Delivery", "Ingested", "ingest", "ingest_deliveries"]


def _write(conn: sa.Connection, deliveries: list[Delivery], now: datetime,
           fanout: Fanout) -> tuple[list[list[Ingested]], list[int]]:
    """The ingest transaction: the mentions, and their links to running crises whose triggers they match."""
    answers, new_ids = write_deliveries(conn, deliveries, now, fanout.card_jobs)
    crisis_ids = link_new_mentions(conn, new_ids, now)
    if crisis_ids:
        conn.execute(outbox_sync_statement(conn.dialect.name),
                     [{**job, **fresh_job(now)} for job in fanout.crisis_jobs(crisis_ids)])
    return answers, new_ids


async def ingest_deliveries(deliveries: list[Delivery], *, ctx: Context) -> list[list[Ingested]]:
    """Store the deliveries in one transaction; each gets its answer (a replayed delivery id, its first one)."""
    write = partial(_write, deliveries=deliveries, now=ctx.clock(), fanout=ctx.fanout)
    answers, new_ids = await ctx.db.run_in_transaction(write)
    ctx.metrics.ingested.inc(len(new_ids))
    ctx.metrics.duplicates.inc(sum(r.duplicate for results in answers for r in results) if answers else 0)
    return answers


async def ingest(items: list[MentionIn], *, ctx: Context, delivery_id: str | None = None) -> list[Ingested]:
    """Store one delivery; if the same delivery id was committed concurrently, answer as it did."""
    try:
        [answer] = await ingest_deliveries([Delivery(items, delivery_id)], ctx=ctx)
    except IntegrityError:
        if delivery_id is None:
            raise
        [answer] = await ingest_deliveries([Delivery(items, delivery_id)], ctx=ctx)
    return answer
