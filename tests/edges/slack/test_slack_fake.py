"""The Slack Web API fake speaks Slack's wire format to the real slack_sdk and slack_bolt clients."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack_api import BOT_USER_ID, TEAM_ID, SlackFake

CHANNEL = "C0TRIAGE01"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*New mention* from @alice"}}]
METADATA = {"event_type": "mention_card", "event_payload": {"mention_id": 42}}


@pytest.fixture
async def fake() -> AsyncIterator[SlackFake]:
    async with SlackFake() as running:
        yield running


def client(fake: SlackFake, **kwargs: Any) -> AsyncWebClient:
    """Build the real SDK client against the fake; no retries unless asked for."""
    kwargs.setdefault("retry_handlers", [])
    return AsyncWebClient(token=fake.token, base_url=fake.url, **kwargs)


async def test_url_is_a_real_local_socket(fake: SlackFake) -> None:
    assert fake.url.startswith("http://127.0.0.1:") and fake.url.endswith("/api/")
    assert not fake.url.startswith("http://127.0.0.1:0/")


async def test_auth_test_identifies_the_bot(fake: SlackFake) -> None:
    resp = await client(fake).auth_test()
    assert (resp["user_id"], resp["team_id"], resp["is_enterprise_install"]) == (BOT_USER_ID, TEAM_ID, False)
    assert resp["bot_id"].startswith("B")


async def test_post_message_stores_blocks_and_metadata(fake: SlackFake) -> None:
    resp = await client(fake).chat_postMessage(
        channel=CHANNEL, text="New mention", blocks=BLOCKS, metadata=METADATA, unfurl_links=False
    )
    assert resp["channel"] == CHANNEL and resp["message"]["blocks"] == BLOCKS
    [stored] = fake.messages(CHANNEL)
    assert stored["ts"] == resp["ts"] == "1732200000.000100"
    assert (stored["blocks"], stored["metadata"], stored["unfurl_links"]) == (BLOCKS, METADATA, False)
    assert [(name, params["metadata"]) for name, params in fake.calls] == [("chat.postMessage", METADATA)]


async def test_timestamps_increase_and_are_unique(fake: SlackFake) -> None:
    web = client(fake)
    stamps = [(await web.chat_postMessage(channel=c, text="x"))["ts"] for c in ("C1", "C2", "C1") * 4]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == len(stamps)


async def test_form_body_with_token_field_and_blocks_as_json_text(fake: SlackFake) -> None:
    form = {"token": fake.token, "channel": CHANNEL, "blocks": json.dumps(BLOCKS), "unfurl_media": "false"}
    async with aiohttp.ClientSession() as http, http.post(fake.url + "chat.postMessage", data=form) as res:
        body = await res.json()
    assert body["ok"] is True
    assert fake.messages(CHANNEL)[0]["blocks"] == BLOCKS
    assert "token" not in fake.calls_to("chat.postMessage")[0]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({}, "no_text"),
        ({"blocks": BLOCKS * 51}, "invalid_blocks"),
        ({"text": "x" * 40_001}, "msg_too_long"),
        ({"channel": ""}, "channel_not_found"),
    ],
)
async def test_post_message_is_validated_like_slack(fake: SlackFake, kwargs: dict[str, Any], error: str) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client(fake).chat_postMessage(**{"channel": CHANNEL, **kwargs})
    assert raised.value.response["error"] == error
    assert fake.messages(CHANNEL) == []


async def test_limits_themselves_are_accepted(fake: SlackFake) -> None:
    await client(fake).chat_postMessage(channel=CHANNEL, text="x" * 40_000, blocks=BLOCKS * 50)
    assert len(fake.messages(CHANNEL)[0]["blocks"]) == 50


async def test_update_replaces_text_and_blocks(fake: SlackFake) -> None:
    web = client(fake)
    posted = await web.chat_postMessage(channel=CHANNEL, text="open", blocks=BLOCKS, metadata=METADATA)
    claimed = [{"type": "context", "elements": [{"type": "mrkdwn", "text": "Claimed by <@U1>"}]}]
    resp = await web.chat_update(channel=CHANNEL, ts=posted["ts"], text="claimed", blocks=claimed)
    assert resp["ts"] == posted["ts"]
    [stored] = fake.messages(CHANNEL)
    assert (stored["text"], stored["blocks"], stored["metadata"]) == ("claimed", claimed, METADATA)


async def test_update_of_unknown_message_fails(fake: SlackFake) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client(fake).chat_update(channel=CHANNEL, ts="1.000100", text="x")
    assert raised.value.response["error"] == "message_not_found"


async def test_history_is_newest_first_and_carries_metadata_only_when_asked(fake: SlackFake) -> None:
    web = client(fake)
    first = await web.chat_postMessage(channel=CHANNEL, text="first", metadata=METADATA)
    second = await web.chat_postMessage(channel=CHANNEL, text="second")
    plain = await web.conversations_history(channel=CHANNEL)
    assert [m["ts"] for m in plain["messages"]] == [second["ts"], first["ts"]]
    assert "metadata" not in plain["messages"][1]
    rich = await web.conversations_history(channel=CHANNEL, include_all_metadata=True)
    assert rich["messages"][1]["metadata"] == METADATA


async def test_history_pages_with_cursor_and_bounds(fake: SlackFake) -> None:
    web = client(fake)
    stamps = [(await web.chat_postMessage(channel=CHANNEL, text=str(i)))["ts"] for i in range(5)]
    page1 = await web.conversations_history(channel=CHANNEL, limit=2)
    page2 = await web.conversations_history(channel=CHANNEL, limit=2, cursor=page1["response_metadata"]["next_cursor"])
    assert [m["ts"] for m in page1["messages"] + page2["messages"]] == stamps[::-1][:4]
    assert page1["has_more"] is True
    bounded = await web.conversations_history(channel=CHANNEL, oldest=stamps[1], latest=stamps[3])
    assert [m["ts"] for m in bounded["messages"]] == [stamps[2]]
    inclusive = await web.conversations_history(channel=CHANNEL, oldest=stamps[1], latest=stamps[3], inclusive=True)
    assert len(inclusive["messages"]) == 3


async def test_thread_replies_stay_out_of_history(fake: SlackFake) -> None:
    web = client(fake)
    parent = await web.chat_postMessage(channel=CHANNEL, text="card")
    reply = await web.chat_postMessage(channel=CHANNEL, text="claimed", thread_ts=parent["ts"])
    history = await web.conversations_history(channel=CHANNEL)
    assert [m["ts"] for m in history["messages"]] == [parent["ts"]]
    assert history["messages"][0]["reply_count"] == 1
    replies = await web.conversations_replies(channel=CHANNEL, ts=parent["ts"])
    assert [m["ts"] for m in replies["messages"]] == [parent["ts"], reply["ts"]]
    assert [m["text"] for m in fake.thread(CHANNEL, parent["ts"])] == ["card", "claimed"]


async def test_ephemeral_is_recorded_not_posted(fake: SlackFake) -> None:
    resp = await client(fake).chat_postEphemeral(channel=CHANNEL, user="U0AGENT01", text="Already claimed")
    assert fake.ephemerals == [
        {
            "channel": CHANNEL,
            "user": "U0AGENT01",
            "text": "Already claimed",
            "blocks": None,
            "thread_ts": None,
            "message_ts": resp["message_ts"],
        }
    ]
    assert fake.messages(CHANNEL) == []


async def test_views_open_and_update(fake: SlackFake) -> None:
    web = client(fake)
    modal = {"type": "modal", "callback_id": "reply", "title": {"type": "plain_text", "text": "Reply"}, "blocks": []}
    opened = await web.views_open(trigger_id="123.456.abc", view=modal)
    view_id = opened["view"]["id"]
    assert fake.views[view_id]["callback_id"] == "reply"
    await web.views_update(view_id=view_id, view={**modal, "callback_id": "sent"}, hash=opened["view"]["hash"])
    assert fake.views[view_id]["callback_id"] == "sent"
    with pytest.raises(SlackApiError):
        await web.views_open(trigger_id="", view=modal)


async def test_users_info_returns_a_plausible_user(fake: SlackFake) -> None:
    resp = await client(fake).users_info(user="U0AGENT01")
    assert resp["user"]["id"] == "U0AGENT01" and resp["user"]["profile"]["display_name"]


async def test_bad_or_missing_token_is_rejected(fake: SlackFake) -> None:
    with pytest.raises(SlackApiError) as raised:
        await AsyncWebClient(token="xoxb-wrong", base_url=fake.url).auth_test()
    assert raised.value.response["error"] == "invalid_auth"
    async with aiohttp.ClientSession() as http, http.post(fake.url + "auth.test") as res:
        assert (res.status, (await res.json())["error"]) == (200, "not_authed")


async def test_unknown_method(fake: SlackFake) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client(fake).api_call("chat.teleport")
    assert raised.value.response["error"] == "unknown_method"


async def test_rate_limit_surfaces_status_and_retry_after(fake: SlackFake) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        await client(fake).chat_postMessage(channel=CHANNEL, text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"
    assert fake.messages(CHANNEL) == []


async def test_rate_limit_retried_by_sdk_handler_succeeds_once(fake: SlackFake) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    web = client(fake, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    await web.chat_postMessage(channel=CHANNEL, text="x")
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert len(fake.messages(CHANNEL)) == 1


async def test_server_errors_for_n_calls_then_success(fake: SlackFake) -> None:
    fake.fail_next("chat.postMessage", status=503, times=2)
    with pytest.raises(SlackApiError) as raised:
        await client(fake).chat_postMessage(channel=CHANNEL, text="x")
    assert raised.value.response.status_code == 503
    await client(fake, retry_handlers=[AsyncServerErrorRetryHandler()]).chat_postMessage(channel=CHANNEL, text="x")
    assert len(fake.messages(CHANNEL)) == 1


async def test_injected_error_is_http_200_ok_false(fake: SlackFake) -> None:
    fake.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as raised:
        await client(fake).chat_postMessage(channel=CHANNEL, text="x")
    assert (raised.value.response.status_code, raised.value.response["error"]) == (200, "channel_not_found")
    await client(fake).chat_postMessage(channel=CHANNEL, text="x")


async def test_accept_then_drop_stores_message_but_client_sees_no_answer(fake: SlackFake) -> None:
    fake.accept_then_drop("chat.postMessage")
    with pytest.raises(aiohttp.ClientConnectionError):
        await client(fake).chat_postMessage(channel=CHANNEL, text="card")
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["card"]


async def test_sdk_default_connection_retry_duplicates_an_accepted_post(fake: SlackFake) -> None:
    fake.accept_then_drop("chat.postMessage")
    await AsyncWebClient(token=fake.token, base_url=fake.url).chat_postMessage(channel=CHANNEL, text="card")
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["card", "card"]


async def test_post_times_are_recorded_per_channel(fake: SlackFake) -> None:
    web = client(fake)
    before = time.monotonic()
    for channel in ("C1", "C1", "C2"):
        await web.chat_postMessage(channel=channel, text="x")
    assert len(fake.post_times("C1")) == 2 and len(fake.post_times("C2")) == 1
    assert before <= fake.post_times("C1")[0] <= fake.post_times("C1")[1] <= time.monotonic()


async def test_bolt_app_works_against_the_fake(fake: SlackFake) -> None:
    app = AsyncApp(client=client(fake), signing_secret="secret", process_before_response=True)

    @app.command("/triage")
    async def triage(ack: Any, say: Any) -> None:
        await ack()
        await say(text="on it", blocks=BLOCKS)

    body = urlencode({"command": "/triage", "channel_id": CHANNEL, "user_id": "U0AGENT01", "team_id": TEAM_ID})
    stamp = str(int(time.time()))
    signature = SignatureVerifier("secret").generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    headers: dict[str, str | Sequence[str]] = {"x-slack-request-timestamp": stamp, "x-slack-signature": signature}
    response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=headers))
    assert response.status == 200
    assert [m["text"] for m in fake.messages(CHANNEL)] == ["on it"]
    assert fake.calls_to("auth.test")


async def test_runs_standalone_for_other_processes() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.slack_api",
        "--token",
        "xoxb-standalone",
        stdout=asyncio.subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[3],
    )
    try:
        assert proc.stdout is not None
        url = (await asyncio.wait_for(proc.stdout.readline(), timeout=10)).decode().strip()
        resp = await AsyncWebClient(token="xoxb-standalone", base_url=url).auth_test()
        assert resp["user_id"] == BOT_USER_ID
    finally:
        proc.terminate()
        await proc.wait()
