"""Render crises as Adaptive Cards: the checklist (the thread's root, and the banner), reminders and the report."""

from __future__ import annotations

from datetime import datetime

from bot.chat.answers import gate_line
from bot.core.catalogue import Words
from bot.core.clock_words import moment
from bot.core.crisis.views import ChecklistView, CrisisReminder, StepStatus, StepView
from bot.core.views import CrisisTag, PersonRef
from bot.core.wording import linked_mentions, role_holders, step_outcome
from bot.teams.cards import (
    CARD_LIMIT,
    INPUT_LIMIT,
    NAME_LIMIT,
    Mentions,
    adaptive_card,
    execute,
    fit,
    name,
    rich_text,
    run,
    show_card,
    size,
    text_block,
)
from bot.teams.escape import clip, escape_markdown
from bot.teams.ids import Verb, skip_reason
from bot.teams.render import crisis_label

REPORT_LIMIT = 20_000  # characters of a report on a card; the whole one is stored and printable
_NOTE_LIMIT = 1000
_MARKS = {StepStatus.DONE: "✅", StepStatus.SKIPPED: "⏭️", StepStatus.NEXT: "▶️", StepStatus.WAITING: "⏳"}


def _at(view: ChecklistView, at: datetime, say: Words) -> str:
    return moment(at, now=view.now, zone=view.zone, say=say, relative=False)  # the card stays: a date, not "tomorrow"


def _name(person: PersonRef) -> str:
    return escape_markdown(clip(person.name, NAME_LIMIT))


def render_checklist(view: ChecklistView, say: Words) -> dict:
    """Render a crisis' checklist: steps with owners @mentioned, due times, status, and Mark done / Skip.

    It is the root post of the crisis' thread in the triage channel, so its top is the banner.
    Owners and leads are mentioned only by their Teams id from webcare.toml; notes and reasons,
    which anyone may type, are TextRuns. A playbook too long for one Teams message shows the steps
    around the one to do next, as many as fit, and says how many more `crisis status` lists.
    """
    return _checklist_card(view, _window(view, say), say)


def steps_on_card(view: ChecklistView, say: Words) -> int:
    """How many of the checklist's steps its Teams card shows (a long playbook's do not all fit)."""
    return len(_window(view, say))


def _window(view: ChecklistView, say: Words) -> range:
    """The steps the card shows: all that fit, from the one to do next on, then the ones before it."""
    shown = range(len(view.steps))
    if size(_checklist_card(view, shown, say)) <= CARD_LIMIT:
        return shown
    shown = range(_next_index(view), _next_index(view))
    for grow in (_later, _earlier):  # what comes next matters most, then what was done last
        while (wider := grow(shown, len(view.steps))) != shown and \
                size(_checklist_card(view, wider, say)) <= CARD_LIMIT:
            shown = wider
    return shown


def _next_index(view: ChecklistView) -> int:
    """The step to do next: the first required one still open (else the first open one, else the first)."""
    still_open = [i for i, s in enumerate(view.steps) if s.status not in (StepStatus.DONE, StepStatus.SKIPPED)]
    return next((i for i in still_open if not view.steps[i].optional), still_open[0] if still_open else 0)


def _later(shown: range, total: int) -> range:
    return range(shown.start, min(total, shown.stop + 1))


def _earlier(shown: range, _total: int) -> range:
    return range(max(0, shown.start - 1), shown.stop)


