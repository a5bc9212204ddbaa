"""Edge: ids in button values and card data are read strictly, on Slack and Teams, on both databases.

Python's `int()` reads "0_7", "+7", " 7" and full-width digits as 7, and ids past the database's
integer range reach the driver and end in a traceback. Each click below is refused privately in
plain words, logged in one line, and changes nothing.
"""

from __future__ import annotations

import logging

import pytest

from tests.edges.slack.test_slack_wire import card_of, one_mention
from tests.edges.teams.wire import ANNA, card_action, card_post, invoke, said, send, teams_settings, until
from tests.edges.teams.wire import one_mention as teams_mention
from tests.fakes.bot_auth import BotFrameworkAuthFake
from tests.fakes.bot_connector import BotConnectorFake
from tests.support import REPLY_SECRET, block_action, context_of, post_interaction, running_app, settle_slack

REFUSAL = "This button does not name a mention; the card may be from an older version."


def spoofed(mention_id: int) -> list[str]:
    """Values `int()` reads as `mention_id` although no button of ours ever carries them."""
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in str(mention_id))
    return [f"0_{mention_id}", f"+{mention_id}", f" {mention_id}", f"{mention_id}\n", full_width]


OUT_OF_RANGE = [str(2**31), str(2**63), "9" * 40, "-1", "0", ""]


def assert_logged_in_one_line(caplog: pytest.LogCaptureFixture, count: int) -> None:
    refusals = [r for r in caplog.records if r.name == "bot.core.intents" and "refused a mention id" in r.getMessage()]
    assert len(refusals) == count, [r.getMessage() for r in refusals]
    assert all("\n" not in r.getMessage() for r in refusals)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert "Traceback" not in caplog.text


async def claims(client, mention_id: int) -> list[str]:
    async with context_of(client).db.uow() as uow:
        return [a.action for a in await uow.audit.for_mention(mention_id) if a.action == "claim"]


@pytest.fixture
async def slack_app(database_url, slack, receiver):
    async with running_app(database_url, slack.url, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        yield client


async def test_slack_buttons_with_a_value_that_only_int_would_read_are_refused(slack_app, slack, caplog):
    mention_id = await one_mention(slack_app)
    values = spoofed(mention_id) + OUT_OF_RANGE
    for value in values:
        response = await post_interaction(slack_app, block_action("U03CARLA", "webcare.claim", value))
        assert response.status == 200, await response.text()
        await settle_slack(slack_app)
    assert [e["text"] for e in slack.ephemerals] == [REFUSAL] * len(values)
    assert all(e["user"] == "U03CARLA" for e in slack.ephemerals)  # only the one who clicked sees it
    assert {b["text"]["type"] for e in slack.ephemerals for b in e["blocks"]} == {"plain_text"}
    assert await claims(slack_app, mention_id) == []
    assert ":new: *New*" in str(card_of(slack, mention_id)["blocks"])
    assert_logged_in_one_line(caplog, len(values))


async def test_slack_overflow_menu_and_dialog_values_are_read_strictly_too(slack_app, slack, caplog):
    mention_id = await one_mention(slack_app)
    await post_interaction(slack_app, block_action("U01ANNA", "webcare.claim", str(mention_id)))
    await settle_slack(slack_app)
    for value in (f"unclaim:0_{mention_id}", f"unclaim:{2**63}"):
        await post_interaction(slack_app, block_action("U01ANNA", "webcare.more", str(mention_id),
                                                       selected_option=value))
        await settle_slack(slack_app)
    assert [e["text"] for e in slack.ephemerals] == [REFUSAL] * 2
    assert await claims(slack_app, mention_id) == ["claim"]
    assert "Claimed* by <@U01ANNA>" in str(card_of(slack, mention_id)["blocks"])
    assert_logged_in_one_line(caplog, 2)


@pytest.fixture
async def teams_app(database_url, kit, connector, receiver):
    async with running_app(database_url, None, reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET,
                           **teams_settings(kit, connector)) as client:
        yield client
        await until(client, lambda: True)


async def test_teams_card_data_with_a_spoofed_or_huge_id_is_refused(teams_app, kit: BotFrameworkAuthFake,
                                                                    connector: BotConnectorFake, caplog):
    mention_id = await teams_mention(teams_app, connector)
    card = card_post(connector, mention_id)["id"]
    values: list[object] = [*spoofed(mention_id), *OUT_OF_RANGE, 2**63, True, float(mention_id)]
    for value in values:
        answer = await invoke(teams_app, kit, connector, ANNA, "webcare.claim", {"mention_id": value}, card)
        assert said(answer) == REFUSAL, (value, answer)
    assert await claims(teams_app, mention_id) == []
    assert_logged_in_one_line(caplog, len(values))


async def test_teams_action_submit_fallback_with_a_huge_id_is_refused_in_plain_words(
        teams_app, kit: BotFrameworkAuthFake, connector: BotConnectorFake, caplog):
    mention_id = await teams_mention(teams_app, connector)
    card = card_post(connector, mention_id)["id"]
    before = len(connector.calls)
    response = await send(teams_app, kit, card_action("submit", connector, ANNA, "webcare.claim",
                                                      {"mention_id": 2**63}, card))
    assert response.status in (200, 201, 202), await response.text()
    answers = await until(teams_app, lambda: [c.body for c in connector.calls[before:]
                                              if c.operation == "reply_to_activity" and c.status < 300],
                          what="the refusal")
    assert [a["text"] for a in answers] == [REFUSAL]
    assert await claims(teams_app, mention_id) == []
    assert_logged_in_one_line(caplog, 1)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
