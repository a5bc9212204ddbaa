"""App tests of `POST /ingest/v1/mentions`: signatures, limits, schema errors, de-duplication, replays, races."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient

from bot.http.signing import sign
from bot.storage.models import Mention
from tests.fakes.slack_api import SlackFake
from tests.support import (
    FIXTURES,
    INGEST_SECRET,
    context_of,
    event,
    ingest,
    mention_data,
    running_app,
    signed,
)

ROUTE = "/ingest/v1/mentions"
MIB = 1024 * 1024
OTHER_SECRET = "whsec_" + base64.b64encode(b"a-secret-this-server-never-heard-of").decode()
NEW_SECRET = "whsec_" + base64.b64encode(b"the-rotated-ingest-secret-32-bytes").decode()
TABLES = ("mention", "outbox", "ingestreceipt", "audit")


def encode(ev: dict[str, Any]) -> bytes:
    """The wire body of an event."""
    return json.dumps(ev).encode()


def batch(*items: dict[str, Any]) -> dict[str, Any]:
    """A mention.batch envelope."""
    return {"type": "mention.batch", "data": {"items": list(items)}}


def minimal(n: int) -> dict[str, Any]:
    """The smallest valid mention data (only the required fields)."""
    return {"source": "rss", "source_mention_id": f"r{n}", "network": "rss", "text": "t",
            "published_at": "2026-11-20T10:00:05Z"}


async def deliver(client: TestClient, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    """POST to the ingest route; return status and JSON answer (no response may ever be a 500)."""
    response = await client.post(ROUTE, data=body, headers=headers)
    assert response.status != 500, await response.text()
    assert response.content_type == "application/json", await response.text()
    return response.status, await response.json()


async def counts(client: TestClient) -> dict[str, int]:
    """How many rows each ingest-related table holds."""
    async with context_of(client).db.engine.connect() as conn:
        return {t: (await conn.execute(sa.text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}


async def assert_nothing_stored(client: TestClient) -> None:
    assert await counts(client) == dict.fromkeys(TABLES, 0)


async def stored(client: TestClient, mention_id: int) -> Mention:
    """The stored mention row."""
    async with context_of(client).db.uow() as uow:
        mention = await uow.mentions.get(mention_id)
    assert mention is not None
    return mention


async def raw_request(client: TestClient, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send bytes the HTTP client would refuse to produce; return the status and body of the first answer."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(head + b"\r\n" + body)
        await writer.drain()
        status_line = await reader.readline()
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        answer = await reader.readexactly(int(headers.get("content-length", "0")))
    finally:
        writer.close()
    return int(status_line.split()[1]), answer


@pytest.fixture
async def app(database_url: str, slack: SlackFake) -> AsyncIterator[TestClient]:
    """The whole server with Slack on, so every new mention also queues a card job."""
    async with running_app(database_url, slack.url) as client:
        yield client


# --- accepted deliveries, de-duplication ------------------------------------------------------------


async def test_single_event_is_stored_and_answered_202(app):
    status, answer = await deliver(app, body := encode(event(mention_data(1))), signed(body))
    assert status == 202
    [entry] = answer["mentions"]
    assert entry["duplicate"] is False
    mention = await stored(app, entry["id"])
    assert (mention.source, mention.source_mention_id, mention.author_followers) == ("meltwater", "mw:doc:1", 312)
    assert await counts(app) == {"mention": 1, "outbox": 1, "ingestreceipt": 1, "audit": 1}


async def test_same_mention_again_is_a_duplicate_and_stores_nothing_new(app):
    [first] = await ingest(app, event(mention_data(1)))
    before = await counts(app)
    [again] = await ingest(app, event(mention_data(1, text="edited later")))
    assert again == {"id": first["id"], "duplicate": True}
    assert (await stored(app, first["id"])).text != "edited later"
    assert await counts(app) == {**before, "ingestreceipt": 2}


async def test_same_post_from_a_second_listening_tool_is_a_duplicate(app):
    [first] = await ingest(app, event(mention_data(1)))
    [second] = await ingest(app, event(mention_data(1, source="brandwatch", source_mention_id="bw:555")))
    assert second == {"id": first["id"], "duplicate": True}
    assert (await counts(app))["mention"] == 1


async def test_same_item_id_on_another_network_is_a_different_mention(app):
    [first] = await ingest(app, event(mention_data(1)))
    [other] = await ingest(app, event(mention_data(1, source="brandwatch", source_mention_id="bw:555",
                                                   network="facebook")))
    assert other["duplicate"] is False and other["id"] != first["id"]


async def test_batch_answers_every_item_in_order_with_a_duplicate_inside(app):
    [earlier] = await ingest(app, event(mention_data(9)))
    items = [mention_data(1), mention_data(2), mention_data(1), mention_data(9), mention_data(3)]
    status, answer = await deliver(app, body := encode(batch(*items)), signed(body))
    assert status == 202
    entries = answer["mentions"]
    assert [e["duplicate"] for e in entries] == [False, False, True, True, False]
    assert entries[2]["id"] == entries[0]["id"] and entries[3]["id"] == earlier["id"]
    for entry, item in zip(entries, items, strict=True):
        assert (await stored(app, entry["id"])).source_mention_id == item["source_mention_id"]
    assert (await counts(app))["mention"] == 4


async def test_batch_of_500_is_accepted_and_501_is_refused(database_url):
    async with running_app(database_url) as client:
        status, answer = await deliver(client, body := encode(batch(*map(minimal, range(501)))), signed(body))
        assert status == 400
        assert "data.items" in [e["path"] for e in answer["errors"]]
        await assert_nothing_stored(client)
        status, answer = await deliver(client, body := encode(batch(*map(minimal, range(500)))), signed(body))
        assert status == 202 and len(answer["mentions"]) == 500


async def test_recorded_fixture_with_extra_fields_is_accepted(app):
    body = (FIXTURES / "social" / "generic_mention_created.json").read_bytes()
    status, answer = await deliver(app, body, signed(body))
    assert status == 202
    mention = await stored(app, answer["mentions"][0]["id"])
    assert mention.author_handle == "sannedv" and mention.network_item_id == "1991438273645195264"
    assert mention.raw == {"meltwater_hook_id": "hk_01HZX3", "document_id": "7f3a9c2e1b"}


async def test_text_and_raw_are_stored_exactly_as_sent(app):
    text = "Nog steeds niks \U0001f621 \u202egnirts\u202c <@U01ANNA> *bold* \u2028 next line"
    raw = {"nested": {"nul": "a\u0000b", "big": 10**30, "list": [None, True, 1.5]}}
    [entry] = await ingest(app, event(mention_data(1, text=text, raw=raw)))
    mention = await stored(app, entry["id"])
    assert (mention.text, mention.raw) == (text, raw)


async def test_body_arriving_in_many_small_chunks_is_read_whole(app):
    body = encode(batch(*(mention_data(n, text="x" * 1500) for n in range(60))))
    assert 64 * 1024 < len(body) < 256 * 1024

    async def trickle() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 4096):
            yield body[start:start + 4096]
            await asyncio.sleep(0)

    status, answer = await deliver(app, trickle(), signed(body))
    assert status == 202 and len(answer["mentions"]) == 60


# --- replays ---------------------------------------------------------------------------------------


async def test_replayed_webhook_id_gets_the_same_answer_and_no_second_effect(app):
    body = encode(event(mention_data(1)))
    headers = signed(body, msg_id="msg_replayed")
    first = await deliver(app, body, headers)
    before = await counts(app)
    assert await deliver(app, body, headers) == first
    assert first[0] == 202 and first[1]["mentions"][0]["duplicate"] is False
    assert await counts(app) == before == {"mention": 1, "outbox": 1, "ingestreceipt": 1, "audit": 1}


async def test_replayed_webhook_id_with_another_body_has_no_effect(app):
    first = await deliver(app, body := encode(event(mention_data(1))), signed(body, msg_id="msg_once"))
    status, answer = await deliver(app, body := encode(event(mention_data(2))), signed(body, msg_id="msg_once"))
    assert 200 <= status < 300 and answer == first[1]
    assert (await counts(app))["mention"] == 1


# --- signatures ------------------------------------------------------------------------------------


async def test_each_secret_of_a_rotation_is_accepted(sqlite_url):
    async with running_app(sqlite_url, ingest_secret=f"{INGEST_SECRET} {NEW_SECRET}") as client:
        for n, secret in enumerate((INGEST_SECRET, NEW_SECRET)):
            body = encode(event(mention_data(n)))
            status, _ = await deliver(client, body, signed(body, secret=secret))
            assert status == 202
        status, _ = await deliver(client, body := encode(event(mention_data(7))), signed(body, secret=OTHER_SECRET))
        assert status == 401
        assert (await counts(client))["mention"] == 2


async def test_one_valid_signature_among_several_is_accepted(sqlite_url):
    async with running_app(sqlite_url) as client:
        body = encode(event(mention_data(1)))
        headers = signed(body)
        stale = sign(OTHER_SECRET, headers["webhook-id"], int(headers["webhook-timestamp"]), body)
        headers["webhook-signature"] = f"v1a,c29tZXRoaW5n {stale} v1,@@@ {headers['webhook-signature']}"
        status, _ = await deliver(client, body, headers)
        assert status == 202


UNSIGNED = {
    "no signature headers": lambda body: {"Content-Type": "application/json"},
    "no webhook-id": lambda body: {k: v for k, v in signed(body).items() if k != "webhook-id"},
    "no webhook-timestamp": lambda body: {k: v for k, v in signed(body).items() if k != "webhook-timestamp"},
    "no webhook-signature": lambda body: {k: v for k, v in signed(body).items() if k != "webhook-signature"},
    "signature of another body": lambda body: signed(body + b" "),
    "unknown secret": lambda body: signed(body, secret=OTHER_SECRET),
    "stale timestamp": lambda body: signed(body, timestamp=int(time.time()) - 400),
    "future timestamp": lambda body: signed(body, timestamp=int(time.time()) + 400),
    "signature without comma": lambda body: {**signed(body), "webhook-signature": "v1"},
    "signature not base64": lambda body: {**signed(body), "webhook-signature": "v1,%%%not*base64%%%"},
    "signature truncated": lambda body: {**(h := signed(body)), "webhook-signature": h["webhook-signature"][:-6]},
    "timestamp not a number": lambda body: {**signed(body), "webhook-timestamp": "yesterday"},
    "timestamp with 5000 digits": lambda body: {**signed(body), "webhook-timestamp": "9" * 5000},
    "timestamp in milliseconds": lambda body: {**signed(body), "webhook-timestamp": str(int(time.time() * 1000))},
}


@pytest.mark.parametrize("make_headers", UNSIGNED.values(), ids=UNSIGNED.keys())
async def test_unsigned_or_badly_signed_delivery_is_401_and_stores_nothing(sqlite_url, slack, make_headers):
    async with running_app(sqlite_url, slack.url) as client:
        body = encode(event(mention_data(1)))
        status, answer = await deliver(client, body, make_headers(body))
        assert status == 401
        assert answer["error"] == "invalid_signature" and "signature" in answer["message"].lower()
        await assert_nothing_stored(client)


@pytest.mark.parametrize("timestamp", ["\u00b2\u00b3", "\u0663\u0664"], ids=["superscript", "arabic-indic"])
async def test_unicode_digits_in_the_timestamp_are_401(sqlite_url, timestamp):
    async with running_app(sqlite_url) as client:
        body = encode(event(mention_data(1)))
        head = (f"POST {ROUTE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nwebhook-id: msg_1\r\nwebhook-signature: v1,AAAA\r\n"
                f"webhook-timestamp: {timestamp}\r\nConnection: close\r\n").encode()
        status, _ = await raw_request(client, head, body)
        assert status == 401
        await assert_nothing_stored(client)


async def test_non_utf8_bytes_in_the_webhook_id_are_401(sqlite_url):
    async with running_app(sqlite_url) as client:
        body = encode(event(mention_data(1)))
        head = (f"POST {ROUTE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nwebhook-timestamp: {int(time.time())}\r\n"
                "webhook-signature: v1,AAAA\r\nConnection: close\r\n").encode() + b"webhook-id: msg_\xff\xfe\r\n"
        status, answer = await raw_request(client, head, body)
        assert status == 401, answer
        await assert_nothing_stored(client)


# --- size, media type, JSON ------------------------------------------------------------------------


def _oversized() -> bytes:
    """A valid event of 1 MiB: accepted if the size limit did not hold."""
    return encode(event(mention_data(1, raw={"padding": "p" * MIB})))


async def test_body_over_the_limit_is_413(sqlite_url, slack):
    async with running_app(sqlite_url, slack.url) as client:
        status, answer = await deliver(client, body := _oversized(), signed(body))
        assert status == 413 and "KiB" in answer["message"]
        await assert_nothing_stored(client)


async def test_body_over_the_limit_without_content_length_is_413(sqlite_url, slack):
    body = _oversized()

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    async with running_app(sqlite_url, slack.url) as client:
        status, answer = await deliver(client, chunked(), signed(body))
        assert status == 413 and answer["error"] == "payload_too_large"
        await assert_nothing_stored(client)


async def test_content_length_that_understates_the_body_stores_nothing(sqlite_url, slack):
    body = _oversized()
    headers = "".join(f"{k}: {v}\r\n" for k, v in signed(body).items())
    head = f"POST {ROUTE} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: 1000\r\n".encode()
    async with running_app(sqlite_url, slack.url) as client:
        status, _ = await raw_request(client, head, body)
        assert status in (400, 401)  # the declared 1000 bytes are not what was signed; the rest is not HTTP
        await assert_nothing_stored(client)


async def test_content_length_beside_chunked_transfer_is_refused(sqlite_url, slack):
    body = _oversized()
    headers = "".join(f"{k}: {v}\r\n" for k, v in signed(body).items())
    head = (f"POST {ROUTE} HTTP/1.1\r\nHost: x\r\n{headers}Content-Length: 100\r\n"
            "Transfer-Encoding: chunked\r\n").encode()
    async with running_app(sqlite_url, slack.url) as client:
        status, _ = await raw_request(client, head, f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        assert status in (400, 413)
        await assert_nothing_stored(client)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
async def test_non_json_content_type_is_415(sqlite_url, content_type):
    async with running_app(sqlite_url) as client:
        body = encode(event(mention_data(1)))
        status, answer = await deliver(client, body, {**signed(body), "Content-Type": content_type})
        assert status == 415 and "application/json" in answer["message"]
        await assert_nothing_stored(client)


async def test_json_content_type_with_charset_is_accepted(sqlite_url):
    async with running_app(sqlite_url) as client:
        body = encode(event(mention_data(1)))
        status, _ = await deliver(client, body, {**signed(body), "Content-Type": "application/json; charset=utf-8"})
        assert status == 202


def _with_raw(raw_json: str) -> bytes:
    return encode(event(mention_data(1, raw={"x": 1}))).replace(b'{"x": 1}', raw_json.encode())


NOT_JSON = {
    "malformed": b'{"type": "mention.created", "data": {',
    "empty": b"",
    "array": b"[]",
    "string": b'"mention.created"',
    "100,000 nested arrays in raw": _with_raw("[" * 100_000 + "]" * 100_000),
    "40,000 nested objects in raw": _with_raw('{"a":' * 40_000 + "1" + "}" * 40_000),
    "NaN in raw": _with_raw('{"x": NaN}'),
    "Infinity in raw": _with_raw('{"x": [1e999]}'),
    "latin-1 text": json.dumps(event(mention_data(1, text="caf\u00e9")), ensure_ascii=False).encode("latin-1"),
    "utf-16": json.dumps(event(mention_data(1))).encode("utf-16"),
    "lone surrogate escape": encode(event(mention_data(1, text="\ud800"))),
}


@pytest.mark.parametrize("body", NOT_JSON.values(), ids=NOT_JSON.keys())
async def test_body_that_is_not_a_json_object_is_400(database_url, slack, body):
    async with running_app(database_url, slack.url) as client:
        status, answer = await deliver(client, body, signed(body))
        assert status == 400 and answer["error"] == "invalid_event", answer
        assert answer["errors"] and all(e["problem"] for e in answer["errors"])
        await assert_nothing_stored(client)


# --- schema errors name every field ---------------------------------------------------------------


def _drop(*path: str) -> dict[str, Any]:
    ev = event(mention_data(1))
    target = ev
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return ev


SCHEMA_ERRORS = {
    "no type": (_drop("type"), ["type"]),
    "unknown type": ({**event(mention_data(1)), "type": "mention.deleted"}, ["type"]),
    "no source": (_drop("data", "source"), ["data.source"]),
    "no source_mention_id": (_drop("data", "source_mention_id"), ["data.source_mention_id"]),
    "no network": (_drop("data", "network"), ["data.network"]),
    "no text": (_drop("data", "text"), ["data.text"]),
    "no published_at": (_drop("data", "published_at"), ["data.published_at"]),
    "no data": (_drop("data"), ["data"]),
    "followers as a string": (event(mention_data(1, author={"followers": "312"})), ["data.author.followers"]),
    "negative followers": (event(mention_data(1, author={"followers": -1})), ["data.author.followers"]),
    "followers beyond any account": (event(mention_data(1, author={"followers": 10**15})), ["data.author.followers"]),
    "text as a number": (event(mention_data(1, text=5)), ["data.text"]),
    "empty text": (event(mention_data(1, text="")), ["data.text"]),
    "NUL in text": (event(mention_data(1, text="order \u0000 lost")), ["data.text"]),
    "NUL in handle": (event(mention_data(1, author={"handle": "sanne\u0000"})), ["data.author.handle"]),
    "unknown network": (event(mention_data(1, network="myspace")), ["data.network"]),
    "unknown reply_via": (event(mention_data(1, reply_via="carrier-pigeon")), ["data.reply_via"]),
    "naive published_at": (event(mention_data(1, published_at="2026-11-20T10:00:05")), ["data.published_at"]),
    "garbage published_at": (event(mention_data(1, published_at="last tuesday")), ["data.published_at"]),
    "published_at as unix seconds": (event(mention_data(1, published_at=1763632805)), ["data.published_at"]),
    "published_at before year 1 in UTC": (event(mention_data(1, published_at="0001-01-01T00:30:00+01:00")),
                                          ["data.published_at"]),
    "published_at after year 9999 in UTC": (event(mention_data(1, published_at="9999-12-31T23:30:00-01:00")),
                                            ["data.published_at"]),
    "url not http": (event(mention_data(1, url="javascript:alert(1)")), ["data.url"]),
    "profile_url not http": (event(mention_data(1, author={"profile_url": "javascript:alert(1)"})),
                             ["data.author.profile_url"]),
    "raw not an object": (event(mention_data(1, raw=[1, 2])), ["data.raw"]),
    "several at once": (event(mention_data(1, text=5, network="myspace", author={"followers": "312"})),
                        ["data.author.followers", "data.network", "data.text"]),
    "batch item": (batch(mention_data(1), mention_data(2, text=None)), ["data.items.1.text"]),
    "empty batch": (batch(), ["data.items"]),
}


@pytest.mark.parametrize(("ev", "paths"), SCHEMA_ERRORS.values(), ids=SCHEMA_ERRORS.keys())
async def test_schema_error_is_400_naming_each_field(database_url, slack, ev, paths):
    async with running_app(database_url, slack.url) as client:
        status, answer = await deliver(client, body := encode(ev), signed(body))
        assert status == 400, answer
        assert sorted({e["path"] for e in answer["errors"]}) == paths
        assert answer["error"] == "invalid_event" and answer["message"]
        await assert_nothing_stored(client)


# --- ingest switched off ---------------------------------------------------------------------------


async def test_ingest_without_a_secret_is_503_naming_the_variable(sqlite_url):
    async with running_app(sqlite_url, ingest_secret=None) as client:
        status, answer = await deliver(client, body := encode(event(mention_data(1))), signed(body))
        assert status == 503 and "WEBCARE_INGEST_SECRET" in answer["message"]
        await assert_nothing_stored(client)


# --- races -----------------------------------------------------------------------------------------


async def test_twenty_concurrent_deliveries_of_one_mention_store_it_once(app):
    body = encode(event(mention_data(1)))
    answers = await asyncio.gather(*(deliver(app, body, signed(body)) for _ in range(20)))
    assert [status for status, _ in answers] == [202] * 20
    entries = [answer["mentions"][0] for _, answer in answers]
    assert len({e["id"] for e in entries}) == 1
    assert sorted(e["duplicate"] for e in entries) == [False] + [True] * 19
    assert await counts(app) == {"mention": 1, "outbox": 1, "ingestreceipt": 20, "audit": 1}


async def test_ten_concurrent_deliveries_with_one_webhook_id_have_one_effect(app):
    body = encode(event(mention_data(1)))
    headers = signed(body, msg_id=f"msg_{uuid.uuid4().hex}")
    answers = await asyncio.gather(*(deliver(app, body, headers) for _ in range(10)))
    assert all(200 <= status < 300 for status, _ in answers)
    assert [answer for _, answer in answers] == [answers[0][1]] * 10
    assert answers[0][1]["mentions"][0]["duplicate"] is False
    assert await counts(app) == {"mention": 1, "outbox": 1, "ingestreceipt": 1, "audit": 1}


async def test_a_delivery_during_another_process_write_waits_without_stalling_the_server(sqlite_url, slack):
    async with running_app(sqlite_url, slack.url) as client:
        other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # e.g. `webcare ingest FILE` writing to the same file
        try:
            body = encode(event(data := mention_data(1)))
            delivery = asyncio.create_task(deliver(client, body, headers := signed(body)))
            started = time.monotonic()
            await asyncio.sleep(0.3)
            health = await client.get("/healthz")
            assert health.status == 200
            assert time.monotonic() - started < 1.5  # the server's loop never sat in SQLite's busy wait
            assert not delivery.done()
        finally:
            other.execute("COMMIT")
            other.close()
        status, answer = await asyncio.wait_for(delivery, 10)
        if status == 503:  # not committed within the write deadline (a loaded machine): the sender retries
            status, answer = await deliver(client, body, headers)
        assert status == 202
        assert (await stored(client, answer["mentions"][0]["id"])).source_mention_id == data["source_mention_id"]
