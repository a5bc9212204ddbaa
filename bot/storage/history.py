"""Import history: mentions stored already closed (audited as imported), with no card work and no crisis links."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from bot.core.mentions import SYSTEM
from bot.core.views import MentionState
from bot.storage.ingest import Delivery, Ingested, Prioritise, write_deliveries
from bot.storage.models import Audit, Mention

IMPORTED = "imported"  # the audit action of a mention that arrived closed, from an import of history


def write_closed(conn: sa.Connection, deliveries: list[Delivery], now: datetime, prioritise: Prioritise,
                 detail: str) -> tuple[list[list[Ingested]], list[int]]:
    """Store the deliveries like ingest does, but close each new mention at once and queue no card for it.

    History counts as arrived when it was published (not after `now`): it is the usual volume of its time of
    week for spike alerts, never a burst now. One transaction: a crash leaves either nothing or closed
    mentions, never open ones without cards.
    """
    answers, new = write_deliveries(conn, deliveries, now, prioritise)
    new_ids = list(new)
    if new_ids:
        mention = Mention.__table__
        arrived = sa.case((mention.c.published_at < now, mention.c.published_at), else_=now)
        conn.execute(sa.update(mention).where(mention.c.id.in_(new_ids))
                     .values(state=MentionState.CLOSED.value, version=mention.c.version + 1, updated_at=now,
                             received_at=arrived))
        actor, actor_name = SYSTEM.key, SYSTEM.ref.name
        conn.execute(sa.insert(Audit.__table__), [
            {"mention_id": mention_id, "at": now, "actor": actor, "actor_name": actor_name, "action": IMPORTED,
             "from_state": MentionState.NEW.value, "to_state": MentionState.CLOSED.value, "detail": detail}
            for mention_id in new_ids])
    return answers, new_ids
