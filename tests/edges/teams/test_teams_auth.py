"""Edge: `POST /api/messages` lets in only what the Bot Connector signed, and answers bad input without a 500.

Every refused activity is one that would have done something (learn a channel, claim a card,
answer a command) had it been signed: the tests check that nothing was stored and nothing was sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from tests.edges.teams.wire import (
    ANNA,
    CHANNEL,
    TEAMS_FIXTURES,
    card_action,
    card_post,
    card_text,
    claims_of,
    install,
    refreshed_card,
    settle,
    teams_settings,
    typed,
    until,
)
from tests.fakes.bot_auth import BotFrameworkAuthFake
from tests.fakes.bot_connector import BotConnectorFake
from tests.support import context_of, event, ingest, mention_data, running_app

LEARNED = "19:learn3dbyinstall0000000000000000@thread.tacv2"

REJECTIONS = [
    ("missing", lambda kit, url: None),
    ("empty", lambda kit, url: ""),
    ("wrong audience", lambda kit, url: "Bearer " + kit.wrong_audience_token(url)),
    ("expired", lambda kit, url: "Bearer " + kit.expired_token(url)),
    ("unknown key", lambda kit, url: "Bearer " + kit.unknown_key_token(url)),
    ("forged signature", lambda kit, url: "Bearer " + kit.forged_token(url)),
    ("other serviceUrl", lambda kit, url: kit.auth_header("https://smba.trafficmanager.net/amer/")),
    ("other issuer", lambda kit, url: kit.auth_header(url, issuer="https://sts.example.com/")),
    ("not a JWT", lambda kit, url: "Bearer abc.def.ghi"),
    ("not Bearer", lambda kit, url: "Basic " + kit.make_channel_token(kit.app_id, url)),
]


@pytest.fixture
async def app(sqlite_url, kit, connector):
    """Teams with an app id, no TEAMS_TRIAGE_CHANNEL: cards go where the bot is installed."""
    async with running_app(sqlite_url, None, **teams_settings(kit, connector, channel=None)) as client:
        yield client
        await settle(client)  # a job cancelled mid-transaction at shutdown can stall SQLite for 30 s


async def post(client, body: Any, authorization: str | None, **kwargs: Any) -> Any:
    headers = {} if authorization is None else {"Authorization": authorization}
    headers.update(kwargs.pop("headers", {}))
    if isinstance(body, (dict, list)):
        return await client.post("/api/messages", json=body, headers=headers, **kwargs)
    return await client.post("/api/messages", data=body, headers=headers, **kwargs)


def install_body(kit: BotFrameworkAuthFake, connector: BotConnectorFake, channel: str = LEARNED) -> dict[str, Any]:
    raw = (TEAMS_FIXTURES / "conversation_update_install.json").read_text().replace(CHANNEL, channel)
    body = json.loads(raw)
    body.update(serviceUrl=connector.url, membersAdded=[{"id": f"28:{kit.app_id}"}],
                recipient={"id": f"28:{kit.app_id}", "name": "Webcare"})
    return body


async def learned_channels(client) -> int:
    async with context_of(client).db.uow() as uow:
        return int((await uow.session.exec(sa.text("SELECT count(*) FROM chat_channel"))).scalar_one())


@pytest.mark.parametrize("header", [r[1] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
async def test_unsigned_or_badly_signed_activities_are_401_and_do_nothing(app, kit, connector, header):
    [m] = await ingest(app, event(mention_data(1)))
    await settle(app)
    value = header(kit, connector.url)
    bodies = {
        "install": install_body(kit, connector),
        "claim invoke": card_action("invoke", connector, ANNA, "webcare.claim", {"mention_id": m["id"]}, None),
        "claim submit": card_action("submit", connector, ANNA, "webcare.claim", {"mention_id": m["id"]}, None),
        "command": typed(connector, kit, ANNA, "queue", channel=False),
    }
    for what, body in bodies.items():
        response = await post(app, body, value)
        text = await response.text()
        assert response.status == 401, (what, response.status, text)
        assert "Traceback" not in text
    await settle(app)
    assert await learned_channels(app) == 0
    assert await claims_of(app, m["id"]) == []
    assert connector.calls == []
    assert kit.token_requests == []  # the bot never even got ready to answer

    # the same activities, signed: now they work (so the refusals above were the auth's doing)
    good = kit.auth_header(connector.url)
    assert (await post(app, bodies["install"], good)).status == 200
    assert await learned_channels(app) == 1
    answer = json.loads(await (await post(app, bodies["claim invoke"], good)).text())
    assert "Claimed by Anna de Vries" in card_text(refreshed_card(answer))
    assert await claims_of(app, m["id"]) == ["Anna de Vries"]


async def test_a_valid_token_is_accepted_and_the_bot_answers_through_the_connector(app, kit, connector):
    response = await install(app, kit, connector, LEARNED)
    assert response.status == 200, await response.text()
    [m] = await ingest(app, event(mention_data(1)))
    await until(app, lambda: card_post(connector, m["id"], LEARNED), what="the card in the learned channel")
    assert all(kit.is_issued(c.authorization.removeprefix("Bearer ")) for c in connector.calls)


async def test_a_key_without_the_teams_endorsement_is_refused(sqlite_url, connector, monkeypatch):
    async with BotFrameworkAuthFake(endorsements=("webchat",)) as webchat_only:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", webchat_only.ca_bundle)
        async with running_app(sqlite_url, None, **teams_settings(webchat_only, connector, channel=None)) as client:
            response = await post(client, install_body(webchat_only, connector),
                                  webchat_only.auth_header(connector.url))
            assert response.status == 401, await response.text()
            assert await learned_channels(client) == 0


async def test_unreachable_openid_metadata_is_not_a_500_and_does_nothing(sqlite_url, kit, connector):
    closed = BotFrameworkAuthFake()
    closed.start()
    closed.close()  # a URL nobody answers any more
    settings = teams_settings(kit, connector, channel=None, microsoft_openid_metadata_url=closed.openid_metadata_url)
    async with running_app(sqlite_url, None, **settings) as client:
        response = await post(client, install_body(kit, connector), kit.auth_header(connector.url))
        text = await response.text()
        assert response.status in (401, 503), (response.status, text)
        assert "Traceback" not in text
        assert await learned_channels(client) == 0
    assert connector.calls == []


# -- bad bodies ------------------------------------------------------------------------------------


async def test_a_body_that_is_not_json_is_400(app, kit, connector):
    response = await post(app, b'{"type": "message", "text": ', kit.auth_header(connector.url),
                          headers={"Content-Type": "application/json"})
    assert response.status == 400, await response.text()
    response = await post(app, b"[1, 2, 3]", kit.auth_header(connector.url),
                          headers={"Content-Type": "application/json"})
    assert response.status in (400, 401), await response.text()  # JSON, but not an activity
    assert connector.calls == [] and await learned_channels(app) == 0


async def test_a_body_that_is_not_declared_json_is_415(app, kit, connector):
    body = json.dumps(install_body(kit, connector)).encode()
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = await post(app, body, kit.auth_header(connector.url), headers={"Content-Type": content_type})
        assert response.status == 415, (content_type, await response.text())
    assert await learned_channels(app) == 0 and connector.calls == []


async def test_an_oversized_body_is_413(app, kit, connector):
    body = install_body(kit, connector)
    body["padding"] = "x" * (300 * 1024)
    encoded = json.dumps(body).encode()
    response = await post(app, encoded, kit.auth_header(connector.url), headers={"Content-Type": "application/json"})
    assert response.status == 413, await response.text()

    async def chunks():  # no Content-Length: the limit must hold while reading
        for start in range(0, len(encoded), 64 * 1024):
            yield encoded[start:start + 64 * 1024]

    response = await post(app, chunks(), kit.auth_header(connector.url), headers={"Content-Type": "application/json"})
    assert response.status == 413, await response.text()
    assert await learned_channels(app) == 0 and connector.calls == []


# -- local development ----------------------------------------------------------------------------


async def test_dev_mode_without_an_app_id_accepts_unauthenticated_activities(sqlite_url):
    async with BotConnectorFake() as open_connector:  # no auth: the bot has no app id to get tokens with
        async with running_app(sqlite_url, None, dev=True, teams_triage_channel=CHANNEL,
                               teams_service_url=open_connector.url) as client:
            body = install_body(BotFrameworkAuthFake(), open_connector, CHANNEL)
            assert (await post(client, body, None)).status == 200
            [m] = await ingest(client, event(mention_data(1)))
            await until(client, lambda: card_post(open_connector, m["id"]), what="the card")
            card_id = card_post(open_connector, m["id"])["id"]
            click = card_action("invoke", open_connector, ANNA, "webcare.claim", {"mention_id": m["id"]}, card_id)
            response = await post(client, click, None)
            assert response.status == 200, await response.text()
            assert "Claimed by Anna de Vries" in card_text(refreshed_card(await response.json()))
            assert await claims_of(client, m["id"]) == ["Anna de Vries"]
            await settle(client)

