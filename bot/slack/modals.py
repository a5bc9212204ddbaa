"""Build the Escalate, Answer (with saved replies), Dismiss, Request-changes, crisis Skip and storm card modals as
Block Kit views."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.replies import ReplyOption
from bot.core.views import CrisisTag, DepartmentView, DismissReason, PersonRef
from bot.core.wording import answer_prompt
from bot.slack.escape import escape_body, escape_mrkdwn, truncate
from bot.slack.ids import Block, View
from bot.slack.render import crisis_label, mention

INPUT_LIMIT = 3000  # Block Kit: max_length of a plain_text_input
_OPTION_LIMIT = 75  # Block Kit: text of an option
_OPTIONS_MAX = 100  # Block Kit: options of a static select
_SECTION_LIMIT = 3000  # Block Kit: text of a section
_TITLE_LIMIT = 200  # a step's title inside a sentence
_TEMPLATES_SHOWN = 10  # a modal holds 100 blocks; a handful of holding statements is plenty


def escalate_modal(mention_id: int, departments: list[DepartmentView]) -> dict:
    """Ask which departments to pull into a mention, with an optional note for their heads."""
    if not departments:
        explain = "No departments are configured in webcare.toml: there is nobody to escalate to."
        return _modal(View.ESCALATE, str(mention_id), "Escalate mention", [_section(explain)])
    if len(departments) > _OPTIONS_MAX:
        raise ValueError(f"Slack offers at most {_OPTIONS_MAX} departments in one list")
    options = [_option(_department_label(d), d.key) for d in departments]
    picker = {
        "type": "multi_static_select",
        "action_id": str(Block.DEPARTMENTS),
        "placeholder": _plain("Pick one or more departments"),
        "options": options,
    }
    blocks = [
        _input(Block.DEPARTMENTS, "Departments", picker, hint="Their heads are pinged."),
        _input(Block.NOTE, "Note for the heads", _text_input(Block.NOTE), optional=True),
    ]
    return _modal(View.ESCALATE, str(mention_id), "Escalate mention", blocks, submit="Escalate")


def answer_modal(
    mention_id: int, *, needs_approval: bool, manual: bool, approvers: list[PersonRef],
    templates: Sequence[str] = (), crisis: CrisisTag | None = None, network: str = "",
    connector: str | None = None, replies: Sequence[ReplyOption] = (), filled: ReplyOption | None = None,
    revision: int = 0,
) -> dict:
    """Ask for the reply, saying honestly whether a connector sends it (after approval?) or it is posted by hand.

    When the mention's crisis has unlocked holding statements, the reply starts as the first one and all are
    listed to copy from. Saved replies are offered in a menu whose choice fills the reply (`filled`, shown in a
    field of the next `revision`: Slack keeps what was typed in a field whose block id stays the same).
    """
    heads = ", ".join(mention(p) for p in approvers) or "a head of the escalated departments"
    approval = ("crisis" if crisis is not None else "escalated") if needs_approval else None
    prompt = answer_prompt(network, None if manual else connector, approval=approval, heads=heads,
                           escape=escape_mrkdwn)
    blocks = [_section(prompt.explain)]
    if crisis is not None:
        icon = ":performing_arts:" if crisis.drill else ":rotating_light:"
        blocks.insert(0, _section(f"{icon} *{escape_mrkdwn(crisis_label(crisis))}*"))
    block = reply_block(revision)
    field = {**_text_input(Block.REPLY_TEXT), "action_id": block}
    if filled is not None:
        field["initial_value"] = filled.text[:INPUT_LIMIT]
    elif templates:
        field["initial_value"] = templates[0][:INPUT_LIMIT]
    if templates:
        blocks += _template_blocks(templates)
    if replies:
        blocks.append(_saved_reply_picker(replies, filled))
    blocks.append({**_input(Block.REPLY_TEXT, prompt.label, field, hint=prompt.hint), "block_id": block})
    return _modal(View.ANSWER, str(mention_id), "Answer mention", blocks, submit=prompt.submit)


def answer_refused_modal(mention_id: int, refusal: str) -> dict:
    """The Answer dialog once it cannot be used any more (someone else claimed the mention meanwhile)."""
    return _modal(View.ANSWER, str(mention_id), "Answer mention", [_section(escape_mrkdwn(refusal))])


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


def _saved_reply_picker(replies: Sequence[ReplyOption], filled: ReplyOption | None) -> dict:
    """A menu of saved replies; picking one fills the reply below at once (`dispatch_action`)."""
    options = [_option(_cut(r.label), r.key) for r in replies[:_OPTIONS_MAX]]
    picker: dict = {"type": "static_select", "action_id": str(Block.SAVED_REPLY),
                    "placeholder": _plain("Pick a saved reply"), "options": options}
    if filled is not None and filled.key in {r.key for r in replies[:_OPTIONS_MAX]}:
        picker["initial_option"] = _option(_cut(filled.label), filled.key)
    block = _input(Block.SAVED_REPLY, "Saved reply", picker, optional=True,
                   hint="Fills in the reply below; check it and edit it before you submit.")
    return {**block, "dispatch_action": True}


def crisis_skip_modal(crisis_id: int, step_id: str, step_title: str) -> dict:
    """Ask the lead why an optional crisis step is skipped."""
    reason = _input(Block.REASON, "Why is it skipped?", _text_input(Block.REASON),
                    hint="Kept in the crisis report.")
    question = _section(f"Skip *{escape_mrkdwn(step_title[:_TITLE_LIMIT])}*?")
    return _modal(View.CRISIS_SKIP, f"{crisis_id}:{step_id}", "Skip crisis step", [question, reason], submit="Skip")


def _template_blocks(templates: Sequence[str]) -> list[dict]:
    """The holding statements, quoted for copying; the reply below starts as the first."""
    shown = templates[:_TEMPLATES_SHOWN]
    head = (f"*Holding statements* ({len(templates)}): your reply starts as the first; "
            "copy another one into it if it fits better.")
    quoted = [_section(truncate(f"*{i}.* " + escape_body(t), _SECTION_LIMIT)) for i, t in enumerate(shown, 1)]
    return [_section(head), *quoted]


def dismiss_modal(mention_id: int) -> dict:
    """Ask why a mention needs no answer."""
    radios = {
        "type": "radio_buttons",
        "action_id": str(Block.REASON),
        "options": [_option(reason.label.capitalize(), reason.value) for reason in DismissReason],
    }
    blocks = [_input(Block.REASON, "Why does it need no answer?", radios)]
    return _modal(View.DISMISS, str(mention_id), "Dismiss mention", blocks, submit="Dismiss")


def storm_answer_modal(storm_id: int) -> dict:
    """Ask for the one reply Answer all sends to each open member of a storm."""
    explain = (f"Your reply goes to every open mention of storm #{storm_id} below P1 that nobody else holds, each "
               "through its own network, and the storm card counts the deliveries. An escalated mention waits for "
               "approval as usual; P1 mentions keep their own card: answer those there.")
    blocks = [_section(explain), _input(Block.REPLY_TEXT, "Your reply", _text_input(Block.REPLY_TEXT))]
    return _modal(View.STORM_ANSWER, str(storm_id), "Answer all", blocks, submit="Send to all")


def storm_dismiss_modal(storm_id: int) -> dict:
    """Ask why a storm's mentions need no answer."""
    radios = {
        "type": "radio_buttons",
        "action_id": str(Block.REASON),
        "options": [_option(reason.label.capitalize(), reason.value) for reason in DismissReason],
    }
    blocks = [_section(f"Dismisses every open mention of storm #{storm_id} below P1 that nobody else holds."),
              _input(Block.REASON, "Why do they need no answer?", radios)]
    return _modal(View.STORM_DISMISS, str(storm_id), "Dismiss storm", blocks, submit="Dismiss")


