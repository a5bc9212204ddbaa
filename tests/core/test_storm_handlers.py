"""Storm groups' handlers (SQLite and PostgreSQL): the card's view, Claim, Answer all, Dismiss, Start crisis…"""

import dataclasses
import json
import shutil
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.core import commands as c
from bot.core.incoming import MentionIn
from bot.core.mentions import Actor, DomainError
from bot.core.storms.priority import PriorityRules
from bot.core.storms.rules import StormRules
from bot.core.storms.views import StormState
from bot.core.views import DismissReason, DraftState, MentionState
from bot.metrics import Metrics
from bot.outbox.fanout import Fanout
from bot.outbox.relay import Relay
from bot.storage.database import Database
from bot.storage.models import Draft, Mention, Storm
from handlers import storms, triage
from handlers.context import Context
from handlers.delivery import ReplyDelivery
from handlers.digests import shown_elsewhere
from handlers.ingest import ingest
from tests.support import TEAM_PLAYBOOKS, mention_data, team_config

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
CONFIG = dataclasses.replace(team_config(), priority=PriorityRules(vip=frozenset({"x:nos"})),
                             storm=StormRules(group_min=3))
ANNA = Actor(CONFIG.people["anna"].ref, CONFIG.people["anna"].roles)
CARLA = Actor(CONFIG.people["carla"].ref, CONFIG.people["carla"].roles)
COMPLAINT = "@KLM waar is mijn koffer? Al drie dagen niets gehoord van jullie, dit is echt schandalig"


@pytest.fixture
async def ctx(database_url, tmp_path):
    shutil.copytree(TEAM_PLAYBOOKS, tmp_path / "playbooks")
    db = Database(database_url)
    yield Context(db=db, config=CONFIG, fanout=Fanout(("slack",)), clock=lambda: NOW,
                  playbooks_dir=tmp_path / "playbooks", connectors=frozenset({"mastodon"}))
    await db.dispose()


async def storm_of(ctx, count: int, *, reply_via=None, vip_at: int | None = None) -> tuple[int, list[int]]:
    ids = []
    for n in range(1, count + 1):
        data = mention_data(n, text=f"{COMPLAINT} {'!' * n}", reply_via=reply_via,
                            author={"id": str(n), "handle": "nos" if n == vip_at else f"klant{n}",
                                    "display_name": f"Klant {n}", "followers": 100 * n})
        [result] = await ingest([MentionIn.model_validate_json(json.dumps(data))], ctx=ctx)
        ids.append(result.id)
    async with ctx.db.uow() as uow:
        storm_id = (await uow.mentions.get(ids[-1])).storm_id
    assert storm_id is not None
    return storm_id, ids


async def run_jobs(ctx) -> None:
    relay = Relay(ctx.db, {"storm_batch": storms.StormBatches(ctx), "reply": ReplyDelivery(ctx, {})}, Metrics(),
                  fanout=ctx.fanout, clock=ctx.clock)
    try:
        await relay.drain()
    finally:
        await relay.close()


async def mentions(ctx, ids) -> list[Mention]:
    async with ctx.db.uow() as uow:
        return [await uow.mentions.get(m) for m in ids]


async def test_the_storm_card_counts_networks_authors_and_shows_distinct_samples(ctx):
    storm_id, ids = await storm_of(ctx, 5, vip_at=4)
    view = await storms.current_storm(ctx, storm_id)
    assert view.members == 5 and view.recent == 5 and view.networks == (("x", 5),)
    assert [a.author_handle for a in view.authors] == ["klant5", "nos", "klant3"]
    assert len(view.samples) == 3 and len({s.text for s in view.samples}) == 3
    assert [m.mention_id for m in view.own_cards] == [ids[3]]
    assert view.state is StormState.OPEN and view.waiting == 5 and ("crisis", "Crisis") not in view.playbooks
    assert view.playbooks  # a crisis can be started from the card
    async with ctx.db.uow() as uow:
        assert (await uow.session.get(Storm, storm_id)).shown_at == NOW  # the next redraw waits 30 s


async def test_one_claim_wins_and_the_other_is_told_who_has_it(ctx):
    storm_id, _ = await storm_of(ctx, 3)
    await storms.claim_storm(c.ClaimStorm(storm_id, ANNA), ctx=ctx)
    with pytest.raises(DomainError, match="Anna"):
        await storms.claim_storm(c.ClaimStorm(storm_id, CARLA), ctx=ctx)
    with pytest.raises(DomainError, match="claimed this storm"):
        await storms.answer_storm(c.AnswerStorm(storm_id, CARLA, "Sorry!"), ctx=ctx)
    assert (await storms.current_storm(ctx, storm_id)).claimed_by.name == ANNA.ref.name


