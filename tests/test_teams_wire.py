"""Edge: the real app over HTTP, signed Teams activities in, calls to a local fake Bot Connector out.

The Teams counterpart of `test_slack_wire.py`. Activities are the recorded ones in
`tests/fixtures/teams/`, re-addressed to the fake connector and signed with the offline Bot
Framework kit (`tests/fakes/bot_auth.py`); the connector only accepts calls that carry an
access token the kit issued, so every card seen here was posted by a bot that authenticated.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.bot_auth import BotFrameworkAuthFake
from tests.fakes.bot_connector import BotConnectorFake
from tests.support import (
    REPLY_SECRET,
    TRIAGE_CHANNEL,
    block_action,
    context_of,
    event,
    ingest,
    mention_data,
    post_interaction,
    relay_of,
    running_app,
    team_config,
)

TEAMS_FIXTURES = Path(__file__).parent / "fixtures" / "teams"
CHANNEL = "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"  # the channel of the recorded activities
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
ANNA = ("29:1anna", "Anna de Vries")  # webcare.toml: a webcare lead with a Teams id
BRAM = ("29:2bram", "Bram Jansen")  # head of Sales and Legal, with a Teams id in tests/fixtures/webcare.toml
ZOE = ("29:1zoe-not-in-webcare-toml", "Zoe Unknown")  # Teams users nobody configured
YVES = ("29:1yves-not-in-webcare-toml", "Yves Unknown")


# -- the kit, the connector, the app ---------------------------------------------------------------


def teams_settings(kit: BotFrameworkAuthFake, connector: BotConnectorFake, *, channel: str | None = CHANNEL,
                   service_url: bool = True, **overrides: Any) -> dict[str, Any]:
    """The settings that turn Teams on, pointed at the kit and the fake connector."""
    values: dict[str, Any] = {
        "microsoft_app_id": kit.app_id, "microsoft_app_password": kit.app_password,
        "microsoft_login_url": kit.login_url, "microsoft_openid_metadata_url": kit.openid_metadata_url,
        "teams_tenant_id": TENANT}
    if channel is not None:
        values["teams_triage_channel"] = channel
    if service_url:
        values["teams_service_url"] = connector.url
    values.update(overrides)
    return values


@pytest.fixture
async def app(sqlite_url, kit, connector, receiver):
    async with running_app(sqlite_url, None, reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET,
                           **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)  # a job cancelled mid-transaction at shutdown can stall SQLite for 30 s


# -- activities in ---------------------------------------------------------------------------------


def activity(name: str, connector: BotConnectorFake, **changes: Any) -> dict[str, Any]:
    """A recorded Teams activity, re-addressed to the fake connector, top-level keys replaced."""
    body = json.loads((TEAMS_FIXTURES / f"{name}.json").read_text())
    body["serviceUrl"] = connector.url
    body.update(copy.deepcopy(changes))
    return body


def sender(user: tuple[str, str]) -> dict[str, str]:
    """`from` of an activity sent by this Teams user (no Entra object id: the Teams id decides)."""
    return {"id": user[0], "name": user[1]}


async def send(client, kit: BotFrameworkAuthFake, body: dict[str, Any]) -> Any:
    """POST an activity the way the Bot Connector does: JSON, signed with a channel token."""
    token = kit.make_channel_token(kit.app_id, body["serviceUrl"])
    return await client.post("/api/messages", json=body, headers={"Authorization": f"Bearer {token}"})


async def install(client, kit, connector, channel: str = CHANNEL) -> Any:
    """The conversationUpdate Teams sends when the bot is added to a team, for `channel`."""
    raw = (TEAMS_FIXTURES / "conversation_update_install.json").read_text().replace(CHANNEL, channel)
    body = json.loads(raw)
    body["serviceUrl"] = connector.url
    body["membersAdded"] = [{"id": f"28:{kit.app_id}"}]
    body["recipient"] = {"id": f"28:{kit.app_id}", "name": "Webcare"}
    return await send(client, kit, body)


def card_action(kind: str, connector: BotConnectorFake, user: tuple[str, str], verb: str, data: dict[str, Any],
                card_id: str | None) -> dict[str, Any]:
    """A click on a card in the channel: an `Action.Execute` invoke, or its `Action.Submit` fallback message."""
    where = {"conversation": {"isGroup": True, "conversationType": "channel", "tenantId": TENANT,
                              "id": f"{CHANNEL};messageid={card_id or '1716900300000'}"},
             "replyToId": card_id or "1716900300000"}
    if kind == "invoke":
        value = {"action": {"type": "Action.Execute", "id": verb, "verb": verb, "data": data}, "trigger": "manual"}
        return activity("invoke_adaptive_card_action", connector, **where, value=value, **{"from": sender(user)})
    return activity("message_action_submit", connector, **where, value={**data, "verb": verb},
                    **{"from": sender(user)})


async def invoke(client, kit, connector, user: tuple[str, str], verb: str, data: dict[str, Any],
                 card_id: str | None = None) -> dict[str, Any]:
    """Click an `Action.Execute`; return the invoke response, which must be a 200 with a JSON body."""
    response = await send(client, kit, card_action("invoke", connector, user, verb, data, card_id))
    text = await response.text()
    assert response.status == 200, text
    assert "Traceback" not in text
    return json.loads(text)


def refreshed_card(answer: dict[str, Any]) -> dict[str, Any]:
    """The card an `adaptiveCard/action` invoke answered with."""
    assert answer["statusCode"] == 200 and answer["type"] == CARD_TYPE, answer
    card = answer["value"]
    assert card["type"] == "AdaptiveCard" and _version(card) >= (1, 4), card
    return card


def said(answer: dict[str, Any]) -> str:
    """What an invoke answer tells the person who clicked: a card's text or a message."""
    assert answer.get("statusCode") == 200, answer
    if answer.get("type") == CARD_TYPE:
        return card_text(answer["value"])
    return str(answer.get("value"))


