"""Edge (Teams wire): escalation notices, drafts needing a head's approval, delivery, answering by hand, dismissing."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.edges.teams.wire import (
    ANNA,
    BRAM,
    CHANNEL,
    card_post,
    card_text,
    cards_in,
    draft_action,
    executes,
    invoke,
    mention_entities,
    message_text,
    one_mention,
    quiet,
    refreshed_card,
    said,
    teams_settings,
    the_card,
    thread_of,
    until,
)
from tests.support import REPLY_SECRET, running_app, team_config

EVA = ("29:5eva", "Eva Hendriks")  # on the webcare team, heads no department (webcare.toml)
CARLA = ("29:3carla", "Carla Smit")  # on the webcare team; a Teams id only where a test gives her one


async def test_escalation_notice_in_the_thread_names_the_heads_and_mentions_no_one_from_the_note(
        app, kit, connector):
    mention_id = await one_mention(app, connector)
    card_id = card_post(connector, mention_id)["id"]
    note = "Threatens to sue <at>Anna de Vries</at> @Anna [call](http://evil.example)"
    answer = await invoke(app, kit, connector, ANNA, "webcare.escalate",
                          {"mention_id": mention_id, "departments": "legal", "note": note}, card_id)
    assert "Escalated to Legal" in card_text(refreshed_card(answer))

    await until(app, lambda: thread_of(connector, mention_id), what="the escalation notice")
    [notice] = thread_of(connector, mention_id)
    shown = message_text(notice)
    assert "Dirk Bakker" in shown and "Bram Jansen" in shown and "Legal" in shown
    assert "Threatens to sue" in shown
    legal_heads = [team_config().people[key] for key in team_config().departments["legal"].heads]
    entities = mention_entities(notice)
    # a real mention for each head with a Teams id, none for the others, none from the note (Anna has a Teams id)
    assert sorted(e["mentioned"]["id"] for e in entities) == sorted(p.teams for p in legal_heads if p.teams)
    assert all(e["text"] == f"<at>{e['mentioned']['name']}</at>" for e in entities)
    tags = re.findall(r"<at>.*?</at>", json.dumps(notice, ensure_ascii=False))
    assert set(tags) == {e["text"] for e in entities}, tags
    assert "Escalated to Legal" in card_text(the_card(connector, mention_id))


async def test_escalation_notice_mentions_a_head_with_a_teams_id_with_a_real_mention(app, kit, connector):
    mention_id = await one_mention(app, connector)
    card_id = card_post(connector, mention_id)["id"]
    await invoke(app, kit, connector, ANNA, "webcare.escalate",
                 {"mention_id": mention_id, "departments": "legal", "note": "<at>Dirk Bakker</at>, please look"},
                 card_id)
    await until(app, lambda: thread_of(connector, mention_id), what="the escalation notice")
    [notice] = thread_of(connector, mention_id)
    entities = mention_entities(notice)
    assert [e["mentioned"]["id"] for e in entities] == [BRAM[0]], entities  # Dirk has no Teams id
    [bram] = entities
    assert bram["text"] == "<at>Bram Jansen</at>"
    assert bram["text"] in json.dumps(notice, ensure_ascii=False)
    assert "Dirk Bakker" in message_text(notice)


async def test_reply_on_escalated_mention_needs_a_approval_then_goes_out(app, kit, connector,
                                                                              receiver):
    mention_id = await one_mention(app, connector, reply_via="webhook")
    card_id = card_post(connector, mention_id)["id"]
    await invoke(app, kit, connector, ANNA, "webcare.escalate",
                 {"mention_id": mention_id, "departments": "sales"}, card_id)
    answer = await invoke(app, kit, connector, ANNA, "webcare.answer",
                          {"mention_id": mention_id, "reply_text": "Sorry Sanne, a courier is on its way."}, card_id)
    assert "Awaiting approval" in card_text(refreshed_card(answer))

    def draft() -> dict[str, Any]:
        [message] = [m for m in thread_of(connector, mention_id) if "Draft by" in message_text(m)]
        return message

    await until(app, draft, what="the draft in the thread")
    shown = message_text(draft())
    assert "Draft by Anna de Vries awaiting" in shown and "a courier is on its way" in shown
    assert [e["mentioned"]["id"] for e in mention_entities(draft())] == [BRAM[0]]
    assert receiver.received == []
    approve = draft_action(draft(), "webcare.approve")
    assert approve["title"] in ("Approve & send", "Approve")
    assert any(a["verb"] == "webcare.request_changes" for c in cards_in(draft()) for a in executes(c))

    refused = await invoke(app, kit, connector, ANNA, "webcare.approve", approve["data"], draft()["id"])
    assert "Only a head of sales can approve this draft." in said(refused)  # a lead, but not a head of Sales
    refused = await invoke(app, kit, connector, EVA, "webcare.approve", approve["data"], draft()["id"])
    assert "Only a head of sales can approve this draft." in said(refused)
    await quiet(app)
    assert receiver.received == []

    draft_id = draft()["id"]
    await invoke(app, kit, connector, BRAM, "webcare.approve", approve["data"], draft_id)
    await until(app, lambda: receiver.received, what="the reply to be delivered")
    [delivered] = receiver.received
    assert delivered["data"]["text"] == "Sorry Sanne, a courier is on its way."
    assert delivered["data"]["mention"]["source_mention_id"] == "mw:doc:1"
    await until(app, lambda: "sent" in message_text(connector.activity(CHANNEL, draft_id)),
                what="the draft to say sent")
    assert "approved by <at>Bram Jansen</at>" in message_text(connector.activity(CHANNEL, draft_id))
    await until(app, lambda: "Answered by Anna de Vries" in card_text(the_card(connector, mention_id)),
                what="the card to say answered")


async def test_the_author_of_a_draft_cannot_approve_it(sqlite_url, kit, connector, receiver):
    bram_on_the_team = team_config(bram={"roles": frozenset({"corporate-communications", "webcare"})})
    async with running_app(sqlite_url, None, config=bram_on_the_team, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, **teams_settings(kit, connector)) as app:
        mention_id = await one_mention(app, connector, reply_via="webhook")
        card_id = card_post(connector, mention_id)["id"]
        await invoke(app, kit, connector, BRAM, "webcare.escalate",
                     {"mention_id": mention_id, "departments": "legal"}, card_id)
        await invoke(app, kit, connector, BRAM, "webcare.answer",
                     {"mention_id": mention_id, "reply_text": "We will look into it."}, card_id)

        def draft() -> dict[str, Any]:
            [message] = [m for m in thread_of(connector, mention_id) if "Draft by" in message_text(m)]
            return message

        await until(app, draft, what="the draft in the thread")
        approve = draft_action(draft(), "webcare.approve")
        refused = await invoke(app, kit, connector, BRAM, "webcare.approve", approve["data"], draft()["id"])
        assert "Four eyes: you wrote this draft, so another head must approve it." in said(refused)
        await quiet(app)
        assert receiver.received == []
        assert "Awaiting approval" in card_text(the_card(connector, mention_id))


async def test_failed_delivery_shows_the_reason_and_retry_sends_the_same_draft(app, kit, connector, receiver):
    mention_id = await one_mention(app, connector, reply_via="webhook")
    card_id = card_post(connector, mention_id)["id"]
    receiver.status = 409
    await invoke(app, kit, connector, ANNA, "webcare.answer",
                 {"mention_id": mention_id, "reply_text": "We'll refund you."}, card_id)

    def draft() -> dict[str, Any]:
        [message] = [m for m in thread_of(connector, mention_id) if "Reply by" in message_text(m)]
        return message

    await until(app, lambda: "not delivered" in message_text(draft()), what="the failed delivery")
    assert "409" in message_text(draft())
    await until(app, lambda: "reply not delivered" in card_text(the_card(connector, mention_id)),
                what="the card to show the failure")
    retry = draft_action(draft(), "webcare.retry")

    receiver.status = 202
    await invoke(app, kit, connector, ANNA, "webcare.retry", retry["data"], draft()["id"])
    await until(app, lambda: receiver.received, what="the retried delivery")
    assert [r["data"]["text"] for r in receiver.received] == ["We'll refund you."]
    await until(app, lambda: "not delivered" not in card_text(the_card(connector, mention_id)),
                what="the card to drop the failure")


async def test_answer_refusal_is_shown_and_changes_nothing(sqlite_url, kit, connector, receiver):
    async with running_app(sqlite_url, None, config=team_config(carla={"teams": CARLA[0]}),
                           reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET,
                           **teams_settings(kit, connector)) as app:
        mention_id = await one_mention(app, connector, reply_via="webhook")
        card_id = card_post(connector, mention_id)["id"]
        await invoke(app, kit, connector, EVA, "webcare.claim", {"mention_id": mention_id}, card_id)
        refused = await invoke(app, kit, connector, CARLA, "webcare.answer",
                               {"mention_id": mention_id, "reply_text": "hi"}, card_id)
        assert "Cannot answer: Eva Hendriks has claimed this mention." in said(refused)
        await quiet(app)
        assert receiver.received == [] and thread_of(connector, mention_id) == []


async def test_mention_without_connector_is_answered_by_hand(app, kit, connector):
    mention_id = await one_mention(app, connector)
    card_id = card_post(connector, mention_id)["id"]
    await invoke(app, kit, connector, ANNA, "webcare.answer",
                 {"mention_id": mention_id, "reply_text": "Replied in the X app: DM sent."}, card_id)
    await until(app, lambda: "Answered by Anna de Vries after 0 min" in card_text(the_card(connector, mention_id)),
                what="the card to say answered by hand")


async def test_dismiss_with_a_reason(app, kit, connector):
    mention_id = await one_mention(app, connector)
    card_id = card_post(connector, mention_id)["id"]
    answer = await invoke(app, kit, connector, ANNA, "webcare.dismiss",
                          {"mention_id": mention_id, "reason": "spam"}, card_id)
    assert "Dismissed by Anna de Vries: spam" in card_text(refreshed_card(answer))
    await until(app, lambda: "Dismissed by Anna de Vries: spam" in card_text(the_card(connector, mention_id)),
                what="the card to say dismissed")
    assert "webcare.claim" not in [a["verb"] for a in executes(the_card(connector, mention_id))]
