"""Build the Escalate, Answer (with saved replies), Dismiss, Request-changes, crisis Skip and storm card modals as
Block Kit views."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.catalogue import Words
from bot.core.replies import ReplyOption
from bot.core.views import CrisisTag, DepartmentView, DismissReason, PersonRef
from bot.core.wording import answer_prompt, dismiss_reason
from bot.slack.escape import escape_body, escape_mrkdwn, truncate
from bot.slack.ids import Block, View
from bot.slack.render import crisis_label, mention

INPUT_LIMIT = 3000  # Block Kit: max_length of a plain_text_input
_OPTION_LIMIT = 75  # Block Kit: text of an option
_OPTIONS_MAX = 100  # Block Kit: options of a static select
_SECTION_LIMIT = 3000  # Block Kit: text of a section
_TITLE_LIMIT = 200  # a step's title inside a sentence
_TEMPLATES_SHOWN = 10  # a modal holds 100 blocks; a handful of holding statements is plenty


def escalate_modal(mention_id: int, departments: list[DepartmentView], say: Words) -> dict:
    """Ask which departments to pull into a mention, with an optional note for their heads."""
    title = say("answer.escalate_title")
    if not departments:
        return _modal(View.ESCALATE, str(mention_id), title, [_section(say("answer.no_departments"))], say)
    if len(departments) > _OPTIONS_MAX:
        raise ValueError(f"Slack offers at most {_OPTIONS_MAX} departments in one list")
    options = [_option(_department_label(d), d.key) for d in departments]
    picker = {
        "type": "multi_static_select",
        "action_id": str(Block.DEPARTMENTS),
        "placeholder": _plain(say("answer.pick_departments")),
        "options": options,
    }
    blocks = [
        _input(Block.DEPARTMENTS, say("answer.departments"), picker, hint=say("answer.heads_pinged")),
        _input(Block.NOTE, say("answer.note_for_heads"), _text_input(Block.NOTE), optional=True),
    ]
    return _modal(View.ESCALATE, str(mention_id), title, blocks, say, submit=say("card.escalate"))


def answer_modal(
    mention_id: int, say: Words, *, needs_approval: bool, manual: bool, approvers: list[PersonRef],
    templates: Sequence[str] = (), crisis: CrisisTag | None = None, network: str = "",
    connector: str | None = None, replies: Sequence[ReplyOption] = (), filled: ReplyOption | None = None,
    revision: int = 0,
) -> dict:
    """Ask for the reply, saying honestly whether a connector sends it (after approval?) or it is posted by hand.

    When the mention's crisis has unlocked holding statements, the reply starts as the first one and all are
    listed to copy from. Saved replies are offered in a menu whose choice fills the reply (`filled`, shown in a
    field of the next `revision`: Slack keeps what was typed in a field whose block id stays the same).
    """
    heads = ", ".join(mention(p) for p in approvers) or say("answer.escalated_heads")
    approval = ("crisis" if crisis is not None else "escalated") if needs_approval else None
    prompt = answer_prompt(say, network, None if manual else connector, approval=approval, heads=heads,
                           escape=escape_mrkdwn)
    blocks = [_section(prompt.explain)]
    if crisis is not None:
        icon = ":performing_arts:" if crisis.drill else ":rotating_light:"
        blocks.insert(0, _section(f"{icon} *{escape_mrkdwn(crisis_label(say, crisis))}*"))
    block = reply_block(revision)
    field = {**_text_input(Block.REPLY_TEXT), "action_id": block}
    if filled is not None:
        field["initial_value"] = filled.text[:INPUT_LIMIT]
    elif templates:
        field["initial_value"] = templates[0][:INPUT_LIMIT]
    if templates:
        blocks += _template_blocks(templates, say)
    if replies:
        blocks.append(_saved_reply_picker(replies, filled, say))
    blocks.append({**_input(Block.REPLY_TEXT, prompt.label, field, hint=prompt.hint), "block_id": block})
    return _modal(View.ANSWER, str(mention_id), say("answer.title"), blocks, say, submit=prompt.submit)


def answer_refused_modal(mention_id: int, refusal: str, say: Words) -> dict:
    """The Answer dialog once it cannot be used any more (someone else claimed the mention meanwhile)."""
    return _modal(View.ANSWER, str(mention_id), say("answer.title"), [_section(escape_mrkdwn(refusal))], say)


def reply_block(revision: int) -> str:
    """The block (and action) id of the reply field in an Answer dialog's `revision`: `reply_text`, `reply_text.1`…"""
    return str(Block.REPLY_TEXT) if revision == 0 else f"{Block.REPLY_TEXT}.{revision}"


