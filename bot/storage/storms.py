"""Storms in the database: a storm's state (changed only if nobody changed it meanwhile) and its members."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Draft, GroupingKey, Mention, Storm


class Storms:
    """Storm groups: their state, and the counts, samples and lists of their members."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, storm_id: int) -> Storm | None:
        """The storm, fresh from the database."""
        return await self.session.get(Storm, storm_id, populate_existing=True)

    async def move(self, storm: Storm, **values: Any) -> bool:
        """Change the storm if nobody changed it since it was read (its version); False if somebody did."""
        result = await self.session.exec(
            sa.update(Storm).where(col(Storm.id) == storm.id, col(Storm.version) == storm.version)
            .values(**values, version=Storm.version + 1).execution_options(synchronize_session=False))
        return bool(result.rowcount == 1)

    async def shown(self, storm_id: int, at: datetime) -> None:
        """Its card was just drawn: the next redraw waits (see bot/storage/ingest.py)."""
        await self.session.exec(sa.update(Storm).where(col(Storm.id) == storm_id).values(shown_at=at)
                                .execution_options(synchronize_session=False))

    async def by_state(self, storm_id: int) -> dict[str, int]:
        """How many members are in each mention state."""
        query = (sa.select(Mention.state, sa.func.count()).where(Mention.storm_id == storm_id)
                 .group_by(Mention.state))
        return {state: int(count) for state, count in (await self.session.exec(query)).all()}

    async def by_network(self, storm_id: int) -> list[tuple[str, int]]:
        """How many members each network brought, most first."""
        count = sa.func.count().label("n")
        query = (sa.select(Mention.network, count).where(Mention.storm_id == storm_id)
                 .group_by(Mention.network).order_by(count.desc(), Mention.network))
        return [(network, int(n)) for network, n in (await self.session.exec(query)).all()]

    async def span(self, storm_id: int, recent_since: datetime) -> tuple[datetime | None, datetime | None, int]:
        """When its first and last members arrived, and how many arrived since `recent_since`."""
        recent = sa.func.sum(sa.case((col(Mention.received_at) >= recent_since, 1), else_=0))
        query = sa.select(sa.func.min(Mention.received_at), sa.func.max(Mention.received_at), recent).where(
            Mention.storm_id == storm_id)
        first, last, recent_count = (await self.session.exec(query)).one()
        return first, last, int(recent_count or 0)

    async def members(self, storm_id: int, *, order: str, limit: int) -> list[Mention]:
        """Members, by `order`: `urgent` (highest priority, then oldest), `reach` (most followers) or `first`."""
        orders = {"urgent": (col(Mention.priority).desc(), col(Mention.received_at), col(Mention.id)),
                  "reach": (sa.func.coalesce(Mention.author_followers, 0).desc(), col(Mention.id)),
                  "first": (col(Mention.id),)}
        query = select(Mention).where(Mention.storm_id == storm_id).order_by(*orders[order]).limit(limit)
        return list((await self.session.exec(query)).all())

    async def p1_members(self, storm_id: int) -> list[Mention]:
        """Members that keep their own card."""
        query = select(Mention).where(Mention.storm_id == storm_id, Mention.priority_level == "P1") \
            .order_by(col(Mention.id))
        return list((await self.session.exec(query)).all())

    async def failed_deliveries(self, storm_id: int) -> int:
        """Members whose latest reply could not be delivered."""
        latest = (sa.select(sa.func.max(Draft.id)).join(Mention, col(Mention.id) == col(Draft.mention_id))
                  .where(Mention.storm_id == storm_id).group_by(Draft.mention_id))
        query = sa.select(sa.func.count()).where(col(Draft.id).in_(latest.scalar_subquery()),
                                                 Draft.state == "failed")
        return int((await self.session.exec(query)).one()[0])

    async def to_handle(self, storm_id: int, states: Sequence[str], holder: str, *, after: int = 0,
                        limit: int = 200) -> list[Mention]:
        """Members below P1 in these states that nobody else holds, by id after `after`: what Answer all and
        Dismiss act on."""
        query = select(Mention).where(Mention.storm_id == storm_id, col(Mention.state).in_(states),
                                      Mention.priority_level != "P1", col(Mention.id) > after,
                                      sa.or_(col(Mention.claimed_by).is_(None), Mention.claimed_by == holder))
        return list((await self.session.exec(query.order_by(col(Mention.id)).limit(limit))).all())

    async def networks_to_handle(self, storm_id: int, states: Sequence[str], holder: str) -> list[str]:
        """The networks of the members `to_handle` would give: where one Answer all text must fit."""
        query = sa.select(Mention.network).distinct().where(
            Mention.storm_id == storm_id, col(Mention.state).in_(states), Mention.priority_level != "P1",
            sa.or_(col(Mention.claimed_by).is_(None), Mention.claimed_by == holder))
        return sorted(str(network) for network in (await self.session.exec(query)).scalars().all())

    async def crises_of(self, storm_id: int) -> list[int]:
        """The crises its members are linked to, the most linked first."""
        count = sa.func.count().label("n")
        query = (sa.select(Mention.crisis_id, count).where(Mention.storm_id == storm_id,
                                                          col(Mention.crisis_id).is_not(None))
                 .group_by(Mention.crisis_id).order_by(count.desc(), Mention.crisis_id))
        return [int(crisis_id) for crisis_id, _ in (await self.session.exec(query)).all()]

    async def link_members(self, storm_id: int, crisis_id: int, at: datetime) -> list[int]:
        """Link every member not linked to a crisis yet to this one; the ids of those linked."""
        ids = [int(i) for i in (await self.session.exec(
            select(Mention.id).where(Mention.storm_id == storm_id, col(Mention.crisis_id).is_(None)))).all()]
        if ids:
            await self.session.exec(
                sa.update(Mention).where(col(Mention.id).in_(ids), col(Mention.crisis_id).is_(None))
                .values(crisis_id=crisis_id, crisis_linked_at=at, version=Mention.version + 1)
                .execution_options(synchronize_session=False))
        return ids

    async def forget_keys(self, before: datetime) -> int:
        """Drop the grouping keys stored before `before`; returns how many."""
        result = await self.session.exec(sa.delete(GroupingKey).where(col(GroupingKey.at) < before)
                                         .execution_options(synchronize_session=False))
        return int(result.rowcount)
