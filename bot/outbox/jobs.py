"""The outbox's vocabulary: job kinds, notice kinds, and the job keys and chat-message subjects built from them.

Keys and subjects are stored (`outbox_job.key`, `chat_message.subject`) and looked up again, by this release and by
jobs an earlier one queued: their spelling must never change (`tests/storage/test_outbox_jobs.py` pins it).
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

SUBJECT_LIMIT = 100  # ChatMessage.subject


class JobKind(StrEnum):
    """What a job does; stored as `<platform>.<kind>` for a chat platform, as `reply` for a reply."""

    CARD = "card"
    DRAFT = "draft"
    NOTICE = "notice"
    CRISIS = "crisis"
    CRISIS_NOTICE = "crisis_notice"
    REPLY = "reply"
    STORM = "storm"  # a storm group's card in the triage channel
    DIGEST = "digest"  # a minute's P3 mentions in one message, while the channel's backlog is long
    STORM_BATCH = "storm_batch"  # Answer all or Dismiss, carried out member by member (no platform)
    SPIKE = "spike"  # an alert in the triage channel: a topic's volume spikes
    DAILY = "daily"  # the leads' summary in the triage channel at the start of the working day
    REMINDERS = "reminders"  # a storm's SLA reminders of one minute, gathered in one message in the triage channel


class NoticeKind(StrEnum):
    """What a one-off message about a mention says (its payload's `kind`)."""

    ESCALATION = "escalation"  # in the card's thread: the departments' heads are asked to approve
    FAILED = "failed"  # in the triage channel: a job was given up on
    SLA = "sla"  # in the card's thread: an SLA reminder to the people it names


class CrisisNoticeKind(StrEnum):
    """What a one-off message in a crisis' room says (its payload's `kind`)."""

    REMINDER = "reminder"
    REPORT = "report"


class CrisisPart(StrEnum):
    """What a crisis has on a chat platform, each remembered under its own subject."""

    CHECKLIST = "checklist"
    BANNER = "banner"
    ROOM = "room"  # Slack: the room's intro message, in its own channel or in a triage-channel thread
    CHANNEL = "channel"  # Slack: the channel created for it


# Relays run due jobs lowest priority number first: what people just did (a click, a draft, a notice) before the
# cards of new mentions, and those by their mention's level, P1 first — in a storm the backlog waits, not the VIP.
PEOPLE_FIRST = 0
URGENT = 1  # this priority and below (people's actions, P1 cards) may take a relay's extra slots in a storm


def card_priority(level: str) -> int:
    """The job priority of a new mention's card: 1 for P1, 2 for P2, 3 for P3."""
    return int(level.removeprefix("P"))


def job_kind(platform: str | None, kind: JobKind) -> str:
    """The stored kind of a job: `slack.card`, `teams.crisis_notice`; `reply` has no platform."""
    return str(kind) if platform is None else f"{platform}.{kind}"


def read_kind(stored: str) -> tuple[str, JobKind | None]:
    """The platform (empty for a reply) and kind of a stored job kind; the kind is None when it is none of ours."""
    platform, _, what = stored.rpartition(".")
    try:
        return platform, JobKind(what)
    except ValueError:
        return platform, None


def job_key(platform: str | None, kind: JobKind, name: object) -> str:
    """A job's unique key: `slack:card:12`, `teams:crisis-notice:report:3:end`, `reply:5` (no platform)."""
    word = "crisis-notice" if kind is JobKind.CRISIS_NOTICE else str(kind)
    return f"{word}:{name}" if platform is None else f"{platform}:{word}:{name}"


def key_name(key: str) -> str:
    """What a chat job's key names after its platform and kind: `report:3:end` of `teams:crisis-notice:report:3:end`."""
    return key.split(":", 2)[2]


def failure_name(job_id: int | None, generation: int) -> str:
    """The name of the failure notice of a job's generation: `failed:<job id>:<generation>`."""
    return f"{NoticeKind.FAILED}:{job_id}:{generation}"


def card_subject(mention_id: int | None) -> str:
    """The subject of a mention's card (whose thread holds its drafts and notices)."""
    return f"card:{mention_id}"


def storm_subject(storm_id: int) -> str:
    """The subject of a storm group's card."""
    return f"storm:{storm_id}"


def daily_subject(day: str) -> str:
    """The subject of the leads' summary posted on the team's date `day` (`2026-12-08`)."""
    return f"daily:{day}"


def reminders_subject(minute: str) -> str:
    """The subject of the gathered SLA reminders of one minute (`2026-11-20T10:31`)."""
    return f"reminders:{minute}"


def digest_subject(minute: str) -> str:
    """The subject of the digest of one minute (`2026-11-20T10:31`)."""
    return f"digest:{minute}"


def draft_subject(draft_id: int) -> str:
    """The subject of a draft's message in its card's thread."""
    return f"draft:{draft_id}"


def notice_subject(key: str) -> str:
    """The subject of the message a notice job posts: `notice:escalate:12:3` for `slack:notice:escalate:12:3`."""
    return f"notice:{key_name(key)}"


def crisis_subject(crisis_id: int, part: CrisisPart) -> str:
    """The subject of a crisis' checklist, banner, room or channel: `crisis:3:checklist`."""
    return f"crisis:{crisis_id}:{part}"


def crisis_notice_subject(key: str, *, keep_start: bool = False) -> str:
    """The subject of the message a crisis notice job posts: `crisis-notice:<name>`, shortened when too long.

    Slack has always replaced a long subject by `crisis-notice:<sha256>`; Teams (`keep_start`) keeps its start and
    ends it with `~` and 24 digits of the digest. Both stay as they are, so stored rows are found again.
    """
    subject = f"crisis-notice:{key_name(key)}"
    if len(subject) <= SUBJECT_LIMIT:
        return subject
    if keep_start:
        digest = hashlib.sha256(subject.encode()).hexdigest()[:24]
        return f"{subject[:SUBJECT_LIMIT - len(digest) - 1]}~{digest}"
    return f"crisis-notice:{hashlib.sha256(subject.encode()).hexdigest()}"


def started_subject(subject: str) -> str:
    """The subject of the row noting that a post of `subject` started (Teams), shortened by a digest if too long."""
    started = f"sending:{subject}"
    if len(started) <= SUBJECT_LIMIT:
        return started
    return f"sending:{hashlib.sha256(subject.encode()).hexdigest()}"
