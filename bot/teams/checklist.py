"""Render crises as Adaptive Cards: the checklist (the thread's root, and the banner), reminders and the report."""

from __future__ import annotations

from datetime import datetime

from bot.chat.answers import gate_line
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


def _at(view: ChecklistView, at: datetime) -> str:
    return moment(at, now=view.now, zone=view.zone, relative=False)  # the card stays: a date, not "tomorrow"


def _name(person: PersonRef) -> str:
    return escape_markdown(clip(person.name, NAME_LIMIT))


def render_checklist(view: ChecklistView) -> dict:
    """Render a crisis' checklist: steps with owners @mentioned, due times, status, and Mark done / Skip.

    It is the root post of the crisis' thread in the triage channel, so its top is the banner.
    Owners and leads are mentioned only by their Teams id from webcare.toml; notes and reasons,
    which anyone may type, are TextRuns. A playbook too long for one Teams message shows the steps
    around the one to do next, as many as fit, and says how many more `crisis status` lists.
    """
    return _checklist_card(view, _window(view))


def steps_on_card(view: ChecklistView) -> int:
    """How many of the checklist's steps its Teams card shows (a long playbook's do not all fit)."""
    return len(_window(view))


def _window(view: ChecklistView) -> range:
    """The steps the card shows: all that fit, from the one to do next on, then the ones before it."""
    shown = range(len(view.steps))
    if size(_checklist_card(view, shown)) <= CARD_LIMIT:
        return shown
    shown = range(_next_index(view), _next_index(view))
    for grow in (_later, _earlier):  # what comes next matters most, then what was done last
        while (wider := grow(shown, len(view.steps))) != shown and size(_checklist_card(view, wider)) <= CARD_LIMIT:
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


