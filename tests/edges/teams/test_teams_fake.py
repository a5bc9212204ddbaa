"""The Teams fakes speak the Bot Framework wire format to the real botbuilder CloudAdapter, fully offline.

The bot and the `/api/messages` route here are throw-away (not project code): they show the
integration recipe the Teams edge follows — authenticate first and map failures to 401, then
`process_activity`, answering invokes from the returned `InvokeResponse` — and pin down what
botbuilder 4.17.1 (archived) does on the wire, including the parts it gets wrong.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import jwt
import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.core import ActivityHandler, CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
    ErrorResponseException,
)
from botframework.connector.auth import AuthenticationConstants, BotFrameworkAuthentication
from msrest.exceptions import ClientRequestError

from tests.fakes.bot_auth import CONNECTOR_SCOPE, DEFAULT_APP_PASSWORD, BotFrameworkAuthFake
from tests.fakes.bot_connector import DENIED, BotConnectorFake

FIXTURES = Path(__file__).parents[2] / "fixtures" / "teams"
CHANNEL = "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "New mention"}]}
CLAIMED = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "Claimed by Ada"}]}


# -- the kit, the adapter, a throw-away bot and edge -----------------------------------------------


@pytest.fixture(autouse=True)
def no_bot_secrets_in_logs(caplog: pytest.LogCaptureFixture) -> Any:
    """botbuilder, MSAL, requests and urllib3 log at DEBUG here; none may log the app password."""
    yield
    logged = "\n".join(logging.Formatter().format(r) for phase in ("setup", "call") for r in caplog.get_records(phase))
    assert DEFAULT_APP_PASSWORD not in logged


def bot_configuration(kit: BotFrameworkAuthFake, **overrides: Any) -> SimpleNamespace:
    """What `ConfigurationBotFrameworkAuthentication` reads (attribute names), pointed at the kit."""
    values = {
        "APP_ID": kit.app_id,
        "APP_PASSWORD": kit.app_password,
        "APP_TYPE": "MultiTenant",
        "TO_CHANNEL_FROM_BOT_LOGIN_URL": kit.login_url,
        "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": CONNECTOR_SCOPE,
        "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
        "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": kit.openid_metadata_url,
        "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": kit.openid_metadata_url,  # never reach the internet
        "OAUTH_URL": kit.url,
    }
    values.update(overrides)
    return SimpleNamespace(**values)


def make_adapter(kit: BotFrameworkAuthFake, **overrides: Any) -> CloudAdapter:
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(bot_configuration(kit, **overrides)))


class ThrowawayBot(ActivityHandler):
    """Echoes messages in the thread and answers `Action.Execute` with a refreshed card."""

    def __init__(self) -> None:
        self.turns: list[str] = []

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        self.turns.append("message")
        text = TurnContext.remove_recipient_mention(turn_context.activity).strip()
        await turn_context.send_activity(f"got: {text}")

    async def on_adaptive_card_invoke(self, turn_context: TurnContext, invoke_value: Any) -> AdaptiveCardInvokeResponse:
        self.turns.append(f"invoke:{invoke_value.action['verb']}")  # `action` stays a plain dict
        return AdaptiveCardInvokeResponse(status_code=200, type="application/vnd.microsoft.card.adaptive",
                                          value=CLAIMED)


def messages_route(adapter: CloudAdapter, bot: ActivityHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The recipe for `POST /api/messages`: authenticate, map failures, process, answer invokes ourselves."""
    auth: BotFrameworkAuthentication = adapter.bot_framework_authentication

    async def messages(request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"error": "body is not JSON"}, status=400)
        activity = Activity().deserialize(body) if isinstance(body, dict) else Activity()
        if not activity.type:
            return web.json_response({"error": "not an activity"}, status=400)
        header = request.headers.get("Authorization")  # None, never "": botbuilder crashes on ""
        try:
            authenticated = await auth.authenticate_request(activity, header)
        except requests.RequestException:  # OpenID metadata unreachable: our problem, not the caller's
            return web.json_response({"error": "cannot verify tokens now"}, status=503, headers={"Retry-After": "5"})
        except Exception:  # noqa: BLE001 — PermissionError, jwt.InvalidTokenError, IndexError, … (see tests)
            return web.json_response({"error": "unauthorized"}, status=401)
        invoke_response = await adapter.process_activity(authenticated, activity, bot.on_turn)
        if invoke_response is None:
            return web.Response(status=200)
        if invoke_response.body is None:
            return web.Response(status=invoke_response.status)
        return web.json_response(invoke_response.body, status=invoke_response.status)

    return messages


