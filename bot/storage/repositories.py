"""Repositories the unit of work hands to handlers; the only place that writes SQL."""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.mentions import Actor, Transition
from bot.core.sla import RESOLVED_STATES, SlaEvent
from bot.storage.dialects import insert
from bot.storage.models import (
    Audit,
    ChatChannel,
    ChatMessage,
    Crisis,
    CrisisStep,
    Draft,
    GroupingKey,
    Mention,
    OutboxJob,
    SlaEventRow,
)

ERASED_TEXT = "(removed for privacy)"  # what a mention's and a draft's text become once erased


def _insert(session: AsyncSession, model: type) -> Any:
    return insert(session.bind.dialect.name, model)


@functools.cache
def outbox_sync_statement(dialect_name: str) -> Any:
    """Insert level-triggered jobs; one already there is bumped (a new generation, due now), not duplicated.

    Built once per dialect: the statement is constant, so SQLAlchemy compiles it once.
    """
    table = OutboxJob.__table__
    stmt = insert(dialect_name, OutboxJob)
    return stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={"generation": table.c.generation + 1, "done": False, "due_at": stmt.excluded.due_at, "done_at": None,
              "priority": stmt.excluded.priority,
              "attempts": sa.case((table.c.done, 0), else_=table.c.attempts), "failed_at": None,
              "failures": sa.case((sa.or_(table.c.done, table.c.failed_at.is_not(None)), 0),
                                  else_=table.c.failures)})


def _by_key(job: dict[str, Any]) -> str:
    return str(job["key"])


def fresh_job(now: datetime) -> dict[str, Any]:
    """The columns of a job that was never run; its `priority` (0, the first) may be overridden by the job's own."""
    return {"generation": 1, "priority": 0, "done": False, "due_at": now, "attempts": 0, "failures": 0,
            "created_at": now}


class _Repo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session