def reply_revision(view: dict) -> int:
    """Which revision of the Answer dialog `view` is (0 for the first), read from its reply field's block id."""
    number = block_id_in(view, Block.REPLY_TEXT).partition(".")[2]
    return int(number) if number.isdigit() else 0


def block_id_in(view: dict, block: Block) -> str:
    """The id `block` has in a shown modal: a refilled reply field's carries its revision (`reply_text.2`)."""
    ids = (str(b.get("block_id") or "") for b in view.get("blocks") or [])
    return next((i for i in ids if i.partition(".")[0] == block), str(block))


def _saved_reply_picker(replies: Sequence[ReplyOption], filled: ReplyOption | None, say: Words) -> dict:
    """A menu of saved replies; picking one fills the reply below at once (`dispatch_action`)."""
    options = [_option(_cut(r.label), r.key) for r in replies[:_OPTIONS_MAX]]
    picker: dict = {"type": "static_select", "action_id": str(Block.SAVED_REPLY),
                    "placeholder": _plain(say("answer.pick_saved_reply")), "options": options}
    if filled is not None and filled.key in {r.key for r in replies[:_OPTIONS_MAX]}:
        picker["initial_option"] = _option(_cut(filled.label), filled.key)
    block = _input(Block.SAVED_REPLY, say("answer.saved_reply"), picker, optional=True,
                   hint=say("answer.saved_reply_hint"))
    return {**block, "dispatch_action": True}


def crisis_skip_modal(crisis_id: int, step_id: str, step_title: str, say: Words) -> dict:
    """Ask the lead why an optional crisis step is skipped."""
    reason = _input(Block.REASON, say("answer.why_skipped"), _text_input(Block.REASON),
                    hint=say("answer.kept_in_report"))
    question = _section(say("answer.skip_question", step=f"*{escape_mrkdwn(step_title[:_TITLE_LIMIT])}*"))
    return _modal(View.CRISIS_SKIP, f"{crisis_id}:{step_id}", say("answer.skip_title"), [question, reason], say,
                  submit=say("answer.skip"))


def _template_blocks(templates: Sequence[str], say: Words) -> list[dict]:
    """The holding statements, quoted for copying; the reply below starts as the first."""
    shown = templates[:_TEMPLATES_SHOWN]
    head = f"*{say('answer.holding_statements')}* ({len(templates)}): {say('answer.holding_explain')}"
    quoted = [_section(truncate(f"*{i}.* " + escape_body(t), _SECTION_LIMIT)) for i, t in enumerate(shown, 1)]
    return [_section(head), *quoted]


def dismiss_modal(mention_id: int, say: Words) -> dict:
    """Ask why a mention needs no answer."""
    blocks = [_input(Block.REASON, say("answer.why_no_answer"), _reasons(say))]
    return _modal(View.DISMISS, str(mention_id), say("answer.dismiss_title"), blocks, say, submit=say("card.dismiss"))


