"""Core: handlers against a real database (SQLite and PostgreSQL): transitions, audit rows, outbound work."""

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.config import Person
from bot.core import commands as c
from bot.core.incoming import MentionIn
from bot.core.mentions import Actor, AlreadyClaimed, DomainError, NotAllowed
from bot.core.views import DismissReason
from bot.ingest.batcher import IngestBatcher
from bot.outbox.fanout import Fanout
from bot.replies.base import DeliveryReceipt
from bot.storage.database import Database
from bot.storage.models import Audit, Draft, Mention, OutboxJob
from handlers import answering, escalation, reporting, triage
from handlers.context import Context
from handlers.ingest import Delivery, ingest
from tests.support import mention_data, team_config

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
CONFIG = team_config()


def who(key: str) -> Actor:
    person = CONFIG.people[key]
    return Actor(person.ref, person.roles)


CARLA, ANNA, BRAM, DIRK = who("carla"), who("anna"), who("bram"), who("dirk")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def ctx(database_url):
    db = Database(database_url)
    yield Context(db=db, config=CONFIG, fanout=Fanout(("slack",)), clock=Clock(), connectors=frozenset({"webhook"}))
    await db.dispose()


async def new_mention(ctx, n=1, **overrides) -> int:
    data = mention_data(n, published_at="2026-11-20T10:00:00Z", **overrides)
    [result] = await ingest([MentionIn.model_validate_json(json.dumps(data))], ctx=ctx)
    return result.id


async def rows(ctx, model, *where):
    async with ctx.db.uow() as uow:
        return list((await uow.session.exec(select(model).where(*where).order_by(col(model.id)))).all())


async def mention(ctx, mention_id) -> Mention:
    async with ctx.db.uow() as uow:
        return await uow.mentions.get(mention_id)


async def test_ingest_stores_the_mention_with_its_card_job_and_audit_row(ctx):
    mention_id = await new_mention(ctx)
    [job] = await rows(ctx, OutboxJob)
    assert (job.key, job.kind, job.mention_id) == (f"slack:card:{mention_id}", "slack.card", mention_id)
    [audit] = await rows(ctx, Audit)
    assert (audit.action, audit.actor, audit.to_state) == ("ingest", "system", "new")


async def test_claim_is_one_update_one_audit_row_and_a_card_refresh(ctx):
    mention_id = await new_mention(ctx)
    await triage.claim(c.Claim(mention_id, CARLA), ctx=ctx)
    stored = await mention(ctx, mention_id)
    assert (stored.state, stored.claimed_by, stored.version) == ("claimed", "carla", 1)
    audits = await rows(ctx, Audit, Audit.action == "claim")
    assert [(a.actor, a.from_state, a.to_state) for a in audits] == [("carla", "new", "claimed")]
    [job] = await rows(ctx, OutboxJob)
    assert job.generation == 2 and not job.done  # the card must be re-rendered


async def test_twenty_simultaneous_claims_have_exactly_one_winner(ctx):
    mention_id = await new_mention(ctx)
    agents = {f"agent{i}": Person(f"agent{i}", f"Agent {i}", slack=f"U{i:03d}", roles=frozenset({"webcare"}))
              for i in range(20)}
    ctx = replace(ctx, config=replace(CONFIG, people={**CONFIG.people, **agents}))
    people = [Actor(agent.ref, agent.roles) for agent in agents.values()]
    outcomes = await asyncio.gather(*(triage.claim(c.Claim(mention_id, p), ctx=ctx) for p in people),
                                    return_exceptions=True)
    winners = [p for p, o in zip(people, outcomes, strict=True) if o is None]
    assert len(winners) == 1
    losers = [o for o in outcomes if o is not None]
    assert all(isinstance(o, AlreadyClaimed) and o.by.key == winners[0].key for o in losers), losers
    assert len(await rows(ctx, Audit, Audit.action == "claim")) == 1
    assert (await mention(ctx, mention_id)).claimed_by == winners[0].key


async def test_refused_transition_changes_nothing(ctx):
    mention_id = await new_mention(ctx)
    await triage.claim(c.Claim(mention_id, CARLA), ctx=ctx)
    eva = who("eva")  # on the team, but Carla holds the mention
    with pytest.raises(NotAllowed, match="Carla Smit"):
        await triage.unclaim(c.Unclaim(mention_id, eva), ctx=ctx)
    with pytest.raises(NotAllowed, match="Carla Smit"):
        await triage.dismiss(c.Dismiss(mention_id, eva, DismissReason.SPAM), ctx=ctx)
    stored = await mention(ctx, mention_id)
    assert (stored.state, stored.claimed_by, stored.version) == ("claimed", "carla", 1)
    assert len(await rows(ctx, Audit)) == 2  # ingest + claim


