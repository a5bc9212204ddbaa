"""Edge (Slack wire): a Dutch team's cards and drafts are in Dutch; a dialog is in the language of whoever opened it."""

import dataclasses
import json

import pytest

from bot.config import Team
from tests.support import (
    TRIAGE_CHANNEL,
    block_action,
    event,
    ingest,
    mention_data,
    post_interaction,
    relay_of,
    running_app,
    settle_slack,
    team_config,
    view_submission,
)

# A Dutch team; Carla reads the bot in English, Anna in the team's language.
DUTCH_TEAM = dataclasses.replace(team_config(carla={"lang": "en"}), team=Team(lang="nl"))
ANNA, CARLA = "U01ANNA", "U03CARLA"


@pytest.fixture
async def app(database_url, slack):
    async with running_app(database_url, slack.url, config=DUTCH_TEAM) as client:
        yield client


async def click(client, user: str, action: str, value: str) -> None:
    response = await post_interaction(client, block_action(user, action, value))
    assert response.status == 200
    await settle_slack(client)


def buttons(message: dict) -> list[str]:
    return [e["text"]["text"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
            if e["type"] == "button"]


def status(message: dict, mention_id: int) -> str:
    return next(b["text"]["text"] for b in message["blocks"] if b["block_id"] == f"mention-{mention_id}-status")


async def test_a_dutch_team_sees_its_cards_and_drafts_in_dutch_and_each_dialog_in_its_openers_language(app, slack):
    [m] = await ingest(app, event(mention_data(1)))
    await relay_of(app).drain()
    [card] = slack.messages(TRIAGE_CHANNEL)
    assert buttons(card) == ["Oppakken", "Escaleren", "Beantwoorden", "Negeren", "Bericht openen"]
    assert status(card, m["id"]) == ":new: *Nieuw* — nog niemand heeft hem opgepakt"
    assert card["text"].startswith("Vermelding op X van @")

    await click(app, ANNA, "webcare.answer", str(m["id"]))  # no language of her own: the team's
    dutch = list(slack.views.values())[-1]
    assert (dutch["title"]["text"], dutch["close"]["text"]) == ("Vermelding beantwoorden", "Annuleren")
    assert "Geen koppeling verstuurt antwoorden voor X" in json.dumps(dutch, ensure_ascii=False)

    await click(app, CARLA, "webcare.answer", str(m["id"]))
    english = list(slack.views.values())[-1]
    assert (english["title"]["text"], english["submit"]["text"]) == ("Answer mention", "Save answer")

    await click(app, CARLA, "webcare.dismiss", str(m["id"]))
    reasons = list(slack.views.values())[-1]["blocks"][0]["element"]["options"]
    assert [o["text"]["text"] for o in reasons] == ["Spam", "Not relevant", "Handled elsewhere"]

    response = await post_interaction(app, view_submission(
        CARLA, "webcare.answer_modal", str(m["id"]), {"reply_text": {"type": "plain_text_input", "value": "Sorry!"}}))
    assert response.status == 200
    await settle_slack(app)
    card, draft = slack.messages(TRIAGE_CHANNEL)
    assert status(card, m["id"]).startswith(":white_check_mark: *Beantwoord* door <@U03CARLA>")
    assert buttons(card) == ["Bericht openen"]
    assert draft["text"] == ":writing_hand: Zelf beantwoord door Carla Smit:"


async def test_a_card_slack_refuses_is_reported_in_the_channel_in_the_teams_language(app, slack):
    slack.fail_next("chat.postMessage", error="invalid_blocks")
    [m] = await ingest(app, event(mention_data(1)))
    await relay_of(app).drain()
    await relay_of(app).housekeeping(force=True)
    [line] = slack.messages(TRIAGE_CHANNEL)
    assert line["text"].replace("\u200b", "") == (f":warning: Vermelding #{m['id']} kon niet worden getoond op Slack: "
                            "Slack refused chat_postMessage: invalid_blocks")
