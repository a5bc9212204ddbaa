"""Outbox senders for crises on Slack: the room (its own channel, or a thread), checklist, banner and notices."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.crisis.views import ChecklistView
from bot.core.views import CrisisTag, PersonRef
from bot.outbox.relay import RetryLater
from bot.slack.crisis_render import (
    render_banner,
    render_checklist,
    render_reminder,
    render_report,
    render_room_intro,
)
from bot.slack.render import Message
from bot.storage.models import ChatMessage, OutboxJob
from handlers.context import Context
from handlers.crisis import current_checklist, reminder_view

if TYPE_CHECKING:
    from bot.slack.messenger import SlackMessenger

logger = logging.getLogger(__name__)

PLATFORM = "slack"
NAME_LIMIT = 80  # Slack: a channel name is at most 80 characters
MAX_NAME_TRIES = 20  # crisis-outage-20250101, -2, … -20; past that the crisis runs in a thread
SUBJECT_LIMIT = 100  # ChatMessage.subject
# Slack's answers when this app may not create channels: the crisis then runs in a triage-channel thread.
CANNOT_CREATE = frozenset({"restricted_action", "missing_scope", "not_allowed_token_type", "no_permission",
                           "access_denied"})
_NOT_IN_NAME = re.compile(r"[^a-z0-9_-]+")
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")


@dataclass(frozen=True, slots=True)
class Room:
    """Where a crisis' messages go: its own channel, or a thread in the triage channel."""

    channel: str
    thread_ts: str | None
    dedicated: bool


def channel_name(view: ChecklistView, attempt: int = 1) -> str:
    """The crisis channel's name: `crisis-<playbook>-<yyyymmdd>[-drill][-<attempt>]`, within Slack's rules."""
    tail = f"-{view.started_at:%Y%m%d}" + ("-drill" if view.drill else "")
    suffix = f"-{attempt}" if attempt > 1 else ""
    key = _NOT_IN_NAME.sub("-", view.playbook.lower()).strip("-") or "playbook"
    head = f"crisis-{key}"[: NAME_LIMIT - len(tail) - len(f"-{MAX_NAME_TRIES}")].rstrip("-")
    return f"{head}{tail}{suffix}"


