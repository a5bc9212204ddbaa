"""What SLA clocks and reminders read and write: open mentions' clocks, drafts waiting for approval, clock events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.sla import OpenClock, SlaEvent, WaitingDraft
from bot.core.storms.priority import Level
from bot.core.views import DraftState
from bot.storage.dialects import insert
from bot.storage.models import Draft, Mention, SlaEventRow

_NO_DRAFT = 0


class SlaEvents:
    """The reminder check's queries, inside a unit of work (`uow.sla`)."""

    def __init__(self, session: AsyncSession | Any) -> None:
        self.session = session

    async def open_clocks(self, states: Sequence[str], received_by: datetime) -> list[OpenClock]:
        """The mentions in these states with no first response that arrived by `received_by` and are not overdue
        yet (after the breach nothing more is due), with the reminders already sent, oldest first."""
        seen = aliased(SlaEventRow)
        breached = sa.exists().where(col(seen.mention_id) == col(Mention.id), seen.kind == SlaEvent.BREACH.value)
        query = (sa.select(Mention.id, Mention.received_at, Mention.state, Mention.claimed_by, Mention.storm_id,
                           Mention.priority_level, SlaEventRow.kind)
                 .outerjoin(SlaEventRow, sa.and_(col(SlaEventRow.mention_id) == col(Mention.id),
                                                 col(SlaEventRow.draft_id) == _NO_DRAFT))
                 .where(col(Mention.state).in_(states), col(Mention.first_response_at).is_(None),
                        col(Mention.received_at) <= received_by, ~breached)
                 .order_by(col(Mention.received_at), col(Mention.id)))
        rows: dict[int, tuple[Any, ...]] = {}
        done: dict[int, set[SlaEvent]] = defaultdict(set)
        for mention_id, received_at, state, claimed_by, storm_id, level, kind in (await self.session.exec(query)).all():
            shown_on = storm_id if level != Level.P1 else None  # a P1 member keeps its own card
            rows[mention_id] = (received_at, state, claimed_by, shown_on)
            if kind is not None:
                done[mention_id].add(SlaEvent(kind))
        return [OpenClock(mention_id, received_at, state, claimed_by, frozenset(done[mention_id]), storm_id)
                for mention_id, (received_at, state, claimed_by, storm_id) in rows.items()]

    async def waiting_drafts(self, created_by: datetime) -> list[WaitingDraft]:
        """The drafts waiting for a head's approval written by `created_by`, whose leads were not told yet."""
        seen = aliased(SlaEventRow)
        told = sa.exists().where(col(seen.mention_id) == col(Draft.mention_id), col(seen.draft_id) == col(Draft.id),
                                 seen.kind == SlaEvent.APPROVAL_LEAD.value)
        query = (sa.select(Draft.mention_id, Draft.id, Draft.created_at, Draft.approvers, SlaEventRow.kind)
                 .outerjoin(SlaEventRow, sa.and_(col(SlaEventRow.mention_id) == col(Draft.mention_id),
                                                 col(SlaEventRow.draft_id) == col(Draft.id)))
                 .where(Draft.state == DraftState.AWAITING_APPROVAL.value, col(Draft.created_at) <= created_by, ~told)
                 .order_by(col(Draft.created_at), col(Draft.id)))
        rows: dict[int, tuple[Any, ...]] = {}
        done: dict[int, set[SlaEvent]] = defaultdict(set)
        for mention_id, draft_id, created_at, approvers, kind in (await self.session.exec(query)).all():
            rows[draft_id] = (mention_id, created_at, tuple(approvers or ()))
            if kind is not None:
                done[draft_id].add(SlaEvent(kind))
        return [WaitingDraft(mention_id, draft_id, created_at, approvers, frozenset(done[draft_id]))
                for draft_id, (mention_id, created_at, approvers) in rows.items()]

    async def record(self, events: Sequence[tuple[int, SlaEvent, int]], at: datetime) -> int:
        """Store these (mention, event, draft or 0) as happened at `at`; returns how many were new (another process
        may have stored some first: those are kept as they were)."""
        if not events:
            return 0
        stmt = insert(self.session.bind.dialect.name, SlaEventRow).on_conflict_do_nothing()
        new = 0
        for mention_id, event, draft_id in events:
            result = await self.session.exec(stmt.values(mention_id=mention_id, kind=event.value, draft_id=draft_id,
                                                         at=at))
            new += result.rowcount
        return new

    async def events_of(self, mention_id: int) -> dict[SlaEvent, datetime]:
        """When each event of the mention's own clock happened."""
        query = select(SlaEventRow.kind, SlaEventRow.at).where(SlaEventRow.mention_id == mention_id,
                                                               SlaEventRow.draft_id == _NO_DRAFT)
        return {SlaEvent(kind): at for kind, at in (await self.session.exec(query)).all()}

    async def resolutions_since(self, start: datetime) -> list[tuple[datetime, datetime]]:
        """(arrival, resolution) of every mention that arrived since `start` and was answered, closed or dismissed."""
        query = (sa.select(Mention.received_at, SlaEventRow.at)
                 .join(SlaEventRow, sa.and_(col(SlaEventRow.mention_id) == col(Mention.id),
                                            col(SlaEventRow.draft_id) == _NO_DRAFT,
                                            SlaEventRow.kind == SlaEvent.RESOLVED.value))
                 .where(col(Mention.received_at) >= start))
        return [(arrived, resolved) for arrived, resolved in (await self.session.exec(query)).all()]

    async def mentions(self, mention_ids: Sequence[int]) -> list[Mention]:
        """The stored mentions of these ids that still exist (the ones reminders are about)."""
        return list((await self.session.exec(select(Mention).where(col(Mention.id).in_(mention_ids)))).all())
