"""Outbox senders for crises on Slack: the room (its own channel, or a thread), checklist, banner and notices."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from bot.core.crisis.views import ChecklistView
from bot.core.views import PersonRef
from bot.outbox.jobs import (
    CrisisNoticeKind,
    CrisisPart,
    JobKind,
    crisis_notice_subject,
    crisis_subject,
    job_kind,
)
from bot.outbox.relay import RetryLater, Sender
from bot.slack.crisis_render import (
    render_banner,
    render_checklist,
    render_reminder,
    render_report,
    render_room_intro,
)
from bot.slack.ids import PLATFORM
from bot.slack.poster import SlackPoster
from bot.slack.render import Message
from bot.storage.models import OutboxJob
from handlers.cards import crisis_notice
from handlers.context import Context
from handlers.crisis import current_checklist

logger = logging.getLogger(__name__)

NAME_LIMIT = 80  # Slack: a channel name is at most 80 characters
MAX_NAME_TRIES = 20  # crisis-outage-20250101, -2, … -20; past that the crisis runs in a thread
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
    tail = f"-{view.started_at.astimezone(view.zone):%Y%m%d}" + ("-drill" if view.drill else "")  # the team's date
    suffix = f"-{attempt}" if attempt > 1 else ""
    key = _NOT_IN_NAME.sub("-", view.playbook.lower()).strip("-") or "playbook"
    head = f"crisis-{key}"[: NAME_LIMIT - len(tail) - len(f"-{MAX_NAME_TRIES}")].rstrip("-")
    return f"{head}{tail}{suffix}"


class CrisisSenders:
    """Keeps each crisis' room, checklist and banner current, and posts its reminders and report once."""

    def __init__(self, poster: SlackPoster, ctx: Context) -> None:
        self._poster, self._client, self._ctx, self._triage = poster, poster.client, ctx, poster.triage

    def senders(self) -> dict[str, Sender]:
        """The outbox job kinds for crises."""
        return {job_kind(PLATFORM, JobKind.CRISIS): self.sync_crisis,
                job_kind(PLATFORM, JobKind.CRISIS_NOTICE): self.post_notice}

    async def sync_crisis(self, job: OutboxJob) -> None:
        """Make sure the crisis has its room, then post or update its checklist and the triage banner."""
        crisis_id = int(job.payload["crisis_id"])
        view = await current_checklist(self._ctx, crisis_id)
        if view is None:
            return
        room = await self._room(job, view)
        say = self._ctx.config.team.words
        await self._post(job, room, crisis_subject(crisis_id, CrisisPart.CHECKLIST), render_checklist(view, say))
        banner = render_banner(view, room.channel if room.dedicated else None, say)
        await self._poster.upsert(job, crisis_subject(crisis_id, CrisisPart.BANNER), None, *banner, thread_ts=None)

    async def post_notice(self, job: OutboxJob) -> None:
        """Post a reminder or the report in the crisis' room, once."""
        crisis_id = int(job.payload["crisis_id"])
        room = await self._known_room(crisis_id)
        if room is None:
            raise RetryLater("the crisis room is not there yet", delay=1.0, count_attempt=False)
        kind = job.payload.get("kind")
        if kind == CrisisNoticeKind.REMINDER:
            notice = await crisis_notice(self._ctx, crisis_id, CrisisNoticeKind.REMINDER, str(job.payload["step"]),
                                         str(job.payload["level"]))
        elif kind == CrisisNoticeKind.REPORT:
            notice = await crisis_notice(self._ctx, crisis_id, CrisisNoticeKind.REPORT)
        else:
            raise ValueError(f"unknown crisis notice kind {kind!r}")
        say = self._ctx.config.team.words
        if notice is not None and notice.reminder is not None:
            message = render_reminder(notice.reminder, say)
        elif notice is not None and notice.report:
            message = render_report(notice.crisis, notice.report, say)
        else:
            return  # the step was done meanwhile, or there is no report to post
        await self._post(job, room, crisis_notice_subject(job.key), message, update=False)

    async def _post(self, job: OutboxJob, room: Room, subject: str, message: Message, *,
                    update: bool = True) -> None:
        await self._poster.upsert(job, subject, None, *message, thread_ts=room.thread_ts, channel=room.channel,
                                  crisis_id=int(job.payload["crisis_id"]) if room.dedicated else None,
                                  update=update)

    async def _known_room(self, crisis_id: int) -> Room | None:
        record = await self._poster.recorded(crisis_subject(crisis_id, CrisisPart.ROOM))
        if record is None:
            return None
        return Room(record.channel, record.thread_ts, dedicated=record.channel != self._triage)

    async def _room(self, job: OutboxJob, view: ChecklistView) -> Room:
        """The crisis' room, opened on the first run: a new channel with its people, else a thread, saying why."""
        if (room := await self._known_room(view.id)) is not None:
            return room
        created = await self._poster.recorded(crisis_subject(view.id, CrisisPart.CHANNEL))
        channel, refused = (created.channel, None) if created else await self._create_channel(job, view)
        say = self._ctx.config.team.words
        if channel is None:
            # The banner is the thread's root, so it is posted first.
            banner = render_banner(view, None, say)
            await self._poster.upsert(job, crisis_subject(view.id, CrisisPart.BANNER), None, *banner, thread_ts=None)
            root = await self._poster.recorded(crisis_subject(view.id, CrisisPart.BANNER))
            assert root is not None
            room = Room(self._triage, root.ts, dedicated=False)
            intro = render_room_intro(view, say, refused=refused, uninvited=())
            await self._post(job, room, crisis_subject(view.id, CrisisPart.ROOM), intro)
            return room
        room = Room(channel, None, dedicated=True)
        uninvited = await self._invite(channel, view)
        intro = render_room_intro(view, say, refused=None, uninvited=uninvited)
        await self._post(job, room, crisis_subject(view.id, CrisisPart.ROOM), intro)
        return room

    async def _create_channel(self, job: OutboxJob, view: ChecklistView) -> tuple[str | None, str | None]:
        """The new channel's id (private unless the playbook says `channel: public`), or None and Slack's reason when
        the app may not create one (an app installed without `groups:write` gets `missing_scope`)."""
        for attempt in range(1, MAX_NAME_TRIES + 1):
            name = channel_name(view, attempt)
            try:
                # Not repeated after a 5xx or timeout: the channel may exist, and a second try would take `-2`.
                created = await self._poster.call(self._client.conversations_create, idempotent=False, name=name,
                                                  is_private=view.private_channel)
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
            await self._poster.remember(crisis_subject(view.id, CrisisPart.CHANNEL), channel,
                                        str(created["channel"].get("created") or ""), crisis_id=view.id)
            logger.info("slack: created %s #%s for crisis %s (job %s)",
                        "private" if view.private_channel else "public", name, view.id, job.key)
            return channel, None
        return None, self._ctx.config.team.words("crisis.names_taken", first=channel_name(view), last=MAX_NAME_TRIES)

    async def _invite(self, channel: str, view: ChecklistView) -> list[PersonRef]:
        """Invite the lead role and every step's owners; returns who could not be invited."""
        everyone = (*view.leads, *(o for s in view.steps for o in s.owners))
        people = {slack_id: p for p in everyone
                  if (slack_id := p.chat_id(PLATFORM)) and _SLACK_USER.fullmatch(slack_id)}
        if not people:
            return []
        try:
            # `force` invites everyone Slack can, instead of nobody when one id is refused.
            response = await self._poster.call(self._client.conversations_invite, channel=channel,
                                               users=sorted(people), force=True)
        except SlackApiError as exc:
            logger.warning("slack: could not invite people to crisis %s (%s)", view.id, exc.response.get("error"))
            return list(people.values())
        failed = [people[e["user"]] for e in response.get("errors") or ()
                  if e.get("user") in people and e.get("error") != "already_in_channel"]
        if failed:
            logger.warning("slack: %d people could not be invited to crisis %s", len(failed), view.id)
        return failed

