"""Render a minute's digest as Block Kit: a header, one claimable line per P3 mention, and how many more wait."""

from __future__ import annotations

from bot.core.catalogue import Words
from bot.core.clock_words import moment
from bot.core.storms.views import DigestLine, DigestView
from bot.core.views import MentionState, network_label
from bot.core.wording import mention_label, number
from bot.slack.escape import escape_body, escape_mrkdwn, link, safe_url, truncate
from bot.slack.ids import Action
from bot.slack.render import SECTION_LIMIT, Message, mention

TEXT_LIMIT = 200  # characters of one mention's text on its line
HEADER_LIMIT = 150  # Block Kit: text of a header block
MAX_LINES = 48  # Block Kit: 50 blocks a message, less the header and the "more" line
_NAME_LIMIT = 80  # one handle inside a line
# States in which the claimant still holds the mention (and the line names them).
_HOLDING = frozenset({MentionState.CLAIMED, MentionState.ESCALATED, MentionState.AWAITING_APPROVAL})


def render_digest(view: DigestView, say: Words) -> Message:
    """The digest: the minute and its count, a line per mention (Claim while it is new), and the rest counted."""
    headline = _headline(view, say)
    lines = view.lines[:MAX_LINES]
    blocks: list[dict] = [{"type": "header", "block_id": f"digest-{view.minute}-header",
                           "text": _plain(f"📋 {headline} {say('digest.busy')}"[:HEADER_LIMIT])}]
    blocks += [_line(line, say) for line in lines]
    if more := view.total - len(lines):
        text = say("digest.more_in", more=number(say, more), command="`/webcare queue`")
        blocks.append({"type": "context", "block_id": f"digest-{view.minute}-more", "elements": [_mrkdwn(text)]})
    return headline, blocks


def _headline(view: DigestView, say: Words) -> str:
    time = moment(view.at, now=view.now, zone=view.zone, say=say, relative=False)
    mentions = say("digest.mentions", count=view.total, shown=number(say, view.total))
    return say("digest.headline", time=time, mentions=mentions)


def _line(line: DigestLine, say: Words) -> dict:
    """One mention: its number (linked to the post), network, author and text; a Claim button or where it stands."""
    url = safe_url(line.url)
    ref = link(url, f"#{line.mention_id}") if url else f"#{line.mention_id}"
    text = truncate(escape_body(line.text), TEXT_LIMIT) or f"_{say('card.no_text')}_"
    head = f"*{ref}* {escape_mrkdwn(network_label(line.network))} {_handle(line, say)}"
    section = {"type": "section", "block_id": f"digest-line-{line.mention_id}"}
    if line.state is MentionState.NEW:
        claim = {"type": "button", "action_id": str(Action.CLAIM), "text": _plain(say("card.claim")),
                 "value": str(line.mention_id)}
        return {**section, "text": _mrkdwn(truncate(f"{head}\n{text}", SECTION_LIMIT)), "accessory": claim}
    return {**section, "text": _mrkdwn(truncate(f"{head} · {_state(line, say)}\n{text}", SECTION_LIMIT))}


def _handle(line: DigestLine, say: Words) -> str:
    if not line.author_handle:
        return say("card.someone")
    return escape_mrkdwn("@" + line.author_handle.lstrip("@")[:_NAME_LIMIT])


def _state(line: DigestLine, say: Words) -> str:
    """Where a line's mention stands once someone took it up: "*Claimed* by @carla", "*Escalated* · claimed by …"."""
    label = f"*{mention_label(say, line.state)}*"
    if line.claimed_by is None or line.state not in _HOLDING:
        return label
    if line.state is MentionState.CLAIMED:
        return f"{label} {say('card.by', person=mention(line.claimed_by))}"
    return f"{label} · {say('card.claimed_by', person=mention(line.claimed_by))}"


def _mrkdwn(text: str) -> dict:
    """A `verbatim` mrkdwn text object: Slack links and pings only what our own `<…>` syntax says."""
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _plain(text: str) -> dict:
    return {"type": "plain_text", "text": text, "emoji": True}
