"""Digests at ingest (SQLite and PostgreSQL): while the backlog is long, P3 mentions are listed, not carded."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.core import commands as c
from bot.core.incoming import MentionIn
from bot.core.mentions import Actor
from bot.core.storms.priority import PriorityRules
from bot.core.storms.rules import StormRules
from bot.outbox.fanout import Fanout
from bot.storage.database import Database
from bot.storage.models import OutboxJob
from handlers import triage
from handlers.context import Context
from handlers.digests import digest_view, shown_elsewhere
from handlers.ingest import ingest
from tests.support import mention_data, team_config

NOW = datetime(2026, 11, 20, 10, 30, 40, tzinfo=UTC)
CONFIG = dataclasses.replace(team_config(), priority=PriorityRules(vip=frozenset({"x:nos"})),
                             storm=StormRules(digest_after_seconds=5))
ANNA = Actor(CONFIG.people["anna"].ref, CONFIG.people["anna"].roles)
TEXTS = ["Waar blijft mijn pakket", "How do I change my seat", "Is the lounge open at Schiphol", "Wifi on board?",
         "Can I bring my bike", "Refund for a cancelled flight", "Extra legroom prices", "Lost my boarding pass",
         "Pet in the cabin rules", "Where do I find my booking code"]


@pytest.fixture
async def ctx(database_url):
    db = Database(database_url)
    yield Context(db=db, config=CONFIG, fanout=Fanout(("slack",)), clock=lambda: NOW)
    await db.dispose()


async def new(ctx, n: int, **overrides) -> int:
    data = mention_data(n, text=f"{TEXTS[n % len(TEXTS)]} (question {n} of the day)", **overrides)
    [result] = await ingest([MentionIn.model_validate_json(json.dumps(data))], ctx=ctx)
    return result.id


async def jobs(ctx) -> dict[str, OutboxJob]:
    async with ctx.db.uow() as uow:
        return {job.key: job for job in (await uow.session.exec(select(OutboxJob).order_by(col(OutboxJob.id)))).all()}


async def test_once_the_cards_waiting_would_take_too_long_p3_mentions_go_to_the_minutes_digest(ctx):
    ids = [await new(ctx, n) for n in range(10)]
    queued = await jobs(ctx)
    carded = [m for m in ids if f"slack:card:{m}" in queued]
    assert carded == ids[:6]  # 5 s of backlog at one card a second: the 6th makes it too long
    digest = queued["slack:digest:2026-11-20T10:30"]
    assert digest.due_at == datetime(2026, 11, 20, 10, 30, 50, tzinfo=UTC) and digest.priority == 2
    view = await digest_view(ctx, "2026-11-20T10:30")
    assert [line.mention_id for line in view.lines] == ids[6:] and view.total == 4 and view.more == 0


async def test_a_p1_mention_still_gets_its_card_in_a_long_backlog(ctx):
    for n in range(7):
        await new(ctx, n)
    vip = await new(ctx, 7, author={"id": "1", "handle": "nos", "display_name": "NOS", "followers": 10})
    assert f"slack:card:{vip}" in await jobs(ctx)


async def test_claiming_a_digest_line_redraws_the_digest_and_posts_no_card(ctx):
    ids = [await new(ctx, n) for n in range(8)]
    line = ids[-1]
    await triage.claim(c.Claim(line, ANNA), ctx=ctx)
    assert await shown_elsewhere(ctx, ids[-2]) and not await shown_elsewhere(ctx, ids[0])
    assert not await shown_elsewhere(ctx, line)  # taken up: its card comes too, to answer it on
    digest = (await jobs(ctx))["slack:digest:2026-11-20T10:30"]
    assert digest.priority == 0 and digest.due_at == NOW  # redrawn now, ahead of the backlog
    [shown] = [entry for entry in (await digest_view(ctx, "2026-11-20T10:30")).lines if entry.mention_id == line]
    assert shown.claimed_by.name == ANNA.ref.name and shown.state == "claimed"


async def test_when_the_backlog_is_posted_cards_come_back(ctx):
    ids = [await new(ctx, n) for n in range(8)]
    async with ctx.db.uow() as uow:
        for job in (await uow.session.exec(select(OutboxJob))).all():
            await uow.outbox.complete(job, NOW + timedelta(seconds=8))
        await uow.commit()
    later = await new(ctx, 9)
    assert f"slack:card:{later}" in await jobs(ctx) and len(ids) == 8
