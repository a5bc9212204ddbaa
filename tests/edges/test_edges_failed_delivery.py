"""Edge (Slack and Teams wire): a reply the receiver refuses keeps its mention open, with the reason and Retry on
both cards, in `mine` and in `queue`; Retry delivers it once; rate limits and timeouts are retried, not failed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.edges.teams.wire import (
    ANNA,
    all_of,
    card_post,
    card_text,
    executes,
    invoke,
    mention_entities,
    refreshed_card,
    settle,
    slack_card,
    slack_shows,
    teams_settings,
    the_card,
    until,
)
from tests.support import (
    REPLY_SECRET,
    ShiftedClock,
    block_action,
    context_of,
    event,
    ingest,
    mention_data,
    post_interaction,
    running_app,
    settle_slack,
    slash,
    view_submission,
)

CARLA = "U03CARLA"  # webcare.toml: Carla Smit, role webcare, on Slack only
HOSTILE = "<!channel> call us <https://evil.example|here> *now*"  # what the receiver says when it refuses


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
async def app(database_url, slack, kit, connector, receiver, clock):
    async with running_app(database_url, slack.url, clock=clock, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


async def a_mention(app, slack, connector) -> int:
    [m] = await ingest(app, event(mention_data(1, reply_via="webhook")))
    await until(app, lambda: slack_card(slack, m["id"]) and card_post(connector, m["id"]), what="both cards")
    return m["id"]


async def answer_on_slack(app, mention_id: int, text: str) -> None:
    response = await post_interaction(app, view_submission(CARLA, "webcare.answer_modal", str(mention_id),
                                                           {"reply_text": {"type": "plain_text_input", "value": text}}))
    assert response.status == 200, await response.text()
    await settle_slack(app)


async def typed(app, text: str) -> str:
    return (await (await slash(app, CARLA, text)).json())["text"]


def slack_buttons(slack, mention_id: int) -> dict[str, dict[str, Any]]:
    """The Slack card's buttons by label."""
    return {e["text"]["text"]: e for e in all_of(slack_card(slack, mention_id)["blocks"], "button")}


def failed_on_both(slack, connector, mention_id: int) -> bool:
    return ("reply not delivered" in slack_shows(slack, mention_id)
            and "reply not delivered" in card_text(the_card(connector, mention_id)))


async def audit_of(app, mention_id: int) -> list[tuple[str, str | None, str | None]]:
    """What happened to the mention: (action, from state, to state), its ingest first."""
    async with context_of(app).db.uow() as uow:
        return [(a.action, a.from_state, a.to_state) for a in await uow.audit.for_mention(mention_id)]


async def test_a_refused_reply_stays_in_mine_and_the_queue_with_the_reason_and_retry_on_both_cards(
        app, slack, connector, receiver):
    mention_id = await a_mention(app, slack, connector)
    receiver.status, receiver.error = 409, HOSTILE
    await answer_on_slack(app, mention_id, "We'll refund you.")
    await until(app, lambda: failed_on_both(slack, connector, mention_id), what="the failure on both cards")

    assert f"#{mention_id}" in await typed(app, "mine")
    queue = await typed(app, "queue")
    assert "Reply not delivered (Retry on the card):" in queue and f"#{mention_id}" in queue
    assert "held by Carla Smit" in queue

    slack_text = slack_shows(slack, mention_id)
    assert ":raising_hand: *Claimed* by <@U03CARLA>" in slack_text
    assert "reply not delivered: the reply webhook refused the reply (HTTP 409 Conflict): &lt;!channel&gt; call us" \
        in slack_text
    assert "<!channel>" not in slack_text and "https://evil" not in slack_text  # no ping, no live link
    retry = slack_buttons(slack, mention_id)["Retry"]
    assert retry["action_id"] == "webcare.retry"
    assert {"Escalate", "Answer", "Dismiss"} <= set(slack_buttons(slack, mention_id))

    card = the_card(connector, mention_id)
    shown = card_text(card)
    assert "Claimed by Carla Smit" in shown and f"refused the reply (HTTP 409 Conflict): {HOSTILE}" in shown
    [status] = [b for b in all_of(card, "RichTextBlock") if b["id"] == f"mention-{mention_id}-status"]
    assert {i["type"] for i in status["inlines"]} == {"TextRun"}  # the receiver's words stay inert
    assert not any("selectAction" in i for i in status["inlines"]) and mention_entities(card) == []
    assert [a["data"] for a in executes(card) if a["verb"] == "webcare.retry_reply"] == [{"mention_id": mention_id}]
    assert receiver.received == []