async def serve(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> TestClient:
    app = web.Application()
    app.router.add_post("/api/messages", handler)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


def activity_json(name: str, service_url: str) -> dict[str, Any]:
    """A recorded Teams activity, re-addressed to the fake connector."""
    body = json.loads((FIXTURES / f"{name}.json").read_text())
    body["serviceUrl"] = service_url
    return body


# -- (a) a valid token is accepted; the reply reaches the connector with an issued bearer token --


async def test_valid_channel_token_is_accepted_and_the_reply_carries_an_issued_token(
        kit: BotFrameworkAuthFake, connector: BotConnectorFake) -> None:
    bot = ThrowawayBot()
    client = await serve(messages_route(make_adapter(kit), bot))
    try:
        body = activity_json("message_mention", connector.url)
        res = await client.post("/api/messages", json=body, headers={"Authorization": kit.auth_header(connector.url)})
        assert res.status == 200
    finally:
        await client.close()

    [reply] = connector.calls
    assert (reply.operation, reply.method, reply.status) == ("reply_to_activity", "POST", 201)
    assert (reply.conversation_id, reply.activity_id) == (body["conversation"]["id"], body["id"])
    assert reply.path == ("/amer/v3/conversations/19%3A0b7f32667e064dd9b25d7969801541f4%40thread.tacv2"
                          "%3Bmessageid%3D1716900300000/activities/1716900300000")  # msrest quotes with safe=""
    assert reply.body["text"] == 'got: poll "Lunch?" pizza sushi'
    assert reply.body["replyToId"] == body["id"] and reply.body["from"]["id"] == body["recipient"]["id"]
    scheme, token = reply.authorization.split(" ")
    assert scheme == "Bearer" and kit.verify_access_token(token)["appid"] == kit.app_id
    [token_request] = kit.token_requests
    assert (token_request.client_id, token_request.scope, token_request.secret_ok) == (
        kit.app_id, "https://api.botframework.com/.default", True)
    [stored] = connector.thread(body["conversation"]["id"])
    assert stored["text"] == reply.body["text"]


async def test_the_connector_refuses_calls_without_an_issued_token(connector: BotConnectorFake,
                                                                   kit: BotFrameworkAuthFake) -> None:
    url = connector.url + "v3/conversations/" + "19%3Ax%40thread.tacv2/activities"
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"Authorization": "Bearer not-a-token"},
                        {"Authorization": "Bearer " + kit.make_channel_token(kit.app_id, connector.url)}):
            async with http.post(url, json={"type": "message", "text": "hi"}, headers=headers) as res:
                assert (res.status, await res.json()) == (401, DENIED)
    assert [c.status for c in connector.calls] == [401, 401, 401] and connector.posts("19:x@thread.tacv2") == []


async def test_a_wrong_app_password_fails_the_reply_and_nothing_reaches_the_connector(
        kit: BotFrameworkAuthFake, connector: BotConnectorFake) -> None:
    adapter = make_adapter(kit, APP_PASSWORD="not-the-password")
    activity = Activity().deserialize(activity_json("message_mention", connector.url))
    with pytest.raises(PermissionError, match="invalid_client"):
        await adapter.process_activity(kit.auth_header(connector.url), activity, ThrowawayBot().on_turn)
    assert [r.status for r in kit.token_requests] == [401] and connector.calls == []


