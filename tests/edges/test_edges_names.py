"""Edge: a chat user with a very long display name or id is answered like anyone else, on SQLite and PostgreSQL.

Storage keeps 200 characters of a name or key (PostgreSQL enforces it, SQLite does not): both are cut where the
actor is built from the chat payload. Someone not in webcare.toml is refused privately before anything is
stored, so the click never ends in "something went wrong".
"""

from __future__ import annotations

import pytest

from tests.edges.slack.test_slack_wire import card_of, one_mention, text_of
from tests.edges.teams.wire import card_post, card_text, invoke, refreshed_card, teams_settings, until
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


async def test_a_teams_user_with_a_250_character_name_is_refused_not_apologised_to(
        teams_app, kit: BotFrameworkAuthFake, connector: BotConnectorFake):
    mention_id = await teams_mention(teams_app, connector)
    stranger = ("29:1long-name-not-in-webcare-toml", LONG_NAME)
    answer = await invoke(teams_app, kit, connector, stranger, "webcare.claim", {"mention_id": mention_id},
                          card_post(connector, mention_id)["id"])
    shown = card_text(refreshed_card(answer))
    assert "went wrong" not in shown and "Only the webcare team can act on mentions" in shown, shown
    assert "Maximiliaan" not in shown and await claimants(teams_app, mention_id) == []


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
    [told] = slack.ephemerals  # a refusal, no apology
    assert told["user"] == "U0STRANGER" and told["text"].startswith("Only the webcare team can act on mentions")
    assert await claimants(slack_app, mention_id) == []
    assert "Claimed" not in text_of(card_of(slack, mention_id)["blocks"])


async def test_teams_users_with_overlong_ids_are_refused_not_apologised_to(teams_app, kit: BotFrameworkAuthFake,
                                                                           connector: BotConnectorFake):
    mention_id = await teams_mention(teams_app, connector)
    card = card_post(connector, mention_id)["id"]
    for user in (("29:1" + "a" * 300 + "1", "First"), ("29:1" + "a" * 300 + "2", "Second")):
        answer = await invoke(teams_app, kit, connector, user, "webcare.claim", {"mention_id": mention_id}, card)
        shown = card_text(refreshed_card(answer))
        assert "went wrong" not in shown and "Only the webcare team can act on mentions" in shown, shown
    assert await claimants(teams_app, mention_id) == []