def storm_answer_modal(storm_id: int, say: Words) -> dict:
    """Ask for the one reply Answer all sends to each open member of a storm."""
    blocks = [_section(say("answer.answer_all_explain", storm=storm_id)),
              _input(Block.REPLY_TEXT, say("answer.your_reply"), _text_input(Block.REPLY_TEXT))]
    return _modal(View.STORM_ANSWER, str(storm_id), say("answer.answer_all"), blocks, say,
                  submit=say("answer.send_to_all"))


def storm_dismiss_modal(storm_id: int, say: Words) -> dict:
    """Ask why a storm's mentions need no answer."""
    blocks = [_section(say("answer.dismiss_storm_explain", storm=storm_id)),
              _input(Block.REASON, say("answer.why_they_need_no_answer"), _reasons(say))]
    return _modal(View.STORM_DISMISS, str(storm_id), say("answer.dismiss_storm"), blocks, say,
                  submit=say("card.dismiss"))


def storm_crisis_modal(storm_id: int, playbooks: Sequence[tuple[str, str]], say: Words) -> dict:
    """Ask which playbook (key, title) to start a crisis on, for a storm whose mentions are then linked to it."""
    heading = say("answer.start_crisis")
    if not playbooks:
        return _modal(View.STORM_CRISIS, str(storm_id), heading, [_section(say("answer.no_playbooks"))], say)
    options = [_option(_cut(f"{title} ({key})" if title.lower() != key else title), key)
               for key, title in playbooks[:_OPTIONS_MAX]]
    picker = {"type": "static_select", "action_id": str(Block.PLAYBOOK),
              "placeholder": _plain(say("answer.pick_playbook")), "options": options}
    blocks = [_section(say("answer.start_crisis_explain", storm=storm_id)),
              _input(Block.PLAYBOOK, say("answer.playbook"), picker),
              _input(Block.NOTE, say("answer.note"), _text_input(Block.NOTE), optional=True,
                     hint=say("answer.shown_in_report"))]
    return _modal(View.STORM_CRISIS, str(storm_id), heading, blocks, say, submit=heading)


def request_changes_modal(draft_id: int, say: Words) -> dict:
    """Ask an approver what the draft's author should change."""
    note = _input(Block.NOTE, say("draft.what_should_change"), _text_input(Block.NOTE))
    return _modal(View.REQUEST_CHANGES, str(draft_id), say("draft.request_changes"), [note], say,
                  submit=say("draft.send"))


def _reasons(say: Words) -> dict:
    """Radio buttons of the reasons a mention needs no answer."""
    options = [_option(dismiss_reason(say, reason), reason.value) for reason in DismissReason]
    return {"type": "radio_buttons", "action_id": str(Block.REASON), "options": options}


def _department_label(department: DepartmentView) -> str:
    heads = ", ".join(h.name for h in department.heads)
    return _cut(f"{department.name} ({heads})" if heads else department.name)


def _cut(label: str) -> str:
    return label if len(label) <= _OPTION_LIMIT else label[: _OPTION_LIMIT - 1] + "…"


def _modal(
    callback: View, metadata: str, title: str, blocks: list[dict], say: Words, *, submit: str | None = None
) -> dict:
    view = {
        "type": "modal",
        "callback_id": str(callback),
        "private_metadata": metadata,
        "title": _plain(title),
        "close": _plain(say("answer.cancel")),
        "blocks": blocks,
    }
    return {**view, "submit": _plain(submit)} if submit else view


def _input(
    block: Block, label: str, element: dict, *, hint: str | None = None, optional: bool = False
) -> dict:
    field = {"type": "input", "block_id": str(block), "label": _plain(label), "element": element}
    if hint:
        field["hint"] = _plain(hint)
    if optional:
        field["optional"] = True
    return field


def _text_input(block: Block) -> dict:
    return {
        "type": "plain_text_input",
        "action_id": str(block),
        "multiline": True,
        "max_length": INPUT_LIMIT,
    }


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}


def _option(text: str, value: str) -> dict:
    return {"text": _plain(text), "value": value}


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}
