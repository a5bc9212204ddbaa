"""Render the leads' daily summary as Block Kit: who it is for (pinged) and yesterday's figures."""

from __future__ import annotations

from bot.core.catalogue import Words
from bot.core.daily import DailySummaryView, daily_numbers
from bot.slack.escape import escape_mrkdwn, truncate
from bot.slack.render import SECTION_LIMIT, Message, mention


def render_daily(view: DailySummaryView, say: Words) -> Message:
    """The summary's message: a headline pinging the leads (only ids from webcare.toml), then the figures."""
    leads = ", ".join(mention(lead) for lead in view.leads)
    to = " " + say("daily.for_leads", leads=leads) if leads else ""
    numbers = escape_mrkdwn(daily_numbers(view, say))
    title = say("daily.title")
    section = {"type": "section", "block_id": f"daily-{view.day.isoformat()}",
               "text": {"type": "mrkdwn", "text": truncate(f":sunrise: *{title}*{to}\n{numbers}", SECTION_LIMIT),
                        "verbatim": True}}
    return truncate(f"{title}{to}: {numbers}", SECTION_LIMIT), [section]
