"""Database tables: mentions, drafts, audit trail, chat messages, outbound work, ingest receipts, crises."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, Field, SQLModel


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC without a zone (the same on SQLite and PostgreSQL) and hands back aware datetimes."""

    impl = sa.DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _crisis_index(table: str) -> sa.Index:
    """`crisis_id` looked up, over only the rows that have one (most never do; ingest pays for no NULL entries)."""
    linked = sa.text("crisis_id IS NOT NULL")
    return sa.Index(f"ix_{table}_crisis_id", "crisis_id", sqlite_where=linked, postgresql_where=linked)


def _time(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


class Mention(SQLModel, table=True):
    """One post about the brand, de-duplicated across listening tools."""

    __table_args__ = (
        sa.UniqueConstraint("source", "source_mention_id", name="uq_mention_source"),
        sa.UniqueConstraint("network", "network_item_id", name="uq_mention_network_item"),
        sa.Index("ix_mention_state_published", "state", "published_at"),
        _crisis_index("mention"),
        sa.Index("ix_mention_storm", "storm_id", sqlite_where=sa.text("storm_id IS NOT NULL"),
                 postgresql_where=sa.text("storm_id IS NOT NULL")),
        sa.Index("ix_mention_digest", "digest_at", sqlite_where=sa.text("digest_at IS NOT NULL"),
                 postgresql_where=sa.text("digest_at IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=100)
    source_mention_id: str = Field(max_length=500)
    network: str = Field(max_length=50)
    network_item_id: str | None = Field(default=None, max_length=500)
    url: str | None = Field(default=None, max_length=2000)
    kind: str | None = Field(default=None, max_length=50)
    in_reply_to_id: str | None = Field(default=None, max_length=500)
    author_id: str | None = Field(default=None, max_length=500)
    author_handle: str | None = Field(default=None, max_length=500)
    author_name: str | None = Field(default=None, max_length=500)
    author_url: str | None = Field(default=None, max_length=2000)
    author_followers: int | None = None
    author_verified: bool = False
    text: str = Field(sa_column=Column(sa.Text, nullable=False))
    lang: str | None = Field(default=None, max_length=20)
    published_at: datetime = _time(nullable=False)
    reply_via: str | None = Field(default=None, max_length=50)
    raw: dict[str, Any] = Field(default_factory=dict, sa_column=Column(sa.JSON, nullable=False))
    state: str = Field(default="new", max_length=30)
    version: int = 0
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_by_name: str | None = Field(default=None, max_length=200)
    escalated_to: list[str] = Field(default_factory=list, sa_column=Column(sa.JSON, nullable=False))
    dismissed_reason: str | None = Field(default=None, max_length=50)
    first_response_at: datetime | None = _time(nullable=True)
    received_at: datetime = _time(nullable=False)
    updated_at: datetime = _time(nullable=False)
    crisis_id: int | None = None
    crisis_linked_at: datetime | None = _time(nullable=True)
    priority: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # the score, 0–100
    priority_level: str = Field(default="P3", max_length=2, sa_column_kwargs={"server_default": "P3"})
    priority_reasons: list[str] = Field(default_factory=list, sa_column=Column(sa.JSON, nullable=False,
                                                                              server_default="[]"))
    storm_id: int | None = None  # the storm group it belongs to (see Storm)
    signature: bytes | None = Field(default=None, sa_column=Column(sa.LargeBinary, nullable=True))  # its MinHash
    digest_at: datetime | None = _time(nullable=True)  # the minute of the digest that lists it instead of a card


class Draft(SQLModel, table=True):
    """A reply written by an agent: waiting for approval, being delivered, sent or failed."""

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mention.id", index=True)
    author: str = Field(max_length=200)
    author_name: str = Field(max_length=200)
    text: str = Field(sa_column=Column(sa.Text, nullable=False))
    state: str = Field(max_length=30)
    approvers: list[str] = Field(default_factory=list, sa_column=Column(sa.JSON, nullable=False))
    decided_by: str | None = Field(default=None, max_length=200)
    decided_by_name: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    remote_id: str | None = Field(default=None, max_length=500)
    remote_url: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _time(nullable=False)
    sent_at: datetime | None = _time(nullable=True)
    crisis_id: int | None = None  # set when a crisis' lead role approves this draft instead of department heads


class Audit(SQLModel, table=True):
    """Who did what to which mention (or crisis), from which state to which, when."""

    __table_args__ = (_crisis_index("audit"),)

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int | None = Field(default=None, foreign_key="mention.id", index=True)
    crisis_id: int | None = None
    at: datetime = _time(nullable=False)
    actor: str = Field(max_length=200)
    actor_name: str = Field(max_length=200)
    action: str = Field(max_length=50)
    from_state: str | None = Field(default=None, max_length=30)
    to_state: str | None = Field(default=None, max_length=30)
    detail: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))


class ChatMessage(SQLModel, table=True):
    """A message the bot posted (a card, a draft, a notice), keyed by platform and workspace."""

    __table_args__ = (sa.UniqueConstraint("platform", "workspace", "subject", name="uq_chat_message_subject"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    workspace: str = Field(max_length=200)
    subject: str = Field(max_length=100)
    mention_id: int | None = Field(default=None, foreign_key="mention.id", index=True)
    crisis_id: int | None = Field(default=None, index=True)
    channel: str = Field(max_length=200)
    ts: str = Field(max_length=200)
    thread_ts: str | None = Field(default=None, max_length=200)
    posted_at: datetime = _time(nullable=False)


class OutboxJob(SQLModel, table=True):
    """Durable outbound work: level-triggered syncs (generation counts changes) and one-off sends.

    A job is held by the relay named in `lease_owner` for as long as that relay lives (see bot/storage/presence.py);
    `failed_at` marks one given up on (not done, not due) until a new generation asks for it again.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index("ix_outbox_next", "done", "priority", "due_at"),  # relays lease the most urgent due job first
        # Only the few jobs running right now have an owner: ingest writes no entry here.
        sa.Index("ix_outbox_lease_owner", "lease_owner", sqlite_where=sa.text("lease_owner IS NOT NULL"),
                 postgresql_where=sa.text("lease_owner IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=50)
    mention_id: int | None = None  # not indexed: no query looks jobs up by mention, and every ingest paid for it
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(sa.JSON, nullable=False))
    generation: int = 1
    priority: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # 0 first: see bot/outbox/jobs.py
    done: bool = False
    due_at: datetime = _time(nullable=False)
    attempts: int = 0
    failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # unexpected errors in a row
    lease_owner: str | None = Field(default=None, max_length=32)
    failed_at: datetime | None = _time(nullable=True)
    last_error: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    created_at: datetime = _time(nullable=False)
    done_at: datetime | None = _time(nullable=True)


class IngestReceipt(SQLModel, table=True):
    """A `webhook-id` already processed, with the answer given, so a re-delivery has no second effect."""

    webhook_id: str = Field(primary_key=True, max_length=200)
    received_at: datetime = _time(nullable=False)
    response: dict[str, Any] = Field(default_factory=dict, sa_column=Column(sa.JSON, nullable=False))


class ChatChannel(SQLModel, table=True):
    """A channel the bot learned (e.g. Teams: where it was installed), with what it needs to post there."""

    __tablename__ = "chat_channel"
    __table_args__ = (sa.UniqueConstraint("platform", "workspace", "channel", name="uq_chat_channel"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    workspace: str = Field(max_length=200)
    channel: str = Field(max_length=300)
    name: str | None = Field(default=None, max_length=300)
    service_url: str = Field(max_length=2000)
    reference: dict[str, Any] = Field(default_factory=dict, sa_column=Column(sa.JSON, nullable=False))
    learned_at: datetime = _time(nullable=False)


class Crisis(SQLModel, table=True):
    """A crisis (or drill) run on a playbook whose text and version were frozen when it started."""

    id: int | None = Field(default=None, primary_key=True)
    playbook: str = Field(max_length=200)
    title: str = Field(max_length=500)
    version: str = Field(max_length=100)
    playbook_path: str = Field(max_length=2000)
    playbook_text: str = Field(sa_column=Column(sa.Text, nullable=False))
    drill: bool = False
    note: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    started_at: datetime = _time(nullable=False)
    started_by: str = Field(max_length=200)
    started_by_name: str = Field(max_length=200)
    ended_at: datetime | None = _time(nullable=True)
    ended_by: str | None = Field(default=None, max_length=200)
    ended_by_name: str | None = Field(default=None, max_length=200)
    forced_reason: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))
    report: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))


class CrisisStep(SQLModel, table=True):
    """A step of a crisis that was completed or skipped; one row per step, so two clicks cannot both win."""

    __tablename__ = "crisis_step"
    __table_args__ = (sa.UniqueConstraint("crisis_id", "step_id", name="uq_crisis_step"),)

    id: int | None = Field(default=None, primary_key=True)
    crisis_id: int = Field(foreign_key="crisis.id", index=True)
    step_id: str = Field(max_length=200)
    outcome: str = Field(max_length=20)
    by: str = Field(max_length=200)
    by_name: str = Field(max_length=200)
    at: datetime = _time(nullable=False)
    note: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))


class ChatPace(SQLModel, table=True):
    """The next free posting slot of a channel, shared by every process on this database (unix seconds)."""

    __tablename__ = "chat_pace"

    key: str = Field(primary_key=True, max_length=300)  # "<platform>:<channel>"
    next_at: float


class Storm(SQLModel, table=True):
    """Mentions about one thing (the same post, near-identical texts), shown together on one storm card."""

    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(default="open", max_length=30)  # open, claimed, answered, dismissed
    created_at: datetime = _time(nullable=False)
    last_member_at: datetime = _time(nullable=False)  # members join while this is within the group window
    members: int = 0
    claimed_by: str | None = Field(default=None, max_length=200)
    claimed_by_name: str | None = Field(default=None, max_length=200)
    answer: str | None = Field(default=None, sa_column=Column(sa.Text, nullable=True))  # the text of Answer all
    shown_at: datetime | None = _time(nullable=True)  # when its card was last drawn: updates wait 30 s after it
    version: int = 0


class GroupingKey(SQLModel, table=True):
    """A key a mention is grouped by (the post it points to, a band of its text's MinHash), for recent lookups."""

    __tablename__ = "grouping_key"
    # The primary key is the lookup's order (a key's latest first), kept in that order on SQLite (migration 0011).
    __table_args__ = (sa.Index("ix_grouping_key_old", "at"), {"sqlite_with_rowid": False})

    key: str = Field(primary_key=True, max_length=120)
    at: datetime = _time(primary_key=True)
    mention_id: int = Field(primary_key=True)


class SpikeAlert(SQLModel, table=True):
    """An alert sent because a topic's volume spiked, and what people answered on it."""

    __tablename__ = "spike_alert"

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=200)  # playbook:<key>, storm:<id> or all
    alerted_at: datetime = _time(nullable=False)
    count: int  # mentions in the window when alerted; the next alert of the topic needs twice as many
    usual: float
    window_minutes: float
    samples: list[int] = Field(default_factory=list, sa_column=Column(sa.JSON, nullable=False))
    playbook: str | None = Field(default=None, max_length=200)  # the best-matching playbook's key
    ended_at: datetime | None = _time(nullable=True)  # the spike was over: the alert no longer holds
    decision: str | None = Field(default=None, max_length=20)  # crisis, not_now
    decided_by: str | None = Field(default=None, max_length=200)
    decided_by_name: str | None = Field(default=None, max_length=200)
    decided_at: datetime | None = _time(nullable=True)
    crisis_id: int | None = None


# Spike checks count mentions by when they arrived, over a few short windows.
sa.Index("ix_mention_received_at", Mention.__table__.c.received_at)  # type: ignore[attr-defined]


class SlaEventRow(SQLModel, table=True):
    """Something that happened to a mention's SLA clock (`bot.core.sla.SlaEvent`), stored once: a reminder sent,
    the first response, the resolution; `draft_id` is the draft an approval reminder was about, else 0."""

    __tablename__ = "sla_event"

    mention_id: int = Field(primary_key=True)
    kind: str = Field(primary_key=True, max_length=30)
    draft_id: int = Field(default=0, primary_key=True)
    at: datetime = _time(nullable=False)