# -- (b) what botbuilder raises for each bad token (the edge maps them all to 401) ---------------

REJECTIONS = [
    ("missing", lambda kit, url: None, PermissionError, "Unauthorized Access"),
    ("empty", lambda kit, url: "", AttributeError, "'NoneType' object has no attribute 'claims'"),
    ("wrong audience", lambda kit, url: "Bearer " + kit.wrong_audience_token(url), PermissionError,
     "Invalid AppId passed on token"),
    ("expired", lambda kit, url: "Bearer " + kit.expired_token(url), jwt.ExpiredSignatureError, "expired"),
    ("unknown key", lambda kit, url: "Bearer " + kit.unknown_key_token(url), IndexError, "out of range"),
    ("forged signature", lambda kit, url: "Bearer " + kit.forged_token(url), jwt.InvalidSignatureError,
     "verification failed"),
    ("other serviceUrl", lambda kit, url: kit.auth_header("https://smba.trafficmanager.net/amer/"), PermissionError,
     "Invalid 'serviceurl' claim"),
    ("other issuer", lambda kit, url: kit.auth_header(url, issuer="https://sts.example.com/"), PermissionError,
     "Identity missing"),
    ("not a JWT", lambda kit, url: "Bearer abc.def.ghi", jwt.DecodeError, "Invalid header"),
    ("not Bearer", lambda kit, url: "Basic " + kit.make_channel_token(kit.app_id, url), PermissionError,
     "Identity missing"),
]


