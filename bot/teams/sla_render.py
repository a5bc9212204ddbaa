"""Render SLA reminders as Adaptive Cards: one in a card's thread, or a storm's gathered in the triage channel."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import tzinfo

from bot.core.catalogue import Words
from bot.core.sla import ReminderView
from bot.core.sla_words import gathered_title, reminder_line, reminder_text
from bot.teams.cards import CARD_LIMIT, Mentions, adaptive_card, rich_text, run, size, text_block
from bot.teams.escape import clip, escape_markdown

GATHERED_LINES = 40  # lines of a gathered card; the rest are counted
_CUTS = (200, 80, 40)  # characters of one line's customer text, tried in turn until the card fits Teams' size limit
_SUMMARY = "\ue000"  # stand-ins the catalogue's words are filled with, so each part is built the way it must be:
_PEOPLE = "\ue001"  # the customer's words as a TextRun, the people as `<at>` mentions in a TextBlock
_PARTS = re.compile(f"({_SUMMARY}|{_PEOPLE})")


def render_reminder(view: ReminderView, zone: tzinfo, say: Words) -> dict:
    """A reminder @mentioning the people it is for (entities only from webcare.toml ids), for the card's thread."""
    mentions = Mentions()
    words = escape_markdown(reminder_text(view, _PEOPLE, zone, say))
    text = f"⏰ {words.replace(_PEOPLE, _people(view, mentions))}"
    body = [text_block(text, id=f"sla-{view.event}-{view.mention_id}")]
    fallback = f"⏰ {words.replace(_PEOPLE, escape_markdown(', '.join(p.name for p in view.to)))}"
    return adaptive_card(body, entities=mentions.entities, fallback_text=fallback)


def render_gathered(views: Sequence[ReminderView], zone: tzinfo, say: Words) -> dict:
    """A storm's reminders of one minute in one card: a line per mention, each @mentioning its people; past
    GATHERED_LINES lines (or what fits one Teams message), how many more.

    The customer's words are TextRuns: nothing in them formats, links or mentions.
    """
    shown = views[:GATHERED_LINES]
    for chars in _CUTS:
        card = _gathered(views, shown, chars, zone, say)
        if size(card) <= CARD_LIMIT:
            return card
    while len(shown) > 1 and size(card) > CARD_LIMIT:
        shown = shown[:-1]
        card = _gathered(views, shown, _CUTS[-1], zone, say)
    return card


def _gathered(views: Sequence[ReminderView], shown: Sequence[ReminderView], chars: int, zone: tzinfo,
              say: Words) -> dict:
    mentions = Mentions()  # per build: the entities name exactly the people on the lines shown
    title = gathered_title(len(views), say)
    body = [text_block(f"⏰ **{escape_markdown(title)}**", id="sla-gathered", size="medium")]
    for number, view in enumerate(shown):
        body += _line(f"sla-gathered-{number}", view, chars, mentions, zone, say, separator=number == 0)
    if more := len(views) - len(shown):
        body.append(rich_text("sla-gathered-more", [run(say("sla.more", count=more), isSubtle=True)], separator=True))
    return adaptive_card(body, entities=mentions.entities, fallback_text=escape_markdown(f"⏰ {title}"))


def _line(block_id: str, view: ReminderView, chars: int, mentions: Mentions, zone: tzinfo, say: Words, *,
          separator: bool) -> list[dict]:
    """One reminder: the catalogue's line with the customer's words as a TextRun and the people @mentioned.

    A TextRun cannot mention, so the line is split where the people are named: the words up to there in a
    RichTextBlock, the people and the words after them in a TextBlock right under it.
    """
    groups: list[tuple[bool, list]] = [(False, [run("• ")])]  # (is markdown, its TextRuns or markdown pieces)
    for part in _PARTS.split(reminder_line(view, _SUMMARY, _PEOPLE, zone, say)):
        markdown = groups[-1][0]
        if part == _PEOPLE:
            if not markdown:
                groups.append((True, []))
            groups[-1][1].append(_people(view, mentions))
        elif part == _SUMMARY:
            if markdown:
                groups.append((False, []))
            groups[-1][1].append(run(clip(view.summary, chars) or "…"))
        elif part:
            groups[-1][1].append(escape_markdown(part) if markdown else run(part))
    blocks: list[dict] = []
    for markdown, items in groups:
        place = ({"separator": True} if separator else {}) if not blocks else {"spacing": "none"}
        name = f"{block_id}-{len(blocks)}" if blocks else block_id
        if markdown and "".join(items).strip():
            blocks.append(text_block("".join(items), id=name, **place))
        elif not markdown and items:
            blocks.append(rich_text(name, items, **place))
    return blocks


def _people(view: ReminderView, mentions: Mentions) -> str:
    """The people as Teams shows them: `<at>` mentions (plain names for anyone without a Teams id)."""
    return ", ".join(mentions(person) for person in view.to)
