"""App ring, real processes: claim races across two servers, SIGKILL mid-burst, Slack faults, restarts."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.parse
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import select

from bot.slack.ids import Action
from bot.storage.database import Database
from bot.storage.models import Audit, Mention, OutboxJob
from tests.fakes.slack_api import SlackFake
from tests.processes import ServerProcess, server_process, start_server, write_config
from tests.support import (
    SECRETS,
    TRIAGE_CHANNEL,
    block_action,
    context_of,
    event,
    ingest,
    mention_data,
    running_app,
    signed,
    slack_headers,
)

T = TypeVar("T")

SLACK_ACK_SECONDS = 3.0
TAKEOVER_SECONDS = 5.0  # docs/contract.md §9: a dead process's work is taken over within 5 s of its restart
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=10)


class WallClockSlack(SlackFake):
    """The Slack fake with timestamps like Slack's (epoch seconds of now), call times, and held answers.

    The shared fake numbers messages from a fixed 2024 epoch; the bot looks for an earlier post of an
    unknown outcome only among messages newer than the job, as it must on real Slack.
    """

    def __init__(self) -> None:
        super().__init__()
        self.call_times: list[tuple[str, float]] = []
        self.held = 0
        self._last_micros = 0
        self._hold: asyncio.Event | None = None

    def _next_ts(self) -> str:
        micros = max(time.time_ns() // 1000, self._last_micros + 1)
        self._last_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        self.call_times.append((method, time.monotonic()))
        response = await super()._handle(request)
        if method == "chat.postMessage" and self._hold is not None:
            self.held += 1
            await self._hold.wait()  # Slack posted it; the answer is still on its way
        return response

    def hold_posts(self) -> None:
        """Perform each chat.postMessage but keep its answer back until `release_posts`."""
        self._hold = asyncio.Event()

    def release_posts(self) -> None:
        """Let held answers go (to whoever still listens)."""
        if self._hold is not None:
            self._hold.set()
            self._hold = None

    def heal(self) -> None:
        """Forget every injected fault that has not fired yet."""
        self._faults.clear()

    def times_of(self, method: str) -> list[float]:
        """`time.monotonic()` of every call to `method` (faulted ones included)."""
        return [at for name, at in self.call_times if name == method]


@pytest.fixture
async def live_slack() -> AsyncIterator[WallClockSlack]:
    """The Slack fake on a local port, with wall-clock message timestamps."""
    async with WallClockSlack() as fake:
        try:
            yield fake
        finally:
            fake.release_posts()  # a held answer would keep the fake from closing


# -- helpers ---------------------------------------------------------------------------------


async def eventually(check: Callable[[], Awaitable[T] | T], *, timeout: float, what: str) -> T:
    """Poll `check` every 50 ms until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def database(url: str) -> AsyncIterator[Database]:
    """The servers' database, read from the test."""
    db = Database(url)
    try:
        yield db
    finally:
        await db.dispose()


async def mention_row(db: Database, mention_id: int) -> Mention:
    async with db.uow() as uow:
        mention = await uow.mentions.get(mention_id)
    assert mention is not None, f"mention {mention_id} is not in the database"
    return mention


async def audit_rows(db: Database, mention_id: int) -> list[Audit]:
    async with db.uow() as uow:
        return await uow.audit.for_mention(mention_id)


async def outbox_depth(db: Database) -> int:
    async with db.uow() as uow:
        return await uow.outbox.depth()


async def stored_mention_ids(db: Database) -> list[int]:
    async with db.uow() as uow:
        return sorted((await uow.session.exec(select(Mention.id))).all())  # type: ignore[arg-type]


async def outbox_empty(db: Database) -> bool:
    return await outbox_depth(db) == 0


def cards(fake: SlackFake) -> Counter[str]:
    """How many messages in the triage channel carry each card subject."""
    subjects = ((m.get("metadata") or {}).get("event_payload", {}).get("subject", "")
                for m in fake.messages(TRIAGE_CHANNEL))
    return Counter(s for s in subjects if s.startswith("card:"))


def card_message(fake: SlackFake, mention_id: int) -> dict[str, Any]:
    [card] = [m for m in fake.messages(TRIAGE_CHANNEL)
              if (m.get("metadata") or {}).get("event_payload", {}).get("subject") == f"card:{mention_id}"]
    return card


