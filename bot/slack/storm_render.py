"""Render a storm group's card as Block Kit: its size, networks, authors, samples, where it stands, and its buttons."""

from __future__ import annotations

from bot.core.catalogue import Words
from bot.core.storms.views import RECENT_MINUTES, StormMember, StormState, StormView
from bot.core.views import MentionState, network_label
from bot.core.wording import age, crisis_name, followers, mention_label, number, storm_counts, storm_detail
from bot.slack.escape import escape_body, escape_mrkdwn, link, safe_url, slack_len, split, truncate
from bot.slack.ids import Action
from bot.slack.render import SECTION_LIMIT, Message, mention

SAMPLE_LIMIT = 500  # characters of one sample's text
HEADER_LIMIT = 150  # Block Kit: text of a header block
OWN_CARDS_SHOWN = 10  # P1 members listed by number; the rest are counted
_NAME_LIMIT = 80  # one handle inside a line
_STATES = {  # a storm's state as a mention card would say it
    StormState.OPEN: (":new:", MentionState.NEW),
    StormState.CLAIMED: (":raising_hand:", MentionState.CLAIMED),
    StormState.ANSWERED: (":white_check_mark:", MentionState.ANSWERED),
    StormState.DISMISSED: (":no_entry_sign:", MentionState.DISMISSED),
}


def render_storm(view: StormView, say: Words) -> Message:
    """The storm card: headline, networks and authors, samples, P1 members, state and counts, crisis, buttons."""
    prefix = f"storm-{view.storm_id}"
    headline = _headline(view, say)
    blocks: list[dict] = [
        {"type": "header", "block_id": f"{prefix}-header", "text": _plain(f"🌪 {headline}"[:HEADER_LIMIT])},
        _context(f"{prefix}-networks", _networks(view, say)),
    ]
    if view.authors:
        authors = dict.fromkeys(_author(a, say) for a in view.authors)  # one author's several posts: named once
        blocks.append(_context(f"{prefix}-authors", f"{say('storm.biggest_authors')} " + " · ".join(authors)))
    for i, sample in enumerate(view.samples):
        blocks.append(_section(f"{prefix}-sample-{i}", _sample(sample, say)))
    if view.own_cards:
        blocks.append(_context(f"{prefix}-own-cards", _own_cards(view.own_cards, say)))
    if view.crisis is not None:
        icon = ":performing_arts:" if view.crisis.drill else ":rotating_light:"
        crisis = f"*{escape_mrkdwn(crisis_name(say, view.crisis))}*"
        blocks.append(_context(f"{prefix}-crisis", f"{icon} {say('storm.crisis_linked', crisis=crisis)}"))
    blocks.append(_section(f"{prefix}-status", _status(view, say)))
    if view.state is StormState.ANSWERED and view.answer:
        blocks += [_section(f"{prefix}-answer-{i}", piece) for i, piece in enumerate(_quoted(view.answer, say))]
    if not view.handled:
        blocks.append({"type": "actions", "block_id": f"{prefix}-actions", "elements": _buttons(view, say)})
    return truncate(escape_mrkdwn(f"{headline} ({_state_word(view, say)})"), SECTION_LIMIT), blocks


def render_member_list(text: str) -> list[dict]:
    """A storm's member list (mrkdwn, one member a line) as section texts Slack takes, cut between lines."""
    pieces: list[str] = []
    for line in text.split("\n"):
        line = truncate(line, SECTION_LIMIT)
        if pieces and slack_len(pieces[-1]) + 1 + slack_len(line) <= SECTION_LIMIT:
            pieces[-1] += "\n" + line
        else:
            pieces.append(line)
    return [_mrkdwn(piece) for piece in pieces]


def _headline(view: StormView, say: Words) -> str:
    return say("storm.headline", id=view.storm_id, mentions=say("storm.mentions", count=view.members),
               recent=view.recent, minutes=RECENT_MINUTES)


