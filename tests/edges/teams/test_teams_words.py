"""Edge (Teams wire): refusals, typed-command answers and private notes in the reader's language ([team] lang,
[people.x] lang)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.edges.teams.wire import ANNA, BRAM, ZOE, ask, card_post, invoke, one_mention, said, settle, teams_settings
from tests.support import REPLY_SECRET, running_app, team_config


@pytest.fixture
async def app(sqlite_url, kit, connector, receiver):
    config = team_config(anna={"lang": "en"})
    config = replace(config, team=replace(config.team, lang="nl"))  # Anna reads English privately, the rest Dutch
    async with running_app(sqlite_url, None, config=config, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


async def test_a_dutch_team_is_refused_and_answered_in_dutch(app, kit, connector):
    mention_id = await one_mention(app, connector, 1)
    refused = await invoke(app, kit, connector, BRAM, "webcare.claim", {"mention_id": mention_id},
                           card_post(connector, mention_id)["id"])
    assert "Als hoofd van Sales en Legal keur je concepten goed" in said(refused), said(refused)
    assert "1 niet-opgepakte vermelding; de oudste is 5 min oud." in await ask(app, kit, connector, ZOE, "queue",
                                                                            channel=True)
    assert await ask(app, kit, connector, ZOE, "mine") == "Je hebt geen open vermeldingen."
    assert "Onbekend commando. Probeer:" in await ask(app, kit, connector, ZOE, "dance")
    assert "Ik plaats elke vermelding hier als kaart." in await ask(app, kit, connector, BRAM, "help")


async def test_someone_who_reads_english_is_answered_in_english(app, kit, connector):
    mention_id = await one_mention(app, connector, 1)
    await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id},
                 card_post(connector, mention_id)["id"])
    await settle(app)
    again = await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id},
                         card_post(connector, mention_id)["id"])
    assert "You have already claimed this mention." in said(again), said(again)
    assert "Your open mentions (1):" in await ask(app, kit, connector, ANNA, "mine")
    assert "Unknown crisis command. Try:" in await ask(app, kit, connector, ANNA, "crisis dance")
