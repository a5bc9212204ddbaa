"""Helpers of the Teams wire tests: activities signed with the offline Bot Framework kit, and what the fake
Bot Connector received.

The Teams counterpart of `test_slack_wire.py`. Activities are the recorded ones in
`tests/fixtures/teams/`, re-addressed to the fake connector and signed with the offline Bot
Framework kit (`tests/fakes/bot_auth.py`); the connector only accepts calls that carry an
access token the kit issued, so every card seen here was posted by a bot that authenticated.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import Callable
from typing import Any

from tests.fakes.bot_auth import BotFrameworkAuthFake
from tests.fakes.bot_connector import BotConnectorFake
from tests.support import (
    FIXTURES,
    TRIAGE_CHANNEL,
    block_action,
    context_of,
    event,
    ingest,
    mention_data,
    post_interaction,
    relay_of,
)

TEAMS_FIXTURES = FIXTURES / "teams"


CHANNEL = "19:0b7f32667e064dd9b25d7969801541f4@thread.tacv2"  # the channel of the recorded activities


TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


CARD_TYPE = "application/vnd.microsoft.card.adaptive"


ANNA = ("29:1anna", "Anna de Vries")  # webcare.toml: a webcare lead with a Teams id


BRAM = ("29:2bram", "Bram Jansen")  # head of Sales and Legal, with a Teams id in tests/fixtures/webcare.toml


ZOE = ("29:1zoe-not-in-webcare-toml", "Zoe Unknown")  # Teams users nobody configured


YVES = ("29:1yves-not-in-webcare-toml", "Yves Unknown")


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


def draft_action(message: dict[str, Any], verb: str) -> dict[str, Any]:
    [action] = [a for c in cards_in(message) for a in executes(c) if a["verb"] == verb]
    return action


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


def slack_card(slack, mention_id: int) -> dict[str, Any]:
    for message in slack.messages(TRIAGE_CHANNEL):
        if (message.get("metadata") or {}).get("event_payload", {}).get("subject") == f"card:{mention_id}":
            return message
    raise AssertionError(f"no Slack card for mention {mention_id}")


def slack_shows(slack, mention_id: int) -> str:
    return json.dumps(slack_card(slack, mention_id)["blocks"], ensure_ascii=False)


async def slack_click(client, user: str, action_id: str, value: str) -> Any:
    response = await post_interaction(client, block_action(user, action_id, value))
    assert response.status == 200, await response.text()
    await asyncio.sleep(0.05)  # Bolt runs the listener after acknowledging
    return response


def all_of(node: Any, kind: str) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return ([node] if node.get("type") == kind else []) + [x for v in node.values() for x in all_of(v, kind)]
    if isinstance(node, list):
        return [x for v in node for x in all_of(v, kind)]
    return []
