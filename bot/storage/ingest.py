"""The ingest transaction: new mentions, their audit rows, card jobs and delivery receipts, written at once.

Synchronous on purpose: it runs as one unit on a database connection (in place on SQLite, with no hop),
however many deliveries the group commit gathered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.core.incoming import MentionIn
from bot.core.mentions import SYSTEM
from bot.core.storms.priority import Level, Priority
from bot.core.storms.rules import StormRules
from bot.storage.crisis_links import link_new_mentions
from bot.storage.dialects import insert
from bot.storage.digests import digest_new_mentions
from bot.storage.grouping import group_new_mentions
from bot.storage.models import Audit, IngestReceipt, Mention
from bot.storage.raw_sql import insert_each, insert_rows, listed, select_rows
from bot.storage.repositories import fresh_job, outbox_sync_statement


@dataclass(frozen=True, slots=True)
class Ingested:
    """The answer for one mention of a delivery."""

    id: int
    duplicate: bool

    def as_json(self) -> dict[str, object]:
        """The shape of the ingest route's answer."""
        return {"id": self.id, "duplicate": self.duplicate}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One signed request (or one JSONL line): its mentions and, if signed, its `webhook-id`."""

    items: list[MentionIn]
    delivery_id: str | None = None


# How a mention's priority is found: the item, and whether it matched a running crisis' triggers.
Prioritise = Callable[[MentionIn, bool], Priority]
Jobs = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Outbound:
    """The jobs the ingest transaction queues, as the fanout words them for each chat platform."""

    card_jobs: Callable[[list[int], Mapping[int, Level]], Jobs]  # new mentions' cards, each at its level
    crisis_jobs: Callable[[list[int]], Jobs]  # crises' checklists, redrawn when mentions were linked
    storm_jobs: Callable[[list[int]], Jobs]  # storms' cards
    digest_jobs: Callable[[str], Jobs]  # a minute's digests
    card_paces: Mapping[str, float]  # card job kind → seconds each waiting card holds the channel


def _values(item: MentionIn, now: datetime, priority: Priority) -> dict[str, Any]:
    author = item.author
    return {
        "source": item.source, "source_mention_id": item.source_mention_id, "network": item.network,
        "network_item_id": item.network_item_id, "url": item.url, "kind": item.kind,
        "in_reply_to_id": item.in_reply_to_id, "author_id": author.id if author else None,
        "author_handle": author.handle if author else None, "author_name": author.display_name if author else None,
        "author_url": author.profile_url if author else None, "author_followers": author.followers if author else None,
        "author_verified": bool(author and author.verified), "text": item.text, "lang": item.lang,
        "published_at": item.published_at, "reply_via": item.reply_via, "raw": item.raw, "state": "new",
        "version": 0, "escalated_to": [], "received_at": now, "updated_at": now, "priority": priority.score,
        "priority_level": str(priority.level), "priority_reasons": list(priority.reasons)}


STORM_CARD_SECONDS = 30.0

# Constant statements, compiled once by SQLAlchemy's cache.
_RECEIPTS = IngestReceipt.__table__
_AUDIT = Audit.__table__
_ADD_RECEIPTS = sa.insert(_RECEIPTS)
_MENTIONS = Mention.__table__
_RESCORE = sa.update(_MENTIONS).where(_MENTIONS.c.id == sa.bindparam("mention")).values(
    priority=sa.bindparam("score"), priority_level=sa.bindparam("level"), priority_reasons=sa.bindparam("reasons"))


@functools.cache
def _insert_mentions(dialect_name: str) -> Any:
    return insert(dialect_name, Mention).on_conflict_do_nothing()


@functools.cache
def _insert_mentions_returning(dialect_name: str) -> Any:
    table = Mention.__table__
    return _insert_mentions(dialect_name).returning(table.c.id, table.c.source, table.c.source_mention_id)


@functools.cache
def _earlier_answers_statement(dialect_name: str) -> Any:
    ids = listed(dialect_name, sa.String)
    return sa.select(_RECEIPTS.c.webhook_id, _RECEIPTS.c.response).where(
        _RECEIPTS.c.webhook_id.in_(sa.select(ids.c.value)))


@functools.cache
def _add_audit_statement(dialect_name: str) -> Any:
    """One `ingest` audit row per mention id in `ids`, all at `at`: no per-row parameters to process."""
    ids = listed(dialect_name, sa.Integer)
    actor, actor_name = SYSTEM.key, SYSTEM.ref.name
    columns = {"mention_id": ids.c.value, "at": sa.bindparam("at", type_=_AUDIT.c.at.type),
               "actor": sa.literal(actor), "actor_name": sa.literal(actor_name), "action": sa.literal("ingest"),
               "to_state": sa.literal("new")}
    return sa.insert(_AUDIT).from_select(list(columns), sa.select(*columns.values()))


def _earlier_answers(conn: sa.Connection, delivery_ids: list[str]) -> dict[str, dict[str, Any]]:
    if not delivery_ids:
        return {}
    statement = _earlier_answers_statement(conn.dialect.name)
    return dict(select_rows(conn, statement, {"ids": delivery_ids}))


def _insert_new(conn: sa.Connection, rows: list[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert the mentions not stored yet, in one statement; their ids by (source, source_mention_id)."""
    if not rows:
        return {}
    if conn.dialect.name == "sqlite":
        ids = insert_each(conn, _insert_mentions("sqlite"), rows)
        return {(row["source"], row["source_mention_id"]): i for row, i in zip(rows, ids, strict=True) if i is not None}
    result = conn.execute(_insert_mentions_returning(conn.dialect.name), rows)
    return {(row.source, row.source_mention_id): row.id for row in result}


