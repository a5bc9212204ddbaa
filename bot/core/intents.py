"""What a click or a typed command means, independent of the chat platform it came from."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from bot.core import commands as c
from bot.core.mentions import Actor, DomainError, Phrase
from bot.core.views import DismissReason

logger = logging.getLogger(__name__)

ID_MAX = 2**31 - 1  # ids are INTEGER columns: 32 bits on PostgreSQL, so no bigger id can exist anywhere
_ID = re.compile(r"[0-9]{1,10}")  # ASCII digits only: `int()` would also take "1_0", " 7", "٣" or "+7"
TEXT_COMMANDS = "help | mine | queue | stats [today|week] | storm <number> | playbooks | crisis …"
CRISIS_COMMANDS = ("crisis start <playbook> [--drill] [note] | crisis status | crisis done <step> [note] | "
                   "crisis skip <step> <reason> | crisis end [--force <reason>] | crisis report [<id>]")
# What a button's id names, as a refusal says it (`subject_number`'s `what`).
_SUBJECTS = {"mention": "refusal.a_mention", "draft": "refusal.a_draft", "crisis": "refusal.a_crisis",
             "spike alert": "refusal.a_spike_alert", "storm": "refusal.a_storm", "digest": "refusal.a_digest"}


def _departments(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # Teams sends a multi-select as "a,b"
        value = value.split(",")
    return tuple(str(v).strip() for v in value or () if str(v).strip())


def command_for(intent: str, subject_id: int, who: Actor, inputs: Mapping[str, Any]) -> object:
    """The command for an intent (`claim`, `escalate`, …) on a mention (or a draft), with the form's inputs."""
    note = inputs.get("note") or None
    match intent:
        case "claim":
            return c.Claim(subject_id, who)
        case "unclaim":
            return c.Unclaim(subject_id, who)
        case "reopen":
            return c.Reopen(subject_id, who)
        case "close":
            return c.Close(subject_id, who)
        case "escalate":
            return c.Escalate(subject_id, who, _departments(inputs.get("departments")), note)
        case "answer":
            return c.SubmitReply(subject_id, who, str(inputs.get("reply_text") or ""))
        case "dismiss":
            try:
                return c.Dismiss(subject_id, who, DismissReason(inputs.get("reason")))
            except ValueError:
                raise DomainError("refusal.pick_reason") from None
        case "approve":
            return c.Approve(subject_id, who)
        case "request_changes":
            return c.RequestChanges(subject_id, who, note)
        case "retry":
            return c.RetryDelivery(subject_id, who)
        case "retry_reply":
            return c.RetryReply(subject_id, who)
        case "link":
            crisis = inputs.get("crisis_id")
            return c.LinkMention(subject_id, who, None if crisis in (None, "") else subject_number(crisis, "crisis"))
        case "unlink":
            return c.UnlinkMention(subject_id, who)
        case "crisis_done":
            return c.CompleteStep(who, str(inputs.get("step") or ""), note, crisis_id=subject_id)
        case "crisis_skip":
            return c.SkipStep(who, str(inputs.get("step") or ""), str(inputs.get("reason") or ""), crisis_id=subject_id)
        case "spike_start":
            return c.StartSpikeCrisis(subject_id, who)
        case "spike_not_now":
            return c.DismissSpike(subject_id, who)
        case "claim_storm":
            return c.ClaimStorm(subject_id, who)
        case "answer_storm":
            return c.AnswerStorm(subject_id, who, str(inputs.get("reply_text") or ""))
        case "dismiss_storm":
            try:
                return c.DismissStorm(subject_id, who, DismissReason(inputs.get("reason")))
            except ValueError:
                raise DomainError("refusal.pick_reason") from None
        case "storm_members":
            return c.ShowStorm(who, subject_id)
        case "storm_crisis":
            playbook = str(inputs.get("playbook") or "").strip()
            if not playbook:
                raise DomainError("refusal.pick_playbook")
            return c.StartStormCrisis(subject_id, who, playbook, note)
    raise DomainError("refusal.not_our_button")


def subject_number(value: Any, what: str = "mention") -> int:
    """The mention, draft or crisis id an action carries, or a refusal a person understands.

    An id is ASCII digits, 1 to `ID_MAX`. A refusal is logged in one line, the value cut short and
    quoted so it cannot forge a log line.
    """
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if _ID.fullmatch(text) and 0 < int(text) <= ID_MAX:
        return int(text)
    logger.warning("refused a %s id that is not a whole number from 1 to %d: %r", what, ID_MAX, str(value)[:40])
    raise DomainError("refusal.no_subject", what=Phrase(_SUBJECTS.get(what, "refusal.a_mention")))


def text_query(text: str, who: Actor, place: c.Place | None = None) -> object | None:
    """The command a typed `help | mine | queue | stats [today|week] | storm N | playbooks | crisis …` asks for
    (None: help).

    `place` is the channel or thread it was typed in: crisis commands act on that crisis.
    """
    words = text.split()
    if words[:1] and words[0].lower() == "crisis":
        return crisis_command(words[1:], who, place)
    match [w.lower() for w in words]:
        case ["playbooks"]:
            return c.ListPlaybooks(who)
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
        case ["storm", number]:
            return c.ShowStorm(who, subject_number(number.lstrip("#"), "storm"))
        case ["storm"]:
            raise DomainError("command.usage_storm")
    raise DomainError("command.unknown", commands=TEXT_COMMANDS)


def _crisis_number(words: list[str]) -> tuple[list[str], int | None]:
    """Take `--crisis N` (or `--crisis=N`) out of the words."""
    rest: list[str] = []
    number: int | None = None
    i = 0
    while i < len(words):
        word = words[i]
        if word.lower() == "--crisis" or word.lower().startswith("--crisis="):
            value = word.partition("=")[2] or (words[i + 1] if i + 1 < len(words) else "")
            i += 1 if "=" in word else 2
            number = subject_number(value.lstrip("#"), "crisis")
            continue
        rest.append(word)
        i += 1
    return rest, number


def crisis_command(words: list[str], who: Actor, place: c.Place | None) -> object:
    """The command a typed `crisis <verb> …` stands for."""
    words, number = _crisis_number(words)
    verb = words[0].lower() if words else ""
    args = words[1:]
    match verb:
        case "start" if args:
            drill = any(a.lower() == "--drill" for a in args)
            args = [a for a in args if a.lower() != "--drill"]
            if args:
                return c.StartCrisis(who, args[0], " ".join(args[1:]).strip() or None, drill)
        case "status" | "":
            return c.ShowCrisis(who, place, number)
        case "done" if args:
            return c.CompleteStep(who, args[0], " ".join(args[1:]).strip() or None, place, number)
        case "skip" if args:
            reason = " ".join(args[1:]).strip()
            if not reason:
                raise DomainError("command.skip_needs_reason", step=args[0])
            return c.SkipStep(who, args[0], reason, place, number)
        case "end":
            if args and args[0].lower() == "--force":
                reason = " ".join(args[1:]).strip()
                if not reason:
                    raise DomainError("command.end_needs_reason")
                return c.EndCrisis(who, reason, place, number)
            if args:
                raise DomainError("command.end_no_words")
            return c.EndCrisis(who, None, place, number)
        case "report":
            if args:
                number = subject_number(args[0].lstrip("#"), "crisis")
            return c.ReportCrisis(who, place, number)
    usage = {"start": "command.usage_crisis_start", "done": "command.usage_crisis_done",
             "skip": "command.usage_crisis_skip"}.get(verb)
    if usage:
        raise DomainError(usage)
    raise DomainError("command.unknown_crisis", commands=CRISIS_COMMANDS)
