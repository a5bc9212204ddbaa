"""The crisis report: a markdown timeline fit for a post-mortem committed next to the playbooks, in the team's
language (its words: bot/core/locale/<lang>/report.toml)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from bot.config import Config
from bot.core.catalogue import Words
from bot.core.clock_words import span, stamp
from bot.core.crisis import rules
from bot.core.crisis.rules import CrisisState
from bot.core.views import network_label
from bot.storage.models import Audit, Crisis, Draft, Mention
from handlers.context import person_ref

# Audit actions the report lists as refusals and overrides.
REFUSALS = {"step_refused": "report.step_refused", "end_refused": "report.end_refused",
            "reply_refused": "report.reply_refused", "link_refused": "report.link_refused",
            "unlink_refused": "report.unlink_refused"}
# What the timeline calls each audit action of a crisis; an action not named here is written as stored.
ACTIONS = {**REFUSALS, "crisis_started": "report.crisis_started", "drill_started": "report.drill_started",
           "step_done": "report.step_done", "step_skipped": "report.step_skipped",
           "step_reminder": "report.step_reminder", "crisis_ended": "report.crisis_ended",
           "crisis_forced_end": "report.crisis_forced_end", "crisis_link": "report.crisis_link",
           "crisis_unlink": "report.crisis_unlink"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")
# People's notes are escaped so that nothing in them becomes a link, emphasis or a table cell in the report.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")
_LINE_BREAKS = str.maketrans({"\n": " ", "\r": " "})


def _cell(text: str | None) -> str:
    """People's text inside the report: markdown characters escaped, no line breaks."""
    return _MARKDOWN.sub(r"\\\1", (text or "").translate(_LINE_BREAKS)).strip() or "—"


