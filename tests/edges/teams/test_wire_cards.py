"""Edge (Teams wire): installing teaches the channel; a mention is one card thread; claims, races and refusals."""

from __future__ import annotations

import asyncio

import pytest

from tests.edges.teams.wire import (
    ANNA,
    CARD_TYPE,
    CHANNEL,
    _version,
    card_action,
    card_post,
    card_text,
    claims_of,
    executes,
    install,
    invoke,
    one_mention,
    quiet,
    refreshed_card,
    said,
    send,
    teams_settings,
    the_card,
    until,
)
from tests.support import event, ingest, mention_data, running_app, team_config

EVA = ("29:5eva", "Eva Hendriks")  # on the webcare team with a Teams id (webcare.toml)
CARLA = ("29:3carla", "Carla Smit")  # on the webcare team; a Teams id only where a test gives her one


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
    await invoke(app, kit, connector, EVA, "webcare.claim", {"mention_id": mention_id}, card_id)
    answer = await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id}, card_id)
    assert "Already claimed by Eva Hendriks" in card_text(refreshed_card(answer))
    await quiet(app)
    shown = card_text(the_card(connector, mention_id))
    assert "Claimed by Eva Hendriks" in shown and "Already claimed" not in shown  # the refusal was Anna's alone
    assert await claims_of(app, mention_id) == ["Eva Hendriks"]
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


async def test_only_the_claimant_or_a_lead_may_unclaim(sqlite_url, kit, connector):
    async with running_app(sqlite_url, None, config=team_config(carla={"teams": CARLA[0]}),
                           **teams_settings(kit, connector)) as app:
        mention_id = await one_mention(app, connector)
        card_id = card_post(connector, mention_id)["id"]
        await invoke(app, kit, connector, EVA, "webcare.claim", {"mention_id": mention_id}, card_id)
        refused = await invoke(app, kit, connector, CARLA, "webcare.unclaim", {"mention_id": mention_id}, card_id)
        assert "Only Eva Hendriks or a webcare lead can unclaim this mention." in said(refused)
        await quiet(app)
        assert "Claimed by Eva Hendriks" in card_text(the_card(connector, mention_id))

        answer = await invoke(app, kit, connector, ANNA, "webcare.unclaim", {"mention_id": mention_id}, card_id)
        assert "New" in card_text(refreshed_card(answer))
        await until(app, lambda: "New" in card_text(the_card(connector, mention_id)), what="the card back to New")
        assert "webcare.claim" in [a["verb"] for a in executes(the_card(connector, mention_id))]
        await quiet(app)  # nothing left running when the app stops


async def test_a_button_for_something_that_does_not_exist_is_answered_politely(app, kit, connector):
    answer = await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": 999_999})
    assert "Mention 999999 does not exist" in said(answer), answer
    answer = await invoke(app, kit, connector, ANNA, "webcare.approve", {"draft_id": 999_999})
    assert "Draft 999999 does not exist" in said(answer), answer
    odd = await invoke(app, kit, connector, ANNA, "webcare.dance", {"mention_id": 1})
    assert "not one of ours" in said(odd), odd