def _duplicate_of(conn: sa.Connection, item: MentionIn) -> int:
    """The stored mention an item collided with, by source id or by network item id."""
    table = Mention.__table__
    cond = sa.and_(table.c.source == item.source, table.c.source_mention_id == item.source_mention_id)
    if item.network_item_id:
        cond = sa.or_(cond, sa.and_(table.c.network == item.network, table.c.network_item_id == item.network_item_id))
    return conn.execute(sa.select(table.c.id).where(cond).limit(1)).scalar_one()


def _takes_effect(deliveries: list[Delivery], answered: dict[str, Any]) -> list[bool]:
    """Which deliveries take effect: those without an id, and the first of each id not answered before."""
    seen = set(answered)
    effective = []
    for delivery in deliveries:
        new = delivery.delivery_id not in seen
        if delivery.delivery_id is not None:
            seen.add(delivery.delivery_id)
        effective.append(new)
    return effective


def write_deliveries(conn: sa.Connection, deliveries: list[Delivery], now: datetime,
                     prioritise: Prioritise) -> tuple[list[list[Ingested]], dict[int, tuple[MentionIn, Priority]]]:
    """Store the deliveries, each new mention with its priority; returns each delivery's answer and the new
    mentions by id (with the item and priority each was stored with).

    One delivery id, one effect: an id seen before, or earlier in the same batch (even with another
    body), gets that first answer and stores nothing. Raises IntegrityError if another process commits
    the same delivery id meanwhile; the caller's transaction then rolls back whole.
    """
    answered = _earlier_answers(conn, [d.delivery_id for d in deliveries if d.delivery_id])
    effective = _takes_effect(deliveries, answered)
    scored = [(item, prioritise(item, False)) for delivery, new in zip(deliveries, effective, strict=True)
              if new for item in delivery.items]
    inserted = _insert_new(conn, [_values(item, now, priority) for item, priority in scored])
    priorities = {(item.source, item.source_mention_id): priority for item, priority in scored}
    new_answers: dict[str, dict[str, Any]] = {}
    stored: dict[int, tuple[MentionIn, Priority]] = {}
    answers: list[list[Ingested]] = []
    for delivery, new in zip(deliveries, effective, strict=True):
        if not new:
            earlier = answered.get(delivery.delivery_id or "") or new_answers[delivery.delivery_id or ""]
            answers.append([Ingested(**m) for m in earlier["mentions"]])
            continue
        results = []
        for item in delivery.items:
            mention_id = inserted.pop((item.source, item.source_mention_id), None)
            if mention_id is None:  # stored before, or earlier in this batch
                results.append(Ingested(_duplicate_of(conn, item), True))
            else:
                stored[mention_id] = (item, priorities[(item.source, item.source_mention_id)])
                results.append(Ingested(mention_id, False))
        if delivery.delivery_id:
            new_answers[delivery.delivery_id] = {"mentions": [r.as_json() for r in results]}
        answers.append(results)
    if stored:
        insert_rows(conn, _add_audit_statement(conn.dialect.name), [{"ids": list(stored), "at": now}])
    if new_answers:
        insert_rows(conn, _ADD_RECEIPTS, [
            {"webhook_id": key, "received_at": now, "response": value} for key, value in new_answers.items()])
    return answers, stored


