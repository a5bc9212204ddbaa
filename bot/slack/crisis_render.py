"""Render a crisis for Slack: the checklist, the triage-channel banner, the room intro, reminders and the report."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, tzinfo

from bot.core.catalogue import Words
from bot.core.clock_words import moment, span
from bot.core.crisis.views import ChecklistView, CrisisReminder, ReplyGate, StepStatus, StepView
from bot.core.views import CrisisTag, PersonRef
from bot.core.wording import crisis_name, linked_mentions, role_holders, step_outcome
from bot.slack.escape import escape_mrkdwn, split, truncate
from bot.slack.ids import Action
from bot.slack.render import SECTION_LIMIT, Message, mention

MAX_BLOCKS = 50  # Block Kit: blocks in one message
MAX_ACTIONS = 25  # Block Kit: elements in one actions block
VALUE_LIMIT = 2000  # Block Kit: a button's value
REPORT_LIMIT = 12_000  # Block Kit: text of a markdown block
_NOTE_LIMIT = 1000  # a note or reason inside a step's line
_FALLBACK_LIMIT = 300  # notification text

_NOT_CODE = re.compile(r"[^\w .\-…]")  # Slack's error codes, or our own words about taken names
_MARKS = {StepStatus.DONE: ":white_check_mark:", StepStatus.SKIPPED: ":fast_forward:",
          StepStatus.NEXT: ":arrow_forward:", StepStatus.WAITING: ":hourglass:"}
_GATE = {ReplyGate.OPEN: (":speech_balloon:", "crisis.gate_open"), ReplyGate.HOLD: (":no_entry:", "crisis.gate_hold"),
         ReplyGate.APPROVAL: (":lock_with_ink_pen:", "crisis.gate_approval"),
         ReplyGate.DRILL: (":performing_arts:", "crisis.gate_drill")}


def render_checklist(view: ChecklistView, say: Words) -> Message:
    """Render the checklist: every step with its owners, due time and outcome, and buttons while it runs."""
    prefix = f"crisis-{view.id}"
    head = [_section(f"{prefix}-title", _headline(view, say)), _context(f"{prefix}-meta", _meta(view, say)),
            _section(f"{prefix}-gate", _gate(view, say)), {"type": "divider", "block_id": f"{prefix}-divider"}]
    tail = [_context(f"{prefix}-ended", _ended(view, say))] if not view.running else []
    steps = [_step_blocks(view, i, step, say) for i, step in enumerate(view.steps)]
    if len(head) + len(tail) + sum(len(s) for s in steps) <= MAX_BLOCKS:
        body = [block for blocks in steps for block in blocks]
    else:
        body = _compact_steps(view, MAX_BLOCKS - len(head) - len(tail), say)
    return _checklist_fallback(view, say), head + body + tail


def render_banner(view: ChecklistView, room: str | None, say: Words) -> Message:
    """Render the triage channel's banner; `room` is the crisis channel's id (None: the banner's own thread)."""
    where = f"<#{room}>" if room else say("crisis.this_thread")
    if view.running:
        text = (say("crisis.running_since", crisis=_headline(view, say), time=_time(view.started_at, view, say),
                    where=where) + f"\n{_gate(view, say)}")
    else:
        text = say("crisis.ended_report", crisis=_headline(view, say), ended=_ended(view, say), where=where)
    state = say("crisis.running") if view.running else say("crisis.ended")
    fallback = f"{crisis_name(say, view.tag)} — {state}"
    return truncate(escape_mrkdwn(fallback), _FALLBACK_LIMIT), [
        _section(f"crisis-{view.id}-banner", truncate(text, SECTION_LIMIT)),
        _context(f"crisis-{view.id}-banner-leads", _leads(view, say))]


def render_room_intro(view: ChecklistView, say: Words, *, refused: str | None,
                      uninvited: Sequence[PersonRef]) -> Message:
    """Render the first message of the crisis' room: what it is for, and what the bot could not do."""
    lines = [say("crisis.room", crisis=_headline(view, say), button=f"*{say('crisis.mark_done')}*",
                 command=f"`/webcare crisis done <{say('crisis.step_arg')}>`")]
    if refused is not None:
        reason = _NOT_CODE.sub("", refused)
        lines.append(":warning: " + say("crisis.room_in_thread", reason=f"`{reason}`", option=f"`--crisis {view.id}`"))
    if uninvited:
        names = ", ".join(mention(p) for p in uninvited)
        lines.append(":warning: " + say("crisis.not_invited", people=names))
    text = truncate("\n".join(lines), SECTION_LIMIT)
    return truncate(escape_mrkdwn(crisis_name(say, view.tag)), _FALLBACK_LIMIT), [
        _section(f"crisis-{view.id}-room", text)]


def render_reminder(reminder: CrisisReminder, say: Words) -> Message:
    """Render a reminder about an overdue step, pinging its owners (or, when very late, the lead)."""
    step = reminder.step
    title = f"“{escape_mrkdwn(step.title)}”"
    due = say("crisis.was_due", time=_slack_time(step.due_at, reminder.now, reminder.zone, say)) if step.due_at \
        else say("crisis.is_overdue")
    owner = escape_mrkdwn(step.owner_role)
    who = ", ".join(mention(p) for p in reminder.notify) or say("crisis.members_of", role=owner)
    if reminder.to_lead:
        text = ":rotating_light: " + say("crisis.remind_lead", who=who, step=title, owner=owner, due=due)
    else:
        text = ":alarm_clock: " + say("crisis.remind_owners", who=who, step=title, due=due,
                                      button=f"*{say('crisis.mark_done')}*",
                                      command=f"`/webcare crisis done {step.id}`")
    fallback = say("crisis.overdue_notice", crisis=crisis_name(say, reminder.crisis), step=step.title)
    return truncate(escape_mrkdwn(fallback), _FALLBACK_LIMIT), [
        _section(f"crisis-{reminder.crisis.id}-reminder-{step.id}"[:255], truncate(text, SECTION_LIMIT))]


def render_report(tag: CrisisTag, markdown: str, say: Words) -> Message:
    """Render the stored markdown report as a `markdown` block, cut with a note when it is too long."""
    # Our people's notes are in the report as they typed them: escaping keeps `<!channel>` and the like inert.
    text = markdown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if len(text) > REPORT_LIMIT:
        note = "\n\n" + say("crisis.report_cut", command=f"`webcare crisis report {tag.id}`")
        text = text[: REPORT_LIMIT - len(note)].rsplit("\n", 1)[0] + note
    title = say("crisis.report_of", crisis=crisis_name(say, tag))
    return truncate(escape_mrkdwn(title), _FALLBACK_LIMIT), [
        _section(f"crisis-{tag.id}-report-title", truncate(f":page_facing_up: {title}", SECTION_LIMIT)),
        {"type": "markdown", "text": text}]


def _headline(view: ChecklistView, say: Words) -> str:
    icon = ":performing_arts:" if view.drill else ":rotating_light:"
    title = f"*{escape_mrkdwn(crisis_name(say, view.tag))}*"
    return truncate(f"{icon} {title} ({escape_mrkdwn(view.severity)})", _NOTE_LIMIT)


def _meta(view: ChecklistView, say: Words) -> str:
    parts = [say("crisis.started_by", person=mention(view.started_by), time=_time(view.started_at, view, say)),
             say("crisis.playbook_version", playbook=f"`{escape_mrkdwn(view.playbook)}`",
                 version=f"`{escape_mrkdwn(view.version[:12])}`"),
             linked_mentions(say, view.linked)]
    if view.note:
        parts.append(say("crisis.note", note=truncate(escape_mrkdwn(view.note), _NOTE_LIMIT)))
    return truncate(" · ".join(parts), SECTION_LIMIT)


def _leads(view: ChecklistView, say: Words) -> str:
    leads = ", ".join(mention(p) for p in view.leads) or say("crisis.nobody_leads")
    return truncate(say("crisis.lead", role=escape_mrkdwn(view.lead_role), people=leads), SECTION_LIMIT)


def _gate(view: ChecklistView, say: Words) -> str:
    if view.gate is ReplyGate.LOCKED and view.gate_step is not None:
        step = view.gate_step
        words = say("crisis.gate_locked", step=escape_mrkdwn(step.title), owner=escape_mrkdwn(step.owner_role))
        return truncate(f":lock: {words}", SECTION_LIMIT)
    icon, key = _GATE.get(view.gate, _GATE[ReplyGate.OPEN])
    return f"{icon} {say(key)}"


def _ended(view: ChecklistView, say: Words) -> str:
    assert view.ended_at is not None
    when = _time(view.ended_at, view, say)
    text = say("crisis.ended_by", time=when, person=mention(view.ended_by)) if view.ended_by \
        else say("crisis.ended_at", time=when)
    if view.forced_reason:
        text = say("crisis.ended_early", ended=text, reason=truncate(escape_mrkdwn(view.forced_reason), _NOTE_LIMIT))
    return truncate(f":checkered_flag: {text}", SECTION_LIMIT)


def _step_line(view: ChecklistView, step: StepView, say: Words) -> str:
    optional = f", {say('crisis.optional')}" if step.optional else ""
    unlocks = f" · {say('crisis.unlocks_replies')}" if step.unlocks_replies else ""
    owners = role_holders(say, step.owners, mention)
    line = (f"{_MARKS[step.status]} *{escape_mrkdwn(step.title)}* (`{escape_mrkdwn(step.id)}`{optional}){unlocks}\n"
            + say("crisis.owner", role=escape_mrkdwn(step.owner_role), people=owners))
    if step.by is not None and step.at is not None:
        line += f"\n{step_outcome(say, step, mention)} {_time(step.at, view, say)}"
        line += f": {truncate(escape_mrkdwn(step.note), _NOTE_LIMIT)}" if step.note else ""
    elif step.due_at is not None:
        line += " · " + say("crisis.due", time=_time(step.due_at, view, say),
                            span=span(step.due_at - view.started_at, say))
        line += f" · :warning: *{say('crisis.overdue_flag')}*" if step.overdue and view.running else ""
    return truncate(line, SECTION_LIMIT)


def _buttons(view: ChecklistView, index: int, step: StepView, say: Words) -> list[dict]:
    """Mark done on the step that can be completed now; Skip on an optional step still open."""
    value = f"{view.id}:{step.id}"
    if not view.running or step.status in (StepStatus.DONE, StepStatus.SKIPPED) or len(value) > VALUE_LIMIT:
        return []  # an absurdly long step id still works as a typed command
    buttons = []
    if step.status is StepStatus.NEXT:
        buttons.append({"type": "button", "action_id": f"{Action.CRISIS_DONE}:{index}", "style": "primary",
                        "text": _plain(say("crisis.mark_done")), "value": value})
    if step.optional:
        buttons.append({"type": "button", "action_id": f"{Action.CRISIS_SKIP}:{index}",
                        "text": _plain(say("crisis.skip_dialog")),
                        "value": value})
    return buttons


def _step_blocks(view: ChecklistView, index: int, step: StepView, say: Words) -> list[dict]:
    blocks = [_section(f"crisis-{view.id}-step-{index}", _step_line(view, step, say))]
    if buttons := _buttons(view, index, step, say):
        blocks.append({"type": "actions", "block_id": f"crisis-{view.id}-step-{index}-actions", "elements": buttons})
    return blocks


def _compact_steps(view: ChecklistView, budget: int, say: Words) -> list[dict]:
    """A playbook too long for a block per step: its lines packed into few sections, buttons in one row."""
    buttons = [b for i, s in enumerate(view.steps) for b in _buttons(view, i, s, say)][:MAX_ACTIONS]
    pieces = split("\n\n".join(_step_line(view, s, say) for s in view.steps), SECTION_LIMIT)
    room = budget - (1 if buttons else 0)
    if len(pieces) > room:
        pieces = pieces[: room - 1] + [say("crisis.too_many_steps", command="`/webcare crisis status`")]
    blocks = [_section(f"crisis-{view.id}-steps-{i}", piece) for i, piece in enumerate(pieces)]
    if buttons:
        labelled = [{**b, "text": _plain(f"{b['text']['text']} {_step_title(view, b['value'])}"[:75])}
                    for b in buttons]
        blocks.append({"type": "actions", "block_id": f"crisis-{view.id}-steps-actions", "elements": labelled})
    return blocks


def _step_title(view: ChecklistView, value: str) -> str:
    step_id = value.partition(":")[2]
    return next(s.title for s in view.steps if s.id == step_id)


def _checklist_fallback(view: ChecklistView, say: Words) -> str:
    done = sum(s.status in (StepStatus.DONE, StepStatus.SKIPPED) for s in view.steps)
    following = next((s for s in view.steps if s.status is StepStatus.NEXT), None)
    state = say("crisis.next_step", step=following.title) if following and view.running else (
        say("crisis.ended") if not view.running else "")
    text = say("crisis.steps_done", crisis=crisis_name(say, view.tag), done=done, total=len(view.steps)) + (
        f"; {state}" if state else "")
    return truncate(escape_mrkdwn(text), _FALLBACK_LIMIT)


def _time(at: datetime, view: ChecklistView, say: Words) -> str:
    return _slack_time(at, view.now, view.zone, say)


def _slack_time(at: datetime, now: datetime, zone: tzinfo, say: Words) -> str:
    """A time every reader sees in their own time zone (Slack formats it), else in the team's, with its date."""
    fallback = moment(at, now=now, zone=zone, say=say, relative=False)
    return f"<!date^{int(at.timestamp())}^{say('time.slack_date')}|{fallback}>"


def _section(block_id: str, text: str) -> dict:
    return {"type": "section", "block_id": block_id, "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _context(block_id: str, text: str) -> dict:
    return {"type": "context", "block_id": block_id,
            "elements": [{"type": "mrkdwn", "text": text, "verbatim": True}]}


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}
