"""Render the leads' daily summary as an Adaptive Card: who it is for (mentioned) and yesterday's figures."""

from __future__ import annotations

from bot.core.catalogue import Words
from bot.core.daily import DailySummaryView, daily_numbers
from bot.teams.cards import Mentions, adaptive_card, text_block
from bot.teams.escape import escape_markdown


def render_daily(view: DailySummaryView, say: Words) -> dict:
    """The summary's card: a headline mentioning the leads (entities only from webcare.toml ids), then the
    figures."""
    prefix = f"daily-{view.day.isoformat()}"
    mentions = Mentions()
    leads = ", ".join(mentions(lead) for lead in view.leads)
    to = " " + say("daily.for_leads", leads=leads) if leads else ""
    numbers = escape_markdown(daily_numbers(view, say))
    title = say("daily.title")
    body = [text_block(f"🌅 **{title}**{to}", id=f"{prefix}-leads"), text_block(numbers, id=f"{prefix}-numbers")]
    return adaptive_card(body, entities=mentions.entities, fallback_text=f"{title}: {numbers}")
