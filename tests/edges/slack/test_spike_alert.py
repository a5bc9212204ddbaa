"""Edge: spike alerts on Slack — mentions in through the real ingest path, one alert in the triage channel with the
numbers and buttons, none again until the count doubles, and Start crisis / Not now clicked over the wire."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bot.core.storms.rules import StormRules
from bot.slack.ids import Action
from handlers.spikes import check_spikes
from tests.support import (
    REPLY_SECRET,
    TRIAGE_CHANNEL,
    HandClock,
    block_action,
    context_of,
    event,
    ingest,
    mention_data,
    post_interaction,
    running_app,
    settle_slack,
    team_config,
)

RULES = StormRules(spike_window_minutes=10, spike_min_mentions=4, spike_ratio=4.0)
LIVE = ("<!channel>", "<!here>", "<@U999>", "<http://evil")


@pytest.fixture
def clock() -> HandClock:
    return HandClock()


@pytest.fixture
async def app(database_url, slack, receiver, clock):
    async with running_app(database_url, slack.url, clock=clock, config=replace(team_config(), storm=RULES),
                           reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET) as client:
        yield client


async def arrive(client, first: int, texts: list[str]) -> None:
    for n, text in enumerate(texts, start=first):
        await ingest(client, event(mention_data(n, text=text)))
    await settle_slack(client)


async def check(client) -> int:
    queued = await check_spikes(context_of(client))
    await settle_slack(client)
    return queued


def alerts(slack) -> list[dict]:
    return [m for m in slack.messages(TRIAGE_CHANNEL)
            if (m.get("metadata") or {}).get("event_payload", {}).get("subject", "").startswith("spike:")]


def shown(message: dict) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def buttons(message: dict) -> dict[str, tuple[str, str]]:
    return {e["text"]["text"]: (e["action_id"], e["value"]) for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]}


async def click(client, user: str, action_id: str, value: str) -> None:
    response = await post_interaction(client, block_action(user, action_id, value))
    assert response.status == 200, await response.text()
    await settle_slack(client)


async def test_one_alert_with_numbers_samples_and_buttons_and_another_only_when_the_count_doubles(app, slack, clock):
    await arrive(app, 1, ["Storing bij de app?", "Weer een storing <!channel> <@U999> <http://evil|win>",
                          "storing!", "Alles plat, storing"])
    assert await check(app) == 1
    [alert] = alerts(slack)
    text = shown(alert)
    assert "Spike: mentions matching the triggers of playbook “outage”" in text
    assert "4 mentions in 10 min, usually 0" in text
    assert "Best-matching playbook: *outage*" in text
    assert "storing!" in text and "Alles plat, storing" in text  # the newest three samples
    assert not any(token in text or token in alert["text"] for token in LIVE)
    assert set(buttons(alert)) == {"Start crisis", "Not now"}

    clock.advance(minutes=1)
    await arrive(app, 5, ["Nog steeds storing", "storing, echt", "storing..."])
    assert await check(app) == 0  # 7 < twice 4
    assert len(alerts(slack)) == 1
    await arrive(app, 8, ["storing storing"])
    assert await check(app) == 1
    assert "8 mentions in 10 min, usually 0" in shown(alerts(slack)[1])


async def test_start_crisis_starts_it_on_the_playbook_links_the_mentions_and_says_who(app, slack, clock):
    await arrive(app, 1, ["storing"] * 2 + ["de app werkt niet"] * 2 + ["unrelated question"])
    assert await check(app) == 1
    [alert] = alerts(slack)
    action_id, value = buttons(alert)["Start crisis"]
    assert action_id == Action.SPIKE_START
    await click(app, "U01ANNA", action_id, value)

    [updated] = alerts(slack)
    assert "Crisis #1: Service outage* started by <@U01ANNA>" in shown(updated)
    assert buttons(updated) == {}
    assert any(c["name"].startswith("crisis-outage-") for c in slack.calls_to("conversations.create"))
    async with context_of(app).db.uow() as uow:
        linked = await uow.crises.linked(1)
    assert sorted(m.text for m in linked) == ["de app werkt niet"] * 2 + ["storing"] * 2

    await click(app, "U03CARLA", Action.SPIKE_NOT_NOW, value)  # answered already: told privately
    [told] = slack.ephemerals
    assert told["user"] == "U03CARLA" and "Anna de Vries already answered this spike alert" in told["text"]


async def test_not_now_removes_the_buttons_and_only_listed_people_may_answer(app, slack):
    await arrive(app, 1, ["takeover?"] * 4)
    assert await check(app) == 1
    [alert] = alerts(slack)
    _, value = buttons(alert)["Not now"]
    await click(app, "U0STRANGER", Action.SPIKE_NOT_NOW, value)
    [told] = slack.ephemerals
    assert told["text"] == "Only people listed in webcare.toml can answer a spike alert."

    await click(app, "U03CARLA", Action.SPIKE_NOT_NOW, value)
    [updated] = alerts(slack)
    assert "Not now, said <@U03CARLA>." in shown(updated) and buttons(updated) == {}
    assert slack.calls_to("conversations.create") == []
