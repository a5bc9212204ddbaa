"""Fixtures of the Teams wire tests: the app with Teams only, and with Slack and Teams at once."""

from __future__ import annotations

import pytest

from tests.edges.teams.wire import settle, teams_settings
from tests.support import REPLY_SECRET, running_app


@pytest.fixture
async def app(sqlite_url, kit, connector, receiver):
    async with running_app(sqlite_url, None, reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET,
                           **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)  # a job cancelled mid-transaction at shutdown can stall SQLite for 30 s


@pytest.fixture
async def both(sqlite_url, slack, kit, connector):
    async with running_app(sqlite_url, slack.url, **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)
