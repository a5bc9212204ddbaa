"""Test helpers: run the real app in-process, sign Slack and ingest requests, build events."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.signature import SignatureVerifier as SlackSignatureVerifier

from bot.app import CONTEXT, RELAY, create_app
from bot.config import Config, load_config
from bot.http.signing import signed_headers
from bot.settings import Settings
from bot.storage.models import utcnow

FIXTURES = Path(__file__).parent / "fixtures"
INGEST_SECRET = "whsec_" + "dGVzdC1pbmdlc3Qtc2VjcmV0LTMyLWJ5dGVzLWxvbmch"
SLACK_SIGNING_SECRET = "slack-signing-secret-for-tests-0123456789"
SLACK_TOKEN = "xoxb-fake-token"
TRIAGE_CHANNEL = "C0TRIAGE01"
REPLY_SECRET = "whsec_" + "cmVwbHktd2ViaG9vay1zZWNyZXQtZm9yLXRlc3RzIQ=="
TEAMS_APP_PASSWORD = "teams-app-password-for-tests-0123456789"
SECRETS = (TEAMS_APP_PASSWORD, INGEST_SECRET, INGEST_SECRET.removeprefix("whsec_"), SLACK_SIGNING_SECRET, SLACK_TOKEN,
           REPLY_SECRET, REPLY_SECRET.removeprefix("whsec_"))
TEAM_TOML = FIXTURES / "webcare.toml"
TEAM_PLAYBOOKS = FIXTURES / "playbooks" / "team"


class HandClock:
    """A clock the test sets (`now`) or moves by hand: time stands still in between."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class ShiftedClock:
    """Real time plus an offset the test sets or moves (jobs retried "in a second" still come due)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)

    def set(self, at: datetime) -> None:
        self.offset = at - datetime.now(UTC)


def team_config(**people: dict[str, Any]) -> Config:
    """The team every test works with; `carla={"teams": "29:3carla"}` changes someone for one test."""
    config = load_config(TEAM_TOML)
    if not people:
        return config
    changed = {key: replace(config.people[key], **changes) for key, changes in people.items()}
    return replace(config, people={**config.people, **changed})


def settings(database_url: str, slack_url: str | None = None, **overrides: Any) -> Settings:
    """Settings for a test server; Slack is on when a fake's URL is given."""
    values: dict[str, Any] = {"database_url": database_url, "ingest_secret": INGEST_SECRET,
                              "playbooks_dir": TEAM_PLAYBOOKS}
    if slack_url is not None:
        values.update(slack_bot_token=SLACK_TOKEN, slack_signing_secret=SLACK_SIGNING_SECRET,
                      slack_triage_channel=TRIAGE_CHANNEL, slack_api_url=slack_url)
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_app(database_url: str, slack_url: str | None = None, *, config: Config | None = None,
                      clock: Callable[[], datetime] = utcnow, reminder_seconds: float = 3600,
                      **overrides: Any) -> AsyncIterator[TestClient]:
    """The whole app served on a local port, relay running (the periodic checks only when a test asks for them,
    unless it gives their `reminder_seconds`)."""
    app = create_app(settings(database_url, slack_url, **overrides),
                     config=config if config is not None else team_config(), clock=clock, relay_poll_seconds=0.05,
                     reminder_seconds=reminder_seconds)
    async with TestClient(TestServer(app)) as client:
        yield client


def relay_of(client: TestClient):  # type: ignore[no-untyped-def]
    """The app's outbox relay (to drain it in tests)."""
    return client.server.app[RELAY]


async def settle_slack(client: TestClient) -> None:
    """Wait for the Bolt listeners still running after their ack, then for the outbox work they queued."""
    for _ in range(1000):  # at most 10 s; a listener normally takes milliseconds
        if not any(task.get_coro().__qualname__.endswith("run_ack_function_asynchronously")  # type: ignore[union-attr]
                   for task in asyncio.all_tasks()):
            break
        await asyncio.sleep(0.01)
    await relay_of(client).drain()


def context_of(client: TestClient):  # type: ignore[no-untyped-def]
    """The app's handler context (database, config)."""
    return client.server.app[CONTEXT]


