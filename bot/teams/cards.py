"""Build Adaptive Card pieces: the card, TextRuns, actions with their fallback, mentions, size."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping

from bot.core.views import PersonRef
from bot.teams.escape import clip, cut, escape_markdown, inert_run
from bot.teams.ids import PLATFORM, Verb

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"  # Universal Actions need >= 1.4; `mode: secondary` needs 1.5
MESSAGE_LIMIT = 28 * 1024  # Teams: one message, envelope and attachments included
CARD_LIMIT = MESSAGE_LIMIT - 4 * 1024  # what a card may use; the rest is left for the activity
NAME_LIMIT = 80  # one name or handle inside a line
INPUT_LIMIT = 3000  # maxLength of text inputs, as in the Slack dialogs and the reply handler
_TEAMS_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z:._@\-]{2,254}")
_LABEL_UNSAFE = re.compile(r"[<>]")


def adaptive_card(body: list[dict], actions: Iterable[dict] = (), *, entities: Iterable[dict] = (),
                  fallback_text: str | None = None) -> dict:
    """Return a top-level Adaptive Card; `entities` are Teams mention entities for its TextBlocks."""
    card: dict = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions := list(actions):
        card["actions"] = actions
    msteams: dict = {"width": "Full"}
    if entities := list(entities):
        msteams["entities"] = entities
    card["msteams"] = msteams
    if fallback_text:
        card["fallbackText"] = fallback_text
    return card


def execute(title: str, verb: Verb, data: Mapping[str, int | str], *, style: str | None = None,
            secondary: bool = False) -> dict:
    """Return an `Action.Execute` whose `fallback` is the same click as an `Action.Submit`.

    Clients with Universal Actions send an `adaptiveCard/action` invoke (verb + data, inputs
    merged into data) and show the card the bot answers with; older clients render the fallback
    and send a message activity whose `value` is the data, the inputs and `"verb"`.
    """
    common: dict = {"title": title}
    if style:
        common["style"] = style
    if secondary:
        common["mode"] = "secondary"
    submit = {"type": "Action.Submit", **common, "data": {**data, "verb": str(verb)}}
    return {"type": "Action.Execute", **common, "verb": str(verb), "data": dict(data), "fallback": submit}


def show_card(title: str, body: list[dict], actions: Iterable[dict] = ()) -> dict:
    """Return an `Action.ShowCard` that unfolds a small form under the card."""
    card: dict = {"type": "AdaptiveCard", "body": body}
    if actions := list(actions):
        card["actions"] = actions
    return {"type": "Action.ShowCard", "title": title, "card": card}


def open_url(title: str, url: str) -> dict:
    """Return an `Action.OpenUrl`; give it only a `safe_url`."""
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def rich_text(block_id: str, inlines: list[dict], **properties: object) -> dict:
    """Return a RichTextBlock: its TextRuns are shown as written, never parsed as markdown."""
    return {"type": "RichTextBlock", "id": block_id, "inlines": inlines, **properties}


def run(text: str, **properties: object) -> dict:
    """Return a TextRun; any `<at>` tag in the text is split so it can never become a mention."""
    return {"type": "TextRun", "text": inert_run(text), **properties}


def text_block(text: str, **properties: object) -> dict:
    """Return a wrapping TextBlock; its text is markdown, so build it from `escape_markdown`."""
    return {"type": "TextBlock", "text": text, "wrap": True, **properties}


def name(person: PersonRef) -> str:
    """Return a person's name cut to a sensible length, as plain text for a TextRun."""
    return clip(person.name, NAME_LIMIT)


class Mentions:
    """Turn people into `<at>` mentions for a TextBlock, collecting the entities the card needs.

    Only people with a Teams id from webcare.toml are mentioned; anyone else is named in escaped
    text. The `<at>` label is the escaped name without angle brackets, so the tag stays whole.
    """

    def __init__(self) -> None:
        self.entities: list[dict] = []

    def __call__(self, person: PersonRef) -> str:
        """Return markdown that mentions `person`, or names them when Teams cannot ping them."""
        label = _LABEL_UNSAFE.sub("", escape_markdown(name(person))).strip(" \u200b")
        teams_id = person.chat_id(PLATFORM)
        if not (teams_id and _TEAMS_ID.fullmatch(teams_id) and label):
            return escape_markdown(name(person))
        text = f"<at>{label}</at>"
        entity = {"type": "mention", "text": text, "mentioned": {"id": teams_id, "name": name(person)}}
        if entity not in self.entities:
            self.entities.append(entity)
        return text


def size(card: dict) -> int:
    """Return the card's size in bytes as JSON, counting every non-ASCII character escaped."""
    return len(json.dumps(card))


def fit(build: Callable[[str, bool], dict], text: str, *, chars: int, limit: int = CARD_LIMIT) -> dict:
    """Build a card around `text`, cutting the text (with "…") until the card fits `limit` bytes.

    `build(text, cut)` renders the card; `cut` tells it the text was shortened, so it can point
    to where the rest is. The text is first held to `chars` characters.
    """
    if len(text) <= chars and size(card := build(text, False)) <= limit:
        return card
    low, high = 0, min(len(text), chars - 1)
    while low < high:  # the longest prefix that fits; the card grows with the prefix
        middle = (low + high + 1) // 2
        if size(build(cut(text, middle), True)) <= limit:
            low = middle
        else:
            high = middle - 1
    return build(cut(text, low), True)