def _handle(mention: Mention, say: Words) -> str:
    """A customer's handle reduced to harmless characters (the report is shared and committed)."""
    handle = _UNSAFE.sub("", mention.author_handle or "")[:60]
    return f"@{handle}" if handle else say("report.unknown_author")


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def render_report(config: Config, crisis: Crisis, state: CrisisState, audits: Sequence[Audit],
                  linked: Sequence[Mention], replies: Sequence[Draft], now: datetime, say: Words) -> str:
    """The markdown timeline of one crisis, as of `now`, in `say`'s language (the team's)."""
    start = crisis.started_at

    def clock(at: datetime) -> str:  # in the team's time zone, named: the report is read later and elsewhere
        return stamp(at, config.team.zone)

    def name(key: str, fallback: str | None = None) -> str:  # a chat user's name is theirs to choose: escaped
        return _cell(person_ref(config, key, fallback).name)

    def since(at: datetime) -> str:
        return f"+{span(at - start, say)}"

    def label(key: str, value: str) -> str:
        return f"- **{say(key)}:** {value}"

    def action(done: str) -> str:
        return say(ACTIONS[done]) if done in ACTIONS else done.replace("_", " ")

    kind = say("report.drill") if crisis.drill else say("report.crisis")
    lines = [f"# {kind}: {crisis.title} (#{crisis.id})", ""]
    lines.append(label("report.playbook", say("report.playbook_version", playbook=f"`{crisis.playbook}`",
                                              version=f"`{crisis.version}`")))
    started = label("report.started", say("report.at_by", time=clock(start),
                                          person=name(crisis.started_by, crisis.started_by_name)))
    lines.append(started + (f" — {_cell(crisis.note)}" if crisis.note else ""))
    if crisis.ended_at is not None:
        ended = label("report.ended", say("report.ended_after", time=clock(crisis.ended_at),
                                          person=name(crisis.ended_by or "", crisis.ended_by_name),
                                          span=span(crisis.ended_at - start, say)))
        lines.append(ended + (f" — **{say('report.forced')}**: {_cell(crisis.forced_reason)}"
                              if crisis.forced_reason else ""))
    else:
        lines.append(f"- **{say('report.still_running')}** "
                     + say("report.running_at", time=clock(now), span=span(now - start, say)))
    gate = rules.unlocking_step(state)
    if gate is None:
        lines.append(label("report.holding", say("report.no_unlocking_step")))
    elif gate.id in state.done:
        took = span(state.done[gate.id].at - start, say)
        lines.append(label("report.holding", say("report.holding_due", span=took, due=span(gate.due, say))
                           if gate.due else took))
    else:
        lines.append(label("report.holding", say("report.not_reached", step=gate.title)))
    lines.append(f"- **{say('report.reply_policy')}:** {state.playbook.reply_policy}; "
                 f"**{say('report.linked_count')}:** {len(linked)}; **{say('report.replies_count')}:** {len(replies)}")

    lines += ["", f"## {say('report.steps')}", "",
              _row(*(say(k) for k in ("report.step", "report.owner", "report.due", "report.outcome", "report.by",
                                      "report.when", "report.note"))),
              "|---|---|---|---|---|---|---|"]
    for step in state.playbook.steps:
        due = span(step.due, say) if step.due else "—"
        if step.id in state.done:
            done = state.done[step.id]
            late = step.due and done.at - start > step.due
            row = [say("report.done_late" if late else "report.done"), name(done.by), since(done.at),
                   _cell(done.note)]
        elif step.id in state.skipped:
            skip = state.skipped[step.id]
            row = [say("report.skipped"), name(skip.by), since(skip.at), _cell(skip.reason)]
        else:
            row = [say("report.optional_not_done") if step.optional else f"**{say('report.not_done')}**",
                   "—", "—", "—"]
        lines.append(_row(_cell(step.title), step.owner, due, *row))

    overrides = [a for a in audits if a.action in ("step_skipped", "crisis_forced_end")]
    refusals = [a for a in audits if a.action in REFUSALS]
    lines += ["", f"## {say('report.overrides')}", ""]
    lines += [f"- {since(a.at)} {_cell(a.actor_name)}: "
              f"{say('report.skipped' if a.action == 'step_skipped' else 'report.forced_end')} — {_cell(a.detail)}"
              for a in overrides] or [say("report.none")]
    lines += ["", f"## {say('report.refusals')}", ""]
    lines += [f"- {since(a.at)} {_cell(a.actor_name)}: {say(REFUSALS[a.action])}"
              + (f" ({say('report.mention_ref', mention=a.mention_id)})" if a.mention_id else "")
              + f" — {_cell(a.detail)}" for a in refusals] or [say("report.none")]

    lines += ["", f"## {say('report.linked_over_time')}", ""]
    if linked:
        lines += [_row(*(say(k) for k in ("report.since_start", "report.mention", "report.network",
                                          "report.author"))), "|---|---|---|---|"]
        lines += [_row(since(m.crisis_linked_at or m.received_at), f"#{m.id}", network_label(m.network),
                       _handle(m, say)) for m in linked]
    else:
        lines.append(say("report.none"))

    lines += ["", f"## {say('report.replies_sent')}", ""]
    if replies:
        lines += [_row(*(say(k) for k in ("report.since_start", "report.mention", "report.written_by",
                                          "report.approved_by", "report.how"))), "|---|---|---|---|---|"]
        for d in replies:
            approved = name(d.decided_by, d.decided_by_name) if d.decided_by else "—"
            how = say("report.by_hand") if d.state == "by_hand" else say("report.sent")
            lines.append(_row(since(d.sent_at or d.created_at), f"#{d.mention_id}", name(d.author, d.author_name),
                              approved, how))
    else:
        lines.append(say("report.none"))

    lines += ["", f"## {say('report.timeline')}", ""]
    lines += [f"- {clock(a.at)} ({since(a.at)}) {_cell(a.actor_name)}: {action(a.action)}"
              + (f" — {_cell(a.detail)}" if a.detail else "") for a in audits]
    return "\n".join(lines) + "\n"
