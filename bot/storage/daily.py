"""What the leads' daily summary reads: whether it was queued, the mentions of a day, the open mentions' clocks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Mention, OutboxJob


class DailyReads:
    """The summary's queries, inside a unit of work (`uow.daily`)."""

    def __init__(self, session: AsyncSession | Any) -> None:
        self.session = session

    async def queued(self, keys: Sequence[str]) -> bool:
        """Every one of these outbox jobs was asked for already (done or not)."""
        query = sa.select(sa.func.count()).select_from(OutboxJob).where(col(OutboxJob.key).in_(keys))
        return int((await self.session.exec(query)).scalar_one()) == len(keys)

    async def any_arrived_before(self, at: datetime) -> bool:
        """Some mention arrived before `at` (the bot has a past to summarise)."""
        query = select(Mention.id).where(Mention.received_at < at).limit(1)
        return (await self.session.exec(query)).first() is not None

    async def arrived_between(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime | None, str]]:
        """(arrival, first response, state) of every mention that arrived from `start` until before `end`."""
        query = select(Mention.received_at, Mention.first_response_at, Mention.state).where(
            Mention.received_at >= start, Mention.received_at < end)
        return list((await self.session.exec(query)).all())

    async def clocks(self, states: Sequence[str]) -> list[tuple[datetime, datetime | None]]:
        """(arrival, first response) of every mention in these states."""
        query = select(Mention.received_at, Mention.first_response_at).where(col(Mention.state).in_(states))
        return list((await self.session.exec(query)).all())
