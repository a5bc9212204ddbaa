"""Edge (Slack wire): the Answer dialog checks each network's length, offers saved replies, says where a reply goes."""

import json
import time
from pathlib import Path

import pytest

from tests.support import (
    REPLY_SECRET,
    TRIAGE_CHANNEL,
    block_action,
    event,
    ingest,
    mention_data,
    post_interaction,
    relay_of,
    running_app,
    settle_slack,
    view_submission,
)

SHIPPED_PLAYBOOKS = Path(__file__).parents[3] / "playbooks"  # with the shipped saved replies
CARLA = "U03CARLA"


@pytest.fixture
async def app(database_url, slack, receiver):
    async with running_app(database_url, slack.url, reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET,
                           playbooks_dir=SHIPPED_PLAYBOOKS) as client:
        yield client


async def one_mention(client, n=1, **overrides) -> int:
    [m] = await ingest(client, event(mention_data(n, **overrides)))
    await relay_of(client).drain()
    return m["id"]


async def open_answer(client, slack, mention_id) -> dict:
    """Click Answer on the card; return the dialog as the fake stored it (with its id and hash)."""
    response = await post_interaction(client, block_action(CARLA, "webcare.answer", str(mention_id)))
    assert response.status == 200
    await settle_slack(client)
    assert slack.calls_to("views.open"), slack.ephemerals
    return list(slack.views.values())[-1]


async def submit(client, metadata, values, *, block="reply_text", shown=None) -> str:
    """Submit the Answer dialog (`shown`: the dialog as it is on screen, when it was refilled)."""
    payload = view_submission(CARLA, "webcare.answer_modal", str(metadata),
                              {block: {"type": "plain_text_input", "value": values}})
    if shown is not None:
        payload["view"]["blocks"] = shown["blocks"]
    response = await post_interaction(client, payload)
    assert response.status == 200, await response.text()
    await settle_slack(client)
    return await response.text()


async def pick_saved_reply(client, view, key) -> None:
    """Pick a saved reply in the dialog's menu: Slack sends block_actions carrying the open view."""
    payload = json.loads(json.dumps(block_action(CARLA, "webcare.saved_reply", "")))
    for gone in ("channel", "message"):
        payload.pop(gone, None)
    payload["container"] = {"type": "view", "view_id": view["id"]}
    payload["view"] = {**view, "state": {"values": {}}}
    payload["actions"] = [{"type": "static_select", "action_id": "saved_reply", "block_id": "saved_reply",
                           "selected_option": {"text": {"type": "plain_text", "text": key}, "value": key},
                           "action_ts": f"{time.time():.6f}"}]
    response = await post_interaction(client, payload)
    assert response.status == 200
    await settle_slack(client)


def block(view, block_id) -> dict:
    [found] = [b for b in view["blocks"] if b.get("block_id") == block_id]
    return found


def card_text(slack, mention_id) -> str:
    for message in slack.messages(TRIAGE_CHANNEL):
        if (message.get("metadata") or {}).get("event_payload", {}).get("subject") == f"card:{mention_id}":
            return json.dumps(message["blocks"], ensure_ascii=False)
    raise AssertionError(f"no card for mention {mention_id}")


async def test_a_reply_too_long_for_x_is_refused_in_the_dialog_and_nothing_is_sent(app, slack, receiver):
    on_x = await one_mention(app, 1, reply_via="webhook")
    on_mastodon = await one_mention(app, 2, reply_via="webhook", network="mastodon")
    body = await submit(app, on_x, "a" * 312)
    assert json.loads(body) == {"response_action": "errors",
                                "errors": {"reply_text": "X allows 280 characters; this reply has 312."}}
    assert receiver.received == []
    assert "Answered" not in card_text(slack, on_x)

    assert await submit(app, on_mastodon, "a" * 312) == ""  # Mastodon takes 500
    assert [r["data"]["text"] for r in receiver.received] == ["a" * 312]


async def test_a_mastodon_reply_counts_the_author_put_in_front_of_it(app, slack, receiver):
    toot = await one_mention(app, 1, reply_via="webhook", network="mastodon",
                             author={"id": "7", "handle": "@klant@mastodon.nl", "followers": 12})
    body = await submit(app, toot, "a" * 495)  # the network gets "@klant " + 495 = 502 characters
    assert json.loads(body) == {"response_action": "errors", "errors": {"reply_text": (
        "Mastodon allows 500 characters; this reply has 502, counting the @klant in front of it.")}}
    assert receiver.received == []
    assert await submit(app, toot, "@klant " + "a" * 493) == ""  # names the author: nothing goes in front
    assert len(receiver.received) == 1


async def test_a_saved_reply_fills_the_dialog_and_goes_out_as_edited(app, slack, receiver):
    mention_id = await one_mention(app, reply_via="webhook")
    view = await open_answer(app, slack, mention_id)
    menu = block(view, "saved_reply")
    assert menu["dispatch_action"] is True and menu["optional"] is True
    labels = [o["text"]["text"] for o in menu["element"]["options"]]
    assert labels[0] == "Order delayed (EN)"  # the post's language first
    assert "Bestelling vertraagd (NL)" in labels
    assert "initial_value" not in block(view, "reply_text")["element"]

    await pick_saved_reply(app, view, "order-delayed-en")
    [update] = slack.calls_to("views.update")
    assert (update["view_id"], update["hash"]) == (view["id"], view["hash"])
    filled = block(update["view"], "reply_text.1")  # a new block id: Slack shows the new text, not what was typed
    text = filled["element"]["initial_value"]
    assert text.startswith("Hi Sanne de Vries, sorry your order hasn't arrived yet!") and text.endswith("^Carla")
    assert block(update["view"], "saved_reply")["element"]["initial_option"]["value"] == "order-delayed-en"

    body = await submit(app, mention_id, text + " " + "x" * 200, block="reply_text.1", shown=update["view"])
    assert json.loads(body)["errors"] == {"reply_text.1": f"X allows 280 characters; this reply has {len(text) + 201}."}
    assert await submit(app, mention_id, text.replace("yet!", "yet."), block="reply_text.1", shown=update["view"]) == ""
    assert [r["data"]["text"] for r in receiver.received] == [text.replace("yet!", "yet.")]


async def test_the_dialog_says_which_connector_sends_the_reply(app, slack):
    mention_id = await one_mention(app, reply_via="webhook")
    view = await open_answer(app, slack, mention_id)
    assert view["blocks"][0]["text"]["text"] == "Sent to X through the webhook connector when you submit."
    assert view["submit"]["text"] == "Send reply"
    assert block(view, "reply_text")["hint"]["text"] == "X allows 280 characters."


async def test_without_a_connector_the_dialog_says_to_post_by_hand_and_records_it(database_url, slack):
    async with running_app(database_url, slack.url, playbooks_dir=SHIPPED_PLAYBOOKS) as app:  # no reply webhook
        mention_id = await one_mention(app, reply_via="webhook")
        view = await open_answer(app, slack, mention_id)
        assert view["blocks"][0]["text"]["text"] == (
            "No connector sends replies for X: post this reply yourself on X, then submit to record it as answered "
            "by hand.")
        assert view["submit"]["text"] == "Save answer"
        assert await submit(app, mention_id, "DM sent from the X app.") == ""
        assert "Answered* by <@U03CARLA>" in card_text(slack, mention_id)
        assert "not delivered" not in card_text(slack, mention_id)
