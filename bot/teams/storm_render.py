"""Render a storm group's card as an Adaptive Card: the numbers, networks, authors, samples, state, and its actions."""

from __future__ import annotations

from bot.core.catalogue import Words
from bot.core.storms.views import RECENT_MINUTES, StormMember, StormState, StormView
from bot.core.views import DismissReason, network_label
from bot.core.wording import age, dismiss_reason, followers, number, storm_counts
from bot.teams.cards import (
    CARD_LIMIT,
    INPUT_LIMIT,
    NAME_LIMIT,
    adaptive_card,
    execute,
    name,
    open_url,
    rich_text,
    run,
    show_card,
    size,
    text_block,
)
from bot.teams.escape import clip, escape_markdown, safe_url
from bot.teams.ids import Input, Verb
from bot.teams.render import crisis_label

NETWORKS = 8  # networks named on the card; the rest are counted together
OWN_CARDS = 10  # P1 members named on the card; the rest are counted
CHOICES = 100  # playbooks offered by Start crisis…
_CHOICE_LIMIT = 100  # title of one choice
_SEP = " · "
# (characters of one sample, of the answer shown) tried in turn until the card fits Teams' size limit
_CUTS = ((500, INPUT_LIMIT), (200, 1000), (80, 300))
_STATE_LINES = {StormState.OPEN: ("🆕 ", "storm.open"), StormState.CLAIMED: ("✋ ", "state.claimed"),
                StormState.ANSWERED: ("✅ ", "state.answered"), StormState.DISMISSED: ("🚫 ", "state.dismissed")}


def render_storm(view: StormView, say: Words) -> dict:
    """The storm card. Customer text and names are TextRuns (never markdown, never a mention); samples and the
    answer are cut until the card fits in one Teams message."""
    for sample_chars, answer_chars in _CUTS:
        card = _card(view, say, sample_chars, answer_chars)
        if size(card) <= CARD_LIMIT:
            return card
    return card