# -- what reached the connector ----------------------------------------------------------------------


def _version(card: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(part) for part in str(card.get("version", "0")).split("."))


def cards_in(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The Adaptive Cards attached to a message."""
    return [a["content"] for a in message.get("attachments") or [] if a.get("contentType") == CARD_TYPE]


def card_text(card: Any) -> str:
    """What a card shows: its TextBlocks and RichTextBlocks, one line each (zero-width spaces removed)."""
    lines: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "RichTextBlock":
                lines.append("".join(str(i.get("text", "")) if isinstance(i, dict) else str(i)
                                     for i in node.get("inlines") or []))
                return
            if node.get("type") == "TextBlock":
                lines.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return "\n".join(lines).replace("\u200b", "")


def message_text(message: dict[str, Any]) -> str:
    """What a message shows: its text and the text of its cards."""
    parts = [str(message.get("text") or "")] + [card_text(c) for c in cards_in(message)]
    return "\n".join(parts).replace("\u200b", "")


def executes(card: Any) -> list[dict[str, Any]]:
    """Every `Action.Execute` in a card, those inside `Action.ShowCard` forms included."""
    found: list[dict[str, Any]] = []
    if isinstance(card, dict):
        if card.get("type") == "Action.Execute":
            found.append(card)
        for value in card.values():
            found += executes(value)
    elif isinstance(card, list):
        for value in card:
            found += executes(value)
    return found


def mention_entities(payload: Any) -> list[dict[str, Any]]:
    """Every Teams mention entity anywhere in a payload (the activity's or a card's `msteams.entities`)."""
    found: list[dict[str, Any]] = []
    if isinstance(payload, dict):
        if payload.get("type") == "mention":
            found.append(payload)
        for value in payload.values():
            found += mention_entities(value)
    elif isinstance(payload, list):
        for value in payload:
            found += mention_entities(value)
    return found


def card_post(connector: BotConnectorFake, mention_id: int, channel: str = CHANNEL) -> dict[str, Any]:
    """The mention's card in the channel, as it is now."""
    found = [p for p in connector.posts(channel) for c in cards_in(p)
             if f'"mention-{mention_id}-author"' in json.dumps(c)]
    assert len(found) == 1, f"{len(found)} cards for mention {mention_id} in {channel}: {connector.posts(channel)}"
    return found[0]


def the_card(connector: BotConnectorFake, mention_id: int) -> dict[str, Any]:
    """The content of the mention's card as it is now."""
    [card] = cards_in(card_post(connector, mention_id))
    return card


def thread_of(connector: BotConnectorFake, mention_id: int) -> list[dict[str, Any]]:
    """The messages the bot posted in the card's thread (not the card)."""
    root = card_post(connector, mention_id)["id"]
    return [m for m in connector.thread(CHANNEL, root) if m["id"] != root]


def sent_bodies(connector: BotConnectorFake) -> list[Any]:
    """Every body the bot sent to the connector."""
    return [call.body for call in connector.calls if call.body is not None]


# -- waiting -----------------------------------------------------------------------------------------


async def settle(client) -> None:
    """Let the outbox relay finish everything that is due."""
    await relay_of(client).drain()


async def until(client, check: Callable[[], Any], *, timeout: float = 10.0, what: str = "") -> Any:
    """Drain the relay until `check()` is truthy (retries may be scheduled a moment later); bounded."""
    deadline = time.monotonic() + timeout
    while True:
        await settle(client)
        try:
            result = check()
        except (AssertionError, LookupError, ValueError):  # not there yet
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            check()  # raise its error, if it has one
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


async def quiet(client, seconds: float = 0.3) -> None:
    """Drain, wait a little, drain again: nothing more should happen."""
    await settle(client)
    await asyncio.sleep(seconds)
    await settle(client)


async def one_mention(client, connector: BotConnectorFake, n: int = 1, **overrides: Any) -> int:
    """Ingest a mention and wait for its card in the channel."""
    [m] = await ingest(client, event(mention_data(n, **overrides)))
    await until(client, lambda: card_post(connector, m["id"]), what=f"the card of mention {m['id']}")
    return m["id"]


async def claims_of(client, mention_id: int) -> list[str]:
    """Who claimed the mention, from the audit trail (one entry per successful claim)."""
    async with context_of(client).db.uow() as uow:
        audits = await uow.audit.for_mention(mention_id)
    return [a.actor_name for a in audits if a.action == "claim"]


# -- install and cards ---------------------------------------------------------------------------------


@pytest.mark.parametrize("service_url", [True, False], ids=["TEAMS_SERVICE_URL set", "service URL learned"])
async def test_installing_in_a_team_teaches_the_channel_where_cards_go(sqlite_url, kit, connector, service_url):
    learned = "19:5a1e5chann3l0fth3inst4ll00000000@thread.tacv2"
    async with running_app(sqlite_url, None, **teams_settings(kit, connector, channel=None,
                                                             service_url=service_url)) as client:
        response = await install(client, kit, connector, learned)
        assert response.status == 200, await response.text()
        [m] = await ingest(client, event(mention_data(1)))
        await until(client, lambda: connector.posts(learned), what="a card in the learned channel")
        [created] = [c for c in connector.calls_to("create_conversation") if c.status == 201]
        assert created.body["channelData"]["channel"]["id"] == learned
        assert created.body["isGroup"] is True
        assert card_post(connector, m["id"], learned)
        assert connector.posts(CHANNEL) == []


async def test_new_mention_becomes_one_adaptive_card_thread_in_the_channel(app, connector):
    mention_id = await one_mention(app, connector, followers=312)
    await quiet(app)
    [created] = connector.calls_to("create_conversation")
    assert created.status == 201 and created.body["channelData"]["channel"]["id"] == CHANNEL
    [attachment] = created.body["activity"]["attachments"]
    assert attachment["contentType"] == CARD_TYPE
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and _version(card) >= (1, 4)
    shown = card_text(card)
    for expected in ("X", "Sanne de Vries", "@sannedv", "312 followers", "5 min ago", "my order #48213 still hasn",
                     "New"):
        assert expected in shown, (expected, shown)
    titles = [a["title"] for a in card["actions"]]
    assert titles[:4] == ["Claim", "Escalate", "Answer", "Dismiss"] and "Open post" in titles
    [claim] = [a for a in executes(card) if a["verb"] == "webcare.claim"]
    assert claim["data"] == {"mention_id": mention_id}
    assert len(connector.posts(CHANNEL)) == 1
    assert all(c.status < 300 for c in connector.calls)


# -- claiming ----------------------------------------------------------------------------------------


async def test_claim_answers_with_the_refreshed_card_and_updates_it_for_everyone(app, kit, connector):
    mention_id = await one_mention(app, connector)
    card_id = card_post(connector, mention_id)["id"]
    answer = await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id}, card_id)
    assert "Claimed by Anna de Vries" in card_text(refreshed_card(answer))

    await until(app, lambda: connector.calls_to("update_activity"), what="the card update")
    [update] = [c for c in connector.calls_to("update_activity") if c.status == 200]
    assert (update.conversation_id.split(";")[0], update.activity_id) == (CHANNEL, card_id)
    shown = card_text(the_card(connector, mention_id))
    assert "Claimed by Anna de Vries" in shown
    assert "webcare.claim" not in [a["verb"] for a in executes(the_card(connector, mention_id))]
    assert len(connector.posts(CHANNEL)) == 1


