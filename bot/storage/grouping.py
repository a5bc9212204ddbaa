"""Storm grouping in the ingest transaction: new mentions join a recent storm, or form one with similar mentions.

Each new mention's grouping keys are looked up among the mentions of the group window (at most
`CANDIDATES_PER_KEY` of the latest per key, enough to find a storm whose members keep arriving), and each
candidate is confirmed by its stored signature. On PostgreSQL the step holds a transaction-level advisory
lock, so two processes never form two storms of one storm: the second waits, then sees the first's.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from bot.core.incoming import MentionIn
from bot.core.storms.grouping import Fingerprint, confirms, fingerprint, pack_signature
from bot.core.storms.priority import Level
from bot.core.storms.rules import StormRules
from bot.storage.models import GroupingKey, Mention, Storm
from bot.storage.raw_sql import insert_rows, select_rows

CANDIDATES_PER_KEY = 30
FIRST_LOOK = 3  # rows per key read first: in a storm the latest are its members, and one confirmed member is enough
STORM_LOCK = 0x5707  # pg_advisory_xact_lock key of storm grouping
GATHERING = ("open", "claimed")  # a storm in one of these states takes new members while they keep coming

_KEYS = GroupingKey.__table__
_MENTIONS = Mention.__table__
_STORMS = Storm.__table__
_ADD_KEYS = sa.insert(_KEYS)
_SET_STORM = sa.update(_MENTIONS).where(_MENTIONS.c.id == sa.bindparam("mention")).values(
    storm_id=sa.bindparam("storm"), signature=sa.bindparam("packed"))
_NEW_STORM = sa.insert(_STORMS).values(state="open", members=0, version=0)
_GREW = sa.update(_STORMS).where(_STORMS.c.id == sa.bindparam("storm")).values(
    members=_STORMS.c.members + sa.bindparam("joined"), last_member_at=sa.bindparam("at"),
    version=_STORMS.c.version + 1)


# The latest mentions under one key since `since`: an index range read of at most `limit` rows (FIRST_LOOK, or
# CANDIDATES_PER_KEY where that was not enough), however many mentions share the key (a storm of thousands shares a
# few keys). Their storms are read once, apart: far fewer than rows.
_LATEST_SINCE = sa.select(_KEYS.c.mention_id, _MENTIONS.c.storm_id, _MENTIONS.c.signature, _MENTIONS.c.priority_level) \
    .join(_MENTIONS, _MENTIONS.c.id == _KEYS.c.mention_id) \
    .where(_KEYS.c.at >= sa.bindparam("since", type_=_KEYS.c.at.type)) \
    .order_by(_KEYS.c.at.desc(), _KEYS.c.mention_id.desc()).limit(sa.bindparam("limit", type_=sa.Integer))
_CANDIDATES = _LATEST_SINCE.where(_KEYS.c.key == sa.bindparam("key", type_=_KEYS.c.key.type))

# The same for every key at once on PostgreSQL (one round trip instead of one per key): keys in, each key's
# candidates out, latest first within a key.
_KEY_LIST = sa.func.unnest(sa.bindparam("keys", type_=ARRAY(_KEYS.c.key.type))) \
    .table_valued("key", with_ordinality="n").render_derived("k", with_types=False)
_LATEST = _LATEST_SINCE.add_columns(_KEYS.c.at.label("key_at")) \
    .where(_KEYS.c.key == _KEY_LIST.c.key).lateral("latest")
_CANDIDATES_OF_KEYS = sa.select(_KEY_LIST.c.key, *(c for c in _LATEST.c if c.name != "key_at")) \
    .select_from(_KEY_LIST.join(_LATEST, sa.true())) \
    .order_by(_KEY_LIST.c.n, _LATEST.c.key_at.desc(), _LATEST.c.mention_id.desc())
_STORMS_OF = sa.select(_STORMS.c.id, _STORMS.c.state, _STORMS.c.last_member_at, _STORMS.c.shown_at) \
    .where(_STORMS.c.id.in_(sa.bindparam("ids", expanding=True)))

Row = tuple[int, int | None, bytes | None, str]  # a candidate: mention id, storm id, signature, level


@dataclass(slots=True)
class _Candidate:
    mention_id: int
    storm_id: int | None  # a storm that still gathers
    level: str
    packed: bytes | None


@dataclass(slots=True)
class Grouped:
    """What grouping changed: which storms grew, which new mentions need no card of their own, who joined late."""

    grown: dict[int, int] = field(default_factory=dict)  # storm id → members that joined now
    hidden: set[int] = field(default_factory=set)  # new mentions shown on their storm's card only (not P1)
    joined_earlier: dict[int, str] = field(default_factory=dict)  # earlier mentions that formed a storm → level
    shown_at: dict[int, datetime | None] = field(default_factory=dict)  # when each grown storm's card was drawn


def group_new_mentions(conn: sa.Connection, new: Mapping[int, tuple[MentionIn, Level]], now: datetime,
                       rules: StormRules) -> Grouped:
    """Put each new mention in a storm where it belongs (in id order, so earlier ones in the batch count too)."""
    prints = {mention_id: fingerprint(network=item.network, text=item.text, in_reply_to_id=item.in_reply_to_id,
                                      kind=item.kind) for mention_id, (item, _) in sorted(new.items())}
    prints = {mention_id: fp for mention_id, fp in prints.items() if fp.keys}
    grouped = Grouped()
    if not prints:
        return grouped
    if conn.dialect.name == "postgresql":
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(STORM_LOCK)))
    since = now - timedelta(minutes=rules.group_window_minutes)
    rows, storms = _candidates_of(conn, prints, since)
    by_key: dict[str, list[_Candidate]] = {}  # under each key, the latest last
    candidates: dict[int, _Candidate] = {}
    for key, latest_first in rows.items():
        for mention_id, storm_id, packed, level in reversed(latest_first):
            if storm_id is not None and storm_id not in storms:  # no longer gathering: no candidate for another
                continue
            if storm_id is not None:
                grouped.shown_at[storm_id] = storms[storm_id]
            candidate = candidates.setdefault(mention_id, _Candidate(mention_id, storm_id, level, packed))
            by_key.setdefault(key, []).append(candidate)
    storm_of: dict[int, int] = {}
    for mention_id, fp in prints.items():
        item_level = new[mention_id][1]
        found = _confirmed(fp, by_key)
        storm_id = min((c.storm_id for c in found if c.storm_id is not None), default=None)
        if storm_id is None and len(found) + 1 >= rules.group_min:
            storm_id = _form_storm(conn, now)
            grouped.shown_at[storm_id] = None
            for candidate in found:
                candidate.storm_id = storm_id
                storm_of[candidate.mention_id] = storm_id
                if candidate.mention_id not in new:
                    grouped.joined_earlier[candidate.mention_id] = candidate.level
        me = _Candidate(mention_id, storm_id, str(item_level), pack_signature(fp.signature))
        for key in fp.keys:
            by_key.setdefault(key, []).append(me)
        if storm_id is not None:
            storm_of[mention_id] = storm_id
    _write(conn, prints, storm_of, now)
    for mention_id, storm_id in storm_of.items():
        grouped.grown[storm_id] = grouped.grown.get(storm_id, 0) + 1
        if mention_id in new and new[mention_id][1] is not Level.P1:
            grouped.hidden.add(mention_id)
    if grouped.grown:
        conn.execute(_GREW, [{"storm": storm_id, "joined": joined, "at": now}
                             for storm_id, joined in grouped.grown.items()])
    grouped.shown_at = {storm_id: grouped.shown_at.get(storm_id) for storm_id in grouped.grown}
    return grouped


def _candidates_of(conn: sa.Connection, prints: Mapping[int, Fingerprint], since: datetime
                   ) -> tuple[dict[str, list[Row]], dict[int, datetime | None]]:
    """Each key's latest candidates (latest first), and the gathering storms among theirs (with when each card was
    drawn). The latest FIRST_LOOK of every key first; up to CANDIDATES_PER_KEY only under a key where a mention
    that found no storm member among them did find a similar mention: more may be further back, enough to form a
    storm, or a member of one. (A key whose latest are all unlike the mention is a phrase many texts share; a real
    near-duplicate shares rarer keys too.)"""
    rows = _read(conn, sorted({key for fp in prints.values() for key in fp.keys}), since, FIRST_LOOK)
    storms = _gathering(conn, rows, since)
    deeper = {key for fp in prints.values() if not _storm_member_in(fp, rows, storms)
              for key in fp.keys if len(found := rows.get(key, ())) == FIRST_LOOK
              and any(confirms(fp, key, packed) for _, _, packed, _ in found)}
    if deeper:
        rows.update(_read(conn, sorted(deeper), since, CANDIDATES_PER_KEY))
        storms.update(_gathering(conn, rows, since, known=storms))
    return rows, storms


def _read(conn: sa.Connection, keys: list[str], since: datetime, limit: int) -> dict[str, list[Row]]:
    if conn.dialect.name == "postgresql":
        by_key: dict[str, list[Row]] = {}
        for key, *row in conn.execute(_CANDIDATES_OF_KEYS, {"keys": keys, "since": since, "limit": limit}):
            by_key.setdefault(key, []).append(tuple(row))  # type: ignore[arg-type]
        return by_key
    return {key: found for key in keys  # SQLite: in-process reads, no round trips to save
            if (found := select_rows(conn, _CANDIDATES, {"key": key, "since": since, "limit": limit}))}


def _gathering(conn: sa.Connection, rows: Mapping[str, list[Row]], since: datetime,
               known: Collection[int] = ()) -> dict[int, datetime | None]:
    """The storms of these rows that still gather (open or claimed, a member within the window), not yet `known`."""
    ids = sorted({storm_id for found in rows.values() for _, storm_id, _, _ in found
                  if storm_id is not None and storm_id not in known})
    if not ids:
        return {}
    return {storm_id: shown_at for storm_id, state, last_member_at, shown_at in conn.execute(_STORMS_OF, {"ids": ids})
            if state in GATHERING and last_member_at >= since}


def _storm_member_in(fp: Fingerprint, rows: Mapping[str, list[Row]], storms: Mapping[int, object]) -> bool:
    return any(storm_id in storms and confirms(fp, key, packed)
               for key in fp.keys for _, storm_id, packed, _ in rows.get(key, ()))


def _confirmed(fp: Fingerprint, by_key: Mapping[str, list[_Candidate]]) -> list[_Candidate]:
    """The distinct candidates under the mention's keys that belong with it, the latest `CANDIDATES_PER_KEY` of
    each key: as soon as one is in a storm, the rest need not be looked at."""
    found: dict[int, _Candidate] = {}
    for key in fp.keys:
        for candidate in reversed(by_key.get(key, [])[-CANDIDATES_PER_KEY:]):
            if candidate.mention_id not in found and confirms(fp, key, candidate.packed):
                found[candidate.mention_id] = candidate
                if candidate.storm_id is not None:
                    return [candidate]
    return list(found.values())


def _form_storm(conn: sa.Connection, now: datetime) -> int:
    return int(conn.execute(_NEW_STORM.values(created_at=now, last_member_at=now)).inserted_primary_key[0])


def _write(conn: sa.Connection, prints: Mapping[int, Fingerprint], storm_of: Mapping[int, int],
           now: datetime) -> None:
    """The new mentions' keys and signatures, and every member's storm (earlier ones' too)."""
    insert_rows(conn, _ADD_KEYS, [{"key": key, "mention_id": mention_id, "at": now}
                                  for mention_id, fp in prints.items() for key in fp.keys])
    changes = [{"mention": mention_id, "storm": storm_of.get(mention_id), "packed": pack_signature(fp.signature)}
               for mention_id, fp in prints.items()]
    earlier = [mention_id for mention_id in storm_of if mention_id not in prints]
    conn.execute(_SET_STORM, changes)
    if earlier:
        conn.execute(sa.update(_MENTIONS).where(_MENTIONS.c.id == sa.bindparam("mention")).values(
            storm_id=sa.bindparam("storm")), [{"mention": m, "storm": storm_of[m]} for m in earlier])
