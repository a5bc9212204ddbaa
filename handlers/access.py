"""Access as webcare.toml grants it: the rule of `bot.core.access`, applied to the configured team."""

from __future__ import annotations

from bot.config import Config
from bot.core.access import Access, Team, require
from bot.core.mentions import LEAD_ROLE, Actor
from handlers.context import Context


def team(config: Config) -> Team:
    """Who is listed, who heads which departments, and who leads webcare."""
    heads: dict[str, tuple[str, ...]] = {}
    for department in config.departments.values():
        for key in department.heads:
            heads[key] = (*heads.get(key, ()), department.name)
    return Team(people=frozenset(config.people), heads=heads,
                leads=tuple(person.name for person in config.members(LEAD_ROLE)))


def require_access(ctx: Context, actor: Actor, needed: Access) -> None:
    """Refuse privately, naming who can give access, unless webcare.toml lets the actor do this."""
    require(team(ctx.config), actor, needed)
