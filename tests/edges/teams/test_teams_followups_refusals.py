"""Edge: a Teams post the Bot Connector refuses for good stops at once and says so in the triage channel; refused
credentials are retried instead, since people can fix them.

The real app posts through botbuilder to the fake Bot Connector, which refuses calls the way Teams does
(`{"error": {"code", "message"}}` with a 4xx, 413 `MessageSizeTooBig` over 28 KB).
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from bot.storage.models import OutboxJob
from tests.edges.teams.wire import CARD_TYPE, CHANNEL, card_post, card_text, cards_in, quiet, teams_settings, until
from tests.fakes.bot_connector import MESSAGE_LIMIT, BotConnectorFake
from tests.support import ShiftedClock, context_of, event, ingest, mention_data, relay_of, running_app

POST = "create_conversation"  # a card, or a line in the triage channel, starts a new thread


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


def lines(connector) -> list[str]:
    """What the failure lines in the triage channel say (as people read them)."""
    return [card_text(card).strip() for post in connector.posts(CHANNEL) for card in cards_in(post)
            if '"webcare-failure"' in json.dumps(card)]


async def metrics_of(app) -> str:
    """`/metrics` after the relay's housekeeping refreshed its gauges."""
    await relay_of(app).housekeeping(force=True)
    return await (await app.get("/metrics")).text()


async def jobs_of(app) -> list[OutboxJob]:
    async with context_of(app).db.uow() as uow:
        return list((await uow.session.exec(select(OutboxJob))).all())


