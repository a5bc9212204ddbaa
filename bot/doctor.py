"""`webcare doctor`: check the database, chat credentials, channels and playbooks; a checklist, never a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.chat.checks import Check, Status
from bot.config import Config, ConfigError, load_config
from bot.logs import describe
from bot.settings import Settings

logger = logging.getLogger(__name__)

CHECK_SECONDS = 10.0  # each check's time box: a service that does not answer by then has failed


async def boxed(name: str, check: Callable[[], Awaitable[list[Check]]], timeout: float) -> list[Check]:
    """Run one check within its time box; an overrun or an unexpected error is that check's failure."""
    try:
        return await asyncio.wait_for(check(), timeout)
    except TimeoutError:
        return [Check(name, Status.FAIL, f"no answer within {timeout:g} s")]
    except Exception as exc:  # a check must never end the checklist with a traceback
        logger.debug("doctor: the %s check failed", name, exc_info=True)
        return [Check(name, Status.FAIL, describe(exc))]


async def run_checks(settings: Settings, *, timeout: float = CHECK_SECONDS) -> list[Check]:
    """Every check that applies to these settings, in checklist order."""
    checks, config = _configuration(settings)
    checks += await boxed("database", lambda: _database(settings), timeout)
    if settings.slack_enabled:
        from bot.slack.doctor import check_slack

        checks += await boxed("slack", lambda: check_slack(settings, timeout), timeout * 2)
    else:
        checks.append(Check("slack", Status.SKIP, "SLACK_BOT_TOKEN is not set"))
    if settings.microsoft_app_id and settings.microsoft_app_password is not None:
        from bot.teams.doctor import check_teams

        checks += await boxed("teams", lambda: check_teams(settings, timeout), timeout)
    elif settings.teams_enabled:
        checks.append(Check("teams", Status.WARN, "WEBCARE_DEV=1 without MICROSOFT_APP_ID: activities are not "
                                                  "authenticated (for local development only)"))
    else:
        checks.append(Check("teams", Status.SKIP, "MICROSOFT_APP_ID is not set"))
    checks.append(_playbooks(settings, config))
    return checks


def _configuration(settings: Settings) -> tuple[list[Check], Config | None]:
    path = settings.resolved_config_path
    checks = []
    if problem := settings.teams_problem():
        checks.append(Check("environment", Status.FAIL, f"Teams is half-configured: {problem}"))
    if path is None:
        checks.append(Check("webcare.toml", Status.WARN, "none found (set WEBCARE_CONFIG): nobody may act on cards"))
        return checks, None
    try:
        config = load_config(path)
    except ConfigError as exc:
        return [*checks, Check("webcare.toml", Status.FAIL, str(exc))], None
    people, departments = len(config.people), len(config.departments)
    checks.append(Check("webcare.toml", Status.OK, f"{path}: {people} people, {departments} departments"))
    return checks, config


async def _database(settings: Settings) -> list[Check]:
    from bot.storage.database import async_url
    from bot.storage.migrate import DatabaseUnavailable, current_revision, head_revision, shown_url

    is_sqlite = async_url(settings.database_url).get_backend_name() == "sqlite"
    try:
        current = await current_revision(settings.database_url)
    except DatabaseUnavailable as exc:
        if is_sqlite and "does not exist" in str(exc):
            return [Check("database", Status.WARN, f"{exc}: `webcare serve` creates and migrates it")]
        return [Check("database", Status.FAIL, str(exc))]
    head = head_revision()
    where = shown_url(settings.database_url)
    if current == head:
        return [Check("database", Status.OK, f"{where} answers; schema at {current} (the newest)")]
    if is_sqlite:
        return [Check("database", Status.WARN, f"{where}: schema at {current}, this version needs {head}; "
                                               "`webcare serve` upgrades SQLite when it starts")]
    return [Check("database", Status.FAIL, f"{where}: schema at {current}, this version needs {head}; "
                                           "run `webcare db upgrade`")]


def _playbooks(settings: Settings, config: Config | None) -> Check:
    from bot.core.crisis.playbooks import load_playbooks

    directory = settings.playbooks_dir
    if not directory.is_dir():
        return Check("playbooks", Status.WARN, f"{directory} is not a directory: no crisis playbooks")
    playbooks, problems = load_playbooks(directory, config)
    if problems:
        first = str(problems[0])
        more = f" (and {len(problems) - 1} more; see `webcare playbooks check`)" if len(problems) > 1 else ""
        return Check("playbooks", Status.FAIL, f"{first}{more}")
    checked = "checked against webcare.toml" if config is not None else "roles not checked (no webcare.toml)"
    return Check("playbooks", Status.OK, f"{len(playbooks)} in {directory}, {checked}")
