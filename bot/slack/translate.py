"""Slack payloads → commands: who is acting, on which mention, with what input. Pure functions."""

from __future__ import annotations

from typing import Any

from bot.config import Config
from bot.domain import Actor, DomainError
from bot.intents import TEXT_COMMANDS, command_for, subject_number, text_query
from bot.slack.ids import Action, Block, MoreOption, View
from bot.views import PersonRef


def actor(config: Config, user: dict[str, Any]) -> Actor:
    """The person behind a Slack user id: from webcare.toml if listed, else known by their Slack id."""
    user_id = str(user.get("id") or user.get("user_id") or "")
    person = config.person_by_slack(user_id)
    if person is not None:
        return Actor(person.ref, person.roles)
    name = user.get("name") or user.get("username") or user.get("user_name") or user_id
    return Actor(PersonRef(key=f"slack:{user_id}", name=str(name), slack_id=user_id))


# Buttons that act at once; the others open a dialog first.
_BUTTON_INTENTS = {Action.CLAIM: ("claim", "mention"), Action.APPROVE: ("approve", "draft"),
                   Action.RETRY: ("retry", "draft")}
_MENU_INTENTS = {MoreOption.UNCLAIM: "unclaim", MoreOption.REOPEN: "reopen", MoreOption.CLOSE: "close"}
_DIALOG_INTENTS = {View.ESCALATE: "escalate", View.ANSWER: "answer", View.DISMISS: "dismiss",
                   View.REQUEST_CHANGES: "request_changes"}


def button_command(action: dict[str, Any], who: Actor) -> object | None:
    """The command a card or draft button stands for (None for buttons that open a dialog instead)."""
    action_id = action.get("action_id")
    if action_id in _BUTTON_INTENTS:
        intent, what = _BUTTON_INTENTS[action_id]
        return command_for(intent, subject_number(action.get("value"), what), who, {})
    if action_id == Action.MORE:
        option, _, mention = str((action.get("selected_option") or {}).get("value", "")).partition(":")
        if option not in _MENU_INTENTS:
            raise DomainError("Unknown menu option.")
        return command_for(_MENU_INTENTS[option], subject_number(mention), who, {})
    return None


def subject_id(action: dict[str, Any], what: str = "mention") -> int:
    """The mention (or draft) id a dialog-opening button carries."""
    return subject_number(action.get("value"), what)


def _inputs(view: dict[str, Any]) -> dict[str, Any]:
    """The dialog's input values by block id (each block holds one element with the same action id)."""
    found: dict[str, Any] = {}
    for block_id, elements in (view.get("state", {}).get("values") or {}).items():
        element = (elements or {}).get(block_id) or {}
        if "selected_options" in element:
            found[block_id] = [o.get("value") for o in element.get("selected_options") or []]
        elif "selected_option" in element:
            found[block_id] = (element.get("selected_option") or {}).get("value")
        else:
            found[block_id] = element.get("value")
    return found


def view_command(view: dict[str, Any], who: Actor) -> object:
    """The command a submitted modal stands for."""
    intent = _DIALOG_INTENTS.get(view.get("callback_id"))  # type: ignore[call-overload]
    if intent is None:
        raise DomainError("This dialog is not one of ours.")
    what = "draft" if intent == "request_changes" else "mention"
    return command_for(intent, subject_number(view.get("private_metadata"), what), who, _inputs(view))


# Which modal input shows a refusal, per dialog.
ERROR_BLOCK = {View.ESCALATE: Block.DEPARTMENTS, View.ANSWER: Block.REPLY_TEXT, View.DISMISS: Block.REASON,
               View.REQUEST_CHANGES: Block.NOTE}

HELP = ("*/webcare help* — this list\n*/webcare mine* — mentions you have claimed\n"
        "*/webcare queue* — unclaimed mentions and the oldest one's age\n"
        "*/webcare stats [today|week]* — volume, median first response, share within the SLA")


def slash_command(text: str, who: Actor) -> object | None:
    """The query a `/webcare …` line asks for (None for help)."""
    try:
        return text_query(text, who)
    except DomainError:
        raise DomainError(f"Unknown /webcare command. Try `/webcare help` ({TEXT_COMMANDS}).") from None