async def all_delivered(db: Database, fake: SlackFake, mention_ids: list[int]) -> bool:
    """Every mention has a card and the outbox has nothing left to do."""
    return set(cards(fake)) >= {f"card:{i}" for i in mention_ids} and await outbox_depth(db) == 0


def assert_clean_log(server: ServerProcess) -> None:
    log = server.stderr()
    for sign in ("database is locked", "Traceback", "incident"):
        assert sign not in log, f"{server.name} logged {sign!r}:\n{log[-4000:]}"
    assert not [secret for secret in SECRETS if secret in log], f"{server.name} logged a secret"


@dataclass(frozen=True)
class Delivery:
    """One signed mention delivery as a sender would retry it: same body, same webhook-id."""

    n: int
    msg_id: str
    body: bytes

    @classmethod
    def of(cls, n: int) -> Delivery:
        return cls(n, f"msg_crash_{n:04d}", json.dumps(event(mention_data(n))).encode())


async def deliver(http: aiohttp.ClientSession, server: ServerProcess, delivery: Delivery) -> int | None:
    """POST the delivery; the stored mention id if it was acknowledged (202), else None."""
    try:
        async with http.post(f"{server.url}/ingest/v1/mentions", data=delivery.body,
                             headers=signed(delivery.body, msg_id=delivery.msg_id), timeout=REQUEST_TIMEOUT) as r:
            if r.status != 202:
                return None
            [answer] = (await r.json())["mentions"]
            return int(answer["id"])
    except (aiohttp.ClientError, TimeoutError):
        return None


# -- claim race ------------------------------------------------------------------------------


async def test_twenty_simultaneous_claims_on_two_processes_have_exactly_one_winner(database_url, live_slack,
                                                                                    tmp_path: Path):
    agents = [(f"U9AGENT{i:02d}", f"agent{i:02d}") for i in range(20)]
    with write_config(tmp_path).open("a", encoding="utf-8") as config:  # twenty people on the team
        config.write("".join(f'\n[people.{name}]\nname = "{name}"\nslack = "{user}"\nroles = ["webcare"]\n'
                             for user, name in agents))
    async with (server_process(database_url, live_slack.url, tmp_path, name="a") as a,
                server_process(database_url, live_slack.url, tmp_path, name="b") as b,
                aiohttp.ClientSession() as http, database(database_url) as db):
        mention_id = await deliver(http, a, Delivery.of(1))
        assert mention_id is not None
        await eventually(lambda: cards(live_slack) == {f"card:{mention_id}": 1}, timeout=10, what="the card")
        await eventually(lambda: outbox_empty(db), timeout=10, what="the card job to finish")

        start = asyncio.Event()

        async def click(user: str, name: str, server: ServerProcess) -> tuple[int, float]:
            payload = block_action(user, Action.CLAIM, str(mention_id), user_name=name)
            body = urllib.parse.urlencode({"payload": json.dumps(payload)})
            headers = slack_headers(body, content_type="application/x-www-form-urlencoded")
            await start.wait()
            began = time.monotonic()
            async with http.post(f"{server.url}/slack/events", data=body, headers=headers,
                                 timeout=REQUEST_TIMEOUT) as response:
                await response.read()
                return response.status, time.monotonic() - began

        clicks = [asyncio.create_task(click(user, name, (a, b)[i % 2])) for i, (user, name) in enumerate(agents)]
        await asyncio.sleep(0.05)
        start.set()
        answers = await asyncio.gather(*clicks)

        assert [status for status, _ in answers] == [200] * 20
        assert max(seconds for _, seconds in answers) < SLACK_ACK_SECONDS
        await eventually(lambda: len(live_slack.ephemerals) >= 19, timeout=15, what="19 ephemerals")

        mention = await mention_row(db, mention_id)
        names = dict(agents)
        users = {name: user for user, name in agents}
        assert mention.state == "claimed" and mention.claimed_by in users  # the person's key in webcare.toml
        winner = users[mention.claimed_by]
        claims = [row for row in await audit_rows(db, mention_id) if row.action == "claim"]
        assert [row.actor for row in claims] == [mention.claimed_by]

        # the card catches up with the winner once a relay has run the update
        await eventually(lambda: f"<@{winner}>" in json.dumps(card_message(live_slack, mention_id)["blocks"]),
                         timeout=10, what="the card to show the winner")
        await eventually(lambda: outbox_empty(db), timeout=10, what="the relays to finish")

    assert sorted(e["user"] for e in live_slack.ephemerals) == sorted(user for user in names if user != winner)
    naming_the_winner = {f"Already claimed by <@{winner}>.", f"Already claimed by {names[winner]}."}
    assert {e["text"] for e in live_slack.ephemerals} <= naming_the_winner
    assert cards(live_slack) == {f"card:{mention_id}": 1}
    assert len(live_slack.calls_to("chat.postMessage")) == 1
    assert_clean_log(a)
    assert_clean_log(b)


