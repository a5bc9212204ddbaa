"""The Answer form under a Teams card: where the reply goes (honestly), the saved replies, and refilling it."""

from __future__ import annotations

import copy
from typing import Any

from bot.core.catalogue import Words
from bot.core.replies import ReplyOption
from bot.core.views import CardView
from bot.core.wording import answer_prompt, crisis_name
from bot.teams.cards import INPUT_LIMIT, NAME_LIMIT, execute, name, rich_text, run, show_card, text_block
from bot.teams.escape import clip, escape_markdown
from bot.teams.ids import Input, Verb

_CHOICES_MAX = 100  # a list longer than this is no help in a card


def answer_form(view: CardView, data: dict[str, int], say: Words) -> dict:
    """Ask for the reply, saying whether a connector sends it (after whose approval) or it is posted by hand.

    Saved replies are offered in a list with a Fill in button (the card comes back with the reply filled in);
    then the reply field is not required in the card, or Fill in would be refused while it is empty: the bot
    refuses an empty reply itself.
    """
    needs_approval = bool(view.escalated_to) or view.crisis_approval
    approvers = list(dict.fromkeys(h for d in view.escalated_to for h in d.heads))
    heads = ", ".join(escape_markdown(name(p)) for p in approvers) or say("answer.escalated_heads")
    if view.crisis_approval:
        heads = say("answer.a_crisis_lead")
    approval = ("crisis" if view.crisis_approval else "escalated") if needs_approval else None
    prompt = answer_prompt(say, view.network, view.reply_via, approval=approval,
                           heads=say("answer.not_you", heads=heads), escape=escape_markdown)
    reply = {"type": "Input.Text", "id": str(Input.REPLY_TEXT), "label": prompt.label, "isMultiline": True,
             "maxLength": INPUT_LIMIT}
    if not view.saved_replies:
        reply.update(isRequired=True, errorMessage=say("answer.write_first"))
    body = [text_block(f"{prompt.explain} {prompt.hint}")]
    if view.crisis is not None:
        rule = view.crisis_rule or say("answer.playbook_rule")
        label = crisis_name(say, view.crisis, lambda title: clip(title, NAME_LIMIT))
        crisis = f"{'🧪' if view.crisis.drill else '🚨'} {escape_markdown(label)}"
        body.insert(0, text_block(say("answer.linked_to", crisis=crisis, rule=escape_markdown(rule)), weight="bolder"))
    actions = [execute(prompt.submit, Verb.ANSWER, data, style="positive")]
    if view.saved_replies:
        choices = [{"title": escape_markdown(label), "value": key} for key, label in view.saved_replies[:_CHOICES_MAX]]
        body.append({"type": "Input.ChoiceSet", "id": str(Input.SAVED_REPLY), "label": say("answer.saved_reply"),
                     "placeholder": say("answer.pick_then_fill"), "choices": choices})
        actions.insert(0, execute(say("answer.fill_in"), Verb.FILL_REPLY, data))
    body.append(reply)
    if view.templates:
        # The form opens with the first holding statement filled in; the others are listed to copy from.
        reply["value"] = clip(view.templates[0], INPUT_LIMIT)
        body += [text_block(say("answer.holding_from_playbook"), isSubtle=True),
                 *(rich_text(f"mention-{view.mention_id}-template-{i}", [run(clip(t, INPUT_LIMIT))], separator=True)
                   for i, t in enumerate(view.templates, 1))]
    return show_card(say("card.answer"), body, actions)


def with_reply(card: dict, text: str, say: Words, *, picked: ReplyOption | None = None) -> dict:
    """The card with its Answer form's reply set to `text` (and the saved reply list to `picked`), said on top."""
    card = copy.deepcopy(card)
    for node in _inputs(card):
        if node.get("id") == Input.REPLY_TEXT:
            node["value"] = text[:INPUT_LIMIT]
        elif node.get("id") == Input.SAVED_REPLY and picked is not None:
            node["value"] = picked.key
    if picked is not None:
        said = say("answer.filled_in", label=escape_markdown(picked.label))
        card["body"] = [text_block(said, weight="bolder"), *card.get("body", [])]
    return card


def _inputs(node: Any) -> list[dict]:
    """Every input of a card, those inside Action.ShowCard forms included."""
    if isinstance(node, list):
        return [found for item in node for found in _inputs(item)]
    if not isinstance(node, dict):
        return []
    here = [node] if str(node.get("type", "")).startswith("Input.") else []
    return here + [found for value in node.values() for found in _inputs(value)]