def _checklist_card(view: ChecklistView, shown: range, say: Words) -> dict:
    """The checklist card with the steps in `shown`, and a line for the steps before and after them."""
    mentions = Mentions()
    prefix = f"crisis-{view.id}"
    elapsed = int(view.elapsed.total_seconds() // 60)
    if view.running:
        state = say("crisis.running_for", minutes=elapsed)
    else:
        assert view.ended_at is not None
        when = _at(view, view.ended_at, say)
        state = say("crisis.ended_by_after", time=when, person=_name(view.ended_by), minutes=elapsed) \
            if view.ended_by else say("crisis.ended_after", time=when, minutes=elapsed)
    leads = role_holders(say, view.leads, mentions)
    banner = [
        rich_text(f"{prefix}-title", [run(crisis_label(say, view.tag), weight="bolder", size="large")]),
        text_block(say("crisis.state_line", severity=escape_markdown(view.severity),
                       time=_at(view, view.started_at, say), person=_name(view.started_by), state=state,
                       linked=linked_mentions(say, view.linked)), id=f"{prefix}-state", spacing="none"),
    ]
    if view.drill:
        banner.append(text_block(f"**{say('crisis.drill')}** — {say('crisis.drill_note')}", id=f"{prefix}-drill"))
    body: list[dict] = [
        {"type": "Container", "style": "emphasis" if view.drill else "attention", "bleed": True, "items": banner},
        text_block(say("crisis.lead", role=escape_markdown(view.lead_role), people=leads), id=f"{prefix}-leads"),
        text_block(say("crisis.replies", gate=escape_markdown(gate_line(view, say))), id=f"{prefix}-gate",
                   spacing="none"),
    ]
    if view.note:
        body.append(rich_text(f"{prefix}-note", [run(f"{say('crisis.note_label')} ", weight="bolder"),
                                                 run(clip(view.note, _NOTE_LIMIT))]))
    if view.forced_reason:
        body.append(rich_text(f"{prefix}-forced", [run(f"{say('crisis.ended_early_label')} ", weight="bolder"),
                                                    run(clip(view.forced_reason, _NOTE_LIMIT))]))
    if shown.start > 0:
        body.append(_elsewhere(f"{prefix}-earlier", say("crisis.earlier_steps", count=shown.start), say))
    body += [_step(view, view.steps[i], mentions, say) for i in shown]
    if (after := len(view.steps) - shown.stop) > 0:
        body.append(_elsewhere(f"{prefix}-later", say("crisis.later_steps", count=after), say))
    state_word = say("crisis.running") if view.running else say("crisis.ended")
    fallback = say("crisis.checklist_fallback", crisis=crisis_label(say, view.tag), state=state_word)
    return adaptive_card(body, entities=mentions.entities, fallback_text=escape_markdown(fallback))


def _elsewhere(block_id: str, what: str, say: Words) -> dict:
    """The line standing in for steps a Teams message has no room for."""
    return text_block(say("crisis.every_step", what=what, command="`@Webcare crisis status`"), id=block_id,
                      isSubtle=True, separator=True)


def _step(view: ChecklistView, step: StepView, mention: Mentions, say: Words) -> dict:
    prefix = f"crisis-{view.id}-step-{step.id}"
    flags = (f" · {say('crisis.optional')}" if step.optional else "") + (
        f" · {say('crisis.unlocks_replies')}" if step.unlocks_replies else "")
    headline = f"{_MARKS[step.status]} **{escape_markdown(step.title)}**{flags}"
    owners = role_holders(say, step.owners, mention)
    who = say("crisis.step_owner", role=escape_markdown(step.owner_role), people=owners)
    items = [text_block(headline, id=prefix), text_block(who, id=f"{prefix}-owner", spacing="none")]
    if step.by is not None and step.at is not None:
        outcome = [run(say("crisis.outcome_at", outcome=step_outcome(say, step, name), time=_at(view, step.at, say)))]
        if step.note:
            outcome.append(run(f": {clip(step.note, _NOTE_LIMIT)}"))
        items.append(rich_text(f"{prefix}-outcome", outcome, spacing="none"))
    elif step.due_at is not None:
        late = f" — **{say('crisis.overdue')}**" if step.overdue else ""
        items.append(text_block(say("crisis.due_at", time=_at(view, step.due_at, say)) + late, id=f"{prefix}-due",
                                spacing="none", color="attention" if step.overdue else "default"))
    if actions := _step_actions(view, step, say):
        items.append({"type": "ActionSet", "actions": actions})
    return {"type": "Container", "id": f"{prefix}-box", "separator": True, "items": items}


def _step_actions(view: ChecklistView, step: StepView, say: Words) -> list[dict]:
    """Mark done on the step that can be done now; Skip (with a reason) on optional steps still open."""
    if not view.running or step.status in (StepStatus.DONE, StepStatus.SKIPPED):
        return []
    data: dict[str, int | str] = {"crisis_id": view.id, "step": step.id}
    actions = []
    if step.status is StepStatus.NEXT:
        actions.append(execute(say("crisis.mark_done"), Verb.CRISIS_DONE, data, style="positive"))
    if step.optional:
        reason = {"type": "Input.Text", "id": skip_reason(step.id), "label": say("crisis.why_skip"),
                  "isMultiline": True, "maxLength": INPUT_LIMIT, "isRequired": True,
                  "errorMessage": say("crisis.give_reason")}
        actions.append(show_card(say("crisis.skip"), [reason],
                                 [execute(say("crisis.skip"), Verb.CRISIS_SKIP, data, style="destructive")]))
    return actions


def render_reminder(reminder: CrisisReminder, say: Words) -> dict:
    """Render a reminder for the crisis' thread, @mentioning the step's owners (or, past twice its due, the leads)."""
    mentions = Mentions()
    step = reminder.step
    who = role_holders(say, reminder.notify, mentions)
    title = escape_markdown(step.title)
    due = say("crisis.due_in_brackets", time=moment(step.due_at, now=reminder.now, zone=reminder.zone, say=say,
                                                    relative=False)) if step.due_at is not None else ""
    if reminder.to_lead:
        text = "⏰ " + say("crisis.chase_lead", who=who, step=title, owner=escape_markdown(step.owner_role), due=due)
    else:
        text = "⏰ " + say("crisis.chase_owners", who=who, step=title, due=due)
    body = [rich_text(f"crisis-{reminder.crisis.id}-reminder-label", [run(crisis_label(say, reminder.crisis),
                                                                          weight="bolder")]),
            text_block(text, id=f"crisis-{reminder.crisis.id}-reminder-{step.id}")]
    return adaptive_card(body, entities=mentions.entities, fallback_text=say("crisis.overdue_fallback", step=title))


def render_report(tag: CrisisTag, markdown: str, say: Words) -> dict:
    """Render the stored markdown report as written (a monospace TextRun), cut to fit with a pointer to the rest."""
    title = say("crisis.report_of", crisis=crisis_label(say, tag))
    headline = f"📄 {escape_markdown(title)}"
    command = f"`webcare crisis report {tag.id} --out FILE`"

    def build(text: str, was_cut: bool) -> dict:
        body = [text_block(headline, weight="bolder", id=f"crisis-{tag.id}-report-title"),
                rich_text(f"crisis-{tag.id}-report", [run(text, fontType="Monospace")])]
        if was_cut:
            body.append(text_block(say("crisis.report_too_long", command=command), isSubtle=True))
        else:
            body.append(text_block(say("crisis.report_stored", command=command), isSubtle=True))
        return adaptive_card(body, fallback_text=escape_markdown(title))

    return fit(build, markdown, chars=REPORT_LIMIT)
