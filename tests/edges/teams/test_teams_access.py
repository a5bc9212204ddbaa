"""Edge (Teams wire): only people in webcare.toml act on mentions; anyone else is told privately whom to ask, and
a department head approves their department's drafts but does not take mentions up (unless also on the team)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.edges.teams.wire import (
    ANNA,
    BRAM,
    ZOE,
    card_post,
    card_text,
    draft_action,
    invoke,
    message_text,
    one_mention,
    quiet,
    refreshed_card,
    said,
    settle,
    teams_settings,
    the_card,
    thread_of,
    until,
)
from tests.support import REPLY_SECRET, context_of, running_app, team_config

REFUSAL = "Only the webcare team can act on mentions. Ask Anna de Vries to add you to webcare.toml."
WRITES = ("create_conversation", "send_to_conversation", "reply_to_activity", "update_activity")


@pytest.fixture
async def app(database_url, kit, connector, receiver):
    async with running_app(database_url, None, reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET,
                           **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


async def stored(client, mention_id: int) -> tuple:
    """What the database holds of the mention: state, claimant, version and how many audit rows."""
    async with context_of(client).db.uow() as uow:
        m = await uow.mentions.get(mention_id)
        return m.state, m.claimed_by, m.version, len(await uow.audit.for_mention(mention_id))


def channel_writes(connector) -> int:
    """Everything the bot posted or redrew through the Bot Connector so far."""
    return sum(len(connector.calls_to(operation)) for operation in WRITES)


@pytest.mark.parametrize(("verb", "inputs"), [("webcare.claim", {}),
                                              ("webcare.answer", {"reply_text": "Hi from outside"}),
                                              ("webcare.dismiss", {"reason": "spam"})])
async def test_a_strangers_click_is_refused_privately_naming_the_lead_and_changes_nothing(
        app, kit, connector, receiver, verb, inputs):
    mention_id = await one_mention(app, connector, reply_via="webhook")
    await quiet(app)
    before, writes, card = await stored(app, mention_id), channel_writes(connector), the_card(connector, mention_id)
    answer = await invoke(app, kit, connector, ZOE, verb, {"mention_id": mention_id, **inputs},
                          card_post(connector, mention_id)["id"])
    shown = refreshed_card(answer)  # the invoke's answer: only whoever clicked sees it
    assert shown["body"][0]["text"] == f"⚠ {REFUSAL}"
    assert "New" in card_text(shown) and "Zoe" not in card_text(shown)
    await quiet(app)
    assert await stored(app, mention_id) == before
    assert channel_writes(connector) == writes and the_card(connector, mention_id) == card  # not redrawn, no post
    assert receiver.received == []


async def test_a_head_cannot_claim_but_approves_a_draft_of_their_department(app, kit, connector, receiver):
    mention_id = await one_mention(app, connector, reply_via="webhook")
    card_id = card_post(connector, mention_id)["id"]
    refused = await invoke(app, kit, connector, BRAM, "webcare.claim", {"mention_id": mention_id}, card_id)
    assert said(refused).startswith("⚠ As head of Sales and Legal you approve drafts and request changes; claiming")
    assert await stored(app, mention_id) == ("new", None, 0, 1)

    await invoke(app, kit, connector, ANNA, "webcare.escalate", {"mention_id": mention_id, "departments": "sales"},
                 card_id)
    await invoke(app, kit, connector, ANNA, "webcare.answer",
                 {"mention_id": mention_id, "reply_text": "Sorry Sanne, a courier is on its way."}, card_id)

    def draft() -> dict[str, Any]:
        [message] = [m for m in thread_of(connector, mention_id) if "Draft by" in message_text(m)]
        return message

    await until(app, draft, what="the draft in the thread")
    approve = draft_action(draft(), "webcare.approve")
    answer = await invoke(app, kit, connector, BRAM, "webcare.approve", approve["data"], draft()["id"])
    assert "⚠" not in said(answer)
    await until(app, lambda: receiver.received, what="the approved reply to be delivered")
    assert [r["data"]["text"] for r in receiver.received] == ["Sorry Sanne, a courier is on its way."]
    await until(app, lambda: "Answered by Anna de Vries" in card_text(the_card(connector, mention_id)),
                what="the card to say answered")


async def test_a_head_may_send_a_draft_back_with_a_note(app, kit, connector):
    mention_id = await one_mention(app, connector, reply_via="webhook")
    card_id = card_post(connector, mention_id)["id"]
    await invoke(app, kit, connector, ANNA, "webcare.escalate", {"mention_id": mention_id, "departments": "legal"},
                 card_id)
    await invoke(app, kit, connector, ANNA, "webcare.answer", {"mention_id": mention_id, "reply_text": "We sue."},
                 card_id)
    await until(app, lambda: [m for m in thread_of(connector, mention_id) if "Draft by" in message_text(m)],
                what="the draft in the thread")
    [message] = [m for m in thread_of(connector, mention_id) if "Draft by" in message_text(m)]
    back = draft_action(message, "webcare.request_changes")
    answer = await invoke(app, kit, connector, BRAM, "webcare.request_changes",
                          {**back["data"], "note": "Not in those words"}, message["id"])
    assert "⚠" not in said(answer) and "Not in those words" in said(answer)


async def test_a_head_with_the_webcare_role_claims(database_url, kit, connector):
    config = team_config(bram={"roles": frozenset({"corporate-communications", "webcare"})})
    async with running_app(database_url, None, config=config, **teams_settings(kit, connector)) as client:
        mention_id = await one_mention(client, connector)
        answer = await invoke(client, kit, connector, BRAM, "webcare.claim", {"mention_id": mention_id},
                              card_post(connector, mention_id)["id"])
        assert "Claimed by Bram Jansen" in card_text(refreshed_card(answer)) and "⚠" not in said(answer)
        await until(client, lambda: "Claimed by Bram Jansen" in card_text(the_card(connector, mention_id)),
                    what="the card to show the claim")
        assert (await stored(client, mention_id))[:2] == ("claimed", "bram")
        await settle(client)
