"""Render a crisis for Slack: the checklist, the triage-channel banner, the room intro, reminders and the report."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from bot.core.clock_words import moment
from bot.core.crisis.views import ChecklistView, CrisisReminder, ReplyGate, StepStatus, StepView
from bot.core.views import CrisisTag, PersonRef
from bot.core.wording import linked_mentions, role_holders, step_outcome
from bot.slack.escape import escape_mrkdwn, split, truncate
from bot.slack.ids import Action
from bot.slack.render import SECTION_LIMIT, Message, crisis_label, mention

MAX_BLOCKS = 50  # Block Kit: blocks in one message
MAX_ACTIONS = 25  # Block Kit: elements in one actions block
VALUE_LIMIT = 2000  # Block Kit: a button's value
REPORT_LIMIT = 12_000  # Block Kit: text of a markdown block
_NOTE_LIMIT = 1000  # a note or reason inside a step's line
_FALLBACK_LIMIT = 300  # notification text

_NOT_CODE = re.compile(r"[^\w .\-…]")  # Slack's error codes, or our own words about taken names
_MARKS = {StepStatus.DONE: ":white_check_mark:", StepStatus.SKIPPED: ":fast_forward:",
          StepStatus.NEXT: ":arrow_forward:", StepStatus.WAITING: ":hourglass:"}
_GATE = {ReplyGate.OPEN: ":speech_balloon: Replies to linked mentions are open.",
         ReplyGate.HOLD: ":no_entry: Replies to linked mentions are on hold for this crisis.",
         ReplyGate.APPROVAL: ":lock_with_ink_pen: Each reply to a linked mention needs the approval of another "
                             "member of the lead role.",
         ReplyGate.DRILL: ":performing_arts: This is a drill: it gates no replies."}


def render_checklist(view: ChecklistView) -> Message:
    """Render the checklist: every step with its owners, due time and outcome, and buttons while it runs."""
    prefix = f"crisis-{view.id}"
    head = [_section(f"{prefix}-title", _headline(view)), _context(f"{prefix}-meta", _meta(view)),
            _section(f"{prefix}-gate", _gate(view)), {"type": "divider", "block_id": f"{prefix}-divider"}]
    tail = [_context(f"{prefix}-ended", _ended(view))] if not view.running else []
    steps = [_step_blocks(view, i, step) for i, step in enumerate(view.steps)]
    if len(head) + len(tail) + sum(len(s) for s in steps) <= MAX_BLOCKS:
        body = [block for blocks in steps for block in blocks]
    else:
        body = _compact_steps(view, MAX_BLOCKS - len(head) - len(tail))
    return _checklist_fallback(view), head + body + tail


def render_banner(view: ChecklistView, room: str | None) -> Message:
    """Render the triage channel's banner; `room` is the crisis channel's id (None: the banner's own thread)."""
    where = f"<#{room}>" if room else "the thread of this message"
    if view.running:
        text = (f"{_headline(view)} is running since {_time(view.started_at, view.now, view.zone)}. "
                f"Follow it in {where}.\n{_gate(view)}")
    else:
        text = f"{_headline(view)} — {_ended(view)}. The report is in {where}."
    fallback = f"{crisis_label(view.tag)} — {'running' if view.running else 'ended'}"
    return truncate(escape_mrkdwn(fallback), _FALLBACK_LIMIT), [
        _section(f"crisis-{view.id}-banner", truncate(text, SECTION_LIMIT)),
        _context(f"crisis-{view.id}-banner-leads", _leads(view))]


def render_room_intro(view: ChecklistView, *, refused: str | None, uninvited: Sequence[PersonRef]) -> Message:
    """Render the first message of the crisis' room: what it is for, and what the bot could not do."""
    lines = [f"{_headline(view)}: this is its room. The checklist follows; press *Mark done* on a step, or type "
             f"`/webcare crisis done <step>` here."]
    if refused is not None:
        reason = _NOT_CODE.sub("", refused)
        lines.append(f":warning: Slack did not let me create a channel for this crisis (`{reason}`), "
                     f"so it runs in this thread instead. Commands typed in the triage channel act on it while it "
                     f"is the only crisis running; otherwise add `--crisis {view.id}`.")
    if uninvited:
        names = ", ".join(mention(p) for p in uninvited)
        lines.append(f":warning: I could not invite {names}; please add them to this channel.")
    text = truncate("\n".join(lines), SECTION_LIMIT)
    return truncate(escape_mrkdwn(crisis_label(view.tag)), _FALLBACK_LIMIT), [
        _section(f"crisis-{view.id}-room", text)]


def render_reminder(reminder: CrisisReminder) -> Message:
    """Render a reminder about an overdue step, pinging its owners (or, when very late, the lead)."""
    step = reminder.step
    title = f"“{escape_mrkdwn(step.title)}”"
    due = f" was due {_time(step.due_at, reminder.now, reminder.zone)}" if step.due_at else " is overdue"
    who = ", ".join(mention(p) for p in reminder.notify) or f"Members of {escape_mrkdwn(step.owner_role)}"
    if reminder.to_lead:
        text = (f":rotating_light: {who}: {title} (owner: {escape_mrkdwn(step.owner_role)}){due} and is still "
                f"not done, twice its time. Please step in.")
    else:
        text = (f":alarm_clock: {who}: {title}{due} and is not done yet. When it is, press *Mark done* on the "
                f"checklist or type `/webcare crisis done {step.id}`.")
    fallback = f"{crisis_label(reminder.crisis)}: “{step.title}” is overdue"
    return truncate(escape_mrkdwn(fallback), _FALLBACK_LIMIT), [
        _section(f"crisis-{reminder.crisis.id}-reminder-{step.id}"[:255], truncate(text, SECTION_LIMIT))]


def render_report(tag: CrisisTag, markdown: str) -> Message:
    """Render the stored markdown report as a `markdown` block, cut with a note when it is too long."""
    # Our people's notes are in the report as they typed them: escaping keeps `<!channel>` and the like inert.
    text = markdown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if len(text) > REPORT_LIMIT:
        note = f"\n\n… cut here: the full report is printed by `webcare crisis report {tag.id}`."
        text = text[: REPORT_LIMIT - len(note)].rsplit("\n", 1)[0] + note
    headline = f":page_facing_up: Report of {crisis_label(tag)}"
    return truncate(escape_mrkdwn(f"Report of {crisis_label(tag)}"), _FALLBACK_LIMIT), [
        _section(f"crisis-{tag.id}-report-title", truncate(headline, SECTION_LIMIT)),
        {"type": "markdown", "text": text}]


def _headline(view: ChecklistView) -> str:
    icon = ":performing_arts:" if view.drill else ":rotating_light:"
    title = f"*{escape_mrkdwn(crisis_label(view.tag))}*"
    return truncate(f"{icon} {title} ({escape_mrkdwn(view.severity)})", _NOTE_LIMIT)


def _meta(view: ChecklistView) -> str:
    parts = [f"Started by {mention(view.started_by)} {_time(view.started_at, view.now, view.zone)}",
             f"playbook `{escape_mrkdwn(view.playbook)}` version `{escape_mrkdwn(view.version[:12])}`",
             linked_mentions(view.linked)]
    if view.note:
        parts.append(f"note: {truncate(escape_mrkdwn(view.note), _NOTE_LIMIT)}")
    return truncate(" · ".join(parts), SECTION_LIMIT)


def _leads(view: ChecklistView) -> str:
    leads = ", ".join(mention(p) for p in view.leads) or "nobody holds it"
    return truncate(f"Lead ({escape_mrkdwn(view.lead_role)}): {leads}", SECTION_LIMIT)


def _gate(view: ChecklistView) -> str:
    if view.gate is ReplyGate.LOCKED and view.gate_step is not None:
        step = view.gate_step
        return truncate(f":lock: Replies to linked mentions wait for “{escape_mrkdwn(step.title)}” "
                        f"(owner: {escape_mrkdwn(step.owner_role)}).", SECTION_LIMIT)
    return _GATE.get(view.gate, _GATE[ReplyGate.OPEN])


def _ended(view: ChecklistView) -> str:
    assert view.ended_at is not None
    by = f" by {mention(view.ended_by)}" if view.ended_by else ""
    text = f":checkered_flag: Ended {_time(view.ended_at, view.now, view.zone)}{by}"
    if view.forced_reason:
        text += f", before every required step was done: {truncate(escape_mrkdwn(view.forced_reason), _NOTE_LIMIT)}"
    return truncate(text, SECTION_LIMIT)


def _step_line(view: ChecklistView, step: StepView) -> str:
    optional = ", optional" if step.optional else ""
    unlocks = " · unlocks replies" if step.unlocks_replies else ""
    owners = role_holders(step.owners, mention)
    line = (f"{_MARKS[step.status]} *{escape_mrkdwn(step.title)}* (`{escape_mrkdwn(step.id)}`{optional}){unlocks}\n"
            f"Owner {escape_mrkdwn(step.owner_role)}: {owners}")
    if step.by is not None and step.at is not None:
        line += f"\n{step_outcome(step, mention)} {_time(step.at, view.now, view.zone)}"
        line += f": {truncate(escape_mrkdwn(step.note), _NOTE_LIMIT)}" if step.note else ""
    elif step.due_at is not None:
        line += f" · due {_time(step.due_at, view.now, view.zone)} (+{_span(step.due_at - view.started_at)})"
        line += " · :warning: *OVERDUE*" if step.overdue and view.running else ""
    return truncate(line, SECTION_LIMIT)


def _buttons(view: ChecklistView, index: int, step: StepView) -> list[dict]:
    """Mark done on the step that can be completed now; Skip on an optional step still open."""
    value = f"{view.id}:{step.id}"
    if not view.running or step.status in (StepStatus.DONE, StepStatus.SKIPPED) or len(value) > VALUE_LIMIT:
        return []  # an absurdly long step id still works as a typed command
    buttons = []
    if step.status is StepStatus.NEXT:
        buttons.append({"type": "button", "action_id": f"{Action.CRISIS_DONE}:{index}", "style": "primary",
                        "text": _plain("Mark done"), "value": value})
    if step.optional:
        buttons.append({"type": "button", "action_id": f"{Action.CRISIS_SKIP}:{index}", "text": _plain("Skip…"),
                        "value": value})
    return buttons


def _step_blocks(view: ChecklistView, index: int, step: StepView) -> list[dict]:
    blocks = [_section(f"crisis-{view.id}-step-{index}", _step_line(view, step))]
    if buttons := _buttons(view, index, step):
        blocks.append({"type": "actions", "block_id": f"crisis-{view.id}-step-{index}-actions", "elements": buttons})
    return blocks


def _compact_steps(view: ChecklistView, budget: int) -> list[dict]:
    """A playbook too long for a block per step: its lines packed into few sections, buttons in one row."""
    buttons = [b for i, s in enumerate(view.steps) for b in _buttons(view, i, s)][:MAX_ACTIONS]
    pieces = split("\n\n".join(_step_line(view, s) for s in view.steps), SECTION_LIMIT)
    room = budget - (1 if buttons else 0)
    if len(pieces) > room:
        pieces = pieces[: room - 1] + ["… more steps than one message holds: type `/webcare crisis status`."]
    blocks = [_section(f"crisis-{view.id}-steps-{i}", piece) for i, piece in enumerate(pieces)]
    if buttons:
        labelled = [{**b, "text": _plain(f"{b['text']['text']} {_step_title(view, b['value'])}"[:75])}
                    for b in buttons]
        blocks.append({"type": "actions", "block_id": f"crisis-{view.id}-steps-actions", "elements": labelled})
    return blocks


def _step_title(view: ChecklistView, value: str) -> str:
    step_id = value.partition(":")[2]
    return next(s.title for s in view.steps if s.id == step_id)


def _checklist_fallback(view: ChecklistView) -> str:
    done = sum(s.status in (StepStatus.DONE, StepStatus.SKIPPED) for s in view.steps)
    following = next((s for s in view.steps if s.status is StepStatus.NEXT), None)
    state = f"next: {following.title}" if following and view.running else ("ended" if not view.running else "")
    text = f"{crisis_label(view.tag)} — {done}/{len(view.steps)} steps done" + (
        f"; {state}" if state else "")
    return truncate(escape_mrkdwn(text), _FALLBACK_LIMIT)


def _time(at: datetime, now: datetime, zone: tzinfo) -> str:
    """A time every reader sees in their own time zone (Slack formats it), else in the team's, with its date."""
    fallback = moment(at, now=now, zone=zone, relative=False)
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _span(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def _section(block_id: str, text: str) -> dict:
    return {"type": "section", "block_id": block_id, "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _context(block_id: str, text: str) -> dict:
    return {"type": "context", "block_id": block_id,
            "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}