@pytest.mark.parametrize(("header", "error", "message"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
async def test_authenticate_request_raises_for_bad_tokens(kit: BotFrameworkAuthFake, connector: BotConnectorFake,
                                                          header: Any, error: type[Exception], message: str) -> None:
    auth = make_adapter(kit).bot_framework_authentication
    activity = Activity().deserialize(activity_json("message_mention", connector.url))
    with pytest.raises(error, match=message):
        await auth.authenticate_request(activity, header(kit, connector.url))


@pytest.mark.parametrize("header", [r[1] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
async def test_the_edge_answers_401_and_the_bot_never_runs(kit: BotFrameworkAuthFake, connector: BotConnectorFake,
                                                           header: Any) -> None:
    bot = ThrowawayBot()
    client = await serve(messages_route(make_adapter(kit), bot))
    value = header(kit, connector.url)
    try:
        for name in ("message_mention", "invoke_adaptive_card_action"):
            res = await client.post("/api/messages", json=activity_json(name, connector.url),
                                    headers={} if value is None else {"Authorization": value})
            assert res.status == 401
    finally:
        await client.close()
    assert bot.turns == [] and connector.calls == [] and kit.token_requests == []


async def test_a_key_without_the_channels_endorsement_is_refused(connector: BotConnectorFake,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    async with BotFrameworkAuthFake(endorsements=("webchat",)) as webchat_only:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", webchat_only.ca_bundle)
        auth = make_adapter(webchat_only).bot_framework_authentication
        activity = Activity().deserialize(activity_json("message_mention", connector.url))
        with pytest.raises(Exception, match="Could not validate endorsement key"):
            await auth.authenticate_request(activity, webchat_only.auth_header(connector.url))


async def test_unreachable_openid_metadata_raises_a_requests_error(kit: BotFrameworkAuthFake,
                                                                   connector: BotConnectorFake) -> None:
    closed = BotFrameworkAuthFake()
    closed.start()
    closed.close()  # a URL nobody answers any more
    auth = make_adapter(kit, TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=closed.openid_metadata_url)
    activity = Activity().deserialize(activity_json("message_mention", connector.url))
    with pytest.raises(requests.ConnectionError):
        await auth.bot_framework_authentication.authenticate_request(activity, kit.auth_header(connector.url))


async def test_public_cloud_mode_refuses_an_empty_header_without_any_network(connector: BotConnectorFake) -> None:
    auth = ConfigurationBotFrameworkAuthentication(SimpleNamespace(APP_ID="some-app", APP_PASSWORD="x" * 12))
    activity = Activity().deserialize(activity_json("message_mention", connector.url))
    for header in ("", None):
        with pytest.raises(PermissionError):
            await auth.authenticate_request(activity, header)


# -- (c) invokes: the stock process() answers 500; process_activity keeps the body intact --------


async def test_adaptive_card_invoke_returns_the_refreshed_card(kit: BotFrameworkAuthFake,
                                                               connector: BotConnectorFake) -> None:
    bot = ThrowawayBot()
    adapter = make_adapter(kit)
    body = activity_json("invoke_adaptive_card_action", connector.url)
    headers = {"Authorization": kit.auth_header(connector.url)}

    client = await serve(messages_route(adapter, bot))
    try:
        res = await client.post("/api/messages", json=body, headers=headers)
        assert (res.status, await res.json()) == (200, {"statusCode": 200, "value": CLAIMED,
                                                        "type": "application/vnd.microsoft.card.adaptive"})
    finally:
        await client.close()
    assert bot.turns == ["invoke:vote"] and connector.calls == []

    invoke = await adapter.process_activity(kit.auth_header(connector.url), Activity().deserialize(body), bot.on_turn)
    assert invoke.status == 200 and invoke.body["value"] == CLAIMED  # already a dict: serialise it no further


async def test_stock_process_answers_500_for_invokes_and_for_non_permission_auth_errors(
        kit: BotFrameworkAuthFake, connector: BotConnectorFake) -> None:
    bot, adapter = ThrowawayBot(), make_adapter(kit)

    async def stock(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    client = await serve(stock)
    good = {"Authorization": kit.auth_header(connector.url)}
    try:
        invoke = activity_json("invoke_adaptive_card_action", connector.url)
        assert (await client.post("/api/messages", json=invoke, headers=good)).status == 500  # body serialised twice
        assert bot.turns == ["invoke:vote"]  # …after the bot did its work
        message = activity_json("message_mention", connector.url)
        assert (await client.post("/api/messages", json=message, headers=good)).status == 201
        assert (await client.post("/api/messages", json=message)).status == 500  # "" header → AttributeError
        expired = {"Authorization": "Bearer " + kit.expired_token(connector.url)}
        assert (await client.post("/api/messages", json=message, headers=expired)).status == 500
        wrong = {"Authorization": "Bearer " + kit.wrong_audience_token(connector.url)}
        assert (await client.post("/api/messages", json=message, headers=wrong)).status == 401
    finally:
        await client.close()


# -- (d) proactive: a new thread in a channel, an update, a reply in the thread ------------------


async def start_thread(adapter: CloudAdapter, kit: BotFrameworkAuthFake, service_url: str) -> ConversationReference:
    """Post CARD as a new thread in CHANNEL and return the reference the callback saw."""
    references: list[ConversationReference] = []

    async def remember(turn_context: TurnContext) -> None:
        references.append(TurnContext.get_conversation_reference(turn_context.activity))

    parameters = ConversationParameters(
        is_group=True, channel_data={"channel": {"id": CHANNEL}}, tenant_id=TENANT,
        bot=ChannelAccount(id=f"28:{kit.app_id}"),
        activity=MessageFactory.attachment(CardFactory.adaptive_card(CARD)))
    await adapter.create_conversation(kit.app_id, remember, parameters, "msteams", service_url, CONNECTOR_SCOPE)
    [reference] = references
    return reference


async def test_proactive_thread_update_and_reply_land_in_the_fake(kit: BotFrameworkAuthFake,
                                                                  connector: BotConnectorFake) -> None:
    adapter = make_adapter(kit)
    reference = await start_thread(adapter, kit, connector.url)
    [post] = connector.posts(CHANNEL)
    assert reference.conversation.id == f"{CHANNEL};messageid={post['id']}" == post["conversation"]["id"]
    assert reference.activity_id == post["id"] and reference.service_url == connector.url
    assert post["attachments"][0]["content"] == CARD
    [created] = connector.calls_to("create_conversation")
    assert created.body["isGroup"] is True and created.body["channelData"] == {"channel": {"id": CHANNEL}}

    stored = ConversationReference().deserialize(json.loads(json.dumps(reference.serialize())))  # as in a DB row

    async def update_and_reply(turn_context: TurnContext) -> None:
        card = MessageFactory.attachment(CardFactory.adaptive_card(CLAIMED))
        card.id = stored.activity_id
        await turn_context.update_activity(card)
        turn_context.activity.id = None  # else the reply targets the continuation event's random id
        await turn_context.send_activity("Ada claimed this mention.")

    await adapter.continue_conversation(stored, update_and_reply, kit.app_id)

    assert [v["attachments"][0]["content"] for v in connector.versions(CHANNEL, post["id"])] == [CARD, CLAIMED]
    [update] = connector.calls_to("update_activity")
    assert (update.conversation_id, update.activity_id) == (stored.conversation.id, post["id"])
    root, reply = connector.thread(stored.conversation.id)
    assert root["attachments"][0]["content"] == CLAIMED and reply["text"] == "Ada claimed this mention."
    assert [c.operation for c in connector.calls] == ["create_conversation", "update_activity",
                                                      "send_to_conversation"]
    assert all(kit.is_issued(c.authorization.removeprefix("Bearer ")) for c in connector.calls)
    assert len(kit.token_requests) == 2  # a fresh MSAL client, so a fresh token, per turn


async def test_the_connector_client_can_be_used_without_a_turn(kit: BotFrameworkAuthFake,
                                                               connector: BotConnectorFake) -> None:
    adapter = make_adapter(kit)
    reference = await start_thread(adapter, kit, connector.url)
    auth = adapter.bot_framework_authentication
    client = await auth.create_connector_factory(adapter.create_claims_identity(kit.app_id)).create(
        reference.service_url, CONNECTOR_SCOPE)
    card = MessageFactory.attachment(CardFactory.adaptive_card(CLAIMED))
    card.conversation = reference.conversation
    response = await client.conversations.update_activity(reference.conversation.id, reference.activity_id, card)
    assert response.id == reference.activity_id
    assert connector.activity(CHANNEL, reference.activity_id)["attachments"][0]["content"] == CLAIMED

    connector.fail_next("update_activity", status=412)
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.update_activity(reference.conversation.id, reference.activity_id, card)
    assert caught.value.response.status_code == 412 and caught.value.error.error.code == "PreconditionFailed"


# -- (e) how faults surface --------------------------------------------------------------------


async def send_hello(turn_context: TurnContext) -> None:
    """A proactive turn's logic: say hello in the referenced thread."""
    turn_context.activity.id = None  # else botbuilder replies to the continuation event's random id
    await turn_context.send_activity("hello")


async def test_a_429_on_a_post_raises_at_once_with_retry_after(kit: BotFrameworkAuthFake,
                                                              connector: BotConnectorFake) -> None:
    adapter = make_adapter(kit)
    reference = await start_thread(adapter, kit, connector.url)
    connector.fail_next("send_to_conversation", status=429, retry_after=7)
    with pytest.raises(ErrorResponseException) as caught:
        await adapter.continue_conversation(reference, send_hello, kit.app_id)
    response = caught.value.response
    assert (response.status_code, response.headers["Retry-After"]) == (429, "7")
    assert caught.value.error.error.code == "Throttled"
    assert [c.status for c in connector.calls_to("send_to_conversation")] == [429]  # POSTs are never retried


@pytest.mark.parametrize("status", [429, 500, 502, 504])
async def test_puts_are_retried_inside_requests(kit: BotFrameworkAuthFake, connector: BotConnectorFake,
                                                status: int) -> None:
    adapter = make_adapter(kit)
    reference = await start_thread(adapter, kit, connector.url)
    connector.fail_next("update_activity", status=status, retry_after=0 if status == 429 else None)

    async def update(turn_context: TurnContext) -> None:
        card = MessageFactory.attachment(CardFactory.adaptive_card(CLAIMED))
        card.id = reference.activity_id
        await turn_context.update_activity(card)

    await adapter.continue_conversation(reference, update, kit.app_id)
    assert [c.status for c in connector.calls_to("update_activity")] == [status, 200]
    assert connector.activity(CHANNEL, reference.activity_id)["attachments"][0]["content"] == CLAIMED


async def test_puts_give_up_after_three_retries(kit: BotFrameworkAuthFake, connector: BotConnectorFake) -> None:
    adapter = make_adapter(kit)
    reference = await start_thread(adapter, kit, connector.url)
    connector.fail_next("update_activity", status=429, times=4)  # Retry-After: 1, honoured: this test takes 3 s

    async def update(turn_context: TurnContext) -> None:
        card = MessageFactory.attachment(CardFactory.adaptive_card(CLAIMED))
        card.id = reference.activity_id
        await turn_context.update_activity(card)

    with pytest.raises(ErrorResponseException) as caught:
        await adapter.continue_conversation(reference, update, kit.app_id)
    assert caught.value.response.status_code == 429
    assert [c.status for c in connector.calls_to("update_activity")] == [429] * 4


async def test_on_turn_error_swallows_proactive_failures(kit: BotFrameworkAuthFake,
                                                         connector: BotConnectorFake) -> None:
    adapter = make_adapter(kit)
    reference = await start_thread(adapter, kit, connector.url)
    seen: list[Exception] = []

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        seen.append(error)

    adapter.on_turn_error = on_turn_error
    connector.fail_next("send_to_conversation", status=502)
    assert await adapter.continue_conversation(reference, send_hello, kit.app_id) is None  # no exception
    assert [type(e) for e in seen] == [ErrorResponseException]
    assert connector.thread(reference.conversation.id)[1:] == []

    connector.fail_next("create_conversation", status=429)  # outside the pipeline: raises all the same
    with pytest.raises(ErrorResponseException):
        await start_thread(adapter, kit, connector.url)


async def test_accept_then_drop_performs_the_call_but_the_bot_sees_a_broken_connection(
        kit: BotFrameworkAuthFake, connector: BotConnectorFake) -> None:
    adapter = make_adapter(kit)
    reference = await start_thread(adapter, kit, connector.url)
    connector.accept_then_drop("send_to_conversation")
    with pytest.raises(ClientRequestError, match="Connection aborted"):
        await adapter.continue_conversation(reference, send_hello, kit.app_id)
    assert [c.status for c in connector.calls_to("send_to_conversation")] == [201]  # not retried: a POST
    assert [m.get("text") for m in connector.thread(reference.conversation.id)[1:]] == ["hello"]


async def test_the_hidden_retries_can_be_turned_off_per_client(kit: BotFrameworkAuthFake,
                                                               connector: BotConnectorFake) -> None:
    adapter = make_adapter(kit)
    reference = await start_thread(adapter, kit, connector.url)
    client = await adapter.bot_framework_authentication.create_connector_factory(
        adapter.create_claims_identity(kit.app_id)).create(reference.service_url, CONNECTOR_SCOPE)
    client.config.retry_policy.retries = 0  # retry at our I/O edge instead, honouring Retry-After
    connector.fail_next("update_activity", status=429, retry_after=30)
    card = MessageFactory.attachment(CardFactory.adaptive_card(CLAIMED))
    with pytest.raises(ErrorResponseException) as caught:
        await client.conversations.update_activity(reference.conversation.id, reference.activity_id, card)
    assert (caught.value.response.status_code, caught.value.response.headers["Retry-After"]) == (429, "30")
    assert [c.status for c in connector.calls_to("update_activity")] == [429]
