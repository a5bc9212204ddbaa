"""Render triage cards as Adaptive Cards; drafts and escalation notices come from `thread`."""

from __future__ import annotations

from bot.core.catalogue import Words
from bot.core.sla_clock import ClockStage
from bot.core.sla_words import clock_line
from bot.core.storms.priority_words import reason_words
from bot.core.views import (
    CardView,
    CrisisTag,
    DepartmentView,
    DismissReason,
    DraftState,
    MentionState,
    network_label,
)
from bot.core.wording import Style, age, card_summary, crisis_name, dismiss_reason, followers, mention_status
from bot.teams.answer_form import answer_form
from bot.teams.cards import (
    INPUT_LIMIT,
    NAME_LIMIT,
    adaptive_card,
    execute,
    fit,
    name,
    open_url,
    rich_text,
    run,
    show_card,
    text_block,
)
from bot.teams.escape import clip, escape_markdown, safe_url
from bot.teams.ids import Input, Verb
from bot.teams.thread import render_draft, render_escalation_notice

__all__ = ["crisis_label", "escape_markdown", "render_card", "render_draft", "render_escalation_notice"]

TEXT_LIMIT = 5000  # characters of customer text on a card; the post is a click away
_CHOICE_LIMIT = 100  # title of one choice
_SEP = " · "
_ERROR_LIMIT = 1000  # a delivery error in the status line
_WORKING = frozenset({MentionState.NEW, MentionState.CLAIMED, MentionState.ESCALATED})
_DONE = frozenset({MentionState.ANSWERED, MentionState.CLOSED, MentionState.DISMISSED})
_STATE_ICONS = {
    MentionState.NEW: "🆕",
    MentionState.CLAIMED: "✋",
    MentionState.ESCALATED: "🚨",
    MentionState.AWAITING_APPROVAL: "⏳",
    MentionState.ANSWERED: "✅",
    MentionState.CLOSED: "🔒",
    MentionState.DISMISSED: "🚫",
}
# A card's status is TextRuns: names and typed text go in plain, only cut to length.
_STYLE = Style(person=name, name=name, department=lambda department: clip(department.name, NAME_LIMIT),
               text=lambda text: clip(text, _ERROR_LIMIT))


def render_card(view: CardView, departments: list[DepartmentView], say: Words) -> dict:
    """Render a mention as a triage card: who wrote what, where, where it stands, what to do.

    `departments` are the ones Escalate offers (all of webcare.toml's). Customer text and
    names are TextRuns, never markdown; a long text is cut so the card stays within Teams'
    message size, and the Open post action (http(s) links only) always remains.
    """
    url = safe_url(view.url)
    actions = _actions(view, departments, url, say)
    fallback = escape_markdown(card_summary(say, view, lambda author: clip(author, NAME_LIMIT)))

    def build(text: str, was_cut: bool) -> dict:
        inlines = [run(text)] if text else [run(say("card.no_text"), italic=True, isSubtle=True)]
        if was_cut and url:
            inlines.append(run(f" {say('card.read_whole_post')}", color="accent",
                               selectAction=open_url(say("card.open_post"), url)))
        body = [
            *_crisis_tag(view, say),
            *_storm_tag(view, say),
            rich_text(f"mention-{view.mention_id}-author", _byline(view, say)),
            rich_text(f"mention-{view.mention_id}-priority", _priority(view, say), spacing="none"),
            rich_text(f"mention-{view.mention_id}-text", inlines, spacing="small"),
            rich_text(f"mention-{view.mention_id}-status", _status(view, say), separator=True),
            *_clock(view, say),
        ]
        return adaptive_card(body, actions, fallback_text=fallback)

    return fit(build, view.text, chars=TEXT_LIMIT)


def crisis_label(say: Words, tag: CrisisTag) -> str:
    """Return how a crisis is named everywhere: "🚨 Crisis #N: title", or "🧪 Drill #N: title" for a drill."""
    return f"{'🧪' if tag.drill else '🚨'} {crisis_name(say, tag, lambda title: clip(title, NAME_LIMIT))}"


def _crisis_tag(view: CardView, say: Words) -> list[dict]:
    if view.crisis is None:
        return []
    color = "default" if view.crisis.drill else "attention"
    return [rich_text(f"mention-{view.mention_id}-crisis", [run(crisis_label(say, view.crisis), weight="bolder",
                                                                 color=color)])]


def _storm_tag(view: CardView, say: Words) -> list[dict]:
    if view.storm_id is None:
        return []
    note = f"🌪 {say('card.storm_member_answers', storm=say('card.storm_name', id=view.storm_id))}"
    return [rich_text(f"mention-{view.mention_id}-storm", [run(note, isSubtle=True)])]


def _priority(view: CardView, say: Words) -> list[dict]:
    """The level in bold (red for P1), then why."""
    level = run(view.priority_level, weight="bolder", **({"color": "attention"} if view.priority_level == "P1" else {}))
    reasons = (reason_words(reason, say) for reason in view.priority_reasons)
    return [level, *(part for reason in reasons for part in (run(_SEP, isSubtle=True), run(reason)))]