async def test_the_second_claimer_is_told_who_has_it(app, kit, connector):
    mention_id = await one_mention(app, connector)
    card_id = card_post(connector, mention_id)["id"]
    await invoke(app, kit, connector, ZOE, "webcare.claim", {"mention_id": mention_id}, card_id)
    answer = await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id}, card_id)
    assert "Already claimed by Zoe Unknown" in card_text(refreshed_card(answer))
    await quiet(app)
    shown = card_text(the_card(connector, mention_id))
    assert "Claimed by Zoe Unknown" in shown and "Already claimed" not in shown  # the refusal was Anna's alone
    assert await claims_of(app, mention_id) == ["Zoe Unknown"]
    assert len(connector.calls_to("create_conversation")) == 1


async def test_double_click_claims_once(app, kit, connector):
    mention_id = await one_mention(app, connector)
    card_id = card_post(connector, mention_id)["id"]
    answers = await asyncio.gather(*(invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id},
                                            card_id) for _ in range(2)))
    await quiet(app)
    assert await claims_of(app, mention_id) == ["Anna de Vries"]
    told = [said(a) for a in answers]
    assert sum("You have already claimed this mention." in t for t in told) == 1, told
    assert "Claimed by Anna de Vries" in card_text(the_card(connector, mention_id))


