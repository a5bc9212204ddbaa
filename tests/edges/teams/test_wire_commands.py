"""Edge (Teams wire): typed commands, and the Bot Connector's throttling, faults and refusals."""

from __future__ import annotations

import asyncio

import pytest

from tests.edges.teams.wire import (
    ANNA,
    CHANNEL,
    ZOE,
    ask,
    card_post,
    card_text,
    invoke,
    one_mention,
    quiet,
    settle,
    the_card,
    until,
)
from tests.support import event, ingest, mention_data


async def test_typed_commands_answer_like_slash_webcare(app, kit, connector):
    mention_id = await one_mention(app, connector, 1)
    await one_mention(app, connector, 2)
    await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id},
                 card_post(connector, mention_id)["id"])
    await settle(app)

    queue = await ask(app, kit, connector, ANNA, "queue", channel=True)
    assert "1 unclaimed mention; the oldest is 5 min old." in queue, queue
    help_text = await ask(app, kit, connector, ANNA, "help")
    for word in ("mine", "queue", "stats"):
        assert word in help_text, help_text
    mine = await ask(app, kit, connector, ANNA, "mine")
    assert f"#{mention_id}" in mine and "claimed" in mine, mine
    stats = await ask(app, kit, connector, ANNA, "stats week")
    assert "2 mentions, 0 answered" in stats and "Answered within 60 min: 0%" in stats, stats
    unknown = await ask(app, kit, connector, ANNA, "dance")
    assert "Unknown command" in unknown, unknown


async def test_an_unknown_teams_user_can_ask_the_queue_but_owns_nothing(app, kit, connector):
    await one_mention(app, connector, 1)
    assert "You have no open mentions." in await ask(app, kit, connector, ZOE, "mine")
    assert "1 unclaimed mention" in await ask(app, kit, connector, ZOE, "queue", channel=True)


async def test_a_throttled_card_post_arrives_once_after_retry_after(app, connector):
    connector.fail_next("create_conversation", status=429, retry_after=1)
    [m] = await ingest(app, event(mention_data(1)))
    await until(app, lambda: card_post(connector, m["id"]), what="the card after the 429")
    await quiet(app)
    assert [c.status for c in connector.calls_to("create_conversation")] == [429, 201]
    assert len(connector.posts(CHANNEL)) == 1
    shown = await (await app.get("/metrics")).text()
    assert 'webcare_chat_rate_limited_total{platform="teams"} 1.0' in shown  # counted: it should not happen


@pytest.mark.parametrize(("operation", "status"), [("update_activity", 412), ("update_activity", 502),
                                                   ("update_activity", 504), ("create_conversation", 502),
                                                   ("create_conversation", 504)])
async def test_transient_faults_are_retried(app, kit, connector, operation, status):
    mention_id = None
    if operation == "update_activity":
        mention_id = await one_mention(app, connector)
        connector.fail_next(operation, status=status)
        await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id},
                     card_post(connector, mention_id)["id"])
        await until(app, lambda: "Claimed by Anna de Vries" in card_text(the_card(connector, mention_id)),
                    what=f"the card update after a {status}")
    else:
        connector.fail_next(operation, status=status)
        [m] = await ingest(app, event(mention_data(1)))
        mention_id = m["id"]
        await until(app, lambda: card_post(connector, mention_id), what=f"the card after a {status}")
    await quiet(app)
    statuses = [c.status for c in connector.calls_to(operation)]
    assert statuses[0] == status and statuses[-1] in (200, 201), statuses
    assert len(connector.posts(CHANNEL)) == 1


async def test_a_refused_post_is_not_retried_in_a_loop(app, connector):
    connector.fail_next("create_conversation", status=400)
    await ingest(app, event(mention_data(1)))
    await settle(app)
    # A 400 is not transient: the card is given up on at once, and a line in the channel says so.
    calls = connector.calls_to("create_conversation")
    assert [c.status for c in calls] == [400, 201]
    assert "Mention #1 could not be shown on Teams" in card_text(calls[1].body)
    await asyncio.sleep(0.3)
    assert len(connector.calls_to("create_conversation")) == 2  # …and not retried in a loop either
    assert (await app.get("/readyz")).status == 200
    second = await one_mention(app, connector, 2)  # the relay carries on with other work
    assert card_post(connector, second)