def _storm_card_due(shown_at: datetime | None, now: datetime) -> datetime:
    """A storm card is drawn at once the first time, then at most every `STORM_CARD_SECONDS`."""
    return now if shown_at is None else max(now, shown_at + timedelta(seconds=STORM_CARD_SECONDS))


def write_ingest(conn: sa.Connection, deliveries: list[Delivery], now: datetime, prioritise: Prioritise,
                 outbound: Outbound, storms: StormRules) -> tuple[list[list[Ingested]], dict[int, Level]]:
    """The ingest transaction: the mentions, linked to running crises whose triggers they match (whose checklists
    are then redrawn), grouped into storms, with card jobs at their priority (a crisis link raises it).

    A member of a storm below P1 is shown on its storm's card instead of its own (drawn at most every
    `STORM_CARD_SECONDS`); while the cards waiting to be posted would take longer than `digest_after_seconds`,
    a P3 mention is listed in the minute's digest instead. Returns the answers and the new mentions' levels.
    """
    answers, new = write_deliveries(conn, deliveries, now, prioritise)
    new_ids = list(new)
    links = link_new_mentions(conn, new_ids, now)
    levels: dict[int, Level] = {}
    rescored = []
    for mention_id, (item, priority) in new.items():
        if mention_id in links:
            priority = prioritise(item, True)
            rescored.append({"mention": mention_id, "score": priority.score, "level": str(priority.level),
                             "reasons": list(priority.reasons)})
        levels[mention_id] = priority.level
    if rescored:
        conn.execute(_RESCORE, rescored)
    grouped = group_new_mentions(conn, {m: (item, levels[m]) for m, (item, _) in new.items()}, now, storms)
    shown = [m for m in new_ids if m not in grouped.hidden]
    digested = digest_new_mentions(conn, [m for m in shown if levels[m] is Level.P3], now, outbound.card_paces,
                                   storms.digest_after_seconds)
    jobs = outbound.card_jobs([m for m in shown if m not in digested], levels)
    if jobs:
        insert_rows(conn, outbox_sync_statement(conn.dialect.name), [{**fresh_job(now), **job} for job in jobs])
    later = []
    if grouped.grown:
        earlier = {m: Level(level) for m, level in grouped.joined_earlier.items()}
        later += [{**fresh_job(now), **job} for job in outbound.card_jobs(list(earlier), earlier)]
        later += [{**fresh_job(now), **job, "due_at": _storm_card_due(grouped.shown_at[job["payload"]["storm_id"]],
                                                                     now)}
                  for job in outbound.storm_jobs(sorted(grouped.grown))]
    if digested:
        later += [{**fresh_job(now), **job, "due_at": digested.due_at}
                  for job in outbound.digest_jobs(digested.minute)]
    if links:
        later += [{**fresh_job(now), **job} for job in outbound.crisis_jobs(sorted(set(links.values())))]
    if later:  # jobs that may exist already: in key order, as Outbox.sync_many bumps them (no deadlock)
        conn.execute(outbox_sync_statement(conn.dialect.name), sorted(later, key=lambda job: job["key"]))
    return answers, levels
