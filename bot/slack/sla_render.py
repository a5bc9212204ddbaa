"""Render SLA reminders as Block Kit messages: one in a card's thread, or a storm's gathered in the channel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from bot.core.catalogue import Words
from bot.core.sla import ReminderView
from bot.core.sla_words import gathered_title, reminder_line, reminder_text
from bot.slack.escape import escape_mrkdwn, truncate
from bot.slack.render import SECTION_LIMIT, Message, mention

GATHERED_LINES = 40  # lines of a gathered message; Block Kit takes 50 blocks, the rest are counted
_LINE_LIMIT = 600  # one line of a gathered message


def render_reminder(view: ReminderView, zone: tzinfo, say: Words) -> Message:
    """A reminder @mentioning the people it is for, for the card's thread."""
    text = truncate(f":alarm_clock: {reminder_text(view, _people(view), zone, say)}", SECTION_LIMIT)
    return text, [{"type": "section", "block_id": f"sla-{view.event}-{view.mention_id}",
                   "text": {"type": "mrkdwn", "text": text}}]


def render_gathered(views: Sequence[ReminderView], zone: tzinfo, say: Words) -> Message:
    """A storm's reminders of one minute in one channel message: a line per mention, each @mentioning its people
    (the customer's words escaped); past GATHERED_LINES lines, how many more."""
    title = f":alarm_clock: *{gathered_title(len(views), say)}*"
    blocks = [{"type": "section", "block_id": "sla-gathered", "text": {"type": "mrkdwn", "text": title}}]
    for number, view in enumerate(views[:GATHERED_LINES]):
        line = reminder_line(view, escape_mrkdwn(view.summary), _people(view), zone, say)
        blocks.append({"type": "section", "block_id": f"sla-gathered-{number}",
                       "text": {"type": "mrkdwn", "text": truncate(f"• {line}", _LINE_LIMIT)}})
    if len(views) > GATHERED_LINES:
        more = say("clock.more", count=len(views) - GATHERED_LINES)
        blocks.append({"type": "context", "block_id": "sla-gathered-more",
                       "elements": [{"type": "mrkdwn", "text": escape_mrkdwn(more)}]})
    return title, blocks


def _people(view: ReminderView) -> str:
    return " ".join(mention(person) for person in view.to)