async def test_escalation_pings_heads_and_reply_waits_for_a_head(ctx):
    mention_id = await new_mention(ctx, reply_via="webhook")
    await escalation.escalate(c.Escalate(mention_id, CARLA, ("legal",), "  mentions a lawyer "), ctx=ctx)
    [notice] = await rows(ctx, OutboxJob, OutboxJob.kind == "slack.notice")
    assert notice.payload == {"kind": "escalation", "actor": "carla", "actor_name": "Carla Smit",
                              "departments": ["legal"], "note": "mentions a lawyer"}
    await answering.submit_reply(c.SubmitReply(mention_id, CARLA, "We are sorry, we'll call you."), ctx=ctx)
    [draft] = await rows(ctx, Draft)
    assert (draft.state, draft.approvers) == ("awaiting_approval", ["bram", "dirk"])
    assert not await rows(ctx, OutboxJob, OutboxJob.kind == "reply")  # nothing goes out yet

    with pytest.raises(NotAllowed, match="Only a head of legal"):
        await answering.approve(c.Approve(draft.id, ANNA), ctx=ctx)
    await answering.approve(c.Approve(draft.id, DIRK), ctx=ctx)
    [draft] = await rows(ctx, Draft)
    assert (draft.state, draft.decided_by) == ("sending", "dirk")
    [reply_job] = await rows(ctx, OutboxJob, OutboxJob.kind == "reply")
    assert reply_job.payload == {"draft_id": draft.id}
    assert (await mention(ctx, mention_id)).state == "answered"
    with pytest.raises(DomainError, match="no longer waiting"):
        await answering.approve(c.Approve(draft.id, BRAM), ctx=ctx)


async def test_a_head_cannot_approve_their_own_draft(ctx):
    mention_id = await new_mention(ctx)
    dirk = Person("dirk", "Dirk Bakker", slack="U04DIRK", roles=frozenset({"legal", "webcare"}))  # head, and webcare
    ctx = replace(ctx, config=replace(CONFIG, people={**CONFIG.people, "dirk": dirk}))
    await escalation.escalate(c.Escalate(mention_id, Actor(dirk.ref, dirk.roles), ("legal",)), ctx=ctx)
    await answering.submit_reply(c.SubmitReply(mention_id, Actor(dirk.ref, dirk.roles), "Our lawyers will call."),
                                 ctx=ctx)
    [draft] = await rows(ctx, Draft)
    assert draft.approvers == ["bram"]  # the author is never their own approver
    with pytest.raises(NotAllowed, match="Four eyes"):
        await answering.approve(c.Approve(draft.id, Actor(dirk.ref, dirk.roles)), ctx=ctx)
    await answering.approve(c.Approve(draft.id, BRAM), ctx=ctx)


async def test_request_changes_then_a_new_draft(ctx):
    mention_id = await new_mention(ctx)
    await escalation.escalate(c.Escalate(mention_id, CARLA, ("sales",)), ctx=ctx)
    await answering.submit_reply(c.SubmitReply(mention_id, CARLA, "Buy more!"), ctx=ctx)
    [draft] = await rows(ctx, Draft)
    await answering.request_changes(c.RequestChanges(draft.id, BRAM, "No sales pitch here"), ctx=ctx)
    assert (await mention(ctx, mention_id)).state == "escalated"
    [draft] = await rows(ctx, Draft)
    assert (draft.state, draft.note) == ("changes_requested", "No sales pitch here")
    await answering.submit_reply(c.SubmitReply(mention_id, CARLA, "Sorry for the delay."), ctx=ctx)
    assert (await mention(ctx, mention_id)).state == "awaiting_approval"