def tracebacks(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


async def later(app, clock: ShiftedClock, seconds: float = 600) -> None:
    """Move past every backoff a retry could have been given, and let the relay run what came due."""
    clock.advance(seconds=seconds)
    await quiet(app)


async def test_a_card_teams_refuses_is_tried_once_and_a_line_in_the_triage_channel_says_so(
        database_url, kit, connector, clock, caplog):
    connector.fail_next(POST, status=400)
    async with running_app(database_url, None, clock=clock, **teams_settings(kit, connector)) as app:
        [m] = await ingest(app, event(mention_data(1)))
        await until(app, lambda: lines(connector), what="a line in the triage channel")
        await later(app, clock)
        metrics = await metrics_of(app)
    assert lines(connector) == [f"⚠ Mention #{m['id']} could not be shown on Teams: "
                                "Teams refused the post (400: BadArgument)"]
    assert [c.status for c in connector.calls_to(POST)] == [400, 201]  # the card once, then the line
    [line] = connector.posts(CHANNEL)
    assert [c["contentType"] for c in line["attachments"]] == [CARD_TYPE]
    assert 'webcare_outbox_failed_jobs{kind="teams.card"} 1.0' in metrics
    assert 'webcare_outbox_given_up_total{kind="teams.card"} 1.0' in metrics
    assert not tracebacks(caplog)


async def test_an_oversized_card_is_refused_with_413_and_a_line_says_so(sqlite_url, kit, connector, clock, caplog):
    """The renderers keep cards under Teams' 28 KB, so this Teams takes less: a long mention's card is too big."""
    connector.message_limit = 4 * 1024
    async with running_app(sqlite_url, None, clock=clock, **teams_settings(kit, connector)) as app:
        [m] = await ingest(app, event(mention_data(1, text="Where is my order? " * 250)))
        await until(app, lambda: lines(connector), what="a line in the triage channel")
        await later(app, clock)
        metrics = await metrics_of(app)
    assert lines(connector) == [f"⚠ Mention #{m['id']} could not be shown on Teams: "
                                "Teams refused the post (413: MessageSizeTooBig)"]
    assert [c.status for c in connector.calls_to(POST)] == [413, 201]
    assert 'webcare_outbox_failed_jobs{kind="teams.card"} 1.0' in metrics
    assert not tracebacks(caplog)


@pytest.mark.parametrize("refusal", ["connector 401", "login refuses the password"])
async def test_refused_credentials_are_retried_not_given_up(sqlite_url, kit, connector, clock, caplog, refusal):
    """More refusals in a row than an unexpected error gets: people fix the credentials, then the card goes out."""
    if refusal == "connector 401":
        connector.fail_next(POST, status=401, times=6)
    else:
        kit.fail_next_token(status=401, error="invalid_client", times=6)
    async with running_app(sqlite_url, None, clock=clock, **teams_settings(kit, connector)) as app:
        [m] = await ingest(app, event(mention_data(1)))
        for _ in range(12):
            await later(app, clock, 61)
        metrics = await metrics_of(app)
        jobs = await jobs_of(app)
    assert card_post(connector, m["id"])  # posted once the credentials were taken
    if refusal == "connector 401":
        assert [c.status for c in connector.calls_to(POST)] == [401] * 6 + [201]
    else:
        assert [t.status for t in kit.token_requests] == [401] * 6 + [200]
    assert lines(connector) == [] and len(connector.posts(CHANNEL)) == 1
    [card_job] = [job for job in jobs if job.kind == "teams.card"]
    assert card_job.done and card_job.failed_at is None and card_job.attempts >= 7
    assert 'webcare_outbox_failed_jobs{kind="teams.card"} 1.0' not in metrics
    assert not tracebacks(caplog)


async def test_a_failure_line_shows_what_it_quotes_as_written(sqlite_url, kit, connector, clock):
    """A reason can quote what a customer sent: in the line it links, formats and mentions nothing."""
    hostile = ("Mention #7 could not be shown on Teams: ValueError: bad url '[see](https://evil.example/x)' "
               "<at>Anna de Vries</at> **now** https://evil.example @channel")
    async with running_app(sqlite_url, None, clock=clock, **teams_settings(kit, connector)) as app:
        async with context_of(app).db.uow() as uow:
            await uow.outbox.once("teams:notice:failed:41:1", "teams.notice", None,
                                  {"kind": "failed", "text": hostile, "mention_id": 7}, clock())
            await uow.commit()
        relay_of(app).wake()
        await until(app, lambda: lines(connector), what="the line")
        await later(app, clock)
    [post] = connector.posts(CHANNEL)
    [card] = cards_in(post)
    assert card_text(card).strip() == f"⚠ {hostile}"
    # markdown is never parsed: the text is in TextRuns only (the one TextBlock is the hidden marker)
    assert [b["text"] for b in blocks_of(card, "TextBlock") if b.get("isVisible", True)] == []
    assert all(run["type"] == "TextRun" and "selectAction" not in run
               for block in blocks_of(card, "RichTextBlock") for run in block["inlines"])
    assert "<at>" not in json.dumps(card, ensure_ascii=False) and "entities" not in card["msteams"]
    assert [c.status for c in connector.calls_to(POST)] == [201]


def blocks_of(card: Any, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(card, dict):
        if card.get("type") == kind:
            found.append(card)
        for value in card.values():
            found += blocks_of(value, kind)
    elif isinstance(card, list):
        for value in card:
            found += blocks_of(value, kind)
    return found


async def test_the_fake_refuses_an_activity_over_28_kb_like_teams():
    """Teams' own limit on one message, activity and card included: over it is a 413 and nothing is posted."""
    async with BotConnectorFake() as connector, aiohttp.ClientSession() as http:
        url = f"{connector.url}v3/conversations/{CHANNEL}/activities"
        async with http.post(url, json=activity(MESSAGE_LIMIT)) as fits:
            assert fits.status == 201, await fits.text()
        async with http.post(url, json=activity(MESSAGE_LIMIT + 1)) as refused:
            assert refused.status == 413
            assert (await refused.json())["error"]["code"] == "MessageSizeTooBig"
        assert len(connector.posts(CHANNEL)) == 1


def activity(size: int) -> dict[str, Any]:
    """A message activity of exactly `size` bytes as compact JSON."""
    body = {"type": "message", "text": ""}
    body["text"] = "x" * (size - len(json.dumps(body, separators=(",", ":"))))
    return body
