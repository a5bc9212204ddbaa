"""Slack payloads → commands: who is acting, on which mention, with what input. Pure functions."""

from __future__ import annotations

from typing import Any

from bot.config import Config
from bot.core.catalogue import Words
from bot.core.commands import Place
from bot.core.intents import TEXT_COMMANDS, command_for, subject_number, text_query
from bot.core.mentions import Actor, DomainError, chat_actor
from bot.core.views import PersonRef
from bot.slack.ids import PLATFORM, Action, Block, MoreOption, View


def words(config: Config, user: dict[str, Any]) -> Words:
    """What the person behind a Slack user reads privately: their webcare.toml `lang`, else the team's."""
    return config.words_for(config.person_on(PLATFORM, str(user.get("id") or user.get("user_id") or "")))


def actor(config: Config, user: dict[str, Any]) -> Actor:
    """The person behind a Slack user id: from webcare.toml if listed, else known by their Slack id."""
    user_id = str(user.get("id") or user.get("user_id") or "")
    person = config.person_on(PLATFORM, user_id)
    if person is not None:
        return chat_actor(person.ref, person.roles)
    name = user.get("name") or user.get("username") or user.get("user_name") or user_id
    return chat_actor(PersonRef.chat_user(PLATFORM, user_id, str(name)))


# Buttons that act at once; the others open a dialog first.
_BUTTON_INTENTS = {Action.CLAIM: ("claim", "mention"), Action.APPROVE: ("approve", "draft"),
                   Action.RETRY: ("retry", "draft"), Action.SPIKE_START: ("spike_start", "spike alert"),
                   Action.SPIKE_NOT_NOW: ("spike_not_now", "spike alert"),
                   Action.STORM_CLAIM: ("claim_storm", "storm"), Action.STORM_MEMBERS: ("storm_members", "storm")}
_MENU_INTENTS = {MoreOption.UNCLAIM: "unclaim", MoreOption.REOPEN: "reopen", MoreOption.CLOSE: "close",
                 MoreOption.LINK: "link", MoreOption.UNLINK: "unlink"}
_DIALOG_INTENTS = {View.ESCALATE: "escalate", View.ANSWER: "answer", View.DISMISS: "dismiss",
                   View.REQUEST_CHANGES: "request_changes", View.CRISIS_SKIP: "crisis_skip",
                   View.STORM_ANSWER: "answer_storm", View.STORM_DISMISS: "dismiss_storm",
                   View.STORM_CRISIS: "storm_crisis"}
_SUBJECTS = {"request_changes": "draft", "answer_storm": "storm", "dismiss_storm": "storm", "storm_crisis": "storm"}


def button_command(action: dict[str, Any], who: Actor) -> object | None:
    """The command a card or draft button stands for (None for buttons that open a dialog instead)."""
    action_id = action.get("action_id")
    if action_id in _BUTTON_INTENTS:
        intent, what = _BUTTON_INTENTS[action_id]
        return command_for(intent, subject_number(action.get("value"), what), who, {})
    if action_id == Action.MORE:
        option, _, rest = str((action.get("selected_option") or {}).get("value", "")).partition(":")
        if option not in _MENU_INTENTS:
            raise DomainError("refusal.unknown_menu_option")
        mention, _, crisis = rest.partition(":")
        return command_for(_MENU_INTENTS[option], subject_number(mention), who, {"crisis_id": crisis})
    return None


def crisis_step(value: Any) -> tuple[int, str]:
    """The crisis id and step id a checklist button (or the Skip modal) carries as `<crisis id>:<step id>`."""
    crisis, _, step = str(value or "").partition(":")
    if not step:
        raise DomainError("refusal.no_crisis_step")
    return subject_number(crisis, "crisis"), step


def crisis_done_command(action: dict[str, Any], who: Actor) -> object:
    """The command a checklist's Mark done button stands for."""
    crisis_id, step = crisis_step(action.get("value"))
    return command_for("crisis_done", crisis_id, who, {"step": step})


def subject_id(action: dict[str, Any], what: str = "mention") -> int:
    """The mention (or draft) id a dialog-opening button carries."""
    return subject_number(action.get("value"), what)


def _inputs(view: dict[str, Any]) -> dict[str, Any]:
    """The dialog's input values by block id (each block holds one element with the same action id).

    A refilled field's block id carries its revision (`reply_text.2`), which is not part of the input's name.
    """
    found: dict[str, Any] = {}
    for block_id, elements in (view.get("state", {}).get("values") or {}).items():
        element = (elements or {}).get(block_id) or {}
        name = block_id.partition(".")[0]
        if "selected_options" in element:
            found[name] = [o.get("value") for o in element.get("selected_options") or []]
        elif "selected_option" in element:
            found[name] = (element.get("selected_option") or {}).get("value")
        else:
            found[name] = element.get("value")
    return found


def view_command(view: dict[str, Any], who: Actor) -> object:
    """The command a submitted modal stands for."""
    intent = _DIALOG_INTENTS.get(view.get("callback_id"))  # type: ignore[call-overload]
    if intent is None:
        raise DomainError("refusal.not_our_dialog")
    if intent == "crisis_skip":
        crisis_id, step = crisis_step(view.get("private_metadata"))
        return command_for(intent, crisis_id, who, {**_inputs(view), "step": step})
    what = _SUBJECTS.get(intent, "mention")
    return command_for(intent, subject_number(view.get("private_metadata"), what), who, _inputs(view))


# Which modal input shows a refusal, per dialog.
ERROR_BLOCK = {View.ESCALATE: Block.DEPARTMENTS, View.ANSWER: Block.REPLY_TEXT, View.DISMISS: Block.REASON,
               View.REQUEST_CHANGES: Block.NOTE, View.CRISIS_SKIP: Block.REASON, View.STORM_ANSWER: Block.REPLY_TEXT,
               View.STORM_DISMISS: Block.REASON, View.STORM_CRISIS: Block.PLAYBOOK}

# `/webcare help`: each line's commands (as typed, so in English) and what they do.
_HELP = ((("help",), "command.help_help"), (("mine",), "command.help_mine"), (("queue",), "command.help_queue"),
         (("stats [today|week]",), "command.help_stats"), (("storm <number>",), "command.help_storm"),
         (("playbooks",), "command.help_playbooks"),
         (("crisis start <playbook> [--drill] [note]",), "command.help_crisis_start"),
         (("crisis status",), "command.help_crisis_status"),
         (("crisis done <step> [note]", "crisis skip <step> <reason>"), "command.help_crisis_step"),
         (("crisis end [--force <reason>]", "crisis report [<id>]"), "command.help_crisis_end"))


def help_text(say: Words) -> str:
    """What `/webcare help` answers: every command, one a line, in the reader's words."""
    lines = [" · ".join(f"*{'/webcare ' if i == 0 else ''}{typed}*" for i, typed in enumerate(commands))
             + f" — {say(key)}" for commands, key in _HELP]
    return "\n".join([*lines, say("command.help_slack_place")])


def slash_command(text: str, who: Actor, channel: str | None) -> object | None:
    """The query a `/webcare …` line typed in `channel` asks for (None for help)."""
    place = Place("slack", channel) if channel else None
    try:
        return text_query(text, who, place)
    except DomainError:
        if text.split()[:1] and text.split()[0].lower() == "crisis":
            raise  # the refusal says how to type that crisis command
        raise DomainError("command.unknown_slash", commands=TEXT_COMMANDS) from None
