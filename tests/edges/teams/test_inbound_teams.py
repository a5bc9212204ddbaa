"""Edge: `POST /api/messages` checks the token before it parses the activity; bad input is a 4xx and one log line.

The matrix sends what a hostile or broken client would — unsigned, badly signed, malformed (signed
and not), huge, half-sent — and checks the status, that the log holds no traceback and no part of
the body, and that nothing happened: no channel learned, no claim, no call to the Bot Connector.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.edges.teams.test_teams_auth import install_body, learned_channels
from tests.edges.teams.wire import ANNA, card_action, claims_of, settle, teams_settings
from tests.fakes.bot_auth import BotFrameworkAuthFake
from tests.fakes.bot_connector import BotConnectorFake
from tests.inbound import FORGED, abandoned, assert_quiet_log, half_sent, refusals, served, short_body_timeout
from tests.support import event, ingest, mention_data

ROUTE = "/api/messages"


@pytest.fixture
async def app(database_url, kit, connector, monkeypatch):
    """Teams with JWT auth on, no triage channel: an install would teach the bot where to post."""
    short_body_timeout(monkeypatch)
    async with served(database_url, None, **teams_settings(kit, connector, channel=None)) as client:
        yield client
        await settle(client)


def signed_header(kit: BotFrameworkAuthFake, connector: BotConnectorFake) -> dict[str, str]:
    return {"Authorization": kit.auth_header(connector.url), "Content-Type": "application/json"}


async def assert_nothing_happened(client, connector: BotConnectorFake, mention_id: int | None = None) -> None:
    await settle(client)
    assert await learned_channels(client) == 0
    assert not [c for c in connector.calls if c.body is not None]
    if mention_id is not None:
        assert await claims_of(client, mention_id) == []


def malformed(kit: BotFrameworkAuthFake, connector: BotConnectorFake) -> dict[str, Any]:
    """Signed activities whose fields have the wrong shape (each would claim or install if it were well formed)."""
    install = install_body(kit, connector)
    click = card_action("invoke", connector, ANNA, "webcare.claim", {"mention_id": 1}, None)
    return {
        "timestamp not a date": {**install, "timestamp": "notadate"},
        "type a number": {**install, "type": 5},
        "no type": {k: v for k, v in install.items() if k != "type"},
        "no conversation": {k: v for k, v in click.items() if k != "conversation"},
        "conversation a string": {**click, "conversation": "19:x"},
        "from a list": {**click, "from": [ANNA[0]]},
        "membersAdded a string": {**install, "membersAdded": "28:x"},
        "entities an object": {**click, "entities": {"type": "mention"}},
        "invoke value a string": {**click, "value": "webcare.claim"},
        "invoke action a string": {**click, "value": {"action": "webcare.claim"}},
        "channelData a list": {**install, "channelData": [1]},
        "attachments of numbers": {**click, "attachments": [1, 2]},
    }


async def test_the_token_is_checked_before_the_activity_is_parsed(app, kit, connector, caplog):
    unparseable = {"type": "message", "timestamp": "notadate", "serviceUrl": connector.url, "channelId": "msteams",
                   "text": "x" + FORGED}
    for header in ({}, {"Authorization": "Bearer abc.def.ghi"}, {"Authorization": kit.forged_token(connector.url)}):
        response = await app.post(ROUTE, json=unparseable, headers=header)
        assert response.status == 401, await response.text()
    assert await learned_channels(app) == 0
    assert_quiet_log(caplog)
    assert len(refusals(caplog, "teams")) == 3
    assert "forged line" not in caplog.text


MALFORMED = ("timestamp not a date", "type a number", "no type", "no conversation", "conversation a string",
             "from a list", "membersAdded a string", "entities an object", "invoke value a string",
             "invoke action a string", "channelData a list", "attachments of numbers")


@pytest.mark.parametrize("case", MALFORMED)
async def test_signed_but_malformed_activities_are_400_and_do_nothing(app, kit, connector, caplog, case):
    [m] = await ingest(app, event(mention_data(1)))
    await settle(app)
    connector.calls.clear()
    caplog.clear()
    body = malformed(kit, connector)[case]
    response = await app.post(ROUTE, data=json.dumps(body), headers=signed_header(kit, connector))
    text = await response.text()
    assert 400 <= response.status < 500, (response.status, text)
    assert "Traceback" not in text
    await assert_nothing_happened(app, connector, m["id"])
    assert_quiet_log(caplog)
    assert len(refusals(caplog, "teams")) == 1


async def test_an_unsigned_huge_body_is_413_and_not_logged(app, kit, connector, caplog):
    body = json.dumps({**install_body(kit, connector), "text": FORGED + "x" * 300_000}).encode()
    response = await app.post(ROUTE, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 413
    await assert_nothing_happened(app, connector)
    assert_quiet_log(caplog)
    assert refusals(caplog, "teams") == ["teams: refused 413 payload_too_large: The body is larger than 256 KiB."]


async def test_a_half_sent_body_is_408_after_the_body_timeout(app, kit, connector, caplog):
    body = json.dumps(install_body(kit, connector)).encode()
    assert await half_sent(app, ROUTE, signed_header(kit, connector), body) == 408
    await abandoned(app, ROUTE, signed_header(kit, connector), body)
    await assert_nothing_happened(app, connector)
    assert_quiet_log(caplog)
    assert [line.split(":")[1] for line in refusals(caplog, "teams")] == [" refused 408 body_timeout",
                                                                           " refused 400 body_incomplete"]


async def test_the_same_activity_well_formed_and_signed_works(app, kit, connector):
    """The refusals above are the checks' doing: a well-formed signed install is taken."""
    response = await app.post(ROUTE, data=json.dumps(install_body(kit, connector)),
                              headers=signed_header(kit, connector))
    assert response.status == 200, await response.text()
    assert await learned_channels(app) == 1
