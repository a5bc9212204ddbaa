"""Edge (Teams wire): the Answer form checks each network's length, offers saved replies, says where a reply goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.edges.teams.wire import (
    ANNA,
    card_action,
    card_post,
    card_text,
    invoke,
    one_mention,
    quiet,
    refreshed_card,
    send,
    teams_settings,
    the_card,
    thread_of,
    until,
)
from tests.support import REPLY_SECRET, running_app

SHIPPED_PLAYBOOKS = Path(__file__).parents[3] / "playbooks"  # with the shipped saved replies


@pytest.fixture
async def app(database_url, kit, connector, receiver):
    async with running_app(database_url, None, reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET,
                           playbooks_dir=SHIPPED_PLAYBOOKS, **teams_settings(kit, connector)) as client:
        yield client
        await quiet(client)


def answer_form(card: dict[str, Any]) -> dict[str, Any]:
    """The Answer form (an Action.ShowCard) of a mention's card."""
    [form] = [a for a in card.get("actions", []) if a.get("title") == "Answer"]
    return form["card"]


def field(form: dict[str, Any], input_id: str) -> dict[str, Any]:
    [found] = [n for n in form["body"] if n.get("id") == input_id]
    return found


async def test_a_reply_too_long_for_x_is_refused_on_the_card_and_kept_to_fix(app, kit, connector, receiver):
    mention_id = await one_mention(app, connector, reply_via="webhook")
    card_id = card_post(connector, mention_id)["id"]
    too_long = "We are so sorry. " * 20
    answer = await invoke(app, kit, connector, ANNA, "webcare.answer",
                          {"mention_id": mention_id, "reply_text": too_long}, card_id)
    card = refreshed_card(answer)
    assert card["body"][0]["text"] == f"⚠ X allows 280 characters; this reply has {len(too_long.strip())}."
    assert field(answer_form(card), "reply_text")["value"] == too_long  # nothing typed is lost
    await quiet(app)
    assert receiver.received == [] and thread_of(connector, mention_id) == []
    assert "Answered" not in card_text(the_card(connector, mention_id))


async def test_a_saved_reply_fills_the_answer_form(app, kit, connector, receiver):
    mention_id = await one_mention(app, connector, reply_via="webhook", lang="nl")
    card_id = card_post(connector, mention_id)["id"]
    form = answer_form(the_card(connector, mention_id))
    choices = field(form, "saved_reply")["choices"]
    langs = [c["value"].rsplit("-", 1)[1] for c in choices]
    assert langs == sorted(langs, key=lambda lang: lang != "nl") and "en" in langs  # the post's language first
    assert {"title": "Bestelling vertraagd (NL)", "value": "order-delayed-nl"} in choices
    assert [a["title"] for a in form["actions"]] == ["Fill in", "Send reply"]

    answer = await invoke(app, kit, connector, ANNA, "webcare.fill_reply",
                          {"mention_id": mention_id, "saved_reply": "order-delayed-nl", "reply_text": ""}, card_id)
    card = refreshed_card(answer)
    assert "“Bestelling vertraagd (NL)” is filled in under Answer" in card["body"][0]["text"]
    text = field(answer_form(card), "reply_text")["value"]
    assert text.startswith("Hoi Sanne de Vries, wat vervelend") and text.endswith("^Anna")
    assert field(answer_form(card), "saved_reply")["value"] == "order-delayed-nl"
    assert "value" not in field(answer_form(the_card(connector, mention_id)), "reply_text")  # the others' card

    await invoke(app, kit, connector, ANNA, "webcare.answer", {"mention_id": mention_id, "reply_text": text},
                 card_id)
    await until(app, lambda: receiver.received, what="the delivery")
    assert [r["data"]["text"] for r in receiver.received] == [text]


async def test_an_older_client_gets_the_saved_reply_to_copy(app, kit, connector):
    mention_id = await one_mention(app, connector, reply_via="webhook")
    card_id = card_post(connector, mention_id)["id"]
    before = len(connector.calls)
    click = card_action("message", connector, ANNA, "webcare.fill_reply",
                        {"mention_id": mention_id, "saved_reply": "compliment-en"}, card_id)
    response = await send(app, kit, click)
    assert response.status in (200, 201, 202)

    def answered() -> str:
        [body] = [c.body for c in connector.calls[before:] if c.operation in ("reply_to_activity",
                                                                              "send_to_conversation")]
        return body["text"]

    said = await until(app, answered, what="the saved reply to copy")
    assert "Thanks for the compliment (EN)" in said and "That's lovely to hear, Sanne de Vries" in said


async def test_the_form_says_which_connector_sends_the_reply(app, connector):
    mention_id = await one_mention(app, connector, reply_via="webhook")
    explain = answer_form(the_card(connector, mention_id))["body"][0]["text"]
    assert explain == "Sent to X through the webhook connector when you submit. X allows 280 characters."


async def test_without_a_connector_the_form_says_to_post_by_hand_and_records_it(database_url, kit, connector):
    async with running_app(database_url, None, playbooks_dir=SHIPPED_PLAYBOOKS,
                           **teams_settings(kit, connector)) as app:  # no reply webhook on this server
        mention_id = await one_mention(app, connector, reply_via="webhook", network="bluesky")
        form = answer_form(the_card(connector, mention_id))
        assert form["body"][0]["text"] == (
            "No connector sends replies for Bluesky: post this reply yourself on Bluesky, then submit to record it "
            "as answered by hand. Bluesky allows 300 characters.")
        assert [a["title"] for a in form["actions"]] == ["Fill in", "Save answer"]
        answer = await invoke(app, kit, connector, ANNA, "webcare.answer",
                              {"mention_id": mention_id, "reply_text": "Replied in the Bluesky app."},
                              card_post(connector, mention_id)["id"])
        assert "Answered" in card_text(refreshed_card(answer))
        assert "not delivered" not in card_text(refreshed_card(answer))
        await quiet(app)
