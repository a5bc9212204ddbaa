"""Storm grouping at ingest (SQLite and PostgreSQL): similar mentions form one storm, its card replaces theirs."""

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.core.incoming import MentionIn
from bot.core.storms.priority import PriorityRules
from bot.core.storms.rules import StormRules
from bot.outbox.fanout import Fanout
from bot.storage.database import Database
from bot.storage.models import GroupingKey, Mention, OutboxJob, Storm
from handlers.context import Context
from handlers.ingest import ingest
from handlers.storms import forget_old_keys
from tests.support import mention_data, team_config

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
CONFIG = dataclasses.replace(team_config(), priority=PriorityRules(vip=frozenset({"x:nos"})),
                             storm=StormRules(group_min=3, group_window_minutes=30))
COMPLAINT = "@KLM waar is mijn koffer? Al drie dagen niets gehoord van jullie, dit is echt schandalig"


@pytest.fixture
def tick():
    return [NOW]


@pytest.fixture
async def ctx(database_url, tick):
    db = Database(database_url)
    yield Context(db=db, config=CONFIG, fanout=Fanout(("slack",)), clock=lambda: tick[0])
    await db.dispose()


def item(n: int, text: str = COMPLAINT, **overrides) -> MentionIn:
    return MentionIn.model_validate_json(json.dumps(mention_data(n, text=text, **overrides)))


async def new(ctx, n: int, text: str = COMPLAINT, **overrides) -> int:
    [result] = await ingest([item(n, text, **overrides)], ctx=ctx)
    return result.id


async def storms_of(ctx, *mention_ids: int) -> list[int | None]:
    async with ctx.db.uow() as uow:
        return [(await uow.mentions.get(m)).storm_id for m in mention_ids]


async def jobs(ctx) -> dict[str, OutboxJob]:
    async with ctx.db.uow() as uow:
        return {job.key: job for job in (await uow.session.exec(select(OutboxJob).order_by(col(OutboxJob.id)))).all()}


async def test_the_third_similar_mention_forms_a_storm_whose_card_replaces_its_own(ctx):
    first = await new(ctx, 1)
    second = await new(ctx, 2, COMPLAINT.replace("@KLM", "@klm").replace("drie", "3") + "!!! https://t.co/x1")
    assert await storms_of(ctx, first, second) == [None, None]
    third = await new(ctx, 3, "RT " + COMPLAINT)
    storm_id = (await storms_of(ctx, third))[0]
    assert storm_id is not None and await storms_of(ctx, first, second) == [storm_id, storm_id]
    queued = await jobs(ctx)
    assert f"slack:card:{third}" not in queued  # shown on the storm card only
    assert queued[f"slack:card:{first}"].generation == 2  # the earlier cards are redrawn: they joined the storm
    assert queued[f"slack:storm:{storm_id}"].priority == 2 and queued[f"slack:storm:{storm_id}"].due_at == NOW
    fourth = await new(ctx, 4, COMPLAINT + " #klm")
    assert (await storms_of(ctx, fourth)) == [storm_id] and f"slack:card:{fourth}" not in await jobs(ctx)
    async with ctx.db.uow() as uow:
        storm = await uow.session.get(Storm, storm_id)
    assert storm.members == 4 and storm.state == "open"


async def test_replies_to_one_post_group_whatever_they_say_and_other_texts_do_not(ctx):
    replies = [await new(ctx, n, text, in_reply_to_id="1991438273645100000", kind="reply")
               for n, text in enumerate(["Schande!", "Nooit meer KLM, wat een service", "@KLM lees je dit wel?"], 1)]
    unrelated = [await new(ctx, 10 + n, text) for n, text in enumerate([
        "Mijn pakket is nog steeds niet bezorgd, tracking zegt niets", "Great crew on my flight to Lisbon today",
        "How do I change the name on my booking for next week?"])]
    grouped = await storms_of(ctx, *replies)
    assert grouped[0] is not None and len(set(grouped)) == 1
    assert await storms_of(ctx, *unrelated) == [None, None, None]


async def test_a_p1_member_keeps_its_own_card(ctx):
    for n in (1, 2):
        await new(ctx, n)
    vip = await new(ctx, 3, author={"id": "1", "handle": "nos", "display_name": "NOS", "followers": 10})
    assert (await storms_of(ctx, vip))[0] is not None
    assert f"slack:card:{vip}" in await jobs(ctx)


async def test_a_storm_card_is_redrawn_at_most_every_30_seconds(ctx, tick):
    ids = [await new(ctx, n) for n in (1, 2, 3)]
    [storm_id] = set(await storms_of(ctx, *ids))
    async with ctx.db.uow() as uow:
        storm = await uow.session.get(Storm, storm_id)
        storm.shown_at = NOW
        await uow.commit()
    tick[0] = NOW + timedelta(seconds=5)
    await new(ctx, 4)
    assert (await jobs(ctx))[f"slack:storm:{storm_id}"].due_at == NOW + timedelta(seconds=30)


async def test_after_the_window_a_storm_takes_no_more_members(ctx, tick):
    ids = [await new(ctx, n) for n in (1, 2, 3)]
    [storm_id] = set(await storms_of(ctx, *ids))
    tick[0] = NOW + timedelta(minutes=31)
    late = await new(ctx, 4)
    assert await storms_of(ctx, late) == [None]
    assert f"slack:card:{late}" in await jobs(ctx)


async def test_a_storm_split_over_two_writers_at_once_is_one_storm(postgres_url):
    """Two processes' transactions (two engines) store similar mentions at the same moment: one storm, not two."""
    dbs = [Database(postgres_url) for _ in range(2)]
    contexts = [Context(db=db, config=CONFIG, fanout=Fanout(("slack",)), clock=lambda: NOW) for db in dbs]
    try:
        async def writer(k: int) -> None:
            for n in range(10):
                await ingest([item(100 * k + n, f"{COMPLAINT} {'!' * n}")], ctx=contexts[k])

        await asyncio.gather(writer(0), writer(1))
        async with dbs[0].uow() as uow:
            storms = (await uow.session.exec(select(Storm))).all()
            members = (await uow.session.exec(select(Mention.storm_id))).all()
    finally:
        for db in dbs:
            await db.dispose()
    assert len(storms) == 1 and storms[0].members == 20
    assert members == [storms[0].id] * 20


async def test_keys_older_than_the_window_are_forgotten(ctx, tick):
    await new(ctx, 1)
    tick[0] = NOW + timedelta(minutes=20)
    await new(ctx, 2, "Een heel andere vraag over mijn stoel bij het raam")
    tick[0] = NOW + timedelta(minutes=31)
    assert await forget_old_keys(ctx) > 0
    async with ctx.db.uow() as uow:
        left = {row.mention_id for row in (await uow.session.exec(select(GroupingKey))).all()}
    assert left == {2}
