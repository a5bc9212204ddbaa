"""Shared fixtures: databases (SQLite and PostgreSQL), the fake Slack Web API, the app under test."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from bot.logs import QUIET_LOGGERS
from bot.storage.migrate import upgrade
from tests.fakes.bot_auth import BotFrameworkAuthFake
from tests.fakes.bot_connector import BotConnectorFake
from tests.fakes.reply_receiver import ReplyReceiver, reply_receiver
from tests.fakes.slack_api import SlackFake
from tests.support import REPLY_SECRET, SECRETS

PG_URL_ENV = "WEBCARE_TEST_POSTGRES_URL"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg_admin_url() -> str | None:
    """PostgreSQL is required in CI (CI=true) and wherever WEBCARE_TEST_POSTGRES_URL is set."""
    url = os.environ.get(PG_URL_ENV) or DEFAULT_PG_URL
    try:
        asyncio.run(_pg_execute(url, "SELECT 1"))
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") or os.environ.get(PG_URL_ENV):
            pytest.exit(f"PostgreSQL at {make_url(url).render_as_string(hide_password=True)} is unreachable: {exc}",
                        returncode=3)
        return None
    return url


async def _pg_execute(url: str, *statements: str) -> None:
    parsed = make_url(url)
    conn = await asyncpg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                                 password=parsed.password, database=parsed.database or "postgres")
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_admin_url() -> str | None:
    return _pg_admin_url()


@pytest.fixture(scope="session")
def pg_template(pg_admin_url: str | None) -> Iterator[str | None]:
    """A migrated PostgreSQL database that each test copies (CREATE DATABASE … TEMPLATE)."""
    if pg_admin_url is None:
        yield None
        return
    name = f"webcare_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_execute(pg_admin_url, f'CREATE DATABASE "{name}_tpl"'))
    upgrade(make_url(pg_admin_url).set(database=f"{name}_tpl").render_as_string(hide_password=False))
    yield name
    asyncio.run(_drop_all(pg_admin_url, name))


async def _drop_all(admin_url: str, prefix: str) -> None:
    parsed = make_url(admin_url)
    conn = await asyncpg.connect(host=parsed.host, port=parsed.port or 5432, user=parsed.username,
                                 password=parsed.password, database=parsed.database or "postgres")
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1", f"{prefix}%")
        for row in rows:
            await conn.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh, migrated SQLite database for one test."""
    target = tmp_path / "webcare.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path,
                 pg_admin_url: str | None, pg_template: str | None) -> str:
    """A fresh, migrated database for one test, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "webcare.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    return _fresh_postgres(pg_admin_url, pg_template)


@pytest.fixture
def postgres_url(pg_admin_url: str | None, pg_template: str | None) -> str:
    """A fresh, migrated PostgreSQL database, for what only a database server can show (an outage, say)."""
    return _fresh_postgres(pg_admin_url, pg_template)


def _fresh_postgres(pg_admin_url: str | None, pg_template: str | None) -> str:
    if pg_admin_url is None or pg_template is None:
        pytest.skip("PostgreSQL is not reachable (it is required in CI)")
    name = f"{pg_template}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_pg_execute(pg_admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}_tpl"'))
    return make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
async def kit(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[BotFrameworkAuthFake]:
    """The offline Bot Framework identity provider; `requests` (botbuilder, MSAL) trusts its local CA."""
    async with BotFrameworkAuthFake() as running:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", running.ca_bundle)
        yield running


@pytest.fixture
async def connector(kit: BotFrameworkAuthFake) -> AsyncIterator[BotConnectorFake]:
    """A fake Bot Connector that refuses every call without an access token the kit issued."""
    async with BotConnectorFake(auth=kit, require_auth=True) as running:
        yield running


@pytest.fixture
async def receiver() -> AsyncIterator[ReplyReceiver]:
    """A listening tool's reply endpoint (the `webhook` connector's target), signed with REPLY_SECRET."""
    async with reply_receiver(REPLY_SECRET) as target:
        yield target


@pytest.fixture
async def slack() -> AsyncIterator[SlackFake]:
    """A fake Slack Web API on a local port, recording every call."""
    async with SlackFake() as fake:
        yield fake


@pytest.fixture(autouse=True)
def no_secret_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test runs with DEBUG logs captured (chatty libraries as quiet as `serve` keeps them); none of them
    may contain a secret of the suite."""
    caplog.set_level(logging.DEBUG)
    earlier = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, level in earlier.items():
            logging.getLogger(name).setLevel(level)
    records = [r for phase in ("setup", "call") for r in caplog.get_records(phase)]
    logged = "\n".join(logging.Formatter().format(r) for r in records)
    leaked = [f"{secret[:6]}…" for secret in SECRETS if secret in logged]
    assert not leaked, f"secrets in the logs: {leaked}"
