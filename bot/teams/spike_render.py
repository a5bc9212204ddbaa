"""Render a spike alert as an Adaptive Card: what spikes, the numbers, samples, and Start crisis / Not now."""

from __future__ import annotations

from bot.core.catalogue import Words
from bot.core.storms.spikes import SpikeAlertView, SpikeDecision, spike_numbers, spike_what
from bot.teams.cards import Mentions, adaptive_card, execute, rich_text, run, text_block
from bot.teams.escape import clip, escape_markdown
from bot.teams.ids import Verb
from bot.teams.render import crisis_label

SAMPLE_LIMIT = 500  # characters of one sample's text


def render_spike(view: SpikeAlertView, say: Words) -> dict:
    """The alert's card: headline and numbers, up to three samples (TextRuns: never formatted), the playbook,
    and the buttons or who answered."""
    prefix = f"spike-{view.id}"
    headline, numbers = say("spike.headline", what=spike_what(view, say)), spike_numbers(view, say)
    body: list[dict] = [text_block(f"📈 **{escape_markdown(headline)}**", id=f"{prefix}-what"),
                        text_block(escape_markdown(numbers), id=f"{prefix}-numbers")]
    for i, sample in enumerate(view.samples):
        body.append(rich_text(f"{prefix}-sample-{i}", [run(f"#{sample.mention_id} ", weight="bolder"),
                                                       run(clip(sample.text, SAMPLE_LIMIT))], separator=i == 0))
    playbook = (say("spike.best_playbook", playbook=f"**{escape_markdown(view.playbook)}**") if view.playbook
                else say("spike.no_playbook"))
    body.append(text_block(playbook, id=f"{prefix}-playbook", isSubtle=True))
    mentions = Mentions()
    actions: list[dict] = []
    if view.decision is not None and view.decided_by is not None:
        who = mentions(view.decided_by)
        if view.decision == SpikeDecision.NOT_NOW:
            answer = f"💤 {say('spike.said_not_now', person=who)}"
        elif view.crisis is None:
            answer = f"⏳ {say('spike.starting', person=who)}"
        else:
            answer = say("spike.started", crisis=f"**{escape_markdown(crisis_label(say, view.crisis))}**", person=who)
        body.append(text_block(answer, id=f"{prefix}-answer"))
    else:
        data = {"spike_id": view.id}
        if view.playbook:
            actions.append(execute(say("spike.start_crisis"), Verb.SPIKE_START, data, style="destructive"))
        actions.append(execute(say("spike.not_now"), Verb.SPIKE_NOT_NOW, data))
    return adaptive_card(body, actions, entities=mentions.entities,
                         fallback_text=escape_markdown(f"{headline}: {numbers}"))
