"""Edge: `POST /slack/events` checks Slack's signature on the raw body before anything parses it.

The matrix sends what a hostile or broken client would — unsigned, badly signed, malformed (signed
and not), huge, half-sent — and checks the status, that the log holds no traceback and no part of
the body, and that nothing happened: no claim, no call to Slack.
"""

from __future__ import annotations

import hmac
import json
import time
import urllib.parse
from typing import Any

import pytest

from tests.edges.teams.wire import claims_of
from tests.inbound import FORGED, abandoned, assert_quiet_log, half_sent, refusals, served, short_body_timeout
from tests.support import (
    SLACK_SIGNING_SECRET,
    block_action,
    event,
    ingest,
    mention_data,
    relay_of,
    settle_slack,
    slack_headers,
)

ROUTE = "/slack/events"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@pytest.fixture
async def app(database_url, slack, monkeypatch):
    short_body_timeout(monkeypatch)
    async with served(database_url, slack.url) as client:
        yield client
        await settle_slack(client)


async def a_posted_card(client, slack) -> int:
    """A mention whose card is in the channel; Slack's calls so far forgotten."""
    [m] = await ingest(client, event(mention_data(1)))
    await relay_of(client).drain()
    slack.calls.clear()
    return int(m["id"])


def form(payload: Any) -> str:
    return urllib.parse.urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)})


def claim_form(mention_id: int) -> str:
    return form(block_action("U03CARLA", "webcare.claim", str(mention_id)))


def malformed(mention_id: int) -> dict[str, tuple[str, str | bytes]]:
    """Signed bodies that are not what Slack sends (each names the mention, so a lax parser would claim it)."""
    click = block_action("U03CARLA", "webcare.claim", str(mention_id))
    return {
        "JSON cut short": (JSON, '{bad'),
        "JSON array": (JSON, "[]"),
        "JSON string": (JSON, '"event_callback"'),
        "type a number": (JSON, '{"type": 5}'),
        "event a string": (JSON, '{"type": "event_callback", "event": "app_mention"}'),
        "not UTF-8": (JSON, b'{"type": "event_callback", "x": "\xff\xfe"}'),
        "payload cut short": (FORM, form('{"type": "block_actions", "actions": [')),
        "payload an array": (FORM, form([click])),
        "payload without user or actions": (FORM, form({"type": "block_actions"})),
        "actions a string": (FORM, form({**click, "actions": "webcare.claim"})),
        "actions empty": (FORM, form({**click, "actions": []})),
        "action a string": (FORM, form({**click, "actions": ["webcare.claim"]})),
        "user a string": (FORM, form({**click, "user": "U03CARLA"})),
        "view a string": (FORM, form({"type": "view_submission", "user": click["user"], "view": "x"})),
        "command without a user": (FORM, urllib.parse.urlencode({"command": "/webcare", "text": "queue"})),
    }


MALFORMED = tuple(malformed(1))


@pytest.mark.parametrize("case", MALFORMED)
async def test_signed_but_malformed_payloads_are_4xx_and_do_nothing(app, slack, caplog, case):
    mention_id = await a_posted_card(app, slack)
    caplog.clear()
    content_type, body = malformed(mention_id)[case]
    headers = slack_headers(body if isinstance(body, str) else "", content_type=content_type)
    if isinstance(body, bytes):  # signed as Slack signs, over the bytes (slack_sdk's signer wants UTF-8)
        signed = f"v0:{headers['X-Slack-Request-Timestamp']}:".encode() + body
        headers["X-Slack-Signature"] = "v0=" + hmac.new(SLACK_SIGNING_SECRET.encode(), signed, "sha256").hexdigest()
    response = await app.post(ROUTE, data=body, headers=headers)
    text = await response.text()
    assert 400 <= response.status < 500, (response.status, text)
    await settle_slack(app)
    assert slack.calls == [] and await claims_of(app, mention_id) == []
    assert_quiet_log(caplog)
    assert len(refusals(caplog, "slack")) == 1


UNSIGNED = {
    "no signature": lambda body: {"Content-Type": FORM},
    "another secret": lambda body: slack_headers(body, secret="not-the-signing-secret-0123456789", content_type=FORM),
    "signature of another body": lambda body: slack_headers(body + "&x=1", content_type=FORM),
    "stale timestamp": lambda body: {**slack_headers(body, content_type=FORM),
                                     "X-Slack-Request-Timestamp": str(int(time.time()) - 600)},
    "timestamp not a number": lambda body: {**slack_headers(body, content_type=FORM),
                                            "X-Slack-Request-Timestamp": "yesterday"},
}


@pytest.mark.parametrize("make_headers", UNSIGNED.values(), ids=UNSIGNED.keys())
async def test_unsigned_or_badly_signed_requests_are_401_and_the_body_is_not_logged(app, slack, caplog,
                                                                                     make_headers):
    mention_id = await a_posted_card(app, slack)
    caplog.clear()
    body = claim_form(mention_id) + urllib.parse.urlencode({"note": FORGED})
    response = await app.post(ROUTE, data=body, headers=make_headers(body))
    assert response.status == 401, await response.text()
    await settle_slack(app)
    assert slack.calls == [] and await claims_of(app, mention_id) == []
    assert_quiet_log(caplog)
    assert refusals(caplog, "slack") == ["slack: refused 401 invalid_signature: Missing, stale or invalid Slack "
                                         "signature."]
    assert "forged" not in caplog.text and "webcare.claim" not in caplog.text


async def test_a_malformed_unsigned_body_is_401_not_a_parse_error(app, slack, caplog):
    response = await app.post(ROUTE, data="{bad" + FORGED, headers={"Content-Type": JSON})
    assert response.status == 401
    assert_quiet_log(caplog)
    assert "forged" not in caplog.text


async def test_a_huge_body_is_413_and_not_logged(app, slack, caplog):
    body = claim_form(1) + "&" + urllib.parse.urlencode({"padding": FORGED + "x" * 300_000})
    response = await app.post(ROUTE, data=body, headers=slack_headers(body, content_type=FORM))
    assert response.status == 413
    assert_quiet_log(caplog)
    assert refusals(caplog, "slack") == ["slack: refused 413 payload_too_large: The body is larger than 256 KiB."]


async def test_a_half_sent_body_is_408_and_an_abandoned_one_is_no_storage_error(app, slack, caplog):
    mention_id = await a_posted_card(app, slack)
    body = claim_form(mention_id)
    assert await half_sent(app, ROUTE, slack_headers(body, content_type=FORM), body.encode()) == 408
    await abandoned(app, ROUTE, slack_headers(body, content_type=FORM), body.encode())
    await settle_slack(app)
    assert slack.calls == [] and await claims_of(app, mention_id) == []
    assert_quiet_log(caplog)
    assert [line.split(":")[1] for line in refusals(caplog, "slack")] == [" refused 408 body_timeout",
                                                                           " refused 400 body_incomplete"]


async def test_the_same_click_signed_and_whole_claims(app, slack):
    """The refusals above are the checks' doing: the well-formed signed click is taken."""
    mention_id = await a_posted_card(app, slack)
    body = claim_form(mention_id)
    response = await app.post(ROUTE, data=body, headers=slack_headers(body, content_type=FORM))
    assert response.status == 200, await response.text()
    await settle_slack(app)
    assert len(await claims_of(app, mention_id)) == 1
