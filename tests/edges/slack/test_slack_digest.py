"""Edge: digests on Slack — while the triage channel's backlog is long, new P3 mentions in through the real ingest path
are lines of one digest message a minute instead of a card each, and a line's Claim is clicked over the wire."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bench.paced_slack import PacedSlackFake
from bot.core.storms.rules import StormRules
from bot.slack.ids import Action
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
)

CONFIG = replace(team_config(), storm=StormRules(digest_after_seconds=3))
QUESTIONS = ["Waar blijft mijn pakket", "How do I change my seat", "Is the lounge open at Schiphol", "Wifi on board?",
             "Can I bring my bike", "Refund for a cancelled flight", "Extra legroom prices", "Lost my boarding pass",
             "Pet in the cabin rules", "Where do I find my booking code", "Kids menu on long flights",
             "<!channel> check <https://evil.example|this> *now*"]
LIVE = ("<!channel>", "<https://evil")


class Clock:
    """The team's clock: it runs with real time from 5 s into a minute (so a test stays in one minute) and can jump."""

    def __init__(self) -> None:
        real = datetime.now(UTC)
        self.offset = real.replace(second=5, microsecond=0) - real

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def skip(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(database_url, slack, clock):
    async with running_app(database_url, slack.url, clock=clock, config=CONFIG) as client:
        yield client


async def arrive_at_once(client) -> list[int]:
    """Twelve different P3 questions in one burst (nothing in common, so no storm)."""
    found = await ingest(client, *(event(mention_data(n, text=f"{text} (question {n})"))
                                   for n, text in enumerate(QUESTIONS, 1)))
    return [m["id"] for m in found]


def subject(message: dict) -> str:
    return (message.get("metadata") or {}).get("event_payload", {}).get("subject", "")


def posted(slack, prefix: str) -> list[dict]:
    return [m for m in slack.messages(TRIAGE_CHANNEL) if subject(m).startswith(prefix)]


def carded(slack, ids: list[int]) -> list[int]:
    return [m for m in ids if posted(slack, f"card:{m}")]


def lines(digest: dict) -> dict[int, dict]:
    """The digest's lines by mention id."""
    return {int(b["block_id"].removeprefix("digest-line-")): b for b in digest["blocks"]
            if b["block_id"].startswith("digest-line-")}


async def busy_minute(client, slack, clock) -> tuple[list[int], dict]:
    """The burst in, its cards posted at the channel's pace, then the digest at its 10-second mark."""
    ids = await arrive_at_once(client)
    await settle_slack(client)
    clock.skip(10)
    await settle_slack(client)
    [digest] = posted(slack, "digest:")
    return ids, digest


async def click(client, user: str, mention_id: int) -> None:
    response = await post_interaction(client, block_action(user, Action.CLAIM, str(mention_id)))
    assert response.status == 200, await response.text()
    await settle_slack(client)


async def test_a_burst_gets_a_few_cards_and_one_digest_listing_every_other_mention(app, slack, clock):
    ids, digest = await busy_minute(app, slack, clock)
    cards, listed = carded(slack, ids), list(lines(digest))
    # 3 s of backlog at a card a second: the first few get cards (one more whenever a card went out meanwhile) …
    assert cards[:3] == ids[:3] and len(listed) >= 5
    # … and every other mention is a line, the oldest first: each mention is shown exactly once
    assert sorted(cards + listed) == ids and listed == sorted(listed)
    header = digest["blocks"][0]["text"]["text"]
    assert header == f"📋 Digest {clock():%H:%M} UTC · {len(listed)} P3 mentions (the channel is busy)"
    assert all(b["accessory"]["action_id"] == Action.CLAIM for b in lines(digest).values())
    assert "Kids menu on long flights" in json.dumps(digest["blocks"])
    sent = [subject(call) for call in slack.calls_to("chat.postMessage")]
    assert Counter(sent) == Counter([f"card:{m}" for m in cards] + [f"digest:{clock():%Y-%m-%dT%H:%M}"])
    for call in slack.calls_to("chat.postMessage"):
        assert not any(live in json.dumps(call) for live in LIVE)


async def test_claiming_a_digest_line_shows_who_has_it_in_the_digest_and_a_second_claim_is_refused(app, slack, clock):
    ids, digest = await busy_minute(app, slack, clock)
    line = list(lines(digest))[-1]
    await click(app, "U03CARLA", line)
    [digest] = posted(slack, "digest:")
    claimed = lines(digest)[line]
    assert " · *Claimed* by <@U03CARLA>\n" in claimed["text"]["text"] and "accessory" not in claimed
    assert all("accessory" in b for m, b in lines(digest).items() if m != line)  # the others are still claimable
    assert len(posted(slack, f"card:{line}")) == 1  # taken up: its card, to answer it on, comes too

    await click(app, "U05EVA", line)
    [told] = slack.ephemerals
    assert (told["user"], told["text"]) == ("U05EVA", "Already claimed by <@U03CARLA>.")
    assert "*Claimed* by <@U03CARLA>" in lines(posted(slack, "digest:")[0])[line]["text"]["text"]
    assert [s for s, n in Counter(subject(c) for c in slack.calls_to("chat.postMessage")).items() if n > 1] == []


async def test_against_slacks_pace_every_mention_is_a_card_or_a_digest_line_and_nothing_is_posted_twice(sqlite_url):
    clock = Clock()
    async with PacedSlackFake(rate=0.5, burst=1) as fake, \
            running_app(sqlite_url, fake.url, clock=clock, config=CONFIG) as app:
        ids = await arrive_at_once(app)
        clock.skip(10)  # the digest's 10-second mark comes at once; the cards keep Slack's pace

        def accounted() -> list[int]:
            digests = posted(fake, "digest:")
            listed = {m for digest in digests for m in lines(digest)}
            return [m for m in ids if m in listed or posted(fake, f"card:{m}")]

        for _ in range(200):  # at most 40 s; Retry-After sends each refused post back for a second or two
            await relay_of(app).drain()
            if accounted() == ids:
                break
            await asyncio.sleep(0.2)
        assert accounted() == ids
        [digest] = posted(fake, "digest:")  # one message for the minute, not one per mention
        assert [m for m in lines(digest) if posted(fake, f"card:{m}")] == []  # no card for a digest line
        assert fake.limited[TRIAGE_CHANNEL] >= 1  # Slack did say 429 on the way
        assert [s for s, n in Counter(p.subject for p in fake.posted).items() if n > 1] == []
