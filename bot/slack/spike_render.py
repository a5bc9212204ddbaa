"""Render a spike alert as Block Kit: what spikes, the numbers, samples, and Start crisis / Not now."""

from __future__ import annotations

from bot.core.storms.spikes import SpikeAlertView, SpikeDecision
from bot.slack.escape import escape_body, escape_mrkdwn, truncate
from bot.slack.ids import Action
from bot.slack.render import SECTION_LIMIT, Message, crisis_label, mention

SAMPLE_LIMIT = 500  # characters of one sample's text


def render_spike(view: SpikeAlertView) -> Message:
    """The alert's message: headline and numbers, up to three samples, the playbook, and the buttons or answer."""
    prefix = f"spike-{view.id}"
    headline = f":chart_with_upwards_trend: *Spike: {escape_mrkdwn(view.what)}*"
    blocks: list[dict] = [_section(f"{prefix}-what", f"{headline}\n{escape_mrkdwn(view.numbers)}")]
    for i, sample in enumerate(view.samples):
        text = truncate(escape_body(sample.text), SAMPLE_LIMIT) or "_(no text)_"
        blocks.append(_section(f"{prefix}-sample-{i}", f"*#{sample.mention_id}* {text}"))
    playbook = (f"Best-matching playbook: *{escape_mrkdwn(view.playbook)}*" if view.playbook
                else "No playbook's triggers match these mentions.")
    blocks.append({"type": "context", "block_id": f"{prefix}-playbook", "elements": [_mrkdwn(playbook)]})
    answer = _answer(view)
    if answer is not None:
        blocks.append(_section(f"{prefix}-answer", answer))
    else:
        buttons = [_button("Not now", Action.SPIKE_NOT_NOW, str(view.id))]
        if view.playbook:
            buttons.insert(0, _button("Start crisis", Action.SPIKE_START, str(view.id), style="danger"))
        blocks.append({"type": "actions", "block_id": f"{prefix}-actions", "elements": buttons})
    return truncate(escape_mrkdwn(f"Spike: {view.what}: {view.numbers}"), SECTION_LIMIT), blocks


def _answer(view: SpikeAlertView) -> str | None:
    """What people answered, in a line (None while nobody has)."""
    if view.decision is None or view.decided_by is None:
        return None
    who = mention(view.decided_by)
    if view.decision == SpikeDecision.NOT_NOW:
        return f":zzz: Not now, said {who}."
    if view.crisis is None:
        return f":hourglass_flowing_sand: {who} is starting a crisis on it."
    return f":rotating_light: *{escape_mrkdwn(crisis_label(view.crisis))}* started by {who}."


def _section(block_id: str, text: str) -> dict:
    return {"type": "section", "block_id": block_id, "text": _mrkdwn(truncate(text, SECTION_LIMIT))}


def _mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _button(label: str, action: Action, value: str, *, style: str | None = None) -> dict:
    button = {"type": "button", "action_id": str(action), "text": {"type": "plain_text", "text": label}, "value": value}
    return {**button, "style": style} if style else button