async def test_action_submit_fallback_claims_too(app, kit, connector):
    mention_id = await one_mention(app, connector)
    card_id = card_post(connector, mention_id)["id"]
    response = await send(app, kit, card_action("submit", connector, ANNA, "webcare.claim",
                                                {"mention_id": mention_id}, card_id))
    assert response.status in (200, 201, 202), await response.text()
    await until(app, lambda: "Claimed by Anna de Vries" in card_text(the_card(connector, mention_id)),
                what="the card to show the claim")
    assert [c.activity_id for c in connector.calls_to("update_activity") if c.status == 200][-1] == card_id
    assert await claims_of(app, mention_id) == ["Anna de Vries"]


async def test_only_the_claimant_or_a_lead_may_unclaim(app, kit, connector):
    mention_id = await one_mention(app, connector)
    card_id = card_post(connector, mention_id)["id"]
    await invoke(app, kit, connector, ZOE, "webcare.claim", {"mention_id": mention_id}, card_id)
    refused = await invoke(app, kit, connector, YVES, "webcare.unclaim", {"mention_id": mention_id}, card_id)
    assert "Only Zoe Unknown or a webcare lead can unclaim this mention." in said(refused)
    await quiet(app)
    assert "Claimed by Zoe Unknown" in card_text(the_card(connector, mention_id))

    answer = await invoke(app, kit, connector, ANNA, "webcare.unclaim", {"mention_id": mention_id}, card_id)
    assert "New" in card_text(refreshed_card(answer))
    await until(app, lambda: "New" in card_text(the_card(connector, mention_id)), what="the card back to New")
    assert "webcare.claim" in [a["verb"] for a in executes(the_card(connector, mention_id))]