def _card(view: StormView, say: Words, sample_chars: int, answer_chars: int) -> dict:
    prefix = f"storm-{view.storm_id}"
    title = headline(view, say)
    body: list[dict] = [text_block(f"🌪 **{escape_markdown(title)}**", id=f"{prefix}-head", size="medium")]
    if view.crisis is not None:
        color = "default" if view.crisis.drill else "attention"
        body.append(rich_text(f"{prefix}-crisis", [run(crisis_label(say, view.crisis), weight="bolder", color=color)]))
    minutes = max(0, int((view.now - view.first_at).total_seconds() // 60))
    body.append(rich_text(f"{prefix}-networks", [*_networks(view, say), run(_SEP, isSubtle=True),
                                                 run(say("storm.started", age=age(say, minutes)), isSubtle=True)]))
    if view.authors:
        body.append(rich_text(f"{prefix}-authors", _authors(view.authors, say), spacing="none"))
    for i, sample in enumerate(view.samples):
        body.append(rich_text(f"{prefix}-sample-{i}", _sample(sample, say, sample_chars), separator=i == 0))
    if view.own_cards:
        body.append(rich_text(f"{prefix}-own-cards", _own_cards(view.own_cards, say), separator=True))
    body.append(rich_text(f"{prefix}-state", _state(view, say, answer_chars), separator=True))
    return adaptive_card(body, _actions(view, say), fallback_text=escape_markdown(f"🌪 {title}"))


def headline(view: StormView, say: Words) -> str:
    """"Storm #N · 42 mentions · 12 in the last 10 min"."""
    return say("storm.headline", id=view.storm_id, mentions=say("storm.mentions", count=view.members),
               recent=view.recent, minutes=RECENT_MINUTES)


def _networks(view: StormView, say: Words) -> list[dict]:
    shown = [f"{clip(network_label(network), NAME_LIMIT)} {number(say, count)}"
             for network, count in view.networks[:NETWORKS]]
    if rest := sum(count for _, count in view.networks[NETWORKS:]):
        shown.append(say("storm.other_networks", count=number(say, rest)))
    return [run(_SEP.join(shown), weight="bolder")]


def _who(member: StormMember, say: Words) -> str:
    return "@" + clip(member.author_handle.lstrip("@"), NAME_LIMIT) if member.author_handle else say("card.someone")


def _authors(authors: tuple[StormMember, ...], say: Words) -> list[dict]:
    parts = [run(f"{say('storm.biggest_authors')} ", isSubtle=True)]
    for i, author in enumerate(authors):
        parts += [*([run(_SEP, isSubtle=True)] if i else []), run(_who(author, say)),
                  run(f" {followers(say, author.author_followers or 0)}", isSubtle=True)]
    return parts


def _sample(sample: StormMember, say: Words, chars: int) -> list[dict]:
    label = run(f"#{sample.mention_id} ", weight="bolder")
    if url := safe_url(sample.url):
        label["selectAction"] = open_url(say("card.open_post"), url)
    return [label, run(f"{_who(sample, say)}: ", isSubtle=True), run(clip(sample.text, chars))]


def _own_cards(members: tuple[StormMember, ...], say: Words) -> list[dict]:
    listed = ", ".join(f"#{m.mention_id} {_who(m, say)}" for m in members[:OWN_CARDS])
    if len(members) > OWN_CARDS:
        listed = say("storm.and_more", members=listed, count=len(members) - OWN_CARDS)
    return [run("P1", weight="bolder", color="attention"), run(f" {say('storm.own_cards_teams', members=listed)}")]


def _state(view: StormView, say: Words, answer_chars: int) -> list[dict]:
    icon, label = _STATE_LINES[view.state]
    parts = [run(icon), run(say(label), weight="bolder")]
    if view.claimed_by is not None:
        parts.append(run(f" {say('card.by', person=name(view.claimed_by))}"))
    if view.state is StormState.ANSWERED and view.answer:
        parts.append(run(f": “{clip(view.answer, answer_chars)}”"))
    counts = storm_counts(say, view)
    if counts is not None:
        parts += [run(_SEP, isSubtle=True), run(counts, **({"color": "attention"} if view.failed else {}))]
    return parts


def _actions(view: StormView, say: Words) -> list[dict]:
    data = {"storm_id": view.storm_id}
    actions = []
    if not view.handled:
        if view.state is StormState.OPEN:
            actions.append(execute(say("card.claim"), Verb.CLAIM_STORM, data, style="positive"))
        actions += [_answer_all(data, say), _dismiss(data, say)]
        if view.crisis is None and view.playbooks:
            actions.append(_start_crisis(view, data, say))
    actions.append(execute(say("storm.members"), Verb.STORM_MEMBERS, data, secondary=True))
    return actions


def _answer_all(data: dict[str, int], say: Words) -> dict:
    reply = {"type": "Input.Text", "id": str(Input.REPLY_TEXT), "label": say("storm.reply_to_all"),
             "isMultiline": True, "maxLength": INPUT_LIMIT, "isRequired": True,
             "errorMessage": say("storm.write_reply_first")}
    return show_card(say("storm.answer_all"), [text_block(say("storm.answer_all_explain")), reply],
                     [execute(say("storm.send_to_all"), Verb.ANSWER_STORM, data, style="positive")])


def _dismiss(data: dict[str, int], say: Words) -> dict:
    reasons = {"type": "Input.ChoiceSet", "id": str(Input.REASON), "label": say("storm.why_no_answer"),
               "style": "expanded", "isRequired": True, "errorMessage": say("storm.pick_reason"),
               "choices": [{"title": dismiss_reason(say, reason), "value": reason.value} for reason in DismissReason]}
    return show_card(say("card.dismiss"), [reasons],
                     [execute(say("storm.dismiss_all"), Verb.DISMISS_STORM, data, style="destructive")])


def _start_crisis(view: StormView, data: dict[str, int], say: Words) -> dict:
    picker = {"type": "Input.ChoiceSet", "id": str(Input.PLAYBOOK), "label": say("storm.playbook"),
              "isRequired": True, "errorMessage": say("storm.pick_playbook_first"),
              "placeholder": say("storm.pick_playbook"),
              "choices": [{"title": escape_markdown(clip(title, _CHOICE_LIMIT)), "value": key}
                          for key, title in view.playbooks[:CHOICES]]}
    note = {"type": "Input.Text", "id": str(Input.NOTE), "label": say("storm.note_optional"), "isMultiline": True,
            "maxLength": INPUT_LIMIT}
    explain = text_block(say("storm.start_crisis_explain"), isSubtle=True)
    return show_card(say("storm.start_crisis_dialog"), [picker, explain, note],
                     [execute(say("storm.start_crisis"), Verb.STORM_CRISIS, data, style="destructive")])
