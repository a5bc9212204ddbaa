"""Answers to typed commands (`mine`, `queue`, `stats`, `playbooks`, `crisis …`) in each platform's markup, in the
words of whoever typed them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.catalogue import Words
from bot.core.clock_words import figure, moment
from bot.core.crisis.views import (
    ChecklistView,
    CrisisChanged,
    CrisisReport,
    CrisisStarted,
    PlaybookCatalogue,
    ReplyGate,
    StepStatus,
)
from bot.core.storms.priority_words import priority_label
from bot.core.storms.views import StormMembers
from bot.core.views import MineItem, QueueReport, StatsReport
from bot.core.wording import linked_mentions, mention_state_name, undelivered_heading


@dataclass(frozen=True, slots=True)
class Markup:
    """How one platform writes bold text and links, and makes untrusted text inert."""

    bold: Callable[[str], str]
    link: Callable[[str, str], str]
    escape: Callable[[str], str]


def _age(minutes: int, say: Words) -> str:
    return say("time.minutes", minutes=minutes) if minutes < 120 else say("time.hours", hours=minutes // 60)


def mine(items: list[MineItem], m: Markup, say: Words) -> str:
    """The mentions someone holds."""
    if not items:
        return say("command.mine_none")
    lines = [m.bold(say("command.mine_heading", count=len(items)))]
    for item in items:
        label = f"#{item.mention_id}"
        link = m.link(item.url, label) if item.url else label
        lines.append(f"• {link} {m.escape(item.network)} {m.escape('@' + item.author)} — "
                     + say("command.item_age", what=mention_state_name(say, item.state),
                           age=_age(item.age_minutes, say)))
    return "\n".join(lines)


def queue(report: QueueReport, m: Markup, say: Words) -> str:
    """The unclaimed queue, and the open mentions whose reply could not be delivered."""
    if report.unclaimed == 0:
        return "\n".join([say("command.queue_empty"), *_undelivered(report, m, say)])
    lines = [say("command.queue_unclaimed", count=report.unclaimed, number=m.bold(str(report.unclaimed)),
                 age=_age(report.oldest_age_minutes or 0, say))]
    if report.unclaimed > 1:
        lines.append(say("command.by_priority",
                         levels=" · ".join(f"{level} {count}" for level, count in report.by_level)))
    if report.first:
        lines.append(m.bold(say("command.first_up")))
    for item in report.first:
        label = f"#{item.mention_id}"
        link = m.link(item.url, label) if item.url else label
        priority = priority_label(item.priority_level, item.priority_reasons, say)
        lines.append(f"• {link} {m.escape(item.network)} {m.escape('@' + item.author)} — "
                     + say("command.item_age", what=m.escape(priority), age=_age(item.age_minutes, say)))
    return "\n".join([*lines, *_undelivered(report, m, say)])


def _undelivered(report: QueueReport, m: Markup, say: Words) -> list[str]:
    """The mentions open again because their reply was not delivered: Retry is on their cards."""
    if not report.undelivered:
        return []
    lines = [m.bold(undelivered_heading(say))]
    for item in report.undelivered:
        label = f"#{item.mention_id}"
        link = m.link(item.url, label) if item.url else label
        holder = say("command.held_by", person=m.escape(item.claimed_by.name)) if item.claimed_by \
            else say("command.held_by_nobody")
        lines.append(f"• {link} {m.escape(item.network)} {m.escape('@' + item.author)} — {holder}")
    return lines


def stats(report: StatsReport, m: Markup, say: Words) -> str:
    """Volume, response time and SLA, and the time to resolution."""
    median = _median(report.median_first_response_minutes, say)
    share = say("command.not_available") if report.within_sla_share is None else f"{report.within_sla_share:.0%}"
    period = say("command.period_today") if report.period == "today" else say("command.period_week")
    return (m.bold(say("command.stats_heading", period=period)) + " "
            + say("command.stats_volume", volume=report.volume, answered=report.answered,
                  dismissed=report.dismissed) + "\n"
            + say("command.stats_median", median=median) + "\n"
            + say("command.stats_within", minutes=report.sla_minutes, share=share) + "\n"
            + say("command.stats_resolution", median=_median(report.median_resolution_minutes, say)))


def _median(minutes: float | None, say: Words) -> str:
    return say("command.not_available") if minutes is None else say("time.minutes", minutes=figure(minutes, say))


def _when(view: ChecklistView, at: datetime, say: Words) -> str:
    """"06:17 tomorrow (+24 h)": in the team's time zone, with the time since the crisis started."""
    since = _age(int((at - view.started_at).total_seconds() // 60), say)
    return f"{moment(at, now=view.now, zone=view.zone, say=say)} (+{since})"


_GATE_WORDS = {ReplyGate.OPEN: "command.gate_open", ReplyGate.HOLD: "command.gate_hold",
               ReplyGate.APPROVAL: "command.gate_approval", ReplyGate.DRILL: "command.gate_drill"}


def gate_line(view: ChecklistView, say: Words) -> str:
    """What replies to linked mentions need, in words."""
    if view.gate == ReplyGate.LOCKED and view.gate_step is not None:
        return say("command.gate_locked", step=view.gate_step.title, owner=view.gate_step.owner_role)
    return say(_GATE_WORDS.get(view.gate, "command.gate_open"))


def crisis_status(view: ChecklistView, m: Markup, say: Words) -> str:
    """A crisis' checklist as text: its steps, who did them when, and the reply gate."""
    title = say("command.drill_title" if view.drill else "command.crisis_title", crisis=view.id,
                title=m.escape(view.title))
    state = say("command.running") if view.running else \
        say("command.ended_at", when=_when(view, view.ended_at, say))  # type: ignore[arg-type]
    lines = [m.bold(title) + f" — {view.severity}, {state}; "
             f"{m.escape(gate_line(view, say))}; {linked_mentions(say, view.linked)}"]
    marks = {StepStatus.DONE: "✅", StepStatus.SKIPPED: "⏭", StepStatus.NEXT: "▶", StepStatus.WAITING: "⏳"}
    for step in view.steps:
        line = f"{marks[step.status]} {m.escape(step.title)} (`{step.id}`, {m.escape(step.owner_role)}"
        line += f", {say('command.optional')})" if step.optional else ")"
        if step.by is not None and step.at is not None:
            did = "command.step_skipped_by" if step.status is StepStatus.SKIPPED else "command.step_done_by"
            line += " — " + say(did, person=m.escape(step.by.name), when=_when(view, step.at, say))
            line += f": {m.escape(step.note)}" if step.note else ""
        elif step.due_at is not None:
            line += " — " + say("command.due", when=_when(view, step.due_at, say))
            line += " — " + say("command.overdue") if step.overdue else ""
        lines.append(line)
    if view.forced_reason:
        lines.append(say("command.ended_early", reason=m.escape(view.forced_reason)))
    return "\n".join(lines)


def playbooks(catalogue: PlaybookCatalogue, m: Markup, say: Words) -> str:
    """The playbooks a crisis can be started on."""
    if not catalogue.playbooks:
        return say("command.no_playbooks")
    lines = [m.bold(say("command.playbooks_heading"))]
    lines += [f"• `{p.key}` — {m.escape(p.title)} ("
              + say("command.playbook_facts", severity=p.severity, steps=p.steps, version=p.version[:12]) + ")"
              for p in catalogue.playbooks]
    return "\n".join(lines)


def storm_members(view: StormMembers, m: Markup, say: Words) -> str:
    """A storm's members, the most urgent first."""
    heading = say("command.storm_heading", count=view.total, storm=view.storm_id)
    lines = [m.bold(heading) + (say("command.storm_most_urgent", shown=len(view.members))
                                if view.total > len(view.members) else ":")]
    for member in view.members:
        label = f"#{member.mention_id}"
        link = m.link(member.url, label) if member.url else label
        who = m.escape("@" + member.author_handle) if member.author_handle else say("command.someone")
        text = " ".join(member.text.split())
        text = text if len(text) <= 80 else text[:79] + "…"
        lines.append(f"• {link} {member.priority_level} {m.escape(member.network)} {who}"
                     f" — {mention_state_name(say, member.state)}: {m.escape(text)}")
    return "\n".join(lines)


def answer(result: object, m: Markup, say: Words) -> str:
    """The text for a command's result (my mentions, the queue, the stats, or a crisis answer)."""
    match result:
        case QueueReport():
            return queue(result, m, say)
        case StatsReport():
            return stats(result, m, say)
        case PlaybookCatalogue():
            return playbooks(result, m, say)
        case StormMembers():
            return storm_members(result, m, say)
        case ChecklistView():
            return crisis_status(result, m, say)
        case CrisisStarted(checklist=view):
            started = say("command.drill_started" if view.drill else "command.crisis_started", crisis=view.id)
            return f"{started}\n" + crisis_status(view, m, say)
        case CrisisChanged(message=message, checklist=view):
            return f"{m.escape(message.said(say))}\n" + crisis_status(view, m, say)
        case CrisisReport(crisis_id=crisis_id):
            return say("command.report_posted", crisis=crisis_id)
    return mine(result, m, say)  # type: ignore[arg-type]