def mention_data(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """The `data` of a mention.created event, unique per `n`."""
    data = json.loads((FIXTURES / "social" / "generic_mention_created.json").read_text())["data"]
    data.update(source_mention_id=f"mw:doc:{n}", network_item_id=f"19914382736451{n:05d}",
                url=f"https://x.com/sannedv/status/19914382736451{n:05d}",
                published_at=(datetime.now(UTC) - timedelta(minutes=5)).isoformat().replace("+00:00", "Z"))
    data.update(overrides)
    return data


def event(data: dict[str, Any]) -> dict[str, Any]:
    """A mention.created envelope."""
    return {"type": "mention.created", "timestamp": datetime.now(UTC).isoformat(), "data": data}


def signed(body: bytes, *, secret: str = INGEST_SECRET, msg_id: str | None = None,
           timestamp: int | None = None) -> dict[str, str]:
    """Standard Webhooks headers plus the JSON content type."""
    return {**signed_headers(secret, msg_id or f"msg_{uuid.uuid4().hex}", body, timestamp),
            "Content-Type": "application/json"}


async def ingest(client: TestClient, *events: dict[str, Any]) -> list[dict[str, Any]]:
    """POST each event signed and return the stored mentions' answers."""
    found = []
    for ev in events:
        body = json.dumps(ev).encode()
        response = await client.post("/ingest/v1/mentions", data=body, headers=signed(body))
        assert response.status == 202, await response.text()
        found.extend((await response.json())["mentions"])
    return found


def slack_headers(body: str, *, secret: str = SLACK_SIGNING_SECRET, content_type: str) -> dict[str, str]:
    """Headers of a Slack request signed the way Slack signs them (checked with slack_sdk's verifier)."""
    timestamp = str(int(time.time()))
    signature = SlackSignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature, "Content-Type": content_type}


async def post_interaction(client: TestClient, payload: dict[str, Any]) -> Any:
    """Send an interactivity payload (block_actions, view_submission) like Slack does."""
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    return await client.post("/slack/events", data=body,
                             headers=slack_headers(body, content_type="application/x-www-form-urlencoded"))


def block_action(user_id: str, action_id: str, value: str, *, user_name: str = "someone",
                 selected_option: str | None = None) -> dict[str, Any]:
    """A block_actions payload in Slack's shape (from the recorded fixture), for one button click."""
    payload = json.loads((FIXTURES / "slack" / "block_actions.json").read_text())
    payload["user"] = {"id": user_id, "username": user_name, "name": user_name, "team_id": "T0123TEAM"}
    payload["channel"] = {"id": TRIAGE_CHANNEL, "name": "webcare"}
    payload["container"]["channel_id"] = TRIAGE_CHANNEL
    action: dict[str, Any] = {"action_id": action_id, "block_id": "actions", "type": "button", "value": value,
                              "action_ts": f"{time.time():.6f}"}
    if selected_option is not None:
        action = {"action_id": action_id, "block_id": "actions", "type": "overflow",
                  "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": selected_option},
                  "action_ts": f"{time.time():.6f}"}
    payload["actions"] = [action]
    return payload


def view_submission(user_id: str, callback_id: str, private_metadata: str,
                    values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A view_submission payload in Slack's shape (from the recorded fixture)."""
    payload = json.loads((FIXTURES / "slack" / "view_submission.json").read_text())
    payload["user"] = {"id": user_id, "username": user_id, "name": user_id, "team_id": "T0123TEAM"}
    payload["view"]["callback_id"] = callback_id
    payload["view"]["private_metadata"] = private_metadata
    payload["view"]["state"] = {"values": {block: {block: value} for block, value in values.items()}}
    return payload


async def slash(client: TestClient, user_id: str, text: str, *, channel_id: str = TRIAGE_CHANNEL) -> Any:
    """Send `/webcare <text>`, typed in a channel (the triage channel unless given), like Slack does."""
    fields = dict(urllib.parse.parse_qsl((FIXTURES / "slack" / "slash_command.txt").read_text().strip()))
    fields.update(command="/webcare", text=text, user_id=user_id, user_name=user_id, channel_id=channel_id)
    body = urllib.parse.urlencode(fields)
    return await client.post("/slack/events", data=body,
                             headers=slack_headers(body, content_type="application/x-www-form-urlencoded"))