async def test_retry_on_both_cards_at_once_delivers_once_and_the_first_response_counts_at_delivery(
        app, slack, kit, connector, receiver, clock):
    mention_id = await a_mention(app, slack, connector)
    receiver.status = 422
    await answer_on_slack(app, mention_id, "We'll refund you.")
    await until(app, lambda: failed_on_both(slack, connector, mention_id), what="the failure on both cards")
    draft_id = slack_buttons(slack, mention_id)["Retry"]["value"]

    clock.advance(minutes=30)
    receiver.status = 202
    before = clock()
    slack_click = post_interaction(app, block_action(CARLA, "webcare.retry", draft_id))
    teams_click = invoke(app, kit, connector, ANNA, "webcare.retry_reply", {"mention_id": mention_id},
                         card_post(connector, mention_id)["id"])
    slack_answer, teams_answer = await asyncio.gather(slack_click, teams_click)
    assert slack_answer.status == 200
    assert f'"mention-{mention_id}-author"' in json.dumps(refreshed_card(teams_answer))  # the card, not the draft
    await settle_slack(app)
    await until(app, lambda: "Answered* by <@U03CARLA> after 30 min" in slack_shows(slack, mention_id)
                and "Answered by Carla Smit after 30 min" in card_text(the_card(connector, mention_id)),
                what="both cards to say answered, 30 minutes after it arrived")
    after = clock()

    assert [r["data"]["text"] for r in receiver.received] == ["We'll refund you."]
    assert receiver.tries == 2  # the refused one, and the retry: the second click did not send it again
    assert "not delivered" not in slack_shows(slack, mention_id) and "Retry" not in slack_buttons(slack, mention_id)
    assert "webcare.retry_reply" not in [a["verb"] for a in executes(the_card(connector, mention_id))]
    assert await typed(app, "mine") == "You have no open mentions."
    assert "not delivered" not in await typed(app, "queue")
    async with context_of(app).db.uow() as uow:
        stored = await uow.mentions.get(mention_id)
    assert stored is not None and stored.first_response_at is not None
    assert before <= stored.first_response_at <= after
    assert (await audit_of(app, mention_id))[1:] == [
        ("answer", "new", "answered"), ("reply_failed", "answered", "claimed"),
        ("retry_delivery", "claimed", "answered"), ("reply_sent", None, None)]


async def test_rate_limits_and_timeouts_are_retried_not_failed(app, slack, connector, receiver, clock):
    mention_id = await a_mention(app, slack, connector)
    receiver.upcoming = [429, 408, 429, 408]  # more than one delivery's quick retries: the outbox tries again
    await answer_on_slack(app, mention_id, "We'll refund you.")
    for _ in range(100):
        await settle(app)
        if receiver.received:
            break
        clock.advance(minutes=1)
        await asyncio.sleep(0.05)
    await until(app, lambda: "Answered* by <@U03CARLA>" in slack_shows(slack, mention_id)
                and "Answered by Carla Smit" in card_text(the_card(connector, mention_id)), what="answered")

    assert [r["data"]["text"] for r in receiver.received] == ["We'll refund you."] and receiver.tries == 5
    assert "not delivered" not in slack_shows(slack, mention_id)
    assert "reply_failed" not in [action for action, *_ in await audit_of(app, mention_id)]


async def test_a_receiver_that_stays_unavailable_is_given_up_on_and_the_mention_stays_open(
        app, slack, connector, receiver, clock):
    mention_id = await a_mention(app, slack, connector)
    receiver.status, receiver.retry_after = 503, "0"  # asks for no wait: each try is at once
    await answer_on_slack(app, mention_id, "We'll refund you.")
    for _ in range(100):
        await settle(app)
        if "not delivered" in slack_shows(slack, mention_id):
            break
        clock.advance(minutes=10)
        await asyncio.sleep(0.05)
    await until(app, lambda: failed_on_both(slack, connector, mention_id), what="the failure on both cards")

    assert "is unavailable (HTTP 503 Service Unavailable): mention is locked (gave up after 10 tries)" \
        in slack_shows(slack, mention_id)
    assert receiver.tries == 30 and receiver.received == []  # ten tries of the outbox, three quick ones each
    assert "Retry" in slack_buttons(slack, mention_id) and f"#{mention_id}" in await typed(app, "mine")
