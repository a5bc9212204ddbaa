"""Core: a mention's priority from ingest to its card, its outbox job and the queue (SQLite and PostgreSQL)."""

import dataclasses
import json
import shutil
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.chat import answers
from bot.core import commands as c
from bot.core.catalogue import words
from bot.core.incoming import MentionIn
from bot.core.mentions import Actor
from bot.core.storms.priority import PriorityRules
from bot.outbox.fanout import Fanout
from bot.storage.database import Database
from bot.storage.models import Mention, OutboxJob
from handlers import crisis, reporting, triage
from handlers.cards import current_card
from handlers.context import Context
from handlers.ingest import ingest
from tests.support import TEAM_PLAYBOOKS, mention_data, team_config

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
RULES = PriorityRules(vip=frozenset({"x:nos"}), keywords={"datalek": 40, "rechter": 30})
CONFIG = dataclasses.replace(team_config(), priority=RULES)
ANNA = Actor(CONFIG.people["anna"].ref, CONFIG.people["anna"].roles)
CARLA = Actor(CONFIG.people["carla"].ref, CONFIG.people["carla"].roles)
PLAIN = answers.Markup(bold=str, link=lambda _url, label: label, escape=str)


@pytest.fixture
async def ctx(database_url, tmp_path):
    shutil.copytree(TEAM_PLAYBOOKS, tmp_path / "playbooks")
    db = Database(database_url)
    yield Context(db=db, config=CONFIG, fanout=Fanout(("slack", "teams")), clock=lambda: NOW,
                  playbooks_dir=tmp_path / "playbooks")
    await db.dispose()


async def new_mention(ctx, n, text="Waar blijft mijn pakket?", minutes_ago=10, **author) -> int:
    published = f"2026-11-20T10:{30 - minutes_ago:02d}:00Z"
    data = mention_data(n, text=text, published_at=published)
    data["author"] = {**data["author"], **author}
    [result] = await ingest([MentionIn.model_validate_json(json.dumps(data))], ctx=ctx)
    return result.id


async def stored(ctx, mention_id) -> Mention:
    async with ctx.db.uow() as uow:
        return await uow.mentions.get(mention_id)


async def job_priorities(ctx) -> dict[str, int]:
    async with ctx.db.uow() as uow:
        jobs = (await uow.session.exec(select(OutboxJob).order_by(col(OutboxJob.id)))).all()
    return {job.key: job.priority for job in jobs}


async def test_each_mention_is_stored_with_its_level_and_reasons_and_its_cards_go_out_by_level(ctx):
    ordinary = await new_mention(ctx, 1, followers=312, verified=False)
    journalist = await new_mention(ctx, 2, handle="verslaggever", followers=250_000, verified=True)
    leak = await new_mention(ctx, 3, text="Jullie datalekken zijn een schande!", followers=40)
    vip = await new_mention(ctx, 4, handle="NOS", followers=5)

    assert [(m.priority_level, m.priority_reasons) for m in [await stored(ctx, i) for i in (ordinary, journalist)]] \
        == [("P3", []), ("P1", ["followers:250000", "verified"])]
    leaked = await stored(ctx, leak)
    assert (leaked.priority, leaked.priority_level, leaked.priority_reasons) == (50, "P2", ["keyword:datalek",
                                                                                       "negative"])
    assert (await stored(ctx, vip)).priority_reasons[0] == "vip"

    card = await current_card(ctx, journalist)
    assert (card.priority_level, card.priority_reasons) == ("P1", ("followers:250000", "verified"))
    plain = await current_card(ctx, ordinary)
    assert (plain.priority_level, plain.priority_reasons) == ("P3", ())
    jobs = await job_priorities(ctx)
    for platform in ("slack", "teams"):
        assert [jobs[f"{platform}:card:{i}"] for i in (ordinary, journalist, leak, vip)] == [3, 1, 2, 1]


async def test_what_people_do_to_a_card_goes_out_before_any_new_card(ctx):
    mention_id = await new_mention(ctx, 1)
    await triage.claim(c.Claim(mention_id, CARLA), ctx=ctx)
    assert (await job_priorities(ctx))[f"slack:card:{mention_id}"] == 0


async def test_the_queue_names_the_most_urgent_first_and_counts_by_level(ctx):
    old_ordinary = await new_mention(ctx, 1, minutes_ago=25)
    journalist = await new_mention(ctx, 2, followers=250_000, verified=True, minutes_ago=3)
    vip = await new_mention(ctx, 3, handle="nos", minutes_ago=1)
    leak = await new_mention(ctx, 4, text="Weer een datalek!", minutes_ago=5)
    claimed = await new_mention(ctx, 5, followers=250_000, verified=True)
    await triage.claim(c.Claim(claimed, CARLA), ctx=ctx)

    queue = await reporting.show_queue(c.ShowQueue(CARLA), ctx=ctx)
    assert (queue.unclaimed, queue.oldest_age_minutes, queue.by_level) == (4, 25, (("P1", 2), ("P2", 1), ("P3", 1)))
    assert [item.mention_id for item in queue.first] == [vip, journalist, leak, old_ordinary]
    assert (queue.first[0].priority_level, queue.first[0].priority_reasons[0]) == ("P1", "vip")
    shown = answers.queue(queue, PLAIN, words("en")).splitlines()
    assert "P1 · VIP" in shown[3] and "P1 · 250k followers · verified" in shown[4], shown
    assert "P1 · 250k volgers · geverifieerd" in answers.queue(queue, PLAIN, words("nl")).splitlines()[4]


async def test_a_mention_that_joins_a_running_crisis_is_raised_and_says_why(ctx):
    await crisis.start_crisis(c.StartCrisis(ANNA, "outage"), ctx=ctx)
    quiet = await new_mention(ctx, 1, text="Waar blijft mijn pakket?")
    linked = await new_mention(ctx, 2, text="De app werkt niet sinds vanochtend")

    assert (await stored(ctx, quiet)).priority_reasons == []
    raised = await stored(ctx, linked)
    assert raised.crisis_id is not None and "crisis" in raised.priority_reasons
    assert raised.priority > (await stored(ctx, quiet)).priority
    assert (await current_card(ctx, linked)).priority_reasons[-1] == "crisis"