async def test_a_button_for_something_that_does_not_exist_is_answered_politely(app, kit, connector):
    answer = await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": 999_999})
    assert "Mention 999999 does not exist" in said(answer), answer
    answer = await invoke(app, kit, connector, ANNA, "webcare.approve", {"draft_id": 999_999})
    assert "Draft 999999 does not exist" in said(answer), answer
    odd = await invoke(app, kit, connector, ANNA, "webcare.dance", {"mention_id": 1})
    assert "not one of ours" in said(odd), odd


# -- escalation and approval -------------------------------------------------------------------------


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


def _draft_action(message: dict[str, Any], verb: str) -> dict[str, Any]:
    [action] = [a for c in cards_in(message) for a in executes(c) if a["verb"] == verb]
    return action


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
    approve = _draft_action(draft(), "webcare.approve")
    assert approve["title"] in ("Approve & send", "Approve")
    assert any(a["verb"] == "webcare.request_changes" for c in cards_in(draft()) for a in executes(c))

    refused = await invoke(app, kit, connector, ANNA, "webcare.approve", approve["data"], draft()["id"])
    assert "Only a head of sales can approve this draft." in said(refused)  # a lead, but not a head of Sales
    refused = await invoke(app, kit, connector, ZOE, "webcare.approve", approve["data"], draft()["id"])
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


async def test_the_author_of_a_draft_cannot_approve_it(app, kit, connector, receiver):
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
    approve = _draft_action(draft(), "webcare.approve")
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
    retry = _draft_action(draft(), "webcare.retry")

    receiver.status = 202
    await invoke(app, kit, connector, ANNA, "webcare.retry", retry["data"], draft()["id"])
    await until(app, lambda: receiver.received, what="the retried delivery")
    assert [r["data"]["text"] for r in receiver.received] == ["We'll refund you."]
    await until(app, lambda: "not delivered" not in card_text(the_card(connector, mention_id)),
                what="the card to drop the failure")


async def test_answer_refusal_is_shown_and_changes_nothing(app, kit, connector, receiver):
    mention_id = await one_mention(app, connector, reply_via="webhook")
    card_id = card_post(connector, mention_id)["id"]
    await invoke(app, kit, connector, ZOE, "webcare.claim", {"mention_id": mention_id}, card_id)
    refused = await invoke(app, kit, connector, YVES, "webcare.answer",
                           {"mention_id": mention_id, "reply_text": "hi"}, card_id)
    assert "Cannot answer: Zoe Unknown has claimed this mention." in said(refused)
    await quiet(app)
    assert receiver.received == [] and thread_of(connector, mention_id) == []