# -- crash -----------------------------------------------------------------------------------


async def test_killed_mid_burst_and_restarted_every_acknowledged_mention_is_posted_once(database_url, live_slack,
                                                                                        tmp_path: Path):
    first_wave = [Delivery.of(n) for n in range(1, 7)]
    second_wave = [Delivery.of(n) for n in range(7, 31)]
    live_slack.hold_posts()  # posts are performed but unanswered: in flight when the server dies
    async with aiohttp.ClientSession() as http, database(database_url) as db:
        server = await start_server(database_url, live_slack.url, tmp_path, name="before-kill")
        try:
            answers = await asyncio.gather(*(deliver(http, server, d) for d in first_wave))
            acked = dict(zip(first_wave, answers, strict=True))
            assert None not in acked.values()
            await eventually(lambda: live_slack.held >= 1, timeout=10, what="a card post in flight")

            async def deliver_then_kill(index: int, delivery: Delivery) -> int | None:
                # Spread over ~0.5 s: group commit acknowledges concurrent deliveries together, so an
                # all-at-once burst could be acknowledged whole before the kill lands.
                await asyncio.sleep(index * 0.02)
                mention_id = await deliver(http, server, delivery)
                if mention_id is not None:
                    server.kill()  # SIGKILL as soon as the burst is partly acknowledged
                return mention_id

            answers = await asyncio.gather(*(deliver_then_kill(i, d) for i, d in enumerate(second_wave)))
            acked.update(zip(second_wave, answers, strict=True))
            await server.wait()
        finally:
            server.kill()
            live_slack.release_posts()
        posted_before_restart = cards(live_slack)
        unacknowledged = [d for d, mention_id in acked.items() if mention_id is None]
        assert unacknowledged, "the kill came after the whole burst was acknowledged"
        assert posted_before_restart, "no card was in flight at the kill"

        async with server_process(database_url, live_slack.url, tmp_path, name="after-restart") as again:
            for delivery in unacknowledged:  # the sender retries what it did not see acknowledged
                acked[delivery] = await deliver(http, again, delivery)
            assert None not in acked.values()
            mention_ids = sorted(acked.values())  # type: ignore[arg-type]
            assert len(set(mention_ids)) == len(first_wave) + len(second_wave)
            await eventually(lambda: all_delivered(db, live_slack, mention_ids), timeout=50,
                             what="every card after the restart")
            assert await stored_mention_ids(db) == mention_ids

    assert cards(live_slack) == {f"card:{i}": 1 for i in mention_ids}
    assert_clean_log(again)


async def lease_owners(db: Database) -> set[str]:
    """The relays holding outbound jobs right now."""
    async with db.uow() as uow:
        return await uow.outbox.holders()


async def test_jobs_a_killed_server_held_are_taken_over_by_its_restart_within_seconds_and_posted_once(
        database_url, live_slack, tmp_path: Path):
    deliveries = [Delivery.of(n) for n in range(1, 11)]
    live_slack.hold_posts()  # the first card is posted but its answer never comes: the server dies holding jobs
    async with aiohttp.ClientSession() as http, database(database_url) as db:
        server = await start_server(database_url, live_slack.url, tmp_path, name="killed")
        try:
            mention_ids = [await deliver(http, server, d) for d in deliveries]
            assert None not in mention_ids
            await eventually(lambda: live_slack.held >= 1, timeout=10, what="a card post in flight")
            dead = await lease_owners(db)
            assert len(dead) == 1, "the server held no jobs when it was killed"
            server.kill()
            await server.wait()
        finally:
            server.kill()
            live_slack.release_posts()

        async with server_process(database_url, live_slack.url, tmp_path, name="restarted") as again:
            restarted = time.monotonic()
            await eventually(lambda: none_held_by(db, dead), timeout=30, what="the dead server's jobs to be free")
            took = time.monotonic() - restarted
            await eventually(lambda: all_delivered(db, live_slack, mention_ids), timeout=40, what="every card")

    assert took < TAKEOVER_SECONDS, f"the restarted server took {took:.1f} s to take the dead one's jobs over"
    assert cards(live_slack) == {f"card:{i}": 1 for i in mention_ids}
    assert_clean_log(again)


