"""Store incoming mentions (de-duplicated) together with their card work, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from bot.ingest.schema import MentionIn
from bot.models import IngestReceipt, Mention
from handlers.answering import SYSTEM
from handlers.context import Context


@dataclass(frozen=True, slots=True)
class Ingested:
    """The answer for one mention of a delivery."""

    id: int
    duplicate: bool

    def as_json(self) -> dict[str, object]:
        """The shape of the ingest route's answer."""
        return {"id": self.id, "duplicate": self.duplicate}


def _row(item: MentionIn, now) -> Mention:  # type: ignore[no-untyped-def]
    author = item.author
    return Mention(
        source=item.source, source_mention_id=item.source_mention_id, network=item.network,
        network_item_id=item.network_item_id, url=item.url, kind=item.kind, in_reply_to_id=item.in_reply_to_id,
        author_id=author.id if author else None, author_handle=author.handle if author else None,
        author_name=author.display_name if author else None, author_url=author.profile_url if author else None,
        author_followers=author.followers if author else None, author_verified=bool(author and author.verified),
        text=item.text, lang=item.lang, published_at=item.published_at, reply_via=item.reply_via, raw=item.raw,
        received_at=now, updated_at=now)


async def ingest(items: list[MentionIn], *, ctx: Context, delivery_id: str | None = None) -> list[Ingested]:
    """Store new mentions and their card jobs; a delivery id seen before returns its first answer."""
    for _attempt in range(2):
        async with ctx.db.uow() as uow:
            if delivery_id is not None:
                receipt = await uow.receipts.get(delivery_id)
                if receipt is not None:
                    return [Ingested(**m) for m in receipt.response["mentions"]]
            now = ctx.clock()
            results = []
            for item in items:
                mention, duplicate = await uow.mentions.add_if_new(_row(item, now))
                if not duplicate:
                    await uow.audit.add(mention.id, SYSTEM, "ingest", now, detail=f"{item.source}", state="new")
                    await ctx.fanout.card_changed(uow.outbox, mention.id or 0, now)
                results.append(Ingested(id=mention.id or 0, duplicate=duplicate))
            if delivery_id is not None:
                await uow.receipts.add(IngestReceipt(webhook_id=delivery_id, received_at=now,
                                                     response={"mentions": [r.as_json() for r in results]}))
            try:
                await uow.commit()
            except IntegrityError:  # the same delivery committed concurrently: answer as it did
                if delivery_id is None:
                    raise
                continue
            ctx.metrics.ingested.inc(sum(not r.duplicate for r in results))
            ctx.metrics.duplicates.inc(sum(r.duplicate for r in results))
            return results
    raise RuntimeError("ingest: delivery committed concurrently but its receipt is missing")
