"""Slash-command answers as Slack mrkdwn: my mentions, the queue, the stats."""

from __future__ import annotations

from bot.slack.escape import escape_mrkdwn
from handlers.reporting import MineItem, QueueReport, StatsReport


def _age(minutes: int) -> str:
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def mine(items: list[MineItem]) -> str:
    """The mentions someone holds."""
    if not items:
        return "You have no open mentions."
    lines = [f"*Your open mentions ({len(items)}):*"]
    for item in items:
        link = f"<{escape_mrkdwn(item.url)}|#{item.mention_id}>" if item.url else f"#{item.mention_id}"
        lines.append(f"• {link} {escape_mrkdwn(item.network)} @{escape_mrkdwn(item.author)}"
                     f" — {item.state.value.replace('_', ' ')}, {_age(item.age_minutes)} old")
    return "\n".join(lines)


def queue(report: QueueReport) -> str:
    """The unclaimed queue."""
    if report.unclaimed == 0:
        return "The queue is empty: every open mention has an owner."
    return (f"*{report.unclaimed}* unclaimed mention{'s' if report.unclaimed != 1 else ''};"
            f" the oldest is {_age(report.oldest_age_minutes or 0)} old.")


def stats(report: StatsReport) -> str:
    """Volume, response time and SLA."""
    median = "n/a" if report.median_first_response_minutes is None else f"{report.median_first_response_minutes:g} min"
    share = "n/a" if report.within_sla_share is None else f"{report.within_sla_share:.0%}"
    return (f"*Stats ({'today' if report.period == 'today' else 'last 7 days'}):* {report.volume} mentions,"
            f" {report.answered} answered, {report.dismissed} dismissed\n"
            f"Median time to first response: {median}\n"
            f"Answered within {report.sla_minutes} min: {share}")