class CrisisMessenger:
    """Keeps each crisis' room, checklist and banner current, and posts its reminders and report once."""

    def __init__(self, messenger: SlackMessenger, client: AsyncWebClient, ctx: Context, triage: str) -> None:
        self._messenger, self._client, self._ctx, self._triage = messenger, client, ctx, triage

    async def sync_crisis(self, job: OutboxJob) -> None:
        """Make sure the crisis has its room, then post or update its checklist and the triage banner."""
        crisis_id = int(job.payload["crisis_id"])
        view = await current_checklist(self._ctx, crisis_id)
        if view is None:
            return
        room = await self._room(job, view)
        await self._post(job, room, f"crisis:{crisis_id}:checklist", render_checklist(view))
        banner = render_banner(view, room.channel if room.dedicated else None)
        await self._messenger.upsert(job, f"crisis:{crisis_id}:banner", None, *banner, thread_ts=None)

    async def post_notice(self, job: OutboxJob) -> None:
        """Post a reminder or the report in the crisis' room, once."""
        crisis_id = int(job.payload["crisis_id"])
        room = await self._known_room(crisis_id)
        if room is None:
            raise RetryLater("the crisis room is not there yet", delay=1.0, count_attempt=False)
        kind = job.payload.get("kind")
        async with self._ctx.db.uow() as uow:
            if kind == "reminder":
                reminder = await reminder_view(uow, self._ctx, crisis_id, str(job.payload["step"]),
                                               str(job.payload["level"]), self._ctx.clock())
                message = None if reminder is None else render_reminder(reminder)
            elif kind == "report":
                crisis = await uow.crises.get(crisis_id)
                report = crisis.report if crisis is not None else None
                message = None if crisis is None or not report else render_report(
                    CrisisTag(crisis_id, crisis.title, crisis.drill), report)
            else:
                raise ValueError(f"unknown crisis notice kind {kind!r}")
        if message is None:
            return  # the step was done meanwhile, or there is no report to post
        await self._post(job, room, _notice_subject(job.key), message, update=False)

    async def _post(self, job: OutboxJob, room: Room, subject: str, message: Message, *,
                    update: bool = True) -> None:
        await self._messenger.upsert(job, subject, None, *message, thread_ts=room.thread_ts, channel=room.channel,
                                     crisis_id=int(job.payload["crisis_id"]) if room.dedicated else None,
                                     update=update)

    async def _record(self, subject: str) -> ChatMessage | None:
        workspace = await self._messenger.workspace()
        async with self._ctx.db.uow() as uow:
            return await uow.messages.get(PLATFORM, workspace, subject)

    async def _known_room(self, crisis_id: int) -> Room | None:
        record = await self._record(f"crisis:{crisis_id}:room")
        if record is None:
            return None
        return Room(record.channel, record.thread_ts, dedicated=record.channel != self._triage)

    async def _room(self, job: OutboxJob, view: ChecklistView) -> Room:
        """The crisis' room, opened on the first run: a new channel with its people, else a thread, saying why."""
        if (room := await self._known_room(view.id)) is not None:
            return room
        created = await self._record(f"crisis:{view.id}:channel")
        channel, refused = (created.channel, None) if created else await self._create_channel(job, view)
        if channel is None:
            # The banner is the thread's root, so it is posted first.
            banner = render_banner(view, None)
            await self._messenger.upsert(job, f"crisis:{view.id}:banner", None, *banner, thread_ts=None)
            root = await self._record(f"crisis:{view.id}:banner")
            assert root is not None
            room = Room(self._triage, root.ts, dedicated=False)
            await self._post(job, room, f"crisis:{view.id}:room", render_room_intro(view, refused=refused,
                                                                                     uninvited=()))
            return room
        room = Room(channel, None, dedicated=True)
        uninvited = await self._invite(channel, view)
        await self._post(job, room, f"crisis:{view.id}:room", render_room_intro(view, refused=None,
                                                                                 uninvited=uninvited))
        return room

    async def _create_channel(self, job: OutboxJob, view: ChecklistView) -> tuple[str | None, str | None]:
        """The new channel's id, or None and Slack's reason when the app may not create one."""
        for attempt in range(1, MAX_NAME_TRIES + 1):
            name = channel_name(view, attempt)
            try:
                # Not repeated after a 5xx or timeout: the channel may exist, and a second try would take `-2`.
                created = await self._messenger.call(self._client.conversations_create, idempotent=False, name=name,
                                                     is_private=False)
            except SlackApiError as exc:
                error = str(exc.response.get("error"))
                if error == "name_taken":
                    continue
                if error in CANNOT_CREATE:
                    logger.warning("slack: cannot create a channel for crisis %s (%s); using a thread", view.id, error)
                    return None, error
                raise
            channel = str(created["channel"]["id"])
            # Recorded at once, so a later failure (an invite, the first post) never makes a second channel.
            async with self._ctx.db.uow() as uow:
                await uow.messages.add(ChatMessage(
                    platform=PLATFORM, workspace=await self._messenger.workspace(), subject=f"crisis:{view.id}:channel",
                    crisis_id=view.id, channel=channel, ts=str(created["channel"].get("created") or ""),
                    posted_at=self._ctx.clock()))
                await uow.commit()
            logger.info("slack: created #%s for crisis %s (job %s)", name, view.id, job.key)
            return channel, None
        return None, f"every name from {channel_name(view)} to -{MAX_NAME_TRIES} is taken"

    async def _invite(self, channel: str, view: ChecklistView) -> list[PersonRef]:
        """Invite the lead role and every step's owners; returns who could not be invited."""
        people = {p.slack_id: p for p in (*view.leads, *(o for s in view.steps for o in s.owners))
                  if p.slack_id and _SLACK_USER.fullmatch(p.slack_id)}
        if not people:
            return []
        try:
            # `force` invites everyone Slack can, instead of nobody when one id is refused.
            response = await self._messenger.call(self._client.conversations_invite, channel=channel,
                                                  users=sorted(people), force=True)
        except SlackApiError as exc:
            logger.warning("slack: could not invite people to crisis %s (%s)", view.id, exc.response.get("error"))
            return list(people.values())
        failed = [people[e["user"]] for e in response.get("errors") or ()
                  if e.get("user") in people and e.get("error") != "already_in_channel"]
        if failed:
            logger.warning("slack: %d people could not be invited to crisis %s", len(failed), view.id)
        return failed


def _notice_subject(job_key: str) -> str:
    """`crisis-notice:<key>` for the job `slack:crisis-notice:<key>`, hashed when a long step id makes it too long."""
    subject = f"crisis-notice:{job_key.split(':', 2)[2]}"
    if len(subject) <= SUBJECT_LIMIT:
        return subject
    return f"crisis-notice:{hashlib.sha256(subject.encode()).hexdigest()}"
