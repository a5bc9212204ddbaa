"""Edge: at most one Teams card per mention, even when the connector stores a post and its answer is lost.

The fake Bot Connector performs the post and then drops the connection (or holds the answer while the
bot shuts down); the retry must find the earlier post through Microsoft Graph (the same fake, its
channel messages delta query, app-only token from the offline login kit) and adopt it.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.edges.teams.wire import (
    ANNA,
    CHANNEL,
    TENANT,
    card_post,
    card_text,
    invoke,
    quiet,
    teams_settings,
    the_card,
    thread_of,
    until,
)
from tests.fakes.bot_connector import GRAPH_DELTA
from tests.support import ShiftedClock, context_of, event, ingest, mention_data, running_app

TEAM = "f3ec8cd2-e704-4344-8c47-9a3a21d683c0"  # the team's Entra group id (channelData.team.aadGroupId)
LOST = "create_conversation"  # the Bot Connector call that posts a card as a new thread


def graph_settings(kit, connector, **overrides: Any) -> dict[str, Any]:
    """Teams on, with Graph pointed at the fake and the team's id configured."""
    return teams_settings(kit, connector, teams_team_id=TEAM, microsoft_graph_url=connector.graph_url, **overrides)


async def recorded(client, subject: str):
    """Where the bot believes it posted `subject` (its chat-message record), or None."""
    async with context_of(client).db.uow() as uow:
        return await uow.messages.get("teams", TENANT, subject)


async def card_recorded(client, clock: ShiftedClock, mention_id: int):
    """Let the relay retry (the clock moved past each retry's delay) until the card's record exists."""
    for _ in range(100):
        clock.advance(seconds=6)
        await quiet(client, 0.02)
        found = await recorded(client, f"card:{mention_id}")
        if found is not None:
            return found
    raise AssertionError(f"the card of mention {mention_id} was never recorded")


def posts_in_channel(connector) -> list[dict[str, Any]]:
    """The top-level posts (cards) in the triage channel."""
    return connector.posts(CHANNEL)


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


async def test_a_card_whose_answer_was_lost_is_adopted_not_posted_twice(database_url, kit, connector, clock):
    connector.add_team(TEAM, CHANNEL)
    async with running_app(database_url, None, clock=clock, **graph_settings(kit, connector)) as app:
        [first] = await ingest(app, event(mention_data(1)))
        await until(app, lambda: card_post(connector, first["id"]), what="an ordinary card")
        assert connector.graph_calls == []  # nothing is looked up when the answer arrives

        connector.accept_then_drop(LOST)
        [m] = await ingest(app, event(mention_data(2)))
        record = await card_recorded(app, clock, m["id"])
        await quiet(app)

        post = card_post(connector, m["id"])  # exactly one card for the mention in the channel…
        assert len(posts_in_channel(connector)) == 2
        assert [c.status for c in connector.calls_to(LOST)] == [201, 201]  # …because it was posted once
        assert (record.channel, record.ts) == (f"{CHANNEL};messageid={post['id']}", post["id"])  # and is remembered
        [look] = connector.graph_calls
        assert look.status == 200 and kit.verify_access_token(look.authorization.removeprefix("Bearer "),
                                                              "https://graph.microsoft.com")["appid"] == kit.app_id
        assert look.body["$filter"].startswith("lastModifiedDateTime gt ")

        await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": m["id"]}, post["id"])
        await until(app, lambda: "Claimed by Anna de Vries" in card_text(the_card(connector, m["id"])),
                    what="the adopted card updated in place")
        assert len(posts_in_channel(connector)) == 2


async def test_a_notice_in_the_thread_whose_answer_was_lost_is_adopted(sqlite_url, kit, connector, clock):
    connector.add_team(TEAM, CHANNEL)
    async with running_app(sqlite_url, None, clock=clock, **graph_settings(kit, connector)) as app:
        [m] = await ingest(app, event(mention_data(1)))
        await until(app, lambda: card_post(connector, m["id"]), what="the card")
        connector.accept_then_drop("send_to_conversation")
        await invoke(app, kit, connector, ANNA, "webcare.escalate",
                     {"mention_id": m["id"], "departments": "legal", "note": "please look"},
                     card_post(connector, m["id"])["id"])
        subject = f"notice:escalate:{m['id']}:1"  # the notice of the mention's first escalation
        for _ in range(100):
            clock.advance(seconds=6)
            await quiet(app, 0.02)
            if (record := await recorded(app, subject)) is not None:
                break
        await quiet(app)
        [notice] = thread_of(connector, m["id"])  # one notice in the card's thread, not two
        assert [c.status for c in connector.calls_to("send_to_conversation")] == [201]
        assert record is not None and record.ts == notice["id"]


async def test_a_post_cut_off_by_a_shutdown_is_adopted_after_the_restart(sqlite_url, kit, connector, clock):
    """The crash between the post and its record: the answer never came back to the process that asked."""
    connector.add_team(TEAM, CHANNEL)
    connector.accept_then_stall(LOST)
    settings = graph_settings(kit, connector)
    async with running_app(sqlite_url, None, clock=clock, **settings) as app:
        [m] = await ingest(app, event(mention_data(1)))
        await until(app, lambda: [c for c in connector.calls_to(LOST) if c.status == 201] or None,
                    what="the post reaching Teams")
        assert await recorded(app, f"card:{m['id']}") is None  # the bot goes down before it hears back
    async with running_app(sqlite_url, None, clock=clock, **settings) as app:
        record = await card_recorded(app, clock, m["id"])
        await quiet(app)
    post = card_post(connector, m["id"])
    assert len(posts_in_channel(connector)) == 1
    assert record.ts == post["id"]


@pytest.mark.parametrize("setup", ["no team id", "no consent"])
async def test_when_graph_cannot_look_the_card_is_posted_again_and_the_log_says_why_once(
        sqlite_url, kit, connector, clock, caplog, setup):
    overrides = {"microsoft_graph_url": connector.graph_url}
    if setup == "no consent":
        connector.add_team(TEAM, CHANNEL, consent=False)
        overrides["teams_team_id"] = TEAM
    async with running_app(sqlite_url, None, clock=clock, **teams_settings(kit, connector, **overrides)) as app:
        remembered = []
        for n in (1, 2):
            connector.accept_then_drop(LOST)
            [m] = await ingest(app, event(mention_data(n)))
            remembered.append((await card_recorded(app, clock, m["id"])).ts)
        await quiet(app)
    # A card posted twice is better than a mention nobody sees: each mention's remembered card is in the channel.
    posted = [p["id"] for p in posts_in_channel(connector)]
    assert len(posted) == 4 and set(remembered) <= set(posted)
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "cannot look" in r.getMessage()]
    assert len(said) == 1, said
    assert ("TEAMS_TEAM_ID" if setup == "no team id" else "ChannelMessage.Read.Group") in said[0]


async def test_a_throttled_graph_is_asked_again_instead_of_posting_twice(sqlite_url, kit, connector, clock):
    connector.add_team(TEAM, CHANNEL)
    connector.fail_next(GRAPH_DELTA, status=429, retry_after=1)
    async with running_app(sqlite_url, None, clock=clock, **graph_settings(kit, connector)) as app:
        connector.accept_then_drop(LOST)
        [m] = await ingest(app, event(mention_data(1)))
        record = await card_recorded(app, clock, m["id"])
        await quiet(app)
    assert [c.status for c in connector.graph_calls] == [429, 200]
    assert [p["id"] for p in posts_in_channel(connector)] == [record.ts]
