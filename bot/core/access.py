"""Who may act on mentions (docs/contract.md): the webcare team acts, department heads review drafts. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.mentions import LEAD_ROLE, Actor, NotAllowed, Phrase, either

WEBCARE_ROLE = "webcare"
_TEAM_ROLES = frozenset({WEBCARE_ROLE, LEAD_ROLE})


class Access(StrEnum):
    """What an action needs of the person who asks for it."""

    LISTED = "listed"  # anyone in webcare.toml: approve a draft, request changes to it
    TEAM = "team"  # claim, unclaim, escalate, answer, dismiss, reopen, close: a mention's, a storm's, a digest line's


@dataclass(frozen=True, slots=True)
class Team:
    """The part of webcare.toml access depends on."""

    people: frozenset[str] = frozenset()  # every listed person's key
    heads: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # person key → names of the departments headed
    leads: tuple[str, ...] = ()  # names of the webcare leads: who can give access


class NoAccess(NotAllowed):
    """webcare.toml does not let this person do this; they are told privately, and nothing changes."""


def require(team: Team, actor: Actor, needed: Access) -> None:
    """Refuse, saying who can change it, unless webcare.toml lets `actor` do what needs `needed`.

    A department head reviews their department's drafts; only with role `webcare` do they also take mentions up.
    """
    if actor.key not in team.people:
        raise NoAccess("access.not_listed", ask=_ask(team.leads))
    departments = team.heads.get(actor.key, ())
    if needed is Access.TEAM and departments and not _TEAM_ROLES & actor.roles:
        raise NoAccess("access.head_only", departments=either(departments, "and"), ask=_ask(team.leads),
                       role=WEBCARE_ROLE)


def _ask(leads: tuple[str, ...]) -> Phrase:
    return Phrase("access.ask_leads", leads=either(leads)) if leads else Phrase("access.ask_keeper")
