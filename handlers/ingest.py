"""Store incoming mentions (de-duplicated) with their card work; many deliveries share one transaction."""

from __future__ import annotations

from collections import Counter
from functools import partial

from bot.core.incoming import MentionIn
from bot.core.storms.priority import Priority, PriorityRules, score
from bot.storage.errors import Conflict
from bot.storage.ingest import Delivery, Ingested, Outbound, Prioritise, write_ingest
from handlers.context import Context

__all__ = ["Delivery", "Ingested", "ingest", "ingest_deliveries", "prioritiser"]


def prioritiser(rules: PriorityRules) -> Prioritise:
    """How an incoming item is scored under the team's `[priority]` rules (and whether it joined a crisis)."""

    def prioritise(item: MentionIn, crisis_linked: bool) -> Priority:
        author = item.author
        return score(rules, network=item.network, handle=author.handle if author else None,
                     followers=author.followers if author else None, verified=bool(author and author.verified),
                     text=item.text, crisis_linked=crisis_linked)

    return prioritise


async def ingest_deliveries(deliveries: list[Delivery], *, ctx: Context) -> list[list[Ingested]]:
    """Store the deliveries in one transaction; each gets its answer (a replayed delivery id, its first one)."""
    fanout = ctx.fanout
    outbound = Outbound(card_jobs=fanout.card_jobs, crisis_jobs=fanout.crisis_jobs, storm_jobs=fanout.storm_jobs,
                        digest_jobs=fanout.digest_jobs, card_paces=fanout.card_paces())
    write = partial(write_ingest, deliveries=deliveries, now=ctx.clock(), prioritise=prioritiser(ctx.config.priority),
                    outbound=outbound, storms=ctx.config.storm)
    answers, levels = await ctx.db.run_in_transaction(write)
    ctx.metrics.ingested.inc(len(levels))
    for level, count in Counter(levels.values()).items():
        ctx.metrics.prioritised.labels(level=str(level)).inc(count)
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