class Mentions(_Repo):
    """Mentions: de-duplicated insert, conditional transitions, queue queries."""

    async def get(self, mention_id: int) -> Mention | None:
        """The mention, fresh from the database."""
        return await self.session.get(Mention, mention_id, populate_existing=True)

    async def apply(self, mention: Mention, transition: Transition, actor: Actor, now: datetime) -> bool:
        """Apply a decided transition if nobody changed the mention meanwhile; audit it in the same transaction."""
        values: dict[str, Any] = {**transition.changes, "state": transition.to_state.value,
                                  "version": Mention.version + 1, "updated_at": now}
        result = await self.session.exec(
            sa.update(Mention).where(col(Mention.id) == mention.id, col(Mention.version) == mention.version)
            .values(**values).execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return False
        self.session.add(Audit(mention_id=mention.id, at=now, actor=actor.key, actor_name=actor.ref.name,
                               action=transition.action, from_state=mention.state,
                               to_state=transition.to_state.value, detail=transition.detail))
        if transition.to_state in RESOLVED_STATES:
            await self._clock_event(mention.id or 0, SlaEvent.RESOLVED, now)
        return True

    async def set_first_response(self, mention_id: int, at: datetime) -> None:
        """Record when the customer first got an answer (kept if already set), and stop its SLA clock."""
        await self.session.exec(
            sa.update(Mention).where(col(Mention.id) == mention_id, col(Mention.first_response_at).is_(None))
            .values(first_response_at=at).execution_options(synchronize_session=False))
        await self._clock_event(mention_id, SlaEvent.FIRST_RESPONSE, at)

    async def _clock_event(self, mention_id: int, event: SlaEvent, at: datetime) -> None:
        """Store the event of the mention's SLA clock once (the first time it happened stands)."""
        await self.session.exec(_insert(self.session, SlaEventRow).values(
            mention_id=mention_id, kind=event.value, draft_id=0, at=at).on_conflict_do_nothing())

    async def recent_ids(self, states: Sequence[str], limit: int) -> list[int]:
        """The ids of the newest mentions in these states (e.g. the open cards on the board)."""
        query = select(Mention.id).where(col(Mention.state).in_(states)).order_by(col(Mention.id).desc()).limit(limit)
        return [int(i) for i in (await self.session.exec(query)).all() if i is not None]

    async def claimed_by(self, actor_key: str, states: Sequence[str]) -> list[Mention]:
        """Open mentions held by this person, oldest first."""
        query = select(Mention).where(Mention.claimed_by == actor_key, col(Mention.state).in_(states))
        return list((await self.session.exec(query.order_by(Mention.published_at))).all())

    async def unclaimed_by_level(self, states: Sequence[str]) -> dict[str, tuple[int, datetime]]:
        """Per priority level: how many open mentions nobody holds, and when the oldest was published."""
        query = (sa.select(Mention.priority_level, sa.func.count(), sa.func.min(Mention.published_at))
                 .where(col(Mention.claimed_by).is_(None), col(Mention.state).in_(states))
                 .group_by(Mention.priority_level))
        return {level: (int(count), oldest) for level, count, oldest in (await self.session.exec(query)).all()}

    async def unclaimed_first(self, states: Sequence[str], limit: int) -> list[Mention]:
        """The open mentions nobody holds that come first: the highest priority score, then the oldest."""
        query = (select(Mention).where(col(Mention.claimed_by).is_(None), col(Mention.state).in_(states))
                 .order_by(col(Mention.priority).desc(), col(Mention.published_at), col(Mention.id)).limit(limit))
        return list((await self.session.exec(query)).all())

    async def undelivered(self, states: Sequence[str], limit: int) -> list[Mention]:
        """Mentions in these states whose latest reply could not be delivered, oldest first."""
        newer = aliased(Draft)
        latest = ~sa.exists().where(col(newer.mention_id) == col(Draft.mention_id), col(newer.id) > col(Draft.id))
        query = (select(Mention).join(Draft, col(Draft.mention_id) == col(Mention.id))
                 .where(col(Mention.state).in_(states), Draft.state == "failed", latest)
                 .order_by(col(Mention.published_at), col(Mention.id)).limit(limit))
        return list((await self.session.exec(query)).all())

    async def since(self, start: datetime) -> list[tuple[datetime, datetime | None, str]]:
        """(arrival, first response, state) of every mention that arrived since `start`."""
        query = select(Mention.received_at, Mention.first_response_at, Mention.state).where(
            Mention.received_at >= start)
        return list((await self.session.exec(query)).all())

    async def by_author(self, network: str, handle: str) -> list[int]:
        """Ids of the mentions this author wrote on this network (handles compared without `@` and case)."""
        stored = sa.func.lower(sa.func.ltrim(col(Mention.author_handle), "@"))
        query = select(Mention.id).where(Mention.network == network, stored == handle.strip().lstrip("@").lower())
        return [int(i) for i in (await self.session.exec(query.order_by(col(Mention.id)))).all() if i is not None]

    async def expired(self, received_before: datetime, limit: int) -> list[int]:
        """Ids of mentions received before a moment whose personal data has not been erased yet."""
        query = (select(Mention.id).where(Mention.received_at < received_before, Mention.text != ERASED_TEXT)
                 .order_by(col(Mention.id)).limit(limit))
        return [int(i) for i in (await self.session.exec(query)).all() if i is not None]

    async def erase_personal_data(self, mention_ids: Sequence[int], now: datetime) -> list[int]:
        """Remove the texts, author and profile data of these mentions and of their reply drafts.

        What stays is anonymous: network, kind, language, times, states and who on the team acted. Returns the
        ids of the drafts whose text was removed.
        """
        if not mention_ids:
            return []
        await self.session.exec(
            sa.update(Mention).where(col(Mention.id).in_(mention_ids))
            .values(text=ERASED_TEXT, url=None, author_id=None, author_handle=None, author_name=None,
                    author_url=None, author_followers=None, author_verified=False, raw={}, signature=None,
                    version=Mention.version + 1, updated_at=now)
            .execution_options(synchronize_session=False))
        # Grouping keys are drawn from the text: they go with it.
        await self.session.exec(sa.delete(GroupingKey).where(col(GroupingKey.mention_id).in_(mention_ids))
                                .execution_options(synchronize_session=False))
        drafts = (await self.session.exec(select(Draft.id).where(col(Draft.mention_id).in_(mention_ids)))).all()
        await self.session.exec(
            sa.update(Draft).where(col(Draft.mention_id).in_(mention_ids)).values(text=ERASED_TEXT, note=None)
            .execution_options(synchronize_session=False))
        # An approver's "request changes" note is free text about the customer's post, kept on the draft and here.
        await self.session.exec(
            sa.update(Audit).where(col(Audit.mention_id).in_(mention_ids), Audit.action == "request_changes")
            .values(detail=None).execution_options(synchronize_session=False))
        return [int(d) for d in drafts if d is not None]

    async def clear_raw(self, received_before: datetime, limit: int) -> int:
        """Remove the raw source payload of up to `limit` mentions received before a moment; returns how many."""
        stale = (select(Mention.id).where(Mention.received_at < received_before,
                                          sa.cast(Mention.raw, sa.Text) != "{}").limit(limit))
        result = await self.session.exec(
            sa.update(Mention).where(col(Mention.id).in_(stale.scalar_subquery())).values(raw={})
            .execution_options(synchronize_session=False))
        return int(result.rowcount)

    async def in_digest(self, minute: datetime, limit: int) -> tuple[int, list[Mention]]:
        """How many mentions the digest of this minute lists, and the first `limit` (highest score, then oldest)."""
        total = (await self.session.exec(sa.select(sa.func.count()).where(Mention.digest_at == minute))).one()[0]
        query = (select(Mention).where(Mention.digest_at == minute)
                 .order_by(col(Mention.priority).desc(), col(Mention.id)).limit(limit))
        return int(total), list((await self.session.exec(query)).all())

    async def chat_messages(self, mention_ids: Sequence[int]) -> list[tuple[str, str, int]]:
        """(platform, subject, mention id) of every message the bot posted about these mentions (cards, drafts …)."""
        if not mention_ids:
            return []
        query = select(ChatMessage.platform, ChatMessage.subject, ChatMessage.mention_id).where(
            col(ChatMessage.mention_id).in_(mention_ids))
        return [(str(p), str(s), int(m)) for p, s, m in (await self.session.exec(query)).all() if m is not None]


class Drafts(_Repo):
    """Reply drafts."""

    async def add(self, draft: Draft) -> Draft:
        """Store a new draft and learn its id."""
        self.session.add(draft)
        await self.session.flush()
        return draft

    async def get(self, draft_id: int) -> Draft | None:
        """The draft, fresh from the database."""
        return await self.session.get(Draft, draft_id, populate_existing=True)

    async def latest_for(self, mention_id: int) -> Draft | None:
        """The newest draft of a mention."""
        query = select(Draft).where(Draft.mention_id == mention_id).order_by(col(Draft.id).desc()).limit(1)
        return (await self.session.exec(query)).first()

    async def move(self, draft: Draft, from_states: Sequence[str], **values: Any) -> bool:
        """Change a draft only if it is still in one of `from_states`."""
        result = await self.session.exec(
            sa.update(Draft).where(col(Draft.id) == draft.id, col(Draft.state).in_(from_states))
            .values(**values).execution_options(synchronize_session=False))
        return result.rowcount == 1


class Audits(_Repo):
    """The audit trail."""

    async def add(self, mention_id: int | None, actor: Actor, action: str, at: datetime,
                  detail: str | None = None, state: str | None = None, crisis_id: int | None = None) -> None:
        """Record something that happened without a state change of the mention (or that concerns a crisis)."""
        self.session.add(Audit(mention_id=mention_id, crisis_id=crisis_id, at=at, actor=actor.key,
                               actor_name=actor.ref.name, action=action, from_state=state, to_state=state,
                               detail=detail))

    async def add_each(self, mention_ids: Sequence[int], actor: Actor, action: str, at: datetime,
                       detail: str | None = None) -> None:
        """One audit row per mention, all alike (e.g. a privacy erasure that touched many)."""
        for mention_id in mention_ids:
            self.session.add(Audit(mention_id=mention_id, at=at, actor=actor.key, actor_name=actor.ref.name,
                                   action=action, detail=detail))

    async def for_crisis(self, crisis_id: int) -> list[Audit]:
        """Every audit row about a crisis, oldest first."""
        query = select(Audit).where(Audit.crisis_id == crisis_id).order_by(col(Audit.id))
        return list((await self.session.exec(query)).all())

    async def for_mention(self, mention_id: int) -> list[Audit]:
        """Every audit row of a mention, oldest first."""
        query = select(Audit).where(Audit.mention_id == mention_id).order_by(col(Audit.id))
        return list((await self.session.exec(query)).all())


class Outbox(_Repo):
    """Durable outbound work, leased by relays so two processes never run the same job at once."""

    async def sync(self, key: str, kind: str, mention_id: int | None, payload: dict[str, Any], now: datetime) -> None:
        """Ask for a level-triggered job (render the current state): a pending one is bumped, not duplicated."""
        await self.sync_many([{"key": key, "kind": kind, "mention_id": mention_id, "payload": payload}], now)

    async def sync_many(self, jobs: list[dict[str, Any]], now: datetime) -> None:
        """`sync` for many jobs (`key`, `kind`, `mention_id`, `payload` each) in one statement.

        In key order, as every writer of jobs does: two transactions bumping the same jobs then lock them in the
        same order and wait for each other instead of deadlocking (PostgreSQL).
        """
        if not jobs:
            return
        stmt = outbox_sync_statement(self.session.bind.dialect.name)
        await self.session.exec(stmt, params=[{**fresh_job(now), **job} for job in sorted(jobs, key=_by_key)])

    async def once(self, key: str, kind: str, mention_id: int | None, payload: dict[str, Any], now: datetime) -> bool:
        """Ask for an edge-triggered job that runs exactly once per key; False when it was asked for before."""
        stmt = _insert(self.session, OutboxJob).values(key=key, kind=kind, mention_id=mention_id, payload=payload,
                                                       **fresh_job(now)).on_conflict_do_nothing(index_elements=["key"])
        return (await self.session.exec(stmt)).rowcount == 1

    async def lease_due(self, now: datetime, owner: str, limit: int,
                        up_to_priority: int | None = None) -> list[OutboxJob]:
        """Take up to `limit` due jobs for the relay `owner`, the most urgent first (only those of priority
        `up_to_priority` or more urgent, if given); a job another relay holds is skipped."""
        waiting = (col(OutboxJob.done).is_(False), col(OutboxJob.failed_at).is_(None))
        free = col(OutboxJob.lease_owner).is_(None)
        if up_to_priority is not None:
            waiting = (*waiting, col(OutboxJob.priority) <= up_to_priority)
        # The rows are locked as they are read, skipping any a writer holds: a relay never waits on (nor deadlocks
        # with) a transaction bumping jobs; it leases those at its next round.
        query = (select(OutboxJob).where(*waiting, OutboxJob.due_at <= now, free)
                 .order_by(col(OutboxJob.priority), col(OutboxJob.due_at), col(OutboxJob.id)).limit(limit)
                 .with_for_update(skip_locked=True))
        leased = []
        for job in (await self.session.exec(query)).all():
            result = await self.session.exec(
                sa.update(OutboxJob).where(col(OutboxJob.id) == job.id, free)
                .values(lease_owner=owner, attempts=OutboxJob.attempts + 1)
                .execution_options(synchronize_session=False))
            if result.rowcount == 1:
                job.attempts += 1
                job.lease_owner = owner
                leased.append(job)
        return leased

    async def holders(self) -> set[str]:
        """The relays that hold jobs right now."""
        query = sa.select(OutboxJob.lease_owner).where(col(OutboxJob.lease_owner).is_not(None)).distinct()
        return {str(owner) for owner in (await self.session.exec(query)).scalars()}

    async def free_jobs_of(self, owners: Collection[str], *, keep: Collection[int] = ()) -> int:
        """Hand back the jobs these relays hold (except the ids in `keep`); returns how many."""
        if not owners:
            return 0
        stmt = sa.update(OutboxJob).where(col(OutboxJob.lease_owner).in_(owners))
        if keep:
            stmt = stmt.where(col(OutboxJob.id).not_in(keep))
        result = await self.session.exec(stmt.values(lease_owner=None).execution_options(synchronize_session=False))
        return int(result.rowcount)

    async def owner_lock_free(self, key: int) -> bool:
        """PostgreSQL: nobody holds the advisory lock `key` (taken until this transaction ends, then let go)."""
        return bool((await self.session.exec(sa.select(sa.func.pg_try_advisory_xact_lock(key)))).scalar())

    async def complete(self, job: OutboxJob, now: datetime) -> None:
        """Mark done unless the job was bumped while it ran, in which case it runs again."""
        result = await self.session.exec(
            sa.update(OutboxJob).where(col(OutboxJob.id) == job.id, col(OutboxJob.generation) == job.generation)
            .values(done=True, done_at=now, lease_owner=None, last_error=None, failures=0)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            await self.session.exec(sa.update(OutboxJob).where(col(OutboxJob.id) == job.id)
                                    .values(lease_owner=None, attempts=0)
                                    .execution_options(synchronize_session=False))

    async def reschedule(self, job: OutboxJob, due_at: datetime, error: str | None, *,
                         count_attempt: bool = True, failure: bool = False) -> None:
        """Release the job to run again at `due_at`; `failure` counts one more unexpected error in a row."""
        values: dict[str, Any] = {"lease_owner": None, "due_at": due_at, "last_error": error}
        if not count_attempt:
            values["attempts"] = OutboxJob.attempts - 1
        if failure:
            values["failures"] = OutboxJob.failures + 1
        await self.session.exec(sa.update(OutboxJob).where(col(OutboxJob.id) == job.id).values(**values)
                                   .execution_options(synchronize_session=False))

    async def fail(self, job: OutboxJob, now: datetime, reason: str) -> bool:
        """Give the job up (not done, not due) with its reason; False when it was bumped meanwhile and runs again."""
        result = await self.session.exec(
            sa.update(OutboxJob).where(col(OutboxJob.id) == job.id, col(OutboxJob.generation) == job.generation)
            .values(failed_at=now, lease_owner=None, last_error=reason, failures=OutboxJob.failures + 1)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            return True
        await self.reschedule(job, now, reason)
        return False

    async def depth(self) -> int:
        """How many jobs wait to be done (failed ones wait for nobody)."""
        query = sa.select(sa.func.count()).select_from(OutboxJob).where(
            col(OutboxJob.done).is_(False), col(OutboxJob.failed_at).is_(None))
        return int((await self.session.exec(query)).scalar_one())

    async def failed_by_kind(self) -> dict[str, int]:
        """How many jobs of each kind were given up on."""
        query = (sa.select(OutboxJob.kind, sa.func.count()).select_from(OutboxJob)
                 .where(col(OutboxJob.done).is_(False), col(OutboxJob.failed_at).is_not(None))
                 .group_by(OutboxJob.kind))
        return {str(kind): int(count) for kind, count in (await self.session.exec(query)).all()}


class Crises(_Repo):
    """Crises, their completed and skipped steps, and the mentions linked to them."""

    async def add(self, crisis: Crisis) -> Crisis:
        """Store a new crisis and learn its id."""
        self.session.add(crisis)
        await self.session.flush()
        return crisis

    async def get(self, crisis_id: int, *, lock: bool = False) -> Crisis | None:
        """The crisis, fresh from the database; with `lock`, other locking transactions wait for this one."""
        return await self.session.get(Crisis, crisis_id, populate_existing=True, with_for_update=lock)

    async def running(self) -> list[Crisis]:
        """Every crisis (and drill) that has not ended, oldest first."""
        query = select(Crisis).where(col(Crisis.ended_at).is_(None)).order_by(col(Crisis.id))
        return list((await self.session.exec(query)).all())

    async def latest(self) -> Crisis | None:
        """The crisis started last."""
        return (await self.session.exec(select(Crisis).order_by(col(Crisis.id).desc()).limit(1))).first()

    async def steps(self, crisis_id: int) -> list[CrisisStep]:
        """The completed and skipped steps of a crisis, in the order they happened."""
        query = select(CrisisStep).where(CrisisStep.crisis_id == crisis_id).order_by(col(CrisisStep.id))
        return list((await self.session.exec(query)).all())

    async def record_step(self, step: CrisisStep) -> bool:
        """Record a completed or skipped step unless someone recorded that step first."""
        stmt = _insert(self.session, CrisisStep).values(
            crisis_id=step.crisis_id, step_id=step.step_id, outcome=step.outcome, by=step.by, by_name=step.by_name,
            at=step.at, note=step.note).on_conflict_do_nothing(index_elements=["crisis_id", "step_id"])
        return (await self.session.exec(stmt)).rowcount == 1

    async def reported_with(self, mention_ids: Sequence[int]) -> list[Crisis]:
        """The crises with a stored report that lists any of these mentions (linked to them)."""
        linked = select(Mention.crisis_id).where(col(Mention.id).in_(mention_ids))
        query = select(Crisis).where(col(Crisis.id).in_(linked), col(Crisis.report).is_not(None))
        return list((await self.session.exec(query.order_by(col(Crisis.id)))).all())

    async def end(self, crisis_id: int, *, at: datetime, by: str, by_name: str, forced_reason: str | None) -> bool:
        """End a running crisis; False when it had already ended."""
        result = await self.session.exec(
            sa.update(Crisis).where(col(Crisis.id) == crisis_id, col(Crisis.ended_at).is_(None))
            .values(ended_at=at, ended_by=by, ended_by_name=by_name, forced_reason=forced_reason)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1

    async def store_report(self, crisis_id: int, report: str) -> None:
        """Keep the latest report of a crisis."""
        await self.session.exec(sa.update(Crisis).where(col(Crisis.id) == crisis_id).values(report=report)
                                .execution_options(synchronize_session=False))

    async def link(self, mention_id: int, crisis_id: int | None, at: datetime | None) -> bool:
        """Link a mention to a crisis (None unlinks); False when it already was (or was not) linked."""
        linked = col(Mention.crisis_id).is_(None) if crisis_id is not None else col(Mention.crisis_id).is_not(None)
        result = await self.session.exec(
            sa.update(Mention).where(col(Mention.id) == mention_id, linked)
            .values(crisis_id=crisis_id, crisis_linked_at=at, version=Mention.version + 1)
            .execution_options(synchronize_session=False))
        return result.rowcount == 1

    async def linked(self, crisis_id: int) -> list[Mention]:
        """The mentions linked to a crisis, in the order they were linked."""
        query = select(Mention).where(Mention.crisis_id == crisis_id).order_by(col(Mention.crisis_linked_at),
                                                                                col(Mention.id))
        return list((await self.session.exec(query)).all())

    async def sent_replies(self, crisis_id: int) -> list[Draft]:
        """The replies sent (or answered by hand) to mentions linked to a crisis, in the order they went out."""
        query = (select(Draft).join(Mention, col(Draft.mention_id) == col(Mention.id))
                 .where(Mention.crisis_id == crisis_id, col(Draft.sent_at).is_not(None))
                 .order_by(col(Draft.sent_at)))
        return list((await self.session.exec(query)).all())

    async def place_of(self, platform: str, channel: str) -> int | None:
        """The crisis whose room or thread is this channel (or Teams conversation), if any."""
        query = (select(ChatMessage.crisis_id).where(ChatMessage.platform == platform, ChatMessage.channel == channel,
                                                      col(ChatMessage.crisis_id).is_not(None))
                 .order_by(col(ChatMessage.id).desc()).limit(1))
        return (await self.session.exec(query)).first()


class ChatMessages(_Repo):
    """Where the bot's cards, drafts and notices live on each chat platform."""

    async def get(self, platform: str, workspace: str, subject: str) -> ChatMessage | None:
        """The posted message for this subject, if any."""
        query = select(ChatMessage).where(ChatMessage.platform == platform, ChatMessage.workspace == workspace,
                                          ChatMessage.subject == subject)
        return (await self.session.exec(query)).first()

    async def find(self, platform: str, channel: str, ts: str) -> ChatMessage | None:
        """The message at this channel and timestamp (e.g. the card a thread reply belongs to)."""
        query = select(ChatMessage).where(ChatMessage.platform == platform, ChatMessage.channel == channel,
                                          ChatMessage.ts == ts)
        return (await self.session.exec(query)).first()

    async def add(self, message: ChatMessage) -> None:
        """Remember a posted message."""
        self.session.add(message)
        await self.session.flush()


class ChatChannels(_Repo):
    """Channels the bot learned when it was installed somewhere."""

    async def learn(self, platform: str, workspace: str, channel: str, name: str | None, service_url: str,
                    reference: dict[str, Any], now: datetime) -> None:
        """Remember (or refresh) where the bot was installed."""
        values = {"platform": platform, "workspace": workspace, "channel": channel, "name": name,
                  "service_url": service_url, "reference": reference, "learned_at": now}
        stmt = _insert(self.session, ChatChannel).values(**values).on_conflict_do_update(
            index_elements=["platform", "workspace", "channel"],
            set_={"name": name, "service_url": service_url, "reference": reference, "learned_at": now})
        await self.session.exec(stmt)

    async def latest(self, platform: str) -> ChatChannel | None:
        """The channel learned most recently on this platform."""
        query = (select(ChatChannel).where(ChatChannel.platform == platform)
                 .order_by(col(ChatChannel.learned_at).desc(), col(ChatChannel.id).desc()).limit(1))
        return (await self.session.exec(query)).first()
