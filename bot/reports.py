"""Answers to `help | mine | queue | stats` as text, in whichever markup the chat platform speaks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from handlers.reporting import MineItem, QueueReport, StatsReport


@dataclass(frozen=True, slots=True)
class Markup:
    """How one platform writes bold text and links, and makes untrusted text inert."""

    bold: Callable[[str], str]
    link: Callable[[str, str], str]
    escape: Callable[[str], str]


def _age(minutes: int) -> str:
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def mine(items: list[MineItem], m: Markup) -> str:
    """The mentions someone holds."""
    if not items:
        return "You have no open mentions."
    lines = [m.bold(f"Your open mentions ({len(items)}):")]
    for item in items:
        label = f"#{item.mention_id}"
        link = m.link(item.url, label) if item.url else label
        lines.append(f"• {link} {m.escape(item.network)} @{m.escape(item.author)}"
                     f" — {item.state.value.replace('_', ' ')}, {_age(item.age_minutes)} old")
    return "\n".join(lines)


def queue(report: QueueReport, m: Markup) -> str:
    """The unclaimed queue."""
    if report.unclaimed == 0:
        return "The queue is empty: every open mention has an owner."
    return (f"{m.bold(str(report.unclaimed))} unclaimed mention{'s' if report.unclaimed != 1 else ''};"
            f" the oldest is {_age(report.oldest_age_minutes or 0)} old.")


def stats(report: StatsReport, m: Markup) -> str:
    """Volume, response time and SLA."""
    median = "n/a" if report.median_first_response_minutes is None else f"{report.median_first_response_minutes:g} min"
    share = "n/a" if report.within_sla_share is None else f"{report.within_sla_share:.0%}"
    period = "today" if report.period == "today" else "last 7 days"
    return (f"{m.bold(f'Stats ({period}):')} {report.volume} mentions,"
            f" {report.answered} answered, {report.dismissed} dismissed\n"
            f"Median time to first response: {median}\n"
            f"Answered within {report.sla_minutes} min: {share}")


def answer(result: object, m: Markup) -> str:
    """The text for a query's result (a list of my mentions, the queue or the stats)."""
    if isinstance(result, QueueReport):
        return queue(result, m)
    if isinstance(result, StatsReport):
        return stats(result, m)
    return mine(result, m)  # type: ignore[arg-type]
