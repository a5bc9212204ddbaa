"""Edge: finding the bot's own post through Graph (bot/teams/graph.py) against the fake's channel messages."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.teams.graph import ChannelPosts, GraphBusy, GraphUnavailable, mark
from tests.edges.teams.wire import CARD_TYPE, CHANNEL, TENANT
from tests.fakes.bot_connector import GRAPH_DELTA

TEAM = "f3ec8cd2-e704-4344-8c47-9a3a21d683c0"
CARD = {"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "TextBlock", "text": "a card"}]}


async def post(kit, connector, card: dict, thread: str | None = None) -> str:
    """Post a card the way the bot does (Bot Connector REST, the kit's token); return the message id."""
    issued = await _token(kit)
    activity = {"type": "message", "attachments": [{"contentType": CARD_TYPE, "content": card}]}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {issued}"}) as http:
        if thread is None:
            body = {"isGroup": True, "channelData": {"channel": {"id": CHANNEL}}, "activity": activity}
            async with http.post(f"{connector.url}v3/conversations", json=body) as response:
                return (await response.json())["activityId"]
        url = f"{connector.url}v3/conversations/{CHANNEL};messageid={thread}/activities"
        async with http.post(url, json=activity) as response:
            return (await response.json())["id"]


async def _token(kit) -> str:
    """A Bot Connector token from the kit's login, as the bot gets one."""
    async with aiohttp.ClientSession() as http:
        form = {"grant_type": "client_credentials", "client_id": kit.app_id, "client_secret": kit.app_password,
                "scope": "https://api.botframework.com/.default"}
        trusted = ssl.create_default_context(cafile=kit.ca_bundle)
        async with http.post(kit.token_url, data=form, ssl=trusted) as response:
            return (await response.json())["access_token"]


def reader(kit, connector) -> ChannelPosts:
    """The bot's Graph reader, logging in at the kit and reading the fake."""
    return ChannelPosts(kit.app_id, kit.app_password, connector.graph_url, kit.login_url)


def a_minute_ago() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=1)


async def test_a_marked_card_in_a_busy_channel_is_found_on_a_later_page(kit, connector):
    connector.add_team(TEAM, CHANNEL)
    ids = [await post(kit, connector, mark(CARD, f"webcare:card:{n}")) for n in range(60)]
    found = await reader(kit, connector).find(TENANT, TEAM, CHANNEL, "webcare:card:57", a_minute_ago())
    assert found == ids[57]
    assert len(connector.graph_calls) == 2 and all(int(c.body.get("$top", 50)) <= 50 for c in connector.graph_calls)
    assert await reader(kit, connector).find(TENANT, TEAM, CHANNEL, "webcare:card:60", a_minute_ago()) is None


async def test_a_marked_reply_is_found_in_its_thread_only(kit, connector):
    connector.add_team(TEAM, CHANNEL)
    root = await post(kit, connector, mark(CARD, "webcare:card:1"))
    other = await post(kit, connector, mark(CARD, "webcare:card:2"))
    reply = await post(kit, connector, mark(CARD, "webcare:draft:7"), thread=root)
    posts = reader(kit, connector)
    assert await posts.find(TENANT, TEAM, CHANNEL, "webcare:draft:7", a_minute_ago(), root=root) == reply
    assert await posts.find(TENANT, TEAM, CHANNEL, "webcare:draft:7", a_minute_ago(), root=other) is None
    assert await posts.find(TENANT, TEAM, CHANNEL, "webcare:draft:7", a_minute_ago()) is None  # not a channel post
    assert await posts.find(TENANT, TEAM, CHANNEL, "webcare:card:1", datetime.now(UTC) + timedelta(minutes=1)) is None


async def test_no_consent_cannot_tell_and_throttling_asks_to_wait(kit, connector):
    connector.add_team(TEAM, CHANNEL, consent=False)
    with pytest.raises(GraphUnavailable, match="403 Forbidden"):
        await reader(kit, connector).find(TENANT, TEAM, CHANNEL, "webcare:card:1", a_minute_ago())
    connector.add_team(TEAM, CHANNEL)
    connector.fail_next(GRAPH_DELTA, status=429, retry_after=7)
    with pytest.raises(GraphBusy) as busy:
        await reader(kit, connector).find(TENANT, TEAM, CHANNEL, "webcare:card:1", a_minute_ago())
    assert busy.value.retry_after == 7
    kit.fail_next_token()
    with pytest.raises(GraphUnavailable, match="invalid_client"):
        await reader(kit, connector).find(TENANT, TEAM, CHANNEL, "webcare:card:1", a_minute_ago())
