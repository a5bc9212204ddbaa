"""The crisis report: a markdown timeline fit for a post-mortem committed next to the playbooks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.config import Config
from bot.core.clock_words import stamp
from bot.core.crisis import rules
from bot.core.crisis.rules import CrisisState
from bot.core.views import network_label
from bot.storage.models import Audit, Crisis, Draft, Mention
from handlers.context import person_ref

# Audit actions the report lists as refusals and overrides.
REFUSALS = {"step_refused": "step refused", "end_refused": "end refused", "reply_refused": "reply refused",
            "link_refused": "link refused", "unlink_refused": "unlink refused"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")
# People's notes are escaped so that nothing in them becomes a link, emphasis or a table cell in the report.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")
_LINE_BREAKS = str.maketrans({"\n": " ", "\r": " "})


def _span(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours < 48 else f"{hours // 24} d {hours % 24} h"


def _cell(text: str | None) -> str:
    """People's text inside the report: markdown characters escaped, no line breaks."""
    return _MARKDOWN.sub(r"\\\1", (text or "").translate(_LINE_BREAKS)).strip() or "—"


def _handle(mention: Mention) -> str:
    """A customer's handle reduced to harmless characters (the report is shared and committed)."""
    handle = _UNSAFE.sub("", mention.author_handle or "")[:60]
    return f"@{handle}" if handle else "unknown author"


def render_report(config: Config, crisis: Crisis, state: CrisisState, audits: Sequence[Audit],
                  linked: Sequence[Mention], replies: Sequence[Draft], now: datetime) -> str:
    """The markdown timeline of one crisis, as of `now`."""
    start = crisis.started_at

    def clock(at: datetime) -> str:  # in the team's time zone, named: the report is read later and elsewhere
        return stamp(at, config.team.zone)

    def name(key: str, fallback: str | None = None) -> str:  # a chat user's name is theirs to choose: escaped
        return _cell(person_ref(config, key, fallback).name)

    def since(at: datetime) -> str:
        return f"+{_span(at - start)}"

    kind = "Drill report" if crisis.drill else "Crisis report"
    lines = [f"# {kind}: {crisis.title} (#{crisis.id})", ""]
    lines.append(f"- **Playbook:** `{crisis.playbook}` at version `{crisis.version}`")
    started = f"- **Started:** {clock(start)} by {name(crisis.started_by, crisis.started_by_name)}"
    lines.append(started + (f" — {_cell(crisis.note)}" if crisis.note else ""))
    if crisis.ended_at is not None:
        ended = f"- **Ended:** {clock(crisis.ended_at)} by {name(crisis.ended_by or '', crisis.ended_by_name)}"
        ended += f", after {_span(crisis.ended_at - start)}"
        lines.append(ended + (f" — **forced**: {_cell(crisis.forced_reason)}" if crisis.forced_reason else ""))
    else:
        lines.append(f"- **Still running** at {clock(now)} ({_span(now - start)} in)")
    gate = rules.unlocking_step(state)
    if gate is None:
        lines.append("- **Time to holding statement:** the playbook has no step that unlocks replies")
    elif gate.id in state.done:
        due = f" (due {_span(gate.due)})" if gate.due else ""
        lines.append(f"- **Time to holding statement:** {_span(state.done[gate.id].at - start)}{due}")
    else:
        lines.append(f"- **Time to holding statement:** not reached — “{gate.title}” is not done")
    lines.append(f"- **Reply policy:** {state.playbook.reply_policy}; **linked mentions:** {len(linked)}; "
                 f"**replies sent:** {len(replies)}")

    lines += ["", "## Steps", "", "| Step | Owner | Due | Outcome | By | When | Note |",
              "|---|---|---|---|---|---|---|"]
    for step in state.playbook.steps:
        due = _span(step.due) if step.due else "—"
        if step.id in state.done:
            done = state.done[step.id]
            late = " (late)" if step.due and done.at - start > step.due else ""
            row = ["done" + late, name(done.by), f"{since(done.at)}", _cell(done.note)]
        elif step.id in state.skipped:
            skip = state.skipped[step.id]
            row = ["skipped", name(skip.by), f"{since(skip.at)}", _cell(skip.reason)]
        else:
            row = ["optional, not done" if step.optional else "**not done**", "—", "—", "—"]
        lines.append(f"| {_cell(step.title)} | {step.owner} | {due} | " + " | ".join(row) + " |")

    overrides = [a for a in audits if a.action in ("step_skipped", "crisis_forced_end")]
    refusals = [a for a in audits if a.action in REFUSALS]
    lines += ["", "## Skips and overrides", ""]
    lines += [f"- {since(a.at)} {_cell(a.actor_name)}: {'skipped' if a.action == 'step_skipped' else 'forced the end'}"
              f" — {_cell(a.detail)}" for a in overrides] or ["None."]
    lines += ["", "## Refusals", ""]
    lines += [f"- {since(a.at)} {_cell(a.actor_name)}: {REFUSALS[a.action]}"
              + (f" (mention {a.mention_id})" if a.mention_id else "") + f" — {_cell(a.detail)}"
              for a in refusals] or ["None."]

    lines += ["", "## Linked mentions over time", ""]
    if linked:
        lines += ["| Since start | Mention | Network | Author |", "|---|---|---|---|"]
        lines += [f"| {since(m.crisis_linked_at or m.received_at)} | #{m.id} | {network_label(m.network)} | "
                  f"{_handle(m)} |" for m in linked]
    else:
        lines.append("None.")

    lines += ["", "## Replies sent", ""]
    if replies:
        lines += ["| Since start | Mention | Written by | Approved by | How |", "|---|---|---|---|---|"]
        for d in replies:
            approved = name(d.decided_by, d.decided_by_name) if d.decided_by else "—"
            how = "by hand" if d.state == "by_hand" else "sent"
            lines.append(f"| {since(d.sent_at or d.created_at)} | #{d.mention_id} | "
                         f"{name(d.author, d.author_name)} | {approved} | {how} |")
    else:
        lines.append("None.")

    lines += ["", "## Timeline", ""]
    lines += [f"- {clock(a.at)} ({since(a.at)}) {_cell(a.actor_name)}: {a.action.replace('_', ' ')}"
              + (f" — {_cell(a.detail)}" if a.detail else "") for a in audits]
    return "\n".join(lines) + "\n"
