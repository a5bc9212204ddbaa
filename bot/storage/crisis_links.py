"""Link new mentions to the running crises whose triggers they mention (whole words or phrases, any case)."""

from __future__ import annotations

import functools
import re
from datetime import datetime

import sqlalchemy as sa

from bot.core.crisis.playbooks import parse_playbook
from bot.core.crisis.triggers import trigger_pattern
from bot.core.mentions import SYSTEM
from bot.storage.models import Audit, Crisis, Mention
from bot.storage.raw_sql import select_rows

_CRISIS = Crisis.__table__
_MENTION = Mention.__table__
# Real crises only: a drill never takes real mentions.
_RUNNING = sa.select(_CRISIS.c.id, _CRISIS.c.title, _CRISIS.c.playbook_path, _CRISIS.c.playbook_text,
                     _CRISIS.c.version).where(_CRISIS.c.ended_at.is_(None), _CRISIS.c.drill.is_(False)) \
    .order_by(_CRISIS.c.id.desc())
_TEXTS = sa.select(_MENTION.c.id, _MENTION.c.text).where(_MENTION.c.id.in_(sa.bindparam("ids", expanding=True)),
                                                           _MENTION.c.crisis_id.is_(None))
_LINK = sa.update(_MENTION).where(_MENTION.c.id == sa.bindparam("mention"), _MENTION.c.crisis_id.is_(None)) \
    .values(crisis_id=sa.bindparam("crisis"), crisis_linked_at=sa.bindparam("at"), version=_MENTION.c.version + 1)
_ADD_AUDIT = sa.insert(Audit.__table__)


@functools.lru_cache(maxsize=64)
def _pattern_of(path: str, text: str, version: str) -> re.Pattern[str] | None:
    playbook, _ = parse_playbook(path, text, version=version)
    return trigger_pattern(playbook.triggers) if playbook is not None else None


def link_new_mentions(conn: sa.Connection, mention_ids: list[int], now: datetime) -> dict[int, int]:
    """Link each of these mentions to the newest running crisis whose triggers it matches, with an audit row.

    Runs inside the ingest transaction; returns the crisis each linked mention joined (their checklists show counts,
    and a crisis link raises the mention's priority).
    """
    if not mention_ids:
        return {}
    crises = [(crisis_id, title, _pattern_of(path, text, version))
              for crisis_id, title, path, text, version in select_rows(conn, _RUNNING)]
    crises = [(crisis_id, title, pattern) for crisis_id, title, pattern in crises if pattern is not None]
    if not crises:
        return {}
    links: list[dict[str, object]] = []
    audits: list[dict[str, object]] = []
    for row in conn.execute(_TEXTS, {"ids": mention_ids}):
        for crisis_id, title, pattern in crises:
            if pattern.search(row.text):
                links.append({"mention": row.id, "crisis": crisis_id, "at": now})
                actor, actor_name = SYSTEM.key, SYSTEM.ref.name
                audits.append({"mention_id": row.id, "crisis_id": crisis_id, "at": now, "actor": actor,
                               "actor_name": actor_name, "action": "crisis_link", "from_state": "new",
                               "to_state": "new", "detail": f"#{crisis_id} {title} (trigger matched)"})
                break
    if links:
        conn.execute(_LINK, links)
        conn.execute(_ADD_AUDIT, audits)
    return {int(link["mention"]): int(link["crisis"]) for link in links}  # type: ignore[call-overload]