def storm_crisis_modal(storm_id: int, playbooks: Sequence[tuple[str, str]]) -> dict:
    """Ask which playbook (key, title) to start a crisis on, for a storm whose mentions are then linked to it."""
    if not playbooks:
        explain = "There are no playbooks to start a crisis on; see `/webcare playbooks`."
        return _modal(View.STORM_CRISIS, str(storm_id), "Start crisis", [_section(explain)])
    options = [_option(_cut(f"{title} ({key})" if title.lower() != key else title), key)
               for key, title in playbooks[:_OPTIONS_MAX]]
    picker = {"type": "static_select", "action_id": str(Block.PLAYBOOK),
              "placeholder": _plain("Pick a playbook"), "options": options}
    blocks = [_section(f"Starts a crisis and links every mention of storm #{storm_id} to it."),
              _input(Block.PLAYBOOK, "Playbook", picker),
              _input(Block.NOTE, "Note", _text_input(Block.NOTE), optional=True, hint="Shown in the crisis report.")]
    return _modal(View.STORM_CRISIS, str(storm_id), "Start crisis", blocks, submit="Start crisis")


def request_changes_modal(draft_id: int) -> dict:
    """Ask an approver what the draft's author should change."""
    note = _input(Block.NOTE, "What should change?", _text_input(Block.NOTE))
    return _modal(View.REQUEST_CHANGES, str(draft_id), "Request changes", [note], submit="Send")


def _department_label(department: DepartmentView) -> str:
    heads = ", ".join(h.name for h in department.heads)
    return _cut(f"{department.name} ({heads})" if heads else department.name)


def _cut(label: str) -> str:
    return label if len(label) <= _OPTION_LIMIT else label[: _OPTION_LIMIT - 1] + "…"


def _modal(
    callback: View, metadata: str, title: str, blocks: list[dict], *, submit: str | None = None
) -> dict:
    view = {
        "type": "modal",
        "callback_id": str(callback),
        "private_metadata": metadata,
        "title": _plain(title),
        "close": _plain("Cancel"),
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
