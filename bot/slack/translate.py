"""Slack payloads → commands: who is acting, on which mention, with what input. Pure functions."""

from __future__ import annotations

from typing import Any

from bot import commands as c
from bot.config import Config
from bot.domain import Actor, DomainError
from bot.slack.ids import Action, Block, MoreOption, View
from bot.views import DismissReason, PersonRef


def actor(config: Config, user: dict[str, Any]) -> Actor:
    """The person behind a Slack user id: from webcare.toml if listed, else known by their Slack id."""
    user_id = str(user.get("id") or user.get("user_id") or "")
    person = config.person_by_slack(user_id)
    if person is not None:
        return Actor(person.ref, person.roles)
    name = user.get("name") or user.get("username") or user.get("user_name") or user_id
    return Actor(PersonRef(key=f"slack:{user_id}", name=str(name), slack_id=user_id))


def _number(value: str | None, what: str) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise DomainError(f"This button does not name a {what}; the card may be from an older version.") from None


def button_command(action: dict[str, Any], who: Actor) -> object | None:
    """The command a card or draft button stands for (None for buttons that open a dialog instead)."""
    action_id = action.get("action_id")
    value = action.get("value")
    match action_id:
        case Action.CLAIM:
            return c.Claim(_number(value, "mention"), who)
        case Action.APPROVE:
            return c.Approve(_number(value, "draft"), who)
        case Action.RETRY:
            return c.RetryDelivery(_number(value, "draft"), who)
        case Action.MORE:
            option, _, mention = str((action.get("selected_option") or {}).get("value", "")).partition(":")
            mention_id = _number(mention, "mention")
            match option:
                case MoreOption.UNCLAIM:
                    return c.Unclaim(mention_id, who)
                case MoreOption.REOPEN:
                    return c.Reopen(mention_id, who)
                case MoreOption.CLOSE:
                    return c.Close(mention_id, who)
            raise DomainError("Unknown menu option.")
    return None


def subject_id(action: dict[str, Any], what: str = "mention") -> int:
    """The mention (or draft) id a dialog-opening button carries."""
    return _number(action.get("value"), what)


def _input(view: dict[str, Any], block: Block) -> dict[str, Any]:
    return (view.get("state", {}).get("values", {}).get(block.value) or {}).get(block.value) or {}


def view_command(view: dict[str, Any], who: Actor) -> object:
    """The command a submitted modal stands for."""
    callback = view.get("callback_id")
    subject = _number(view.get("private_metadata"), "mention")
    match callback:
        case View.ESCALATE:
            field = _input(view, Block.DEPARTMENTS)
            options = field.get("selected_options") or []
            departments = tuple(str(o.get("value")) for o in options if o.get("value"))
            return c.Escalate(subject, who, departments, _input(view, Block.NOTE).get("value"))
        case View.ANSWER:
            return c.SubmitReply(subject, who, str(_input(view, Block.REPLY_TEXT).get("value") or ""))
        case View.DISMISS:
            selected = (_input(view, Block.REASON).get("selected_option") or {}).get("value")
            try:
                reason = DismissReason(selected)
            except ValueError:
                raise DomainError("Pick a reason.") from None
            return c.Dismiss(subject, who, reason)
        case View.REQUEST_CHANGES:
            return c.RequestChanges(subject, who, _input(view, Block.NOTE).get("value"))
    raise DomainError("This dialog is not one of ours.")


# Which modal input shows a refusal, per dialog.
ERROR_BLOCK = {View.ESCALATE: Block.DEPARTMENTS, View.ANSWER: Block.REPLY_TEXT, View.DISMISS: Block.REASON,
               View.REQUEST_CHANGES: Block.NOTE}

HELP = ("*/webcare help* — this list\n*/webcare mine* — mentions you have claimed\n"
        "*/webcare queue* — unclaimed mentions and the oldest one's age\n"
        "*/webcare stats [today|week]* — volume, median first response, share within the SLA")


def slash_command(text: str, who: Actor) -> object | None:
    """The query a `/webcare …` line asks for (None for help)."""
    words = text.strip().lower().split()
    match words:
        case [] | ["help", *_]:
            return None
        case ["mine"]:
            return c.ShowMine(who)
        case ["queue"]:
            return c.ShowQueue(who)
        case ["stats"]:
            return c.ShowStats(who)
        case ["stats", period]:
            return c.ShowStats(who, period)
    raise DomainError("Unknown /webcare command. Try `/webcare help`.")
