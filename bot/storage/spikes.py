"""Spike alerts in storage: the mentions of the counted windows, the alerts that hold, recording and answering them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.storms.spikes import Seen, Spike
from bot.storage.models import Mention, SpikeAlert

_MENTION = Mention.__table__
_ALERT = SpikeAlert.__table__
CHUNK = 1000  # ids per statement: well inside SQLite's and PostgreSQL's limits on bound values


SPIKE_LOCK = 0x5717  # pg_advisory_xact_lock key of spike checks


class SpikeAlerts:
    """Counting windows and alerts; every query reads a few short ranges of `mention.received_at`."""

    def __init__(self, session: AsyncSession | Any) -> None:
        self.session = session

    async def hold_checks(self) -> None:
        """Make this transaction the only spike check running (PostgreSQL: several processes check; SQLite's
        writer lock already does this), so two processes never alert one spike twice."""
        if self.session.bind.dialect.name == "postgresql":
            await self.session.exec(sa.select(sa.func.pg_advisory_xact_lock(SPIKE_LOCK)))

    async def seen(self, spans: Sequence[tuple[datetime, datetime]]) -> list[Seen]:
        """The mentions received in these windows `(start, end]`, with their storm and text (one query)."""
        if not spans:
            return []
        received = _MENTION.c.received_at
        query = sa.select(_MENTION.c.id, _MENTION.c.received_at, _MENTION.c.storm_id, _MENTION.c.text).where(
            sa.or_(*(sa.and_(received > start, received <= end) for start, end in spans)))
        return [Seen(row.id, row.received_at, row.storm_id, row.text)
                for row in (await self.session.exec(query)).all()]

    async def storm_members(self, storm_id: int) -> list[int]:
        """Every mention of a storm group."""
        query = sa.select(_MENTION.c.id).where(_MENTION.c.storm_id == storm_id).order_by(_MENTION.c.id)
        return [int(i) for i in (await self.session.exec(query)).scalars().all()]

    async def holding(self) -> dict[str, int]:
        """Per topic, the count its latest alert was sent at, for the alerts whose spike is not over."""
        query = sa.select(_ALERT.c.topic, _ALERT.c.count).where(_ALERT.c.ended_at.is_(None)).order_by(_ALERT.c.id)
        return {topic: int(count) for topic, count in (await self.session.exec(query)).all()}

    async def end(self, topics: Sequence[str], now: datetime) -> None:
        """These topics' spikes are over: their alerts hold no longer."""
        if topics:
            await self.session.exec(sa.update(_ALERT).where(_ALERT.c.topic.in_(topics), _ALERT.c.ended_at.is_(None))
                                    .values(ended_at=now))

    async def record(self, spike: Spike, now: datetime) -> int:
        """Keep an alert that is being sent; returns its id."""
        alert = SpikeAlert(topic=spike.topic, alerted_at=now, count=spike.count, usual=spike.usual,
                           window_minutes=spike.window_minutes, samples=list(spike.samples), playbook=spike.playbook)
        self.session.add(alert)
        await self.session.flush()
        return alert.id or 0

    async def get(self, alert_id: int) -> SpikeAlert | None:
        """The alert, fresh from the database."""
        return await self.session.get(SpikeAlert, alert_id, populate_existing=True)

    async def decide(self, alert_id: int, decision: str | None, by: str | None, by_name: str | None,
                     at: datetime | None) -> bool:
        """Record people's answer if nobody answered yet (None takes an answer back); False when it was taken."""
        taken = _ALERT.c.decision.is_(None) if decision is not None else _ALERT.c.decision.is_not(None)
        result = await self.session.exec(sa.update(_ALERT).where(_ALERT.c.id == alert_id, taken).values(
            decision=decision, decided_by=by, decided_by_name=by_name, decided_at=at))
        return result.rowcount == 1

    async def started(self, alert_id: int, crisis_id: int) -> None:
        """The crisis people started from the alert."""
        await self.session.exec(sa.update(_ALERT).where(_ALERT.c.id == alert_id).values(crisis_id=crisis_id))

    async def link(self, mention_ids: Sequence[int], crisis_id: int, at: datetime) -> list[int]:
        """Link to the crisis those of these mentions that are in no crisis yet; returns the ones linked."""
        linked: list[int] = []
        for i in range(0, len(mention_ids), CHUNK):
            chunk = list(mention_ids[i:i + CHUNK])
            free = sa.and_(_MENTION.c.id.in_(chunk), _MENTION.c.crisis_id.is_(None))
            ids = [int(m) for m in (await self.session.exec(sa.select(_MENTION.c.id).where(free))).scalars().all()]
            if ids:
                still_free = sa.and_(_MENTION.c.id.in_(ids), _MENTION.c.crisis_id.is_(None))
                await self.session.exec(sa.update(_MENTION).where(still_free).values(
                    crisis_id=crisis_id, crisis_linked_at=at, version=_MENTION.c.version + 1))
            linked.extend(ids)
        return sorted(linked)
