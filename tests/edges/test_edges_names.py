"""Edge: a chat user with a very long display name acts like anyone else, on SQLite and PostgreSQL alike.

Storage keeps 200 characters of a name (PostgreSQL enforces it, SQLite does not): the name is
cut where the actor is built from the chat payload, so the claim lands on both databases and
the card shows the cut name, never "something went wrong".
"""

from __future__ import annotations

import pytest

from bot.core.mentions import NAME_LIMIT
from tests.edges.slack.test_slack_wire import card_of, one_mention, text_of
from tests.edges.teams.wire import card_post, card_text, invoke, refreshed_card, teams_settings, the_card, until
from tests.edges.teams.wire import one_mention as teams_mention
from tests.fakes.bot_auth import BotFrameworkAuthFake
from tests.fakes.bot_connector import BotConnectorFake
from tests.support import REPLY_SECRET, block_action, context_of, post_interaction, running_app, settle_slack

LONG_NAME = "Maximiliaan " + "van " * 58 + "Oranje-Nassau"  # 257 characters, as Entra allows display names
assert len(LONG_NAME) > 250


async def claimants(client, mention_id: int) -> list[str]:
    async with context_of(client).db.uow() as uow:
        return [a.actor_name for a in await uow.audit.for_mention(mention_id) if a.action == "claim"]


@pytest.fixture
async def teams_app(database_url, kit, connector, receiver):
    async with running_app(database_url, None, reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET,
                           **teams_settings(kit, connector)) as client:
        yield client
        await until(client, lambda: True)


async def test_a_teams_user_with_a_250_character_name_claims(teams_app, kit: BotFrameworkAuthFake,
                                                            connector: BotConnectorFake):
    mention_id = await teams_mention(teams_app, connector)
    stranger = ("29:1long-name-not-in-webcare-toml", LONG_NAME)
    answer = await invoke(teams_app, kit, connector, stranger, "webcare.claim", {"mention_id": mention_id},
                          card_post(connector, mention_id)["id"])
    shown = card_text(refreshed_card(answer))
    assert "went wrong" not in shown and "Claimed by Maximiliaan van van" in shown, shown
    [stored] = await claimants(teams_app, mention_id)
    assert len(stored) <= NAME_LIMIT and stored.endswith("…") and stored.startswith("Maximiliaan van van")
    await until(teams_app, lambda: "Claimed by Maximiliaan" in card_text(the_card(connector, mention_id)),
                what="the card update in the channel")


@pytest.fixture
async def slack_app(database_url, slack, receiver):
    async with running_app(database_url, slack.url, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        yield client


async def test_a_slack_user_with_a_250_character_name_claims(slack_app, slack):
    mention_id = await one_mention(slack_app)
    response = await post_interaction(slack_app, block_action("U0STRANGER", "webcare.claim", str(mention_id),
                                                              user_name=LONG_NAME))
    assert response.status == 200
    await settle_slack(slack_app)
    assert slack.ephemerals == []  # no apology, no refusal
    [stored] = await claimants(slack_app, mention_id)
    assert len(stored) <= NAME_LIMIT and stored.startswith("Maximiliaan van van")
    assert "Claimed* by <@U0STRANGER>" in text_of(card_of(slack, mention_id)["blocks"])


async def test_two_teams_users_with_overlong_ids_stay_two_people(teams_app, kit: BotFrameworkAuthFake,
                                                                 connector: BotConnectorFake):
    mention_id = await teams_mention(teams_app, connector)
    card = card_post(connector, mention_id)["id"]
    first, second = ("29:1" + "a" * 300 + "1", "First"), ("29:1" + "a" * 300 + "2", "Second")
    answer = await invoke(teams_app, kit, connector, first, "webcare.claim", {"mention_id": mention_id}, card)
    assert "Claimed by First" in card_text(refreshed_card(answer))
    answer = await invoke(teams_app, kit, connector, second, "webcare.claim", {"mention_id": mention_id}, card)
    assert "Already claimed by First." in card_text(refreshed_card(answer))
    async with context_of(teams_app).db.uow() as uow:
        [claim] = [a for a in await uow.audit.for_mention(mention_id) if a.action == "claim"]
    assert len(claim.actor) <= 200
