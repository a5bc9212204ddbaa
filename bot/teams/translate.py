"""Teams activities → commands: who is acting, which card action or typed command. Pure functions."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.config import Config
from bot.core.catalogue import Words
from bot.core.commands import Place
from bot.core.intents import command_for, subject_number, text_query
from bot.core.mentions import Actor, DomainError, Phrase, chat_actor
from bot.core.views import PersonRef
from bot.teams.ids import DIGEST, PLATFORM, Input, Verb, skip_reason

_AT_TAG = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DRAFT_VERBS = frozenset({Verb.APPROVE, Verb.REQUEST_CHANGES, Verb.RETRY})
_CRISIS_VERBS = frozenset({Verb.CRISIS_DONE, Verb.CRISIS_SKIP})
_SPIKE_VERBS = frozenset({Verb.SPIKE_START, Verb.SPIKE_NOT_NOW})
_STORM_VERBS = frozenset({Verb.CLAIM_STORM, Verb.ANSWER_STORM, Verb.DISMISS_STORM, Verb.STORM_MEMBERS,
                         Verb.STORM_CRISIS})


def words(config: Config, sender: dict[str, Any]) -> Words:
    """What the person behind a Teams user reads privately: their webcare.toml `lang`, else the team's."""
    return config.words_for(config.person_on(PLATFORM, str(sender.get("id") or ""), also=sender.get("aadObjectId")))


def actor(config: Config, sender: dict[str, Any]) -> Actor:
    """The person behind a Teams user: from webcare.toml (by Teams id or Entra object id), else by Teams id."""
    user_id = str(sender.get("id") or "")
    person = config.person_on(PLATFORM, user_id, also=sender.get("aadObjectId"))
    if person is not None:
        return chat_actor(person.ref, person.roles)
    return chat_actor(PersonRef.chat_user(PLATFORM, user_id, str(sender.get("name") or user_id)))


def is_card_action(activity: dict[str, Any]) -> bool:
    """An `Action.Execute` invoke, or the message an `Action.Submit` fallback sends."""
    if activity.get("type") == "invoke":
        return activity.get("name") == "adaptiveCard/action"
    value = activity.get("value")
    return activity.get("type") == "message" and isinstance(value, dict) and "verb" in value


def card_command(activity: dict[str, Any], who: Actor) -> object:
    """The command an `Action.Execute` (invoke) or its `Action.Submit` fallback (message) stands for."""
    verb, data = _clicked(activity)
    try:
        verb = Verb(verb)
    except ValueError:
        raise DomainError("refusal.not_our_button") from None
    intent = verb.value.removeprefix("webcare.")
    if verb in _DRAFT_VERBS:
        return command_for(intent, subject_number(data.get("draft_id"), "draft"), who, data)
    if verb in _CRISIS_VERBS:
        step = str(data.get("step") or "")
        inputs = {**data, "reason": data.get(skip_reason(step)) or data.get("reason")}
        return command_for(intent, subject_number(data.get("crisis_id"), "crisis"), who, inputs)
    if verb in _SPIKE_VERBS:
        return command_for(intent, subject_number(data.get("spike_id"), "spike alert"), who, data)
    if verb in _STORM_VERBS:
        return command_for(intent, subject_number(data.get("storm_id"), "storm"), who, data)
    return command_for(intent, subject_number(data.get("mention_id")), who, data)


def picked_reply(activity: dict[str, Any]) -> tuple[int, str] | None:
    """The mention and saved reply key of a Fill in click on an Answer form; None for any other click."""
    verb, data = _clicked(activity)
    if verb != Verb.FILL_REPLY:
        return None
    key = data.get(Input.SAVED_REPLY)
    if not isinstance(key, str) or not key:
        raise DomainError("refusal.pick_saved_reply")
    return subject_number(data.get("mention_id")), key


def digest_of(activity: dict[str, Any]) -> str | None:
    """The minute (`2026-11-20T10:31`) of the digest whose line was clicked; None for a click on any other card."""
    minute = _clicked(activity)[1].get(DIGEST)
    if minute is None:
        return None
    try:
        if isinstance(minute, str) and _MINUTE.fullmatch(minute):
            datetime.strptime(minute, "%Y-%m-%dT%H:%M")
            return minute
    except ValueError:
        pass
    raise DomainError("refusal.no_subject", what=Phrase("refusal.a_digest"))


def _clicked(activity: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The verb and data of an `Action.Execute` (invoke) or of its `Action.Submit` fallback (message)."""
    if activity.get("type") == "invoke":
        action = (activity.get("value") or {}).get("action") or {}
        data = action.get("data")
        return action.get("verb"), data if isinstance(data, dict) else {}
    data = activity.get("value")
    data = data if isinstance(data, dict) else {}
    return data.get("verb"), data


def typed_text(activity: dict[str, Any]) -> str:
    """What the person typed to the bot, without the `<at>Webcare</at>` that addressed it."""
    text = _AT_TAG.sub(" ", str(activity.get("text") or ""))
    return _TAGS.sub(" ", text).replace("&nbsp;", " ").strip()


def typed_query(activity: dict[str, Any], who: Actor) -> object | None:
    """The command `@Webcare help | mine | queue | stats | playbooks | crisis …` asks for (None for help).

    Crisis commands act on the crisis of the conversation they were typed in: Teams names a thread
    `<channel>;messageid=<root>`, so one typed in a crisis' thread acts on that crisis.
    """
    place = Place(PLATFORM, str((activity.get("conversation") or {}).get("id") or ""))
    return text_query(typed_text(activity), who, place)
