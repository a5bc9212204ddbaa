"""Turn "something changed" into durable outbound jobs for every enabled chat platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.repositories import Outbox


@dataclass(frozen=True, slots=True)
class Fanout:
    """Enqueues chat work per enabled platform; handlers call it without knowing the platforms."""

    platforms: tuple[str, ...] = ()

    async def card_changed(self, outbox: Outbox, mention_id: int, now: datetime) -> None:
        """Every card of this mention must show its current state."""
        await self.cards_changed(outbox, [mention_id], now)

    def card_jobs(self, mention_ids: list[int]) -> list[dict[str, Any]]:
        """The card jobs (one per platform) of these mentions, for `Outbox.sync_many`."""
        return [{"key": f"{platform}:card:{mention_id}", "kind": f"{platform}.card", "mention_id": mention_id,
                 "payload": {}} for mention_id in mention_ids for platform in self.platforms]

    async def cards_changed(self, outbox: Outbox, mention_ids: list[int], now: datetime) -> None:
        """`card_changed` for many mentions at once."""
        await outbox.sync_many(self.card_jobs(mention_ids), now)

    async def draft_changed(self, outbox: Outbox, mention_id: int, draft_id: int, now: datetime) -> None:
        """The draft's thread message must show its current state."""
        for platform in self.platforms:
            await outbox.sync(f"{platform}:draft:{draft_id}", f"{platform}.draft", mention_id,
                              {"draft_id": draft_id}, now)

    async def notice(self, outbox: Outbox, mention_id: int, key: str, payload: dict[str, Any], now: datetime) -> None:
        """Post a one-off message in the mention's thread (exactly once per key)."""
        for platform in self.platforms:
            await outbox.once(f"{platform}:notice:{key}", f"{platform}.notice", mention_id, payload, now)

    async def deliver_reply(self, outbox: Outbox, mention_id: int, draft_id: int, now: datetime) -> None:
        """Deliver the draft to the social network while it is marked as sending."""
        await outbox.sync(f"reply:{draft_id}", "reply", mention_id, {"draft_id": draft_id}, now)