async def none_held_by(db: Database, owners: set[str]) -> bool:
    async with db.uow() as uow:
        query = select(OutboxJob.id).where(OutboxJob.lease_owner.in_(owners))  # type: ignore[union-attr]
        return not (await uow.session.exec(query)).all()


async def test_posts_slack_performed_but_never_answered_are_not_repeated(database_url, live_slack, tmp_path: Path):
    live_slack.accept_then_drop("chat.postMessage", times=3)
    deliveries = [Delivery.of(n) for n in range(1, 7)]
    async with (server_process(database_url, live_slack.url, tmp_path) as server,
                aiohttp.ClientSession() as http, database(database_url) as db):
        mention_ids = [await deliver(http, server, d) for d in deliveries]
        assert None not in mention_ids
        await eventually(lambda: all_delivered(db, live_slack, mention_ids), timeout=40, what="every card")

    assert cards(live_slack) == {f"card:{i}": 1 for i in mention_ids}
    assert len(live_slack.calls_to("chat.postMessage")) == len(deliveries)  # the dropped ones were found, not redone
    assert_clean_log(server)


# -- Slack faults ----------------------------------------------------------------------------


async def test_rate_limit_then_outage_delays_the_card_but_never_doubles_it(database_url, live_slack):
    live_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    live_slack.fail_next("chat.postMessage", status=503)
    async with running_app(database_url, live_slack.url) as client:
        [mention] = await ingest(client, event(mention_data(1)))
        db = context_of(client).db
        await eventually(lambda: all_delivered(db, live_slack, [mention["id"]]), timeout=20, what="the card")
        shown = await (await client.get("/metrics")).text()

    assert 'webcare_chat_rate_limited_total{platform="slack"} 1.0' in shown  # counted: it should not happen
    limited, failed, posted = live_slack.times_of("chat.postMessage")
    assert failed - limited >= 0.98  # Retry-After: 1 was honoured
    assert posted > failed
    assert cards(live_slack) == {f"card:{mention['id']}": 1}
    assert len(live_slack.post_times(TRIAGE_CHANNEL)) == 1


async def test_a_burst_of_mentions_is_posted_at_most_once_per_second(database_url, live_slack):
    async with running_app(database_url, live_slack.url) as client:
        found = await ingest(client, *(event(mention_data(n)) for n in range(1, 6)))
        db = context_of(client).db
        await eventually(lambda: all_delivered(db, live_slack, [m["id"] for m in found]), timeout=20,
                         what="five cards")

    times = live_slack.post_times(TRIAGE_CHANNEL)
    assert len(times) == 5
    assert min(later - earlier for earlier, later in itertools.pairwise(times)) >= 0.9


# -- restart ---------------------------------------------------------------------------------


async def test_cards_waiting_in_the_outbox_at_shutdown_are_posted_once_after_restart(database_url, live_slack,
                                                                                     tmp_path: Path):
    live_slack.fail_next("chat.postMessage", status=503, times=1000)  # Slack is down for a while
    deliveries = [Delivery.of(n) for n in range(1, 4)]
    async with aiohttp.ClientSession() as http, database(database_url) as db:
        async with server_process(database_url, live_slack.url, tmp_path, name="before-stop") as server:
            mention_ids = [await deliver(http, server, d) for d in deliveries]
            assert None not in mention_ids
            await eventually(lambda: len(live_slack.calls_to("chat.postMessage")) >= 2, timeout=10,
                             what="Slack to refuse two posts")
            assert await server.terminate() == 0
        assert not cards(live_slack)
        assert await outbox_depth(db) == len(deliveries)

        live_slack.heal()
        async with server_process(database_url, live_slack.url, tmp_path, name="after-restart") as again:
            # sooner than a lease expires: the stopped server handed its unfinished jobs back
            await eventually(lambda: all_delivered(db, live_slack, mention_ids), timeout=12,
                             what="the waiting cards")

    assert cards(live_slack) == {f"card:{i}": 1 for i in mention_ids}
    assert_clean_log(server)
    assert_clean_log(again)
