"""Render a storm group's card as an Adaptive Card: the numbers, networks, authors, samples, state, and its actions."""

from __future__ import annotations

from bot.core.storms.views import RECENT_MINUTES, StormMember, StormState, StormView
from bot.core.views import DismissReason, age_label, network_label
from bot.core.wording import storm_counts
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
_STATE_LINES = {StormState.OPEN: ("🆕 ", "Open"), StormState.CLAIMED: ("✋ ", "Claimed"),
                StormState.ANSWERED: ("✅ ", "Answered"), StormState.DISMISSED: ("🚫 ", "Dismissed")}


def render_storm(view: StormView) -> dict:
    """The storm card. Customer text and names are TextRuns (never markdown, never a mention); samples and the
    answer are cut until the card fits in one Teams message."""
    for sample_chars, answer_chars in _CUTS:
        card = _card(view, sample_chars, answer_chars)
        if size(card) <= CARD_LIMIT:
            return card
    return card


def _card(view: StormView, sample_chars: int, answer_chars: int) -> dict:
    prefix = f"storm-{view.storm_id}"
    body: list[dict] = [text_block(f"🌪 **{escape_markdown(headline(view))}**", id=f"{prefix}-head", size="medium")]
    if view.crisis is not None:
        color = "default" if view.crisis.drill else "attention"
        body.append(rich_text(f"{prefix}-crisis", [run(crisis_label(view.crisis), weight="bolder", color=color)]))
    minutes = max(0, int((view.now - view.first_at).total_seconds() // 60))
    body.append(rich_text(f"{prefix}-networks", [*_networks(view), run(_SEP, isSubtle=True),
                                                 run(f"started {age_label(minutes)}", isSubtle=True)]))
    if view.authors:
        body.append(rich_text(f"{prefix}-authors", _authors(view.authors), spacing="none"))
    for i, sample in enumerate(view.samples):
        body.append(rich_text(f"{prefix}-sample-{i}", _sample(sample, sample_chars), separator=i == 0))
    if view.own_cards:
        body.append(rich_text(f"{prefix}-own-cards", _own_cards(view.own_cards), separator=True))
    body.append(rich_text(f"{prefix}-state", _state(view, answer_chars), separator=True))
    return adaptive_card(body, _actions(view), fallback_text=escape_markdown(f"🌪 {headline(view)}"))


def headline(view: StormView) -> str:
    """"Storm #N · 42 mentions · 12 in the last 10 min"."""
    plural = "" if view.members == 1 else "s"
    return f"Storm #{view.storm_id}{_SEP}{view.members} mention{plural}{_SEP}{view.recent} in the last " \
           f"{RECENT_MINUTES} min"


def _networks(view: StormView) -> list[dict]:
    shown = [f"{clip(network_label(network), NAME_LIMIT)} {count}" for network, count in view.networks[:NETWORKS]]
    if rest := sum(count for _, count in view.networks[NETWORKS:]):
        shown.append(f"other networks {rest}")
    return [run(_SEP.join(shown), weight="bolder")]


def _who(member: StormMember) -> str:
    return "@" + clip(member.author_handle.lstrip("@"), NAME_LIMIT) if member.author_handle else "someone"


def _authors(authors: tuple[StormMember, ...]) -> list[dict]:
    parts = [run("Biggest authors: ", isSubtle=True)]
    for i, author in enumerate(authors):
        followers = author.author_followers or 0
        parts += [*([run(_SEP, isSubtle=True)] if i else []), run(_who(author)),
                  run(f" {followers:,} follower{'' if followers == 1 else 's'}", isSubtle=True)]
    return parts


def _sample(sample: StormMember, chars: int) -> list[dict]:
    label = run(f"#{sample.mention_id} ", weight="bolder")
    if url := safe_url(sample.url):
        label["selectAction"] = open_url("Open post", url)
    return [label, run(f"{_who(sample)}: ", isSubtle=True), run(clip(sample.text, chars))]


def _own_cards(members: tuple[StormMember, ...]) -> list[dict]:
    listed = ", ".join(f"#{m.mention_id} {_who(m)}" for m in members[:OWN_CARDS])
    more = f" and {len(members) - OWN_CARDS} more" if len(members) > OWN_CARDS else ""
    return [run("P1", weight="bolder", color="attention"), run(f" with their own card: {listed}{more}")]


def _state(view: StormView, answer_chars: int) -> list[dict]:
    icon, label = _STATE_LINES[view.state]
    parts = [run(icon), run(label, weight="bolder")]
    if view.claimed_by is not None:
        parts.append(run(f" by {name(view.claimed_by)}"))
    if view.state is StormState.ANSWERED and view.answer:
        parts.append(run(f": “{clip(view.answer, answer_chars)}”"))
    counts = storm_counts(view)
    if counts is not None:
        parts += [run(_SEP, isSubtle=True), run(counts, **({"color": "attention"} if view.failed else {}))]
    return parts


def _actions(view: StormView) -> list[dict]:
    data = {"storm_id": view.storm_id}
    actions = []
    if not view.handled:
        if view.state is StormState.OPEN:
            actions.append(execute("Claim", Verb.CLAIM_STORM, data, style="positive"))
        actions += [_answer_all(data), _dismiss(data)]
        if view.crisis is None and view.playbooks:
            actions.append(_start_crisis(view, data))
    actions.append(execute("Members", Verb.STORM_MEMBERS, data, secondary=True))
    return actions


def _answer_all(data: dict[str, int]) -> dict:
    explain = ("One reply for every open member below P1 that nobody else holds, each delivered through its own "
               "connector. P1 members keep their own card.")
    reply = {"type": "Input.Text", "id": str(Input.REPLY_TEXT), "label": "Your reply to all", "isMultiline": True,
             "maxLength": INPUT_LIMIT, "isRequired": True, "errorMessage": "Write the reply first."}
    return show_card("Answer all", [text_block(explain), reply],
                     [execute("Send to all", Verb.ANSWER_STORM, data, style="positive")])


def _dismiss(data: dict[str, int]) -> dict:
    reasons = {"type": "Input.ChoiceSet", "id": str(Input.REASON), "label": "Why do they need no answer?",
               "style": "expanded", "isRequired": True, "errorMessage": "Pick a reason.",
               "choices": [{"title": reason.label.capitalize(), "value": reason.value} for reason in DismissReason]}
    return show_card("Dismiss", [reasons], [execute("Dismiss all", Verb.DISMISS_STORM, data, style="destructive")])


def _start_crisis(view: StormView, data: dict[str, int]) -> dict:
    picker = {"type": "Input.ChoiceSet", "id": str(Input.PLAYBOOK), "label": "Playbook", "isRequired": True,
              "errorMessage": "Pick a playbook.", "placeholder": "Pick a playbook",
              "choices": [{"title": escape_markdown(clip(title, _CHOICE_LIMIT)), "value": key}
                          for key, title in view.playbooks[:CHOICES]]}
    note = {"type": "Input.Text", "id": str(Input.NOTE), "label": "Note (optional)", "isMultiline": True,
            "maxLength": INPUT_LIMIT}
    explain = text_block("Every member of this storm is linked to the new crisis.", isSubtle=True)
    return show_card("Start crisis…", [picker, explain, note],
                     [execute("Start crisis", Verb.STORM_CRISIS, data, style="destructive")])
