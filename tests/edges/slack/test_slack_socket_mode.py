"""Edge: the real app over Socket Mode, envelopes in over the fake Slack's WebSocket, Web API calls out."""

import asyncio
import json
import urllib.parse
from collections.abc import Callable

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import create_app
from tests.support import (
    FIXTURES,
    TRIAGE_CHANNEL,
    block_action,
    event,
    ingest,
    mention_data,
    relay_of,
    running_app,
    settings,
    team_config,
)


@pytest.fixture
async def app(sqlite_url, slack):
    async with running_app(sqlite_url, slack.url, slack_app_token=slack.app_token, slack_signing_secret=None) as client:
        await slack.socket_connected()
        yield client


async def eventually(client, done: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the listener Bolt runs after the ack, and the relay work it queued, finish until `done()`."""
    async with asyncio.timeout(timeout):
        while not done():
            await relay_of(client).drain()
            await asyncio.sleep(0.02)


async def one_mention(client, n: int = 1) -> int:
    [m] = await ingest(client, event(mention_data(n)))
    await relay_of(client).drain()
    return m["id"]


def card_text(slack, mention_id: int) -> str:
    for message in slack.messages(TRIAGE_CHANNEL):
        if (message.get("metadata") or {}).get("event_payload", {}).get("subject") == f"card:{mention_id}":
            return json.dumps(message["blocks"], ensure_ascii=False)
    raise AssertionError(f"no card for mention {mention_id}")


def slash_payload(user_id: str, text: str) -> dict[str, str]:
    """A `/webcare` slash command as Socket Mode delivers it: the form fields as a JSON object."""
    fields = dict(urllib.parse.parse_qsl((FIXTURES / "slack" / "slash_command.txt").read_text().strip()))
    fields.update(command="/webcare", text=text, user_id=user_id, user_name=user_id, channel_id=TRIAGE_CHANNEL)
    return fields


async def test_the_bot_opens_a_socket_with_the_app_token_and_has_no_request_url(app, slack):
    [opened] = slack.calls_to("apps.connections.open")
    assert opened == {}  # the app-level token travelled in the Authorization header, as Slack requires
    [connection] = slack.socket_clients
    assert connection.connected
    assert (await app.post("/slack/events", data="payload={}")).status == 404


async def test_claim_click_over_the_socket_is_acknowledged_and_updates_the_card(app, slack):
    mention_id = await one_mention(app)
    ack = await slack.socket_send("interactive", block_action("U03CARLA", "webcare.claim", str(mention_id)))
    assert set(ack) == {"envelope_id"}  # a plain acknowledgement: Slack shows nothing for a button
    await eventually(app, lambda: "<@U03CARLA>" in card_text(slack, mention_id))
    assert "Claimed* by <@U03CARLA>" in card_text(slack, mention_id)
    assert slack.calls_to("chat.update")[-1]["channel"] == TRIAGE_CHANNEL


async def test_the_loser_of_a_claim_over_the_socket_is_told_who_has_it(app, slack):
    mention_id = await one_mention(app)
    await slack.socket_send("interactive", block_action("U03CARLA", "webcare.claim", str(mention_id)))
    await eventually(app, lambda: "<@U03CARLA>" in card_text(slack, mention_id))
    await slack.socket_send("interactive", block_action("U01ANNA", "webcare.claim", str(mention_id)))
    await eventually(app, lambda: bool(slack.ephemerals))
    [told] = slack.ephemerals
    assert (told["user"], told["text"]) == ("U01ANNA", "Already claimed by <@U03CARLA>.")
    assert "Claimed* by <@U03CARLA>" in card_text(slack, mention_id)


async def test_slash_command_answer_travels_back_in_the_ack(app, slack):
    mention_id = await one_mention(app)
    ack = await slack.socket_send("slash_commands", slash_payload("U03CARLA", "queue"))
    assert ack["payload"]["response_type"] == "ephemeral"
    assert ack["payload"]["text"].startswith("*1* unclaimed mention; the oldest is 5 min old.\n*First up:*\n• <https:")
    assert f"|#{mention_id}> x @sannedv — P3, 5 min old" in ack["payload"]["text"]


async def test_app_mention_event_over_the_socket_is_acknowledged_and_answered(app, slack):
    ack = await slack.socket_send("events_api", {
        "token": "x", "team_id": "T0123TEAM", "api_app_id": "A0FAKEAPP1", "type": "event_callback",
        "event_id": "Ev01", "event_time": 1, "event": {
            "type": "app_mention", "user": "U03CARLA", "text": "<@U0BOT> hi", "ts": "1.2",
            "channel": TRIAGE_CHANNEL, "event_ts": "1.2"}})
    assert set(ack) == {"envelope_id"}
    await eventually(app, lambda: bool(slack.ephemerals))
    assert "/webcare help" in slack.ephemerals[0]["text"]


async def test_the_bot_reconnects_when_slack_rotates_the_connection(app, slack):
    mention_id = await one_mention(app)
    [old] = slack.socket_clients
    await slack.socket_disconnect()
    await eventually(app, lambda: not old.connected and any(c.connected for c in slack.socket_clients))
    assert len(slack.calls_to("apps.connections.open")) == 2
    ack = await slack.socket_send("interactive", block_action("U03CARLA", "webcare.claim", str(mention_id)))
    assert "envelope_id" in ack
    await eventually(app, lambda: "<@U03CARLA>" in card_text(slack, mention_id))


async def test_a_refused_app_token_stops_the_start_with_the_reason(sqlite_url, slack, caplog):
    # Started the way `web.run_app` starts it (running_app's TestClient cannot show a failed start).
    app = create_app(settings(sqlite_url, slack.url, slack_app_token="xapp-1-A0FAKEAPP1-1-revoked",
                              slack_signing_secret=None), config=team_config())
    runner = web.AppRunner(app)
    try:
        with pytest.raises(SlackApiError) as raised:
            async with asyncio.timeout(10):
                await runner.setup()
    finally:
        await runner.cleanup()
    assert raised.value.response["error"] == "invalid_auth"
    assert "apps.connections.open failed (invalid_auth)" in caplog.text
    assert slack.socket_clients == []


async def test_the_fake_opens_connections_only_for_the_app_token_in_the_header(slack):
    async def error_of(token: str, method: str = "apps.connections.open") -> str:
        with pytest.raises(SlackApiError) as raised:
            await AsyncWebClient(token=token, base_url=slack.url, retry_handlers=[]).api_call(method)
        return raised.value.response["error"]

    assert await error_of(slack.token) == "not_allowed_token_type"
    assert await error_of("xapp-1-A0FAKEAPP1-1-other") == "invalid_auth"
    assert await error_of(slack.app_token, "chat.postMessage") == "not_allowed_token_type"
    async with aiohttp.ClientSession() as http:
        async with http.post(slack.url + "apps.connections.open", data={"token": slack.app_token}) as res:
            assert (await res.json())["error"] == "not_authed"  # Slack wants it in the Authorization header


async def test_the_fake_greets_sends_envelopes_and_matches_acks(slack):
    opened = await AsyncWebClient(base_url=slack.url).apps_connections_open(app_token=slack.app_token)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(opened["url"].replace("ticket=", "ticket=forged"))
        async with http.ws_connect(opened["url"]) as ws:
            hello = await ws.receive_json(timeout=5)
            assert (hello["type"], hello["num_connections"]) == ("hello", 1)
            with pytest.raises(TimeoutError):
                await slack.socket_send("slash_commands", slash_payload("U03CARLA", "queue"), timeout=0.2)
            unanswered = await ws.receive_json(timeout=5)
            assert (unanswered["type"], unanswered["accepts_response_payload"]) == ("slash_commands", True)

            sending = asyncio.create_task(slack.socket_send("interactive", block_action("U03CARLA", "x", "1")))
            envelope = await ws.receive_json(timeout=5)
            assert (envelope["payload"]["type"], envelope["accepts_response_payload"]) == ("block_actions", False)
            await ws.send_json({"envelope_id": unanswered["envelope_id"]})  # late: nobody waits for it any more
            await ws.send_json({"envelope_id": envelope["envelope_id"]})
            assert await sending == {"envelope_id": envelope["envelope_id"]}
    [client] = slack.socket_clients
    assert len(client.received) == 2 and not client.connected
