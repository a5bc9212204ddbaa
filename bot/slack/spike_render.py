"""Render a spike alert as Block Kit: what spikes, the numbers, samples, and Start crisis / Not now."""

from __future__ import annotations

from bot.core.catalogue import Words
from bot.core.storms.spikes import SpikeAlertView, SpikeDecision, spike_numbers, spike_what
from bot.slack.escape import escape_body, escape_mrkdwn, truncate
from bot.slack.ids import Action
from bot.slack.render import SECTION_LIMIT, Message, crisis_label, mention

SAMPLE_LIMIT = 500  # characters of one sample's text


def render_spike(view: SpikeAlertView, say: Words) -> Message:
    """The alert's message: headline and numbers, up to three samples, the playbook, and the buttons or answer."""
    prefix = f"spike-{view.id}"
    what, numbers = spike_what(view, say), spike_numbers(view, say)
    headline = f":chart_with_upwards_trend: *{escape_mrkdwn(say('spike.headline', what=what))}*"
    blocks: list[dict] = [_section(f"{prefix}-what", f"{headline}\n{escape_mrkdwn(numbers)}")]
    for i, sample in enumerate(view.samples):
        text = truncate(escape_body(sample.text), SAMPLE_LIMIT) or f"_{say('card.no_text')}_"
        blocks.append(_section(f"{prefix}-sample-{i}", f"*#{sample.mention_id}* {text}"))
    playbook = (say("spike.best_playbook", playbook=f"*{escape_mrkdwn(view.playbook)}*") if view.playbook
                else say("spike.no_playbook"))
    blocks.append({"type": "context", "block_id": f"{prefix}-playbook", "elements": [_mrkdwn(playbook)]})
    answer = _answer(view, say)
    if answer is not None:
        blocks.append(_section(f"{prefix}-answer", answer))
    else:
        buttons = [_button(say("spike.not_now"), Action.SPIKE_NOT_NOW, str(view.id))]
        if view.playbook:
            buttons.insert(0, _button(say("spike.start_crisis"), Action.SPIKE_START, str(view.id), style="danger"))
        blocks.append({"type": "actions", "block_id": f"{prefix}-actions", "elements": buttons})
    return truncate(escape_mrkdwn(f"{say('spike.headline', what=what)}: {numbers}"), SECTION_LIMIT), blocks


def _answer(view: SpikeAlertView, say: Words) -> str | None:
    """What people answered, in a line (None while nobody has)."""
    if view.decision is None or view.decided_by is None:
        return None
    who = mention(view.decided_by)
    if view.decision == SpikeDecision.NOT_NOW:
        return f":zzz: {say('spike.said_not_now', person=who)}"
    if view.crisis is None:
        return f":hourglass_flowing_sand: {say('spike.starting', person=who)}"
    crisis = f"*{escape_mrkdwn(crisis_label(say, view.crisis))}*"
    return f":rotating_light: {say('spike.started', crisis=crisis, person=who)}"


def _section(block_id: str, text: str) -> dict:
    return {"type": "section", "block_id": block_id, "text": _mrkdwn(truncate(text, SECTION_LIMIT))}


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _button(label: str, action: Action, value: str, *, style: str | None = None) -> dict:
    button = {"type": "button", "action_id": str(action), "text": {"type": "plain_text", "text": label}, "value": value}
    return {**button, "style": style} if style else button