def _networks(view: StormView, say: Words) -> str:
    minutes = int((view.now - view.first_at).total_seconds() // 60)
    counts = [f"*{escape_mrkdwn(network_label(network))}* {number(say, n)}" for network, n in view.networks]
    return " · ".join([*counts, say("storm.started", age=age(say, minutes))])


def _handle(member: StormMember, say: Words) -> str:
    if not member.author_handle:
        return say("card.someone")
    return escape_mrkdwn("@" + member.author_handle.lstrip("@")[:_NAME_LIMIT])


def _author(member: StormMember, say: Words) -> str:
    if member.author_followers is None:
        return _handle(member, say)
    return f"{_handle(member, say)} ({followers(say, member.author_followers)})"


def _number(member: StormMember) -> str:
    """`#12`, linked to the post where Slack can link it."""
    url = safe_url(member.url)
    return link(url, f"#{member.mention_id}") if url else f"#{member.mention_id}"


def _sample(member: StormMember, say: Words) -> str:
    text = truncate(escape_body(member.text), SAMPLE_LIMIT) or f"_{say('card.no_text')}_"
    network = escape_mrkdwn(network_label(member.network))
    return f"*{_number(member)}* {network} {_handle(member, say)}\n{text}"


def _own_cards(members: tuple[StormMember, ...], say: Words) -> str:
    shown = " · ".join(f"{_number(m)} {_handle(m, say)}" for m in members[:OWN_CARDS_SHOWN])
    if len(members) > OWN_CARDS_SHOWN:
        shown = say("storm.and_more", members=shown, count=len(members) - OWN_CARDS_SHOWN)
    return f":rotating_light: *{say('storm.own_cards')}* {shown}"


def _state_word(view: StormView, say: Words) -> str:
    return mention_label(say, _STATES[view.state][1]).lower()


def _status(view: StormView, say: Words) -> str:
    icon, state = _STATES[view.state]
    line = f"{icon} *{mention_label(say, state)}*"
    if view.claimed_by is not None and view.state is not StormState.OPEN:
        line += f" {say('card.by', person=mention(view.claimed_by))}"
    if detail := storm_detail(say, view):
        line += f": {detail}"
    counts = storm_counts(say, view)
    if counts is not None:
        line += f"\n{':warning: ' if view.failed else ''}{counts}"
    return truncate(line, SECTION_LIMIT)


def _quoted(answer: str, say: Words) -> list[str]:
    escaped = truncate(escape_body(answer), 4 * SECTION_LIMIT)
    label = f"_{say('storm.reply')}_ "
    pieces = split(escaped, SECTION_LIMIT - len(label))
    return [f"{label}{piece}" if i == 0 else piece for i, piece in enumerate(pieces)]


def _buttons(view: StormView, say: Words) -> list[dict]:
    value = str(view.storm_id)
    buttons = []
    if view.state is StormState.OPEN:
        buttons.append(_button(say("card.claim"), Action.STORM_CLAIM, value, style="primary"))
    buttons += [_button(say("storm.answer_all"), Action.STORM_ANSWER, value),
                _button(say("card.dismiss"), Action.STORM_DISMISS, value)]
    if view.crisis is None and view.playbooks:
        buttons.append(_button(say("storm.start_crisis_dialog"), Action.STORM_CRISIS, value, style="danger"))
    buttons.append(_button(say("storm.members"), Action.STORM_MEMBERS, value))
    return buttons


def _context(block_id: str, text: str) -> dict:
    return {"type": "context", "block_id": block_id, "elements": [_mrkdwn(truncate(text, SECTION_LIMIT))]}


def _section(block_id: str, text: str) -> dict:
    return {"type": "section", "block_id": block_id, "text": _mrkdwn(truncate(text, SECTION_LIMIT))}


def _mrkdwn(text: str) -> dict:
    """A `verbatim` mrkdwn text object: Slack links and pings only what our own `<…>` syntax says."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}


def _button(label: str, action: Action, value: str, *, style: str | None = None) -> dict:
    button = {"type": "button", "action_id": str(action), "text": _plain(label), "value": value}
    return {**button, "style": style} if style else button
