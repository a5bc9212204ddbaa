"""Turn "something changed" into durable outbound jobs for every enabled chat platform."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.catalogue import DEFAULT_LANG, words
from bot.core.wording import failure_notice
from bot.outbox.jobs import (
    PEOPLE_FIRST,
    JobKind,
    NoticeKind,
    card_priority,
    failure_name,
    job_key,
    job_kind,
    read_kind,
)
from bot.storage.models import OutboxJob
from bot.storage.repositories import Outbox

PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams"}
# Seconds a new message takes per channel at each platform's sustained pace: Slack about one a second; Teams
# 1,800 an hour per conversation. A backlog of cards longer than `digest_after_seconds` sends P3 to the digest.
POST_SECONDS = {"slack": 1.0, "teams": 2.0}
DIGEST_PRIORITY = 2  # ahead of the P3 cards it stands in for
STORM_PRIORITY = 2  # a storm card: after the P1 cards (which P1 members keep), ahead of the P3 backlog
CLOCK_PRIORITY = 2  # a card redrawn as its SLA clock reaches warn or breach: ahead of the P3 backlog
SPIKE_PRIORITY = 2  # a new spike alert: after the P1 cards (someone waits on each), ahead of the P3 backlog


@dataclass(frozen=True, slots=True)
class Fanout:
    """Enqueues chat work per enabled platform; handlers call it without knowing the platforms."""

    platforms: tuple[str, ...] = ()

    async def card_changed(self, outbox: Outbox, mention_id: int, now: datetime) -> None:
        """Every card of this mention must show its current state."""
        await self.cards_changed(outbox, [mention_id], now)

    def card_jobs(self, mention_ids: list[int], levels: Mapping[int, str] | None = None) -> list[dict[str, Any]]:
        """The card jobs (one per platform) of these mentions, for `Outbox.sync_many`.

        New mentions' cards go out by their `levels` (P1 first); a card people changed goes out before any.
        """
        return [{"key": job_key(platform, JobKind.CARD, mention_id), "kind": job_kind(platform, JobKind.CARD),
                 "mention_id": mention_id, "payload": {},
                 "priority": card_priority(levels[mention_id]) if levels else PEOPLE_FIRST}
                for mention_id in mention_ids for platform in self.platforms]

    async def cards_changed(self, outbox: Outbox, mention_ids: list[int], now: datetime) -> None:
        """`card_changed` for many mentions at once."""
        await outbox.sync_many(self.card_jobs(mention_ids), now)

    async def draft_changed(self, outbox: Outbox, mention_id: int, draft_id: int, now: datetime) -> None:
        """The draft's thread message must show its current state."""
        for platform in self.platforms:
            await outbox.sync(job_key(platform, JobKind.DRAFT, draft_id), job_kind(platform, JobKind.DRAFT),
                              mention_id, {"draft_id": draft_id}, now)

    async def notice(self, outbox: Outbox, mention_id: int, key: str, payload: dict[str, Any], now: datetime) -> None:
        """Post a one-off message in the mention's thread (exactly once per key)."""
        for platform in self.platforms:
            await outbox.once(job_key(platform, JobKind.NOTICE, key), job_kind(platform, JobKind.NOTICE), mention_id,
                              payload, now)

    async def clocks_changed(self, outbox: Outbox, mention_ids: list[int], now: datetime) -> None:
        """These cards' SLA clocks reached their warn or breach moment: draw them again, after the P1 cards."""
        await outbox.sync_many([{**job, "priority": CLOCK_PRIORITY} for job in self.card_jobs(mention_ids)], now)

    async def gathered_reminders(self, outbox: Outbox, minute: str, items: list[dict[str, Any]],
                                 now: datetime) -> bool:
        """Post these SLA reminders as one message in each triage channel, once per `minute`; False when this
        minute's message was asked for already."""
        queued = False
        for platform in self.platforms:
            queued |= await outbox.once(job_key(platform, JobKind.REMINDERS, minute),
                                        job_kind(platform, JobKind.REMINDERS), None,
                                        {"minute": minute, "items": items}, now)
        return queued

    def storm_jobs(self, storm_ids: list[int]) -> list[dict[str, Any]]:
        """The storm card jobs (one per platform) of these storms, for `Outbox.sync_many`: after P1 cards, ahead of
        the P2 and P3 backlog."""
        return [{"key": job_key(platform, JobKind.STORM, storm_id), "kind": job_kind(platform, JobKind.STORM),
                 "mention_id": None, "payload": {"storm_id": storm_id}, "priority": STORM_PRIORITY}
                for storm_id in storm_ids for platform in self.platforms]

    def card_paces(self) -> dict[str, float]:
        """Each platform's card job kind, and the seconds one more card waits behind each card before it."""
        return {job_kind(platform, JobKind.CARD): POST_SECONDS.get(platform, 1.0) for platform in self.platforms}

    def digest_jobs(self, minute: str) -> list[dict[str, Any]]:
        """The digest jobs (one per platform) of the minute (`2026-11-20T10:31`), for `Outbox.sync_many`."""
        return [{"key": job_key(platform, JobKind.DIGEST, minute), "kind": job_kind(platform, JobKind.DIGEST),
                 "mention_id": None, "payload": {"minute": minute}, "priority": DIGEST_PRIORITY}
                for platform in self.platforms]

    async def digest_changed(self, outbox: Outbox, minute: str, now: datetime) -> None:
        """The digest of the minute must show its lines' current state (someone claimed one)."""
        await outbox.sync_many([{**job, "priority": PEOPLE_FIRST} for job in self.digest_jobs(minute)], now)

    async def storm_changed(self, outbox: Outbox, storm_id: int, now: datetime) -> None:
        """The storm's card must show its current state (people acted on it: drawn now)."""
        await outbox.sync_many([{**job, "priority": PEOPLE_FIRST} for job in self.storm_jobs([storm_id])], now)

    def crisis_jobs(self, crisis_ids: list[int]) -> list[dict[str, Any]]:
        """The checklist jobs (one per platform) of these crises, for `Outbox.sync_many`."""
        return [{"key": job_key(platform, JobKind.CRISIS, crisis_id), "kind": job_kind(platform, JobKind.CRISIS),
                 "mention_id": None, "payload": {"crisis_id": crisis_id}}
                for crisis_id in crisis_ids for platform in self.platforms]

    async def crisis_changed(self, outbox: Outbox, crisis_id: int, now: datetime) -> None:
        """The crisis' room, checklist and banner must show its current state."""
        await outbox.sync_many(self.crisis_jobs([crisis_id]), now)

    async def crisis_notice(self, outbox: Outbox, crisis_id: int, key: str, payload: dict[str, Any],
                            now: datetime) -> bool:
        """Post a one-off message (a reminder, a report) in the crisis' room; False when asked for before."""
        queued = False
        for platform in self.platforms:
            queued |= await outbox.once(job_key(platform, JobKind.CRISIS_NOTICE, key),
                                        job_kind(platform, JobKind.CRISIS_NOTICE), None,
                                        {"crisis_id": crisis_id, **payload}, now)
        return queued

    async def spike_alert(self, outbox: Outbox, alert_id: int, payload: dict[str, Any], now: datetime, *,
                          found: bool = False) -> None:
        """Post (or, once people answered it, update) a spike alert in each triage channel; one the check just
        `found` goes after the P1 cards, an update people asked for first."""
        await outbox.sync_many([{"key": job_key(platform, JobKind.SPIKE, alert_id),
                                 "kind": job_kind(platform, JobKind.SPIKE), "mention_id": None,
                                 "payload": {"alert_id": alert_id, **payload},
                                 "priority": SPIKE_PRIORITY if found else PEOPLE_FIRST}
                                for platform in self.platforms], now)

    def daily_keys(self, day: str) -> list[str]:
        """The keys of the leads' summary posted on the team's date `day` (`2026-12-08`), one per platform."""
        return [job_key(platform, JobKind.DAILY, day) for platform in self.platforms]

    async def daily_summary(self, outbox: Outbox, day: str, payload: dict[str, Any], now: datetime) -> bool:
        """Post the leads' summary in each triage channel, exactly once per team date `day`; False when it was
        asked for before."""
        queued = False
        for platform in self.platforms:
            queued |= await outbox.once(job_key(platform, JobKind.DAILY, day), job_kind(platform, JobKind.DAILY),
                                        None, {"day": day, **payload}, now)
        return queued

    async def job_failed(self, outbox: Outbox, job: OutboxJob, reason: str, now: datetime) -> None:
        """Say in the triage channel (of the job's own platform, or of each) that a job was given up on.

        Once per job and generation: a job asked for again (a new state to show) and given up again says so again.
        """
        platform, what = read_kind(job.kind)
        if what is JobKind.NOTICE and job.payload.get("kind") == NoticeKind.FAILED:
            return  # the line itself could not be posted: /metrics and the log say so, not another line
        facts = failure_facts(job, PLATFORM_NAMES.get(platform, platform), reason)
        payload = {"kind": str(NoticeKind.FAILED), "text": failure_notice(words(DEFAULT_LANG), facts), "facts": facts,
                   "mention_id": job.mention_id}
        for target in ((platform,) if platform in self.platforms else self.platforms):
            await outbox.once(job_key(target, JobKind.NOTICE, failure_name(job.id, job.generation)),
                              job_kind(target, JobKind.NOTICE), job.mention_id, payload, now)

    async def deliver_reply(self, outbox: Outbox, mention_id: int, draft_id: int, now: datetime) -> None:
        """Deliver the draft to the social network while it is marked as sending."""
        await outbox.sync(job_key(None, JobKind.REPLY, draft_id), job_kind(None, JobKind.REPLY), mention_id,
                          {"draft_id": draft_id}, now)


def failure_facts(job: OutboxJob, platform: str, reason: str) -> dict[str, Any]:
    """What a failure line says, kept in the notice's job so each channel says it in its team's language."""
    what = read_kind(job.kind)[1]
    return {"kind": str(what) if what is not None else None, "key": job.key, "platform": platform,
            "mention": job.mention_id, "crisis": job.payload.get("crisis_id"), "storm": job.payload.get("storm_id"),
            "minute": job.payload.get("minute"), "day": job.payload.get("day"), "reason": reason}
