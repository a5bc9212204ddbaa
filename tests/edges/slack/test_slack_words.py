"""Edge (Slack wire): refusals, typed-command answers and private notes in the reader's language ([team] lang,
[people.x] lang)."""

from dataclasses import replace

import pytest

from tests.support import (
    REPLY_SECRET,
    block_action,
    event,
    ingest,
    mention_data,
    post_interaction,
    relay_of,
    running_app,
    settle_slack,
    slash,
    team_config,
)


def dutch_team(**people):
    """The test team with [team] lang = "nl"; `anna={"lang": "en"}` lets someone read English privately."""
    config = team_config(**people)
    return replace(config, team=replace(config.team, lang="nl"))


@pytest.fixture
async def app(sqlite_url, slack, receiver):
    async with running_app(sqlite_url, slack.url, config=dutch_team(eva={"lang": "en"}),
                           reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET) as client:
        yield client


async def one_mention(client, n=1) -> int:
    [m] = await ingest(client, event(mention_data(n)))
    await relay_of(client).drain()
    return m["id"]


async def click(client, user, action_id, value, **kw) -> None:
    response = await post_interaction(client, block_action(user, action_id, str(value), **kw))
    assert response.status == 200, await response.text()
    await settle_slack(client)


async def test_a_dutch_team_is_refused_and_answered_in_dutch(app, slack):
    mention_id = await one_mention(app, 1)
    other = await one_mention(app, 2)
    await click(app, "U03CARLA", "webcare.claim", mention_id)
    await click(app, "U01ANNA", "webcare.claim", mention_id)
    assert slack.ephemerals[-1]["text"] == "Al opgepakt door <@U03CARLA>."
    await click(app, "U02BRAM", "webcare.claim", other)  # a head of department, not on the webcare team
    assert slack.ephemerals[-1]["text"].startswith("Als hoofd van Sales en Legal keur je concepten goed")
    queue = (await (await slash(app, "U03CARLA", "queue")).json())["text"]
    assert queue.startswith("*1* niet-opgepakte vermelding; de oudste is 5 min oud.\n*Eerst aan de beurt:*"), queue
    assert "deze lijst" in (await (await slash(app, "U03CARLA", "help")).json())["text"]
    unknown = (await (await slash(app, "U03CARLA", "dance")).json())["text"]
    assert unknown.startswith("Onbekend /webcare-commando. Probeer"), unknown


async def test_someone_who_reads_english_is_refused_and_answered_in_english(app, slack):
    mention_id = await one_mention(app, 1)
    await click(app, "U03CARLA", "webcare.claim", mention_id)
    await click(app, "U05EVA", "webcare.more", mention_id, selected_option=f"unclaim:{mention_id}")
    assert slack.ephemerals[-1]["text"] == "Only Carla Smit or a webcare lead can unclaim this mention."
    mine = (await (await slash(app, "U05EVA", "mine")).json())["text"]
    assert mine == "You have no open mentions."
    assert (await (await slash(app, "U03CARLA", "mine")).json())["text"].startswith("*Je open vermeldingen (1):*")