def _checklist_card(view: ChecklistView, shown: range) -> dict:
    """The checklist card with the steps in `shown`, and a line for the steps before and after them."""
    mentions = Mentions()
    prefix = f"crisis-{view.id}"
    elapsed = int(view.elapsed.total_seconds() // 60)
    if view.running:
        state = f"running for {elapsed} min"
    else:
        assert view.ended_at is not None
        by = f" by {_name(view.ended_by)}" if view.ended_by else ""
        state = f"ended at {_at(view, view.ended_at)}{by} after {elapsed} min"
    leads = role_holders(view.leads, mentions)
    banner = [
        rich_text(f"{prefix}-title", [run(crisis_label(view.tag), weight="bolder", size="large")]),
        text_block(f"Severity {escape_markdown(view.severity)} · started {_at(view, view.started_at)} by "
                   f"{_name(view.started_by)} · {state} · {linked_mentions(view.linked)}", id=f"{prefix}-state",
                   spacing="none"),
    ]
    if view.drill:
        banner.append(text_block("**DRILL** — training only: it never gates real replies.", id=f"{prefix}-drill"))
    body: list[dict] = [
        {"type": "Container", "style": "emphasis" if view.drill else "attention", "bleed": True, "items": banner},
        text_block(f"Lead ({escape_markdown(view.lead_role)}): {leads}", id=f"{prefix}-leads"),
        text_block(f"Replies: {escape_markdown(gate_line(view))}", id=f"{prefix}-gate", spacing="none"),
    ]
    if view.note:
        body.append(rich_text(f"{prefix}-note", [run("Note: ", weight="bolder"), run(clip(view.note, _NOTE_LIMIT))]))
    if view.forced_reason:
        body.append(rich_text(f"{prefix}-forced", [run("Ended early: ", weight="bolder"),
                                                    run(clip(view.forced_reason, _NOTE_LIMIT))]))
    if shown.start > 0:
        body.append(_elsewhere(f"{prefix}-earlier", f"{shown.start} earlier step{'s' * (shown.start != 1)}"))
    body += [_step(view, view.steps[i], mentions) for i in shown]
    if (after := len(view.steps) - shown.stop) > 0:
        body.append(_elsewhere(f"{prefix}-later", f"… {after} more step{'s' * (after != 1)}"))
    fallback = f"{crisis_label(view.tag)} — checklist ({'running' if view.running else 'ended'})"
    return adaptive_card(body, entities=mentions.entities, fallback_text=escape_markdown(fallback))


def _elsewhere(block_id: str, what: str) -> dict:
    """The line standing in for steps a Teams message has no room for."""
    return text_block(f"{what} — `@Webcare crisis status` lists every step.", id=block_id, isSubtle=True,
                      separator=True)


def _step(view: ChecklistView, step: StepView, mention: Mentions) -> dict:
    prefix = f"crisis-{view.id}-step-{step.id}"
    flags = (" · optional" if step.optional else "") + (" · unlocks replies" if step.unlocks_replies else "")
    headline = f"{_MARKS[step.status]} **{escape_markdown(step.title)}**{flags}"
    owners = role_holders(step.owners, mention)
    who = f"Owner: {escape_markdown(step.owner_role)} ({owners})"
    items = [text_block(headline, id=prefix), text_block(who, id=f"{prefix}-owner", spacing="none")]
    if step.by is not None and step.at is not None:
        outcome = [run(f"{step_outcome(step, name)} at {_at(view, step.at)}")]
        if step.note:
            outcome.append(run(f": {clip(step.note, _NOTE_LIMIT)}"))
        items.append(rich_text(f"{prefix}-outcome", outcome, spacing="none"))
    elif step.due_at is not None:
        late = " — **overdue**" if step.overdue else ""
        items.append(text_block(f"Due {_at(view, step.due_at)}{late}", id=f"{prefix}-due", spacing="none",
                                color="attention" if step.overdue else "default"))
    if actions := _step_actions(view, step):
        items.append({"type": "ActionSet", "actions": actions})
    return {"type": "Container", "id": f"{prefix}-box", "separator": True, "items": items}


def _step_actions(view: ChecklistView, step: StepView) -> list[dict]:
    """Mark done on the step that can be done now; Skip (with a reason) on optional steps still open."""
    if not view.running or step.status in (StepStatus.DONE, StepStatus.SKIPPED):
        return []
    data: dict[str, int | str] = {"crisis_id": view.id, "step": step.id}
    actions = []
    if step.status is StepStatus.NEXT:
        actions.append(execute("Mark done", Verb.CRISIS_DONE, data, style="positive"))
    if step.optional:
        reason = {"type": "Input.Text", "id": skip_reason(step.id), "label": "Why skip it?", "isMultiline": True,
                  "maxLength": INPUT_LIMIT, "isRequired": True, "errorMessage": "Give a reason for skipping."}
        actions.append(show_card("Skip", [reason], [execute("Skip", Verb.CRISIS_SKIP, data, style="destructive")]))
    return actions


def render_reminder(reminder: CrisisReminder) -> dict:
    """Render a reminder for the crisis' thread, @mentioning the step's owners (or, past twice its due, the leads)."""
    mentions = Mentions()
    step = reminder.step
    who = role_holders(reminder.notify, mentions)
    title = escape_markdown(step.title)
    due = f" (due {moment(step.due_at, now=reminder.now, zone=reminder.zone, relative=False)})" \
        if step.due_at is not None else ""
    if reminder.to_lead:
        text = (f"⏰ {who}: “{title}” (owner: {escape_markdown(step.owner_role)}) is still not done, more than "
                f"twice past its due time{due}. Chase its owner, or end the crisis with a reason.")
    else:
        text = f"⏰ {who}: “{title}” is overdue{due}. Mark it done on the checklist once it is."
    body = [rich_text(f"crisis-{reminder.crisis.id}-reminder-label", [run(crisis_label(reminder.crisis),
                                                                          weight="bolder")]),
            text_block(text, id=f"crisis-{reminder.crisis.id}-reminder-{step.id}")]
    return adaptive_card(body, entities=mentions.entities, fallback_text=f"Overdue: {title}")


def render_report(tag: CrisisTag, markdown: str) -> dict:
    """Render the stored markdown report as written (a monospace TextRun), cut to fit with a pointer to the rest."""
    headline = f"📄 Report of {escape_markdown(crisis_label(tag))}"
    command = f"webcare crisis report {tag.id} --out FILE"

    def build(text: str, was_cut: bool) -> dict:
        body = [text_block(headline, weight="bolder", id=f"crisis-{tag.id}-report-title"),
                rich_text(f"crisis-{tag.id}-report", [run(text, fontType="Monospace")])]
        if was_cut:
            body.append(text_block(f"The report is longer than a Teams message: `{command}` saves all of it.",
                                   isSubtle=True))
        else:
            body.append(text_block(f"Stored with the crisis; `{command}` saves it as markdown.", isSubtle=True))
        return adaptive_card(body, fallback_text=escape_markdown(f"Report of {crisis_label(tag)}"))

    return fit(build, markdown, chars=REPORT_LIMIT)
