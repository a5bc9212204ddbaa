"""App: `POST /ingest/v1/mentions` refuses bad input in one escaped, bounded log line, and a stalled body in time.

(`test_ingest_route.py` covers each refusal's status and answer; here: what the log says, and slow clients.)
"""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from tests.inbound import FORGED, abandoned, assert_quiet_log, half_sent, refusals, served, short_body_timeout
from tests.support import context_of, event, mention_data, signed

ROUTE = "/ingest/v1/mentions"
TABLES = ("mention", "outbox", "ingestreceipt", "audit")


@pytest.fixture
async def app(database_url, slack, monkeypatch):
    short_body_timeout(monkeypatch)
    async with served(database_url, slack.url) as client:
        yield client


async def stored_rows(client) -> int:
    async with context_of(client).db.engine.connect() as conn:
        return sum([(await conn.execute(sa.text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES])


def body_with(text: str) -> bytes:
    return json.dumps(event(mention_data(1, text=text))).encode()


BAD = {
    "unsigned": (401, "invalid_signature", lambda body: {"Content-Type": "application/json"}),
    "bad signature": (401, "invalid_signature", lambda body: signed(body + b" ")),
    "stale": (401, "invalid_signature", lambda body: signed(body, timestamp=int(time.time()) - 400)),
    "not JSON": (415, "unsupported_media_type", lambda body: {**signed(body), "Content-Type": "text/plain"}),
}


@pytest.mark.parametrize(("status", "code", "make_headers"), BAD.values(), ids=BAD.keys())
async def test_a_refused_delivery_is_one_log_line_without_its_body(app, caplog, status, code, make_headers):
    body = body_with("order lost" + FORGED)
    response = await app.post(ROUTE, data=body, headers=make_headers(body))
    assert response.status == status
    assert await stored_rows(app) == 0
    assert_quiet_log(caplog)
    [line] = refusals(caplog, "ingest")
    assert line.startswith(f"ingest: refused {status} {code}: ")
    assert "order lost" not in caplog.text and "forged" not in caplog.text


async def test_a_schema_error_is_logged_with_the_field_paths_escaped_and_bounded(app, caplog):
    items = [{"source": "rss", "text": "x" + FORGED} for _ in range(500)]  # 500 items, each missing fields
    body = json.dumps({"type": "mention.batch", "data": {"items": items}}).encode()
    response = await app.post(ROUTE, data=body, headers=signed(body))
    assert response.status == 400
    assert_quiet_log(caplog, limit=400)
    [line] = refusals(caplog, "ingest")
    assert line.startswith("ingest: refused 400 invalid_event: schema errors at data.items.0.network")
    assert "forged" not in caplog.text


async def test_a_huge_unsigned_body_is_413_in_one_short_line(app, caplog):
    body = body_with(FORGED + "x" * 300_000)
    response = await app.post(ROUTE, data=body, headers={"Content-Type": "application/json"})
    assert response.status == 413
    assert_quiet_log(caplog)
    assert refusals(caplog, "ingest") == ["ingest: refused 413 payload_too_large: The body is larger than 256 KiB."]


async def test_a_half_sent_body_is_408_and_an_abandoned_one_is_no_storage_error(app, caplog):
    body = body_with("order lost")
    started = time.monotonic()
    assert await half_sent(app, ROUTE, signed(body), body) == 408
    assert time.monotonic() - started < 10  # the body timeout, not the client, ended it
    for _ in range(5):  # abandoned uploads: each one line at INFO, none an ERROR "storage unavailable"
        await abandoned(app, ROUTE, signed(body), body)
    assert await stored_rows(app) == 0
    assert_quiet_log(caplog)
    assert [line.split(":")[1] for line in refusals(caplog, "ingest")] == (
        [" refused 408 body_timeout"] + [" refused 400 body_incomplete"] * 5)
    assert "storage unavailable" not in caplog.text
