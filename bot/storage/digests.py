"""Digests in the ingest transaction: while a channel's backlog is long, new P3 mentions go to the minute's digest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.storage.models import Mention, OutboxJob

_MENTIONS = Mention.__table__
_OUTBOX = OutboxJob.__table__
_SET_DIGEST = sa.update(_MENTIONS).where(_MENTIONS.c.id == sa.bindparam("mention")).values(
    digest_at=sa.bindparam("minute_at"))
# One digest a minute per channel, posted at the first 10-second mark after its first line, then redrawn at most
# that often while its minute lasts.
REDRAW_SECONDS = 10


@dataclass(frozen=True, slots=True)
class Digested:
    """The new mentions listed in a digest, the digest's minute (`2026-11-20T10:31`) and when it is drawn next."""

    mention_ids: list[int]
    minute: str
    due_at: datetime

    def __contains__(self, mention_id: object) -> bool:
        return mention_id in self.mention_ids

    def __bool__(self) -> bool:
        return bool(self.mention_ids)


def minute_of(at: datetime) -> datetime:
    """The start of the digest minute `at` falls in."""
    return at.replace(second=0, microsecond=0)


def backlog_seconds(conn: sa.Connection, paces: Mapping[str, float], enough: float) -> float:
    """How long the waiting new-mention cards of the busiest platform take to post (counted up to just past
    `enough` seconds: a longer backlog need not be counted exactly)."""
    worst = 0.0
    for kind, seconds in paces.items():
        waiting = sa.select(_OUTBOX.c.id).where(_OUTBOX.c.done.is_(False), _OUTBOX.c.priority >= 1,
                                                _OUTBOX.c.failed_at.is_(None), _OUTBOX.c.kind == kind) \
            .limit(int(enough / seconds) + 1).subquery()
        worst = max(worst, seconds * conn.execute(sa.select(sa.func.count()).select_from(waiting)).scalar_one())
    return worst


def digest_new_mentions(conn: sa.Connection, p3: list[int], now: datetime, paces: Mapping[str, float],
                        after_seconds: float) -> Digested:
    """List these P3 mentions in this minute's digest if the backlog would hold their cards over `after_seconds`;
    the digest is drawn at the next 10-second mark (so at most 6 times in its minute: one post, then updates)."""
    minute = minute_of(now)
    none = Digested([], "", now)
    if not p3 or not paces or backlog_seconds(conn, paces, after_seconds) <= after_seconds:
        return none
    conn.execute(_SET_DIGEST, [{"mention": m, "minute_at": minute} for m in p3])
    mark = minute + timedelta(seconds=REDRAW_SECONDS * (1 + (now - minute).seconds // REDRAW_SECONDS))
    return Digested(p3, minute.strftime("%Y-%m-%dT%H:%M"), mark)
