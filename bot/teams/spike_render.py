"""Render a spike alert as an Adaptive Card: what spikes, the numbers, samples, and Start crisis / Not now."""

from __future__ import annotations

from bot.core.storms.spikes import SpikeAlertView, SpikeDecision
from bot.teams.cards import Mentions, adaptive_card, execute, rich_text, run, text_block
from bot.teams.escape import clip, escape_markdown
from bot.teams.ids import Verb
from bot.teams.render import crisis_label

SAMPLE_LIMIT = 500  # characters of one sample's text


def render_spike(view: SpikeAlertView) -> dict:
    """The alert's card: headline and numbers, up to three samples (TextRuns: never formatted), the playbook,
    and the buttons or who answered."""
    prefix = f"spike-{view.id}"
    body: list[dict] = [text_block(f"📈 **Spike: {escape_markdown(view.what)}**", id=f"{prefix}-what"),
                        text_block(escape_markdown(view.numbers), id=f"{prefix}-numbers")]
    for i, sample in enumerate(view.samples):
        body.append(rich_text(f"{prefix}-sample-{i}", [run(f"#{sample.mention_id} ", weight="bolder"),
                                                       run(clip(sample.text, SAMPLE_LIMIT))], separator=i == 0))
    playbook = (f"Best-matching playbook: **{escape_markdown(view.playbook)}**" if view.playbook
                else "No playbook's triggers match these mentions.")
    body.append(text_block(playbook, id=f"{prefix}-playbook", isSubtle=True))
    mentions = Mentions()
    actions: list[dict] = []
    if view.decision is not None and view.decided_by is not None:
        who = mentions(view.decided_by)
        if view.decision == SpikeDecision.NOT_NOW:
            answer = f"💤 Not now, said {who}."
        elif view.crisis is None:
            answer = f"⏳ {who} is starting a crisis on it."
        else:
            answer = f"**{escape_markdown(crisis_label(view.crisis))}** started by {who}."
        body.append(text_block(answer, id=f"{prefix}-answer"))
    else:
        data = {"spike_id": view.id}
        if view.playbook:
            actions.append(execute("Start crisis", Verb.SPIKE_START, data, style="destructive"))
        actions.append(execute("Not now", Verb.SPIKE_NOT_NOW, data))
    return adaptive_card(body, actions, entities=mentions.entities,
                         fallback_text=escape_markdown(f"Spike: {view.what}: {view.numbers}"))