async def test_delivery_outcome_sets_first_response_or_keeps_the_draft_for_retry(ctx):
    mention_id = await new_mention(ctx, reply_via="webhook")
    await answering.submit_reply(c.SubmitReply(mention_id, CARLA, "Hi Sanne, we're on it."), ctx=ctx)
    [draft] = await rows(ctx, Draft)
    assert draft.state == "sending"
    await answering.record_delivery(draft.id, ctx=ctx, error="the reply webhook refused the reply (HTTP 400)")
    [draft] = await rows(ctx, Draft)
    assert (draft.state, draft.text) == ("failed", "Hi Sanne, we're on it.")  # the draft is never lost
    assert (await mention(ctx, mention_id)).first_response_at is None

    await answering.retry_delivery(c.RetryDelivery(draft.id, CARLA), ctx=ctx)
    ctx.clock.now = NOW + timedelta(minutes=2)
    await answering.record_delivery(draft.id, ctx=ctx, receipt=DeliveryReceipt(remote_id="r1"))
    [draft] = await rows(ctx, Draft)
    assert (draft.state, draft.remote_id) == ("sent", "r1")
    assert (await mention(ctx, mention_id)).first_response_at == NOW + timedelta(minutes=2)
    with pytest.raises(DomainError, match="Only a failed delivery"):
        await answering.retry_delivery(c.RetryDelivery(draft.id, CARLA), ctx=ctx)


async def test_mention_without_connector_is_answered_by_hand_at_once(ctx):
    mention_id = await new_mention(ctx)  # the listening tool names no reply connector
    form = await answering.prepare_answer(c.PrepareAnswer(mention_id, CARLA), ctx=ctx)
    assert form.manual and not form.needs_approval
    await answering.submit_reply(c.SubmitReply(mention_id, CARLA, "Replied via the X app"), ctx=ctx)
    stored = await mention(ctx, mention_id)
    assert (stored.state, stored.first_response_at) == ("answered", NOW)
    assert not await rows(ctx, OutboxJob, OutboxJob.kind == "reply")


async def test_reports_count_what_the_team_did(ctx):
    first = await new_mention(ctx, 1)
    second = await new_mention(ctx, 2)
    third = await new_mention(ctx, 3)
    await new_mention(ctx, 4)
    await answering.submit_reply(c.SubmitReply(first, CARLA, "by hand"), ctx=ctx)  # as it arrived
    await triage.claim(c.Claim(second, CARLA), ctx=ctx)
    await triage.dismiss(c.Dismiss(third, ANNA, DismissReason.SPAM), ctx=ctx)
    async with ctx.db.uow() as uow:  # the first answer came within the SLA; make a second one late
        await uow.mentions.set_first_response(second, NOW + timedelta(minutes=90))
        await uow.commit()

    mine = await reporting.show_mine(c.ShowMine(CARLA), ctx=ctx)
    assert [m.mention_id for m in mine] == [second]
    queue = await reporting.show_queue(c.ShowQueue(CARLA), ctx=ctx)
    assert (queue.unclaimed, queue.oldest_age_minutes) == (1, 30)
    stats = await reporting.show_stats(c.ShowStats(CARLA, "today"), ctx=ctx)
    assert (stats.volume, stats.answered, stats.dismissed) == (4, 2, 1)
    assert stats.median_first_response_minutes == 45.0  # 0 and 90 minutes after they arrived
    assert stats.within_sla_share == pytest.approx(1 / 3)  # one of three mentions needing an answer
    with pytest.raises(DomainError, match="Unknown period"):
        await reporting.show_stats(c.ShowStats(CARLA, "year"), ctx=ctx)


def delivery(webhook_id: str, numbers: range) -> Delivery:
    return Delivery([MentionIn.model_validate_json(json.dumps(mention_data(n))) for n in numbers], webhook_id)


async def test_group_commit_keeps_each_transaction_near_the_item_cap(ctx):
    """On SQLite a transaction pauses the event loop: waiting batches are split, never written all at once."""
    transactions = []
    batcher = IngestBatcher(ctx, on_stored=lambda: transactions.append(1))  # the default cap: 500 mentions
    writer = asyncio.create_task(batcher.run())
    try:
        deliveries = [delivery(f"msg_{d}", range(100 * d, 100 * d + 40)) for d in range(3)]
        answers = await asyncio.gather(*(batcher.submit(d) for d in deliveries))
    finally:
        writer.cancel()
    assert [len(a) for a in answers] == [40, 40, 40]
    assert len(await rows(ctx, Mention)) == 120
    assert len(transactions) == 1  # all three fit under the cap together

    transactions.clear()
    big = [delivery(f"big_{d}", range(10_000 + 500 * d, 10_000 + 500 * d + 400)) for d in range(3)]
    writer = asyncio.create_task(batcher.run())
    try:
        await asyncio.gather(*(batcher.submit(d) for d in big))
    finally:
        writer.cancel()
    assert len(transactions) == 2  # 400 + 400 reached the cap; the third waited for its own transaction
    assert len(await rows(ctx, Mention)) == 1320
