"""Render a minute's digest as an Adaptive Card: one line per P3 mention, each claimable while it is new."""

from __future__ import annotations

from bot.core.catalogue import Words
from bot.core.clock_words import moment
from bot.core.storms.views import DigestLine, DigestView
from bot.core.views import MentionState, network_label
from bot.core.wording import mention_label, number
from bot.teams.cards import (
    CARD_LIMIT,
    NAME_LIMIT,
    adaptive_card,
    execute,
    name,
    open_url,
    rich_text,
    run,
    size,
    text_block,
)
from bot.teams.escape import clip, escape_markdown, safe_url
from bot.teams.ids import DIGEST, Verb

_SEP = " · "
_CUTS = (200, 100, 60)  # characters of one line's text, tried in turn until the card fits Teams' size limit


def render_digest(view: DigestView, say: Words) -> dict:
    """The digest card. Customer text and handles are TextRuns (never markdown, never a mention), cut to one short
    line each; when even the shortest lines do not fit one Teams message, the last lines are counted instead."""
    for chars in _CUTS:
        card = _card(view, say, view.lines, chars)
        if size(card) <= CARD_LIMIT:
            return card
    shown = len(view.lines)
    while shown and size(card) > CARD_LIMIT:
        shown -= 1
        card = _card(view, say, view.lines[:shown], _CUTS[-1])
    return card


def headline(view: DigestView, say: Words) -> str:
    """"Digest 10:31 UTC · 57 P3 mentions (the channel is busy)"."""
    time = moment(view.at, now=view.now, zone=view.zone, say=say, relative=False)
    mentions = say("digest.mentions", count=view.total, shown=number(say, view.total))
    return f"{say('digest.headline', time=time, mentions=mentions)} {say('digest.busy')}"


def _card(view: DigestView, say: Words, lines: tuple[DigestLine, ...], chars: int) -> dict:
    title = headline(view, say)
    body = [text_block(f"📋 **{escape_markdown(title)}**", id=f"digest-{view.minute}-head", size="medium")]
    body += [_line(view.minute, line, say, chars, separator=i == 0) for i, line in enumerate(lines)]
    if more := view.total - len(lines):
        body.append(rich_text(f"digest-{view.minute}-more", [
            run(say("digest.more_type", more=number(say, more)) + " "),
            run("@Webcare queue", fontType="monospace", weight="bolder")], separator=True))
    return adaptive_card(body, fallback_text=escape_markdown(f"📋 {title}"))


def _line(minute: str, line: DigestLine, say: Words, chars: int, *, separator: bool) -> dict:
    """One mention: `#id` (a link to the post), network, @handle and text; then Claim, or where it stands."""
    label = run(f"#{line.mention_id}", weight="bolder")
    if url := safe_url(line.url):
        label["selectAction"] = open_url(say("card.open_post"), url)
    who = "@" + clip(line.author_handle.lstrip("@"), NAME_LIMIT) if line.author_handle else say("card.someone")
    text = " ".join(line.text.split())
    inlines = [label, run(f"{_SEP}{clip(network_label(line.network), NAME_LIMIT)}{_SEP}{who}: ", isSubtle=True),
               run(clip(text, chars)) if text else run(say("card.no_text"), italic=True, isSubtle=True)]
    if line.state is MentionState.NEW and line.claimed_by is None:
        side = {"type": "ActionSet", "actions": [
            execute(say("card.claim"), Verb.CLAIM, {"mention_id": line.mention_id, DIGEST: minute})]}
    else:
        side = {"type": "RichTextBlock", "inlines": _state(line, say)}
    return {"type": "ColumnSet", "id": f"digest-line-{line.mention_id}", "separator": separator, "columns": [
        {"type": "Column", "width": "stretch", "items": [{"type": "RichTextBlock", "inlines": inlines}]},
        {"type": "Column", "width": "auto", "items": [side]}]}


def _state(line: DigestLine, say: Words) -> list[dict]:
    parts = [run(mention_label(say, line.state), weight="bolder")]
    if line.claimed_by is not None:
        parts.append(run(f" {say('card.by', person=name(line.claimed_by))}" if line.state is MentionState.CLAIMED
                         else f"{_SEP}{name(line.claimed_by)}"))
    return parts