async def test_mention_without_connector_is_answered_by_hand(app, kit, connector):
    mention_id = await one_mention(app, connector)
    card_id = card_post(connector, mention_id)["id"]
    await invoke(app, kit, connector, ANNA, "webcare.answer",
                 {"mention_id": mention_id, "reply_text": "Replied in the X app: DM sent."}, card_id)
    await until(app, lambda: "Answered by Anna de Vries after 5 min" in card_text(the_card(connector, mention_id)),
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


# -- typed commands --------------------------------------------------------------------------------


def typed(connector: BotConnectorFake, kit: BotFrameworkAuthFake, user: tuple[str, str], text: str, *,
          channel: bool) -> dict[str, Any]:
    """A message to the bot: `@Webcare <text>` in the channel, or `<text>` in a personal chat."""
    if channel:
        at = "<at>Webcare</at>"
        entities = [{"type": "mention", "mentioned": {"id": f"28:{kit.app_id}", "name": "Webcare"}, "text": at},
                    {"type": "clientInfo", "locale": "en-US", "platform": "Web"}]
        return activity("message_mention", connector, text=f"{at} {text}", entities=entities,
                        id=str(1716900400000 + len(connector.calls)), attachments=[], **{"from": sender(user)},
                        recipient={"id": f"28:{kit.app_id}", "name": "Webcare"})
    body = activity("message_mention", connector, text=text, entities=[], attachments=[],
                    id=str(1716900500000 + len(connector.calls)), **{"from": sender(user)},
                    recipient={"id": f"28:{kit.app_id}", "name": "Webcare"},
                    conversation={"conversationType": "personal", "tenantId": TENANT,
                                  "id": f"a:1personal-chat-with-{user[0][3:]}"},
                    channelData={"tenant": {"id": TENANT}})
    return body


async def ask(client, kit, connector, user: tuple[str, str], text: str, *, channel: bool = False) -> str:
    """Type a command to the bot and return what it answered (in the same conversation)."""
    body = typed(connector, kit, user, text, channel=channel)
    before = len(connector.calls)
    response = await send(client, kit, body)
    assert response.status in (200, 201, 202), await response.text()
    conversation = body["conversation"]["id"].split(";")[0]

    def answers() -> list[Any]:
        return [c.body for c in connector.calls[before:]
                if c.operation in ("reply_to_activity", "send_to_conversation") and c.status < 300
                and (c.conversation_id or "").split(";")[0] == conversation]

    await until(client, answers, timeout=5, what=f"an answer to {text!r}")
    [answer] = answers()
    return message_text(answer).replace("*", "")


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


# -- throttling and faults ---------------------------------------------------------------------------


async def test_a_throttled_card_post_arrives_once_after_retry_after(app, connector):
    connector.fail_next("create_conversation", status=429, retry_after=1)
    [m] = await ingest(app, event(mention_data(1)))
    await until(app, lambda: card_post(connector, m["id"]), what="the card after the 429")
    await quiet(app)
    assert [c.status for c in connector.calls_to("create_conversation")] == [429, 201]
    assert len(connector.posts(CHANNEL)) == 1


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


# -- both platforms at once ----------------------------------------------------------------------------


def slack_card(slack, mention_id: int) -> dict[str, Any]:
    for message in slack.messages(TRIAGE_CHANNEL):
        if (message.get("metadata") or {}).get("event_payload", {}).get("subject") == f"card:{mention_id}":
            return message
    raise AssertionError(f"no Slack card for mention {mention_id}")


def slack_shows(slack, mention_id: int) -> str:
    return json.dumps(slack_card(slack, mention_id)["blocks"], ensure_ascii=False)


@pytest.fixture
async def both(sqlite_url, slack, kit, connector):
    async with running_app(sqlite_url, slack.url, **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


async def slack_click(client, user: str, action_id: str, value: str) -> Any:
    response = await post_interaction(client, block_action(user, action_id, value))
    assert response.status == 200, await response.text()
    await asyncio.sleep(0.05)  # Bolt runs the listener after acknowledging
    return response


async def test_a_mention_gets_a_card_on_slack_and_on_teams(both, slack, connector):
    [m] = await ingest(both, event(mention_data(1)))
    await until(both, lambda: slack_card(slack, m["id"]) and card_post(connector, m["id"]), what="both cards")
    await quiet(both)
    assert len(slack.calls_to("chat.postMessage")) == 1 and len(connector.posts(CHANNEL)) == 1


async def test_a_claim_in_teams_shows_on_slack(both, slack, kit, connector):
    [m] = await ingest(both, event(mention_data(1)))
    await until(both, lambda: slack_card(slack, m["id"]) and card_post(connector, m["id"]), what="both cards")
    await invoke(both, kit, connector, ANNA, "webcare.claim", {"mention_id": m["id"]},
                 card_post(connector, m["id"])["id"])
    await until(both, lambda: "Claimed* by <@U01ANNA>" in slack_shows(slack, m["id"]), what="the Slack card")
    assert slack.calls_to("chat.update")


async def test_a_claim_in_slack_shows_on_teams(both, slack, kit, connector):
    [m] = await ingest(both, event(mention_data(1)))
    await until(both, lambda: slack_card(slack, m["id"]) and card_post(connector, m["id"]), what="both cards")
    await slack_click(both, "U03CARLA", "webcare.claim", str(m["id"]))
    await until(both, lambda: "Claimed by Carla Smit" in card_text(the_card(connector, m["id"])),
                what="the Teams card")
    assert connector.calls_to("update_activity")


async def test_simultaneous_claims_in_slack_and_teams_have_one_winner_shown_everywhere(both, slack, kit, connector):
    [m] = await ingest(both, event(mention_data(1)))
    mention_id = m["id"]
    await until(both, lambda: slack_card(slack, mention_id) and card_post(connector, mention_id), what="both cards")
    card_id = card_post(connector, mention_id)["id"]
    _, answer = await asyncio.gather(
        slack_click(both, "U03CARLA", "webcare.claim", str(mention_id)),
        invoke(both, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id}, card_id))
    await asyncio.sleep(0.2)
    await quiet(both)
    [winner] = await claims_of(both, mention_id)
    slack_id = {"Anna de Vries": "U01ANNA", "Carla Smit": "U03CARLA"}[winner]
    await until(both, lambda: f"Claimed* by <@{slack_id}>" in slack_shows(slack, mention_id), what="Slack winner")
    await until(both, lambda: f"Claimed by {winner}" in card_text(the_card(connector, mention_id)),
                what="Teams winner")
    if winner == "Carla Smit":
        assert "Already claimed by Carla Smit" in said(answer)
    else:
        assert "Claimed by Anna de Vries" in said(answer)
        assert [e["text"] for e in slack.ephemerals] == ["Already claimed by <@U01ANNA>."]


# -- untrusted text ------------------------------------------------------------------------------------


async def test_customer_text_never_reaches_teams_as_live_markup(app, kit, connector):
    hostile = "[click](http://evil.example) **bold** <at>Bram Jansen</at> @Anna <at>Anna de Vries</at> _it_"
    mention_id = await one_mention(app, connector, text=hostile,
                                   author={"handle": "<at>Anna de Vries</at>", "display_name": "**Boss** [x](http://evil.example)",
                                           "followers": 1})
    await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id},
                 card_post(connector, mention_id)["id"])
    await until(app, lambda: connector.calls_to("update_activity"), what="the card update")
    await quiet(app)

    sent = sent_bodies(connector)
    assert sent
    for body in sent:
        assert mention_entities(body) == [], body
        assert "<at>" not in json.dumps(body, ensure_ascii=False)
    card = the_card(connector, mention_id)
    runs = [i["text"] for b in card["body"] if b.get("type") == "RichTextBlock" for i in b["inlines"]]
    assert any("[click](http://evil.example) **bold**" in r for r in runs), runs  # shown as written

    def text_blocks(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node.get("text", "")] if node.get("type") == "TextBlock" else []
            return own + [t for v in node.values() for t in text_blocks(v)]
        if isinstance(node, list):
            return [t for v in node for t in text_blocks(v)]
        return []

    for body in sent:
        for markdown in text_blocks(body):
            assert "evil.example" not in markdown and "**" not in markdown, markdown
    urls = [a["url"] for b in sent for a in _all_of(b, "Action.OpenUrl")]
    assert urls and all(not u.startswith("http://evil.example") for u in urls)


def _all_of(node: Any, kind: str) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return ([node] if node.get("type") == kind else []) + [x for v in node.values() for x in _all_of(v, kind)]
    if isinstance(node, list):
        return [x for v in node for x in _all_of(v, kind)]
    return []


async def test_access_tokens_never_reach_the_logs(app, kit, connector, caplog):
    mention_id = await one_mention(app, connector)
    await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id},
                 card_post(connector, mention_id)["id"])
    await until(app, lambda: connector.calls_to("update_activity"), what="the card update")
    assert kit.issued
    logged = "\n".join(r.getMessage() for r in caplog.records) + "".join(str(r.__dict__) for r in caplog.records)
    for token in kit.issued:
        assert token not in logged