def _byline(view: CardView, say: Words) -> list[dict]:
    parts = [run(clip(network_label(view.network), NAME_LIMIT), weight="bolder")]
    if view.author_name:
        parts.append(run(clip(view.author_name, NAME_LIMIT)))
    if view.author_handle:
        handle = run("@" + clip(view.author_handle.lstrip("@"), NAME_LIMIT))
        if profile := safe_url(view.author_url):
            handle["selectAction"] = open_url(say("card.open_profile"), profile)
        parts.append(handle)
    if view.author_verified:
        parts.append(run(say("card.verified")))
    if view.author_followers is not None:
        parts.append(run(followers(say, view.author_followers)))
    parts.append(run(age(say, view.age_minutes), isSubtle=True))
    joined = [parts[0]]
    for part in parts[1:]:
        joined += [run(_SEP, isSubtle=True), part]
    return joined


def _status(view: CardView, say: Words) -> list[dict]:
    """Return the status line: a bold state, then who did what, as plain TextRuns."""
    status = mention_status(say, view, _STYLE)
    extra = [*status.parts, *([f"⚠️ {status.warning}"] if status.warning else [])]
    rest = status.detail + "".join(_SEP + part for part in extra)
    return [run(f"{_STATE_ICONS[view.state]} "), run(status.label, weight="bolder"), *([run(rest)] if rest else [])]


def _clock(view: CardView, say: Words) -> list[dict]:
    """The first-response clock while one is owed: time left and the due time, or how long overdue (in red)."""
    line = clock_line(view.clock, view.now, view.zone, say)
    if line is None or view.clock is None:
        return []
    overdue = view.clock.stage is ClockStage.OVERDUE
    shown = run(f"{'🔴' if overdue else '⏱'} {line}", **({"color": "attention"} if overdue else {"isSubtle": True}))
    return [rich_text(f"mention-{view.mention_id}-clock", [shown], spacing="none")]


def _actions(view: CardView, departments: list[DepartmentView], url: str | None, say: Words) -> list[dict]:
    data = {"mention_id": view.mention_id}
    actions = []
    if view.state in _WORKING:
        if view.claimed_by is None:
            actions.append(execute(say("card.claim"), Verb.CLAIM, data, style="positive"))
        if view.draft is not None and view.draft.state is DraftState.FAILED:  # the reason is in the status line
            actions.append(execute(say("card.retry"), Verb.RETRY_REPLY, data, style="positive"))
        actions += [_escalate(data, departments, say), answer_form(view, data, say), _dismiss(data, say)]
    if url:
        actions.append(open_url(say("card.open_post"), url))
    if view.claimed_by and view.state in _WORKING:
        actions.append(execute(say("card.unclaim"), Verb.UNCLAIM, data, secondary=True))
    if view.state in _DONE:
        actions.append(execute(say("card.reopen"), Verb.REOPEN, data, secondary=True))
    if view.state is MentionState.ANSWERED:
        actions.append(execute(say("card.close"), Verb.CLOSE, data, secondary=True))
    for crisis in view.linkable:
        title = say("card.link_drill" if crisis.drill else "card.link_crisis", title=clip(crisis.title, _CHOICE_LIMIT))
        actions.append(execute(title, Verb.LINK, {**data, "crisis_id": crisis.id}, secondary=True))
    if view.crisis is not None:
        actions.append(execute(say("card.unlink"), Verb.UNLINK, data, secondary=True))
    return actions


def _escalate(data: dict[str, int], departments: list[DepartmentView], say: Words) -> dict:
    if not departments:
        return show_card(say("card.escalate"), [text_block(say("answer.no_departments"))])
    picker = {
        "type": "Input.ChoiceSet",
        "id": str(Input.DEPARTMENTS),
        "label": say("answer.departments"),
        "isMultiSelect": True,
        "isRequired": True,
        "errorMessage": say("answer.pick_a_department"),
        "placeholder": say("answer.pick_departments"),
        "choices": [{"title": _department_label(d), "value": d.key} for d in departments],
    }
    body = [
        picker,
        text_block(say("answer.heads_mentioned"), isSubtle=True, spacing="none"),
        _text_input(Input.NOTE, say("answer.note_for_heads_optional")),
    ]
    return show_card(say("card.escalate"), body, [execute(say("card.escalate"), Verb.ESCALATE, data)])


def _department_label(department: DepartmentView) -> str:
    """A choice's title: Teams renders it as markdown, so the names are escaped after the cut."""
    heads = ", ".join(h.name for h in department.heads)
    return escape_markdown(clip(f"{department.name} ({heads})" if heads else department.name, _CHOICE_LIMIT))


def _dismiss(data: dict[str, int], say: Words) -> dict:
    reasons = {
        "type": "Input.ChoiceSet",
        "id": str(Input.REASON),
        "label": say("answer.why_no_answer"),
        "style": "expanded",
        "isRequired": True,
        "errorMessage": say("answer.pick_reason"),
        "choices": [{"title": dismiss_reason(say, reason), "value": reason.value} for reason in DismissReason],
    }
    dismiss = say("card.dismiss")
    return show_card(dismiss, [reasons], [execute(dismiss, Verb.DISMISS, data, style="destructive")])


def _text_input(input_id: Input, label: str) -> dict:
    return {"type": "Input.Text", "id": str(input_id), "label": label, "isMultiline": True, "maxLength": INPUT_LIMIT}
