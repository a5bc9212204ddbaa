"""Answers to typed commands (`mine`, `queue`, `stats`, `playbooks`, `crisis …`) in each platform's markup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.clock_words import moment
from bot.core.crisis.views import (
    ChecklistView,
    CrisisChanged,
    CrisisReport,
    CrisisStarted,
    PlaybookCatalogue,
    ReplyGate,
    StepStatus,
)
from bot.core.storms.views import StormMembers
from bot.core.views import MineItem, QueueReport, StatsReport
from bot.core.wording import linked_mentions, mention_state_name, undelivered_heading


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
        lines.append(f"• {link} {m.escape(item.network)} {m.escape('@' + item.author)}"
                     f" — {mention_state_name(item.state)}, {_age(item.age_minutes)} old")
    return "\n".join(lines)


def queue(report: QueueReport, m: Markup) -> str:
    """The unclaimed queue, and the open mentions whose reply could not be delivered."""
    if report.unclaimed == 0:
        return "\n".join(["The queue is empty: every open mention has an owner.", *_undelivered(report, m)])
    lines = [f"{m.bold(str(report.unclaimed))} unclaimed mention{'s' if report.unclaimed != 1 else ''};"
             f" the oldest is {_age(report.oldest_age_minutes or 0)} old."]
    if report.unclaimed > 1:
        lines.append("By priority: " + " · ".join(f"{level} {count}" for level, count in report.by_level))
    if report.first:
        lines.append(m.bold("First up:"))
    for item in report.first:
        label = f"#{item.mention_id}"
        link = m.link(item.url, label) if item.url else label
        lines.append(f"• {link} {m.escape(item.network)} {m.escape('@' + item.author)}"
                     f" — {m.escape(item.priority)}, {_age(item.age_minutes)} old")
    return "\n".join([*lines, *_undelivered(report, m)])


def _undelivered(report: QueueReport, m: Markup) -> list[str]:
    """The mentions open again because their reply was not delivered: Retry is on their cards."""
    if not report.undelivered:
        return []
    lines = [m.bold(undelivered_heading())]
    for item in report.undelivered:
        label = f"#{item.mention_id}"
        link = m.link(item.url, label) if item.url else label
        holder = f"held by {m.escape(item.claimed_by.name)}" if item.claimed_by else "nobody holds it"
        lines.append(f"• {link} {m.escape(item.network)} {m.escape('@' + item.author)} — {holder}")
    return lines


def stats(report: StatsReport, m: Markup) -> str:
    """Volume, response time and SLA."""
    median = "n/a" if report.median_first_response_minutes is None else f"{report.median_first_response_minutes:g} min"
    share = "n/a" if report.within_sla_share is None else f"{report.within_sla_share:.0%}"
    period = "today" if report.period == "today" else "last 7 days"
    return (f"{m.bold(f'Stats ({period}):')} {report.volume} mentions,"
            f" {report.answered} answered, {report.dismissed} dismissed\n"
            f"Median time to first response: {median}\n"
            f"Answered within {report.sla_minutes} min: {share}")


def _when(view: ChecklistView, at: datetime) -> str:
    """"tomorrow 06:17 (+24 h)": in the team's time zone, with the time since the crisis started."""
    return f"{moment(at, now=view.now, zone=view.zone)} (+{_age(int((at - view.started_at).total_seconds() // 60))})"


_GATE_WORDS = {ReplyGate.OPEN: "replies are open", ReplyGate.HOLD: "replies are on hold",
               ReplyGate.APPROVAL: "each reply needs a lead's approval", ReplyGate.DRILL: "a drill gates no replies"}


def gate_line(view: ChecklistView) -> str:
    """What replies to linked mentions need, in words."""
    if view.gate == ReplyGate.LOCKED and view.gate_step is not None:
        return f"replies wait for “{view.gate_step.title}” (owner: {view.gate_step.owner_role})"
    return _GATE_WORDS.get(view.gate, "replies are open")


def crisis_status(view: ChecklistView, m: Markup) -> str:
    """A crisis' checklist as text: its steps, who did them when, and the reply gate."""
    kind = "Drill" if view.drill else "Crisis"
    state = "running" if view.running else f"ended {_when(view, view.ended_at)}"  # type: ignore[arg-type]
    lines = [m.bold(f"{kind} #{view.id}: {m.escape(view.title)}") + f" — {view.severity}, {state}; "
             f"{m.escape(gate_line(view))}; {linked_mentions(view.linked)}"]
    marks = {StepStatus.DONE: "✅", StepStatus.SKIPPED: "⏭", StepStatus.NEXT: "▶", StepStatus.WAITING: "⏳"}
    for step in view.steps:
        line = f"{marks[step.status]} {m.escape(step.title)} (`{step.id}`, {m.escape(step.owner_role)}"
        line += ", optional)" if step.optional else ")"
        if step.by is not None and step.at is not None:
            line += f" — {step.status.value} by {m.escape(step.by.name)} at {_when(view, step.at)}"
            line += f": {m.escape(step.note)}" if step.note else ""
        elif step.due_at is not None:
            line += f" — due {_when(view, step.due_at)}" + (" — OVERDUE" if step.overdue else "")
        lines.append(line)
    if view.forced_reason:
        lines.append(f"Ended early: {m.escape(view.forced_reason)}")
    return "\n".join(lines)


def playbooks(catalogue: PlaybookCatalogue, m: Markup) -> str:
    """The playbooks a crisis can be started on."""
    if not catalogue.playbooks:
        return "There are no valid playbooks; run `webcare playbooks check` to see why."
    lines = [m.bold("Playbooks:")]
    lines += [f"• `{p.key}` — {m.escape(p.title)} ({p.severity}, {p.steps} steps, version {p.version[:12]})"
              for p in catalogue.playbooks]
    return "\n".join(lines)


def storm_members(view: StormMembers, m: Markup) -> str:
    """A storm's members, the most urgent first."""
    lines = [m.bold(f"Storm #{view.storm_id}: {view.total} mention{'s' if view.total != 1 else ''}")
             + (f", the {len(view.members)} most urgent:" if view.total > len(view.members) else ":")]
    for member in view.members:
        label = f"#{member.mention_id}"
        link = m.link(member.url, label) if member.url else label
        who = m.escape("@" + member.author_handle) if member.author_handle else "someone"
        text = " ".join(member.text.split())
        text = text if len(text) <= 80 else text[:79] + "…"
        lines.append(f"• {link} {member.priority_level} {m.escape(member.network)} {who}"
                     f" — {mention_state_name(member.state)}: {m.escape(text)}")
    return "\n".join(lines)


def answer(result: object, m: Markup) -> str:
    """The text for a command's result (my mentions, the queue, the stats, or a crisis answer)."""
    match result:
        case QueueReport():
            return queue(result, m)
        case StatsReport():
            return stats(result, m)
        case PlaybookCatalogue():
            return playbooks(result, m)
        case StormMembers():
            return storm_members(result, m)
        case ChecklistView():
            return crisis_status(result, m)
        case CrisisStarted(checklist=view):
            kind = "Drill" if view.drill else "Crisis"
            return f"{kind} #{view.id} started.\n" + crisis_status(view, m)
        case CrisisChanged(message=message, checklist=view):
            return f"{m.escape(message)}\n" + crisis_status(view, m)
        case CrisisReport(crisis_id=crisis_id):
            return (f"The report of crisis #{crisis_id} is posted in its channel and stored; "
                    f"`webcare crisis report {crisis_id}` prints it.")
    return mine(result, m)  # type: ignore[arg-type]
