"""What every handler is given: storage, the team's configuration, a clock and the outbound fan-out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from bot.config import Config
from bot.core.mentions import Actor, DomainError, MentionFacts, NotFound, Transition
from bot.core.views import MentionState, PersonRef
from bot.metrics import Metrics
from bot.outbox.fanout import Fanout
from bot.storage.database import Database, UnitOfWork
from bot.storage.models import Mention, utcnow

T = TypeVar("T")

MAX_DECISION_ROUNDS = 5


@dataclass(frozen=True)
class Context:
    """Dependencies injected into handlers by name."""

    db: Database
    config: Config
    fanout: Fanout = field(default_factory=Fanout)
    clock: Callable[[], datetime] = utcnow
    metrics: Metrics = field(default_factory=Metrics)
    playbooks_dir: Path = Path("playbooks")
    connectors: frozenset[str] = frozenset()  # the reply connectors this server delivers through (`reply_via` names)


def person_ref(config: Config, key: str, name: str | None) -> PersonRef:
    """A stored person key as a view names it: a webcare.toml person, or a chat user by id."""
    person = config.people.get(key)
    if person is not None:
        return person.ref
    platform, _, user_id = key.partition(":")  # a chat user nobody configured is stored as `<platform>:<id>`
    return PersonRef.chat_user(platform, user_id, name) if user_id else PersonRef(key=key, name=name or key)


def facts(config: Config, m: Mention) -> MentionFacts:
    """The rule-relevant part of a stored mention."""
    claimed = person_ref(config, m.claimed_by, m.claimed_by_name) if m.claimed_by else None
    return MentionFacts(id=m.id or 0, state=MentionState(m.state), claimed_by=claimed,
                        escalated_to=tuple(m.escalated_to), reply_via=m.reply_via)


async def get_mention(uow: UnitOfWork, mention_id: int) -> Mention:
    """The mention, or a refusal that says it is unknown."""
    mention = await uow.mentions.get(mention_id)
    if mention is None:
        raise NotFound("refusal.no_mention", mention=mention_id)
    return mention


async def transition(ctx: Context, mention_id: int, actor: Actor,
                     decide: Callable[[MentionFacts], Transition],
                     after: Callable[[UnitOfWork, Mention, Transition], Awaitable[T]] | None = None) -> T | None:
    """Decide on fresh state and apply as one conditional update plus audit row, in one transaction.

    If another transaction changed the mention between reading and writing, the decision is made
    again on the new state (so the loser of a race is told why, e.g. who claimed it).
    """
    for _ in range(MAX_DECISION_ROUNDS):
        async with ctx.db.uow() as uow:
            mention = await get_mention(uow, mention_id)
            decided = decide(facts(ctx.config, mention))
            now = ctx.clock()
            if not await uow.mentions.apply(mention, decided, actor, now):
                continue
            result = await after(uow, mention, decided) if after else None
            await ctx.fanout.card_changed(uow.outbox, mention_id, now)
            await uow.commit()
            ctx.metrics.transitions.labels(action=decided.action).inc()
            return result
    raise DomainError("refusal.mention_busy")
