"""Edge: spike alerts on Teams — mentions in through the real ingest path, one alert card in the triage channel with
the numbers and buttons, none again until the count doubles, and Start crisis / Not now clicked over the wire."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from bot.core.storms.rules import StormRules
from bot.teams.ids import Verb
from handlers.spikes import check_spikes
from tests.edges.teams.wire import (
    ANNA,
    CHANNEL,
    ZOE,
    card_action,
    card_text,
    cards_in,
    executes,
    invoke,
    mention_entities,
    refreshed_card,
    said,
    send,
    settle,
    teams_settings,
    until,
)
from tests.support import REPLY_SECRET, ShiftedClock, context_of, event, ingest, mention_data, running_app, team_config

RULES = StormRules(spike_window_minutes=10, spike_min_mentions=4, spike_ratio=4.0)


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
async def app(database_url, kit, connector, receiver, clock):
    async with running_app(database_url, None, clock=clock, config=replace(team_config(), storm=RULES),
                           reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET,
                           **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


async def arrive(client, first: int, texts: list[str]) -> None:
    for n, text in enumerate(texts, start=first):
        await ingest(client, event(mention_data(n, text=text)))
    await settle(client)


def alerts(connector) -> list[dict[str, Any]]:
    """The alert cards in the triage channel, as they are now."""
    return [c for p in connector.posts(CHANNEL) for c in cards_in(p) if '"spike-' in json.dumps(c)]


def buttons(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["title"]: a for a in executes(card)}


async def one_alert(client, connector, count: int) -> dict[str, Any]:
    assert await check_spikes(context_of(client)) == 1
    return await until(client, lambda: len(alerts(connector)) == count and alerts(connector)[-1],
                       what=f"alert {count}")


async def test_one_alert_with_numbers_samples_and_buttons_and_another_only_when_the_count_doubles(app, connector,
                                                                                                   clock):
    await arrive(app, 1, ["Storing bij de app?", "Weer een storing <at>Anna</at> [win](http://evil.example)",
                          "storing!", "Alles plat, storing"])
    alert = await one_alert(app, connector, 1)
    text = card_text(alert)
    assert "Spike: mentions matching the triggers of playbook “outage”" in text
    assert "4 mentions in 10 min, usually 0" in text
    assert "Alles plat, storing" in text and "storing!" in text
    assert mention_entities(alert) == []  # customer text is in TextRuns: shown as written, never a link or mention
    blocks = [b for b in alert["body"] if "](http" in json.dumps(b)]
    assert [b["type"] for b in blocks] == ["RichTextBlock"]
    assert set(buttons(alert)) == {"Start crisis", "Not now"}

    clock.advance(minutes=1)
    await arrive(app, 5, ["Nog steeds storing", "storing, echt", "storing..."])
    assert await check_spikes(context_of(app)) == 0
    await settle(app)
    assert len(alerts(connector)) == 1
    await arrive(app, 8, ["storing storing"])
    second = await one_alert(app, connector, 2)
    assert "8 mentions in 10 min, usually 0" in card_text(second)


async def test_start_crisis_starts_it_links_the_mentions_and_the_card_says_who(app, kit, connector):
    await arrive(app, 1, ["storing"] * 2 + ["de app werkt niet"] * 2 + ["unrelated question"])
    alert = await one_alert(app, connector, 1)
    start = buttons(alert)["Start crisis"]
    assert start["verb"] == Verb.SPIKE_START
    answer = await invoke(app, kit, connector, ANNA, start["verb"], start["data"])
    card = refreshed_card(answer)
    assert "Crisis #1: Service outage started by <at>Anna de Vries</at>" in card_text(card).replace("*", "")
    assert buttons(card) == {}
    async with context_of(app).db.uow() as uow:
        linked = await uow.crises.linked(1)
    assert sorted(m.text for m in linked) == ["de app werkt niet"] * 2 + ["storing"] * 2
    await until(app, lambda: buttons(alerts(connector)[0]) == {}, what="the alert updated in the channel")

    again = await invoke(app, kit, connector, ANNA, Verb.SPIKE_NOT_NOW, start["data"])
    assert "Anna de Vries already answered this spike alert" in said(again)


async def test_not_now_by_the_submit_fallback_and_only_listed_people_may_answer(app, kit, connector):
    await arrive(app, 1, ["takeover?"] * 4)
    alert = await one_alert(app, connector, 1)
    data = buttons(alert)["Not now"]["data"]
    refused = await invoke(app, kit, connector, ZOE, Verb.SPIKE_NOT_NOW, data)
    assert "Only people listed in webcare.toml can answer a spike alert." in said(refused)

    response = await send(app, kit, card_action("message", connector, ANNA, Verb.SPIKE_NOT_NOW, data, None))
    assert response.status in (200, 201, 202)
    updated = await until(app, lambda: buttons(alerts(connector)[0]) == {} and alerts(connector)[0],
                          what="the alert answered")
    assert "Not now, said <at>Anna de Vries</at>." in card_text(updated)
