"""A channel's posting slots, shared by every process on one database: each post takes the next free one."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.dialects import insert
from bot.storage.models import ChatPace

_PACE = ChatPace.__table__
# A booking further ahead than this is stale (a host's clock was wrong, then set right): it is not waited for.
HORIZON = 300.0


class ChatPaces:
    """Slots per channel: one statement takes the next one, so two processes never take the same slot."""

    def __init__(self, session: AsyncSession | Any) -> None:
        self.session = session

    async def take(self, key: str, spacing: float, now: float) -> float:
        """Book one send on the channel's schedule, `spacing` after the last booked one (or now, if that is past);
        returns the time booked."""
        stmt = insert(self.session.bind.dialect.name, ChatPace).values(key=key, next_at=now + spacing)
        booked_ahead = sa.and_(_PACE.c.next_at > now, _PACE.c.next_at < now + HORIZON)
        later = sa.case((booked_ahead, _PACE.c.next_at), else_=now) + spacing
        stmt = stmt.on_conflict_do_update(index_elements=["key"], set_={"next_at": later}).returning(_PACE.c.next_at)
        return float((await self.session.exec(stmt)).scalar_one()) - spacing