async def test_answer_all_answers_each_open_member_below_p1_that_nobody_else_holds(ctx):
    storm_id, ids = await storm_of(ctx, 6, vip_at=2)
    await triage.claim(c.Claim(ids[4], CARLA), ctx=ctx)  # Carla is already on this one
    await storms.answer_storm(c.AnswerStorm(storm_id, ANNA, "  Sorry, we are on it: klm.com/status  "), ctx=ctx)
    await run_jobs(ctx)
    states = [m.state for m in await mentions(ctx, ids)]
    assert states == ["answered", "new", "answered", "answered", "claimed", "answered"]
    async with ctx.db.uow() as uow:
        drafts = (await uow.session.exec(select(Draft))).all()
    assert sorted(d.mention_id for d in drafts) == [ids[0], ids[2], ids[3], ids[5]]
    assert {(d.text, d.state, d.author) for d in drafts} == {("Sorry, we are on it: klm.com/status", "by_hand", "anna")}
    view = await storms.current_storm(ctx, storm_id)
    assert view.state is StormState.ANSWERED and view.answered == 4 and view.waiting == 2
    with pytest.raises(DomainError, match="already answered"):
        await storms.dismiss_storm(c.DismissStorm(storm_id, ANNA, DismissReason.SPAM), ctx=ctx)


async def test_answer_all_refuses_a_text_too_long_for_a_network_its_members_are_on_and_changes_nothing(ctx):
    storm_id, ids = await storm_of(ctx, 3)  # on X: 280 characters
    with pytest.raises(DomainError, match="on X, which allows 280 characters; this reply has 300"):
        await storms.answer_storm(c.AnswerStorm(storm_id, ANNA, "a" * 300), ctx=ctx)
    await run_jobs(ctx)
    assert [m.state for m in await mentions(ctx, ids)] == ["new"] * 3
    assert (await storms.current_storm(ctx, storm_id)).state is StormState.OPEN
    await storms.answer_storm(c.AnswerStorm(storm_id, ANNA, "a" * 280), ctx=ctx)  # fits
    await run_jobs(ctx)
    assert [m.state for m in await mentions(ctx, ids)] == ["answered"] * 3


async def test_a_delivery_that_fails_shows_on_the_storm_card(ctx):
    storm_id, ids = await storm_of(ctx, 3, reply_via="mastodon")  # its connector cannot deliver: none runs here
    await storms.answer_storm(c.AnswerStorm(storm_id, ANNA, "Sorry!"), ctx=ctx)
    await run_jobs(ctx)
    async with ctx.db.uow() as uow:
        drafts = (await uow.session.exec(select(Draft))).all()
    assert len(drafts) == 3 and {d.state for d in drafts} == {DraftState.FAILED}
    assert (await storms.current_storm(ctx, storm_id)).failed == 3


async def test_dismiss_dismisses_the_open_members_with_the_reason(ctx):
    storm_id, ids = await storm_of(ctx, 4)
    await storms.dismiss_storm(c.DismissStorm(storm_id, ANNA, DismissReason.SPAM), ctx=ctx)
    await run_jobs(ctx)
    assert {(m.state, m.dismissed_reason) for m in await mentions(ctx, ids)} == {("dismissed", "spam")}
    assert (await storms.current_storm(ctx, storm_id)).state is StormState.DISMISSED


async def test_start_crisis_from_a_storm_links_every_member(ctx):
    storm_id, ids = await storm_of(ctx, 4)
    started = await storms.start_storm_crisis(c.StartStormCrisis(storm_id, ANNA, "outage"), ctx=ctx)
    assert {m.crisis_id for m in await mentions(ctx, ids)} == {started.checklist.id}
    assert (await storms.current_storm(ctx, storm_id)).crisis.id == started.checklist.id


async def test_the_member_list_puts_the_most_urgent_first_and_a_member_shown_on_the_storm_card_only_is_known(ctx):
    storm_id, ids = await storm_of(ctx, 4, vip_at=3)
    listed = await storms.show_storm(c.ShowStorm(ANNA, storm_id), ctx=ctx)
    assert listed.total == 4 and listed.members[0].mention_id == ids[2]
    assert [await shown_elsewhere(ctx, m) for m in ids] == [True, True, False, True]
    with pytest.raises(DomainError, match="no storm #999"):
        await storms.show_storm(c.ShowStorm(ANNA, 999), ctx=ctx)


async def test_after_answer_all_new_similar_mentions_start_a_new_storm(ctx):
    storm_id, ids = await storm_of(ctx, 3)
    await storms.answer_storm(c.AnswerStorm(storm_id, ANNA, "Sorry!"), ctx=ctx)
    later = []
    for n in range(10, 13):
        data = mention_data(n, text=f"{COMPLAINT} {'?' * n}")
        [result] = await ingest([MentionIn.model_validate_json(json.dumps(data))], ctx=ctx)
        later.append(result.id)
    stormed = {m.storm_id for m in await mentions(ctx, later)}
    assert len(stormed) == 1 and stormed != {storm_id} and None not in stormed
    assert {m.state for m in await mentions(ctx, later)} == {MentionState.NEW}
