"""Shared load generation for the benches: server processes, signed requests and invokes, open/closed loops, tables."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import uvloop

from bench.report import quantile
from bot.core.views import CardView, MentionState, PersonRef
from bot.http.signing import signed_headers
from bot.teams.render import render_card
from tests.support import (
    FIXTURES,
    INGEST_SECRET,
    SLACK_SIGNING_SECRET,
    SLACK_TOKEN,
    TEAM_TOML,
    TRIAGE_CHANNEL,
    block_action,
    event,
    mention_data,
    slack_headers,
    team_config,
)

REPO = Path(__file__).resolve().parent.parent
INGEST_PATH = "/ingest/v1/mentions"
SLACK_PATH = "/slack/events"
CLICKER = "U03CARLA"  # a webcare person in tests/fixtures/webcare.toml
BENCH_USERS = 8  # Teams users who click in the benches (bench_user), on the team in the bench's webcare.toml
TEAMS_PATH = "/api/messages"
TEAMS_CHANNEL = "19:bench@thread.tacv2"
TEAMS_TENANT = "bench-tenant"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
_INVOKE = json.loads((FIXTURES / "teams" / "invoke_adaptive_card_action.json").read_text(encoding="utf-8"))
# Variables of the caller's environment that would change what the server under test does.
_APP_ENV_PREFIXES = ("WEBCARE_", "SLACK_", "MICROSOFT_", "TEAMS_", "MASTODON_")
_TICKS = os.sysconf("SC_CLK_TCK")


# -- processes -------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    """A child process the bench started (a server under test, a baseline or a fake) and its log."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str = ""
    database: Path | None = None  # the SQLite file of the app under test

    def cpu_seconds(self) -> float:
        """User plus system CPU time the process has used so far."""
        fields = Path(f"/proc/{self.popen.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def check_alive(self) -> None:
        """Stop the bench with the child's log tail if it died."""
        if self.popen.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"bench: {self.name} exited with status {self.popen.returncode}:\n{tail}")


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_APP_ENV_PREFIXES)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


@contextmanager
def spawn(name: str, argv: Sequence[str], workdir: Path, env: dict[str, str]) -> Iterator[Process]:
    """Run `python argv…` in `workdir` (so no `.env` or `webcare.toml` is picked up) until the block ends."""
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen([sys.executable, *argv], cwd=workdir, env=_env(env), stdout=out,
                                 stderr=subprocess.STDOUT)
    proc = Process(name, popen, log)
    try:
        yield proc
    finally:
        popen.terminate()
        try:
            popen.wait(10)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait()


def wait_until_ready(proc: Process, url: str, timeout: float = 30.0) -> None:
    """Poll `url` until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.check_alive()
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"bench: {proc.name} did not become ready at {url} within {timeout:.0f} s")


@contextmanager
def bare_server(workdir: Path, *, invoke_answer: bytes | None = None) -> Iterator[Process]:
    """The baseline: `bench.bare` (read the body, answer 202 JSON) in its own process.

    With `invoke_answer`, `POST /api/messages` is answered 200 with those bytes instead, as a Teams invoke is.
    """
    port = free_port()
    env = {"HOST": "127.0.0.1", "PORT": str(port)}
    if invoke_answer is not None:
        canned = workdir / "invoke-answer.json"
        canned.write_bytes(invoke_answer)
        env["BENCH_INVOKE_ANSWER"] = str(canned)
    with spawn("bare", ["-m", "bench.bare"], workdir, env) as proc:
        proc.url = f"http://127.0.0.1:{port}"
        wait_until_ready(proc, proc.url + "/healthz")
        yield proc


def _without_tables(toml: str, extra: str) -> str:
    """`toml` without the top-level tables `extra` declares (TOML refuses a table declared twice)."""
    declared = set(re.findall(r"^\[([\w.-]+)\]\s*(?:#.*)?$", extra, flags=re.MULTILINE))
    kept, skipping = [], False
    for line in toml.splitlines(keepends=True):
        header = re.match(r"^\[([\w.-]+)\]\s*(?:#.*)?$", line)
        if header:
            skipping = header.group(1) in declared
        if not skipping:
            kept.append(line)
    return "".join(kept)


@contextmanager
def app_server(workdir: Path, *, slack_url: str | None = None, teams_url: str | None = None,
               config_extra: str = "") -> Iterator[Process]:
    """`python -m bot serve` on a fresh SQLite file, with the tests' team and secrets; Slack on if a URL is given.

    `config_extra` is TOML added to the tests' webcare.toml (e.g. a `[priority]` table); a table it brings replaces
    the tests' own (their `[storm]` keeps storms from forming).

    With `teams_url` (a Bot Connector's service URL) Teams is on in development mode: cards go to
    TEAMS_CHANNEL there, and with no MICROSOFT_APP_ID activities are not JWT-checked.
    """
    port = free_port()
    config = workdir / "webcare.bench.toml"
    config.write_text(_without_tables(TEAM_TOML.read_text(encoding="utf-8"), config_extra) + _bench_people()
                      + config_extra, encoding="utf-8")
    db = workdir / f"webcare-{port}.db"
    env = {"HOST": "127.0.0.1", "PORT": str(port), "WEBCARE_DATABASE_URL": f"sqlite:///{db}",
           "WEBCARE_INGEST_SECRET": INGEST_SECRET, "WEBCARE_CONFIG": str(config)}
    if slack_url is not None:
        env.update(SLACK_BOT_TOKEN=SLACK_TOKEN, SLACK_SIGNING_SECRET=SLACK_SIGNING_SECRET,
                   SLACK_TRIAGE_CHANNEL=TRIAGE_CHANNEL, SLACK_API_URL=slack_url)
    if teams_url is not None:
        env.update(WEBCARE_DEV="1", TEAMS_SERVICE_URL=teams_url, TEAMS_TRIAGE_CHANNEL=TEAMS_CHANNEL,
                   TEAMS_TENANT_ID=TEAMS_TENANT)
    with spawn("app", ["-m", "bot", "serve"], workdir, env) as proc:
        proc.url = f"http://127.0.0.1:{port}"
        proc.database = db
        wait_until_ready(proc, proc.url + "/readyz")
        yield proc


def _printed_url(proc: Process, timeout: float = 20.0) -> str:
    """The URL a fake prints as its first line once it listens."""
    deadline = time.monotonic() + timeout
    while not proc.log.read_text().strip():
        proc.check_alive()
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: the {proc.name} did not print its URL")
        time.sleep(0.05)
    return proc.log.read_text().splitlines()[0].strip()


@contextmanager
def slack_fake(workdir: Path, module: str = "bench.slack_fake") -> Iterator[Process]:
    """The tests' Slack Web API fake (or the one `module` serves) in its own process; `url` is its API base URL."""
    with spawn("slack-fake", ["-m", module], workdir, {}) as proc:
        proc.url = _printed_url(proc)
        yield proc


@contextmanager
def bot_connector_fake(workdir: Path) -> Iterator[Process]:
    """The tests' Bot Connector fake in its own process; `url` is its service URL (`…/amer/`)."""
    with spawn("bot-connector-fake", ["-m", "bench.teams_fake"], workdir, {}) as proc:
        proc.url = _printed_url(proc)
        yield proc


def fake_stats(fake: Process) -> Counter[str]:
    """How many calls of each method (Slack) or operation (Bot Connector) the fake has answered."""
    with urllib.request.urlopen(urllib.parse.urljoin(fake.url, "/bench/stats"), timeout=5) as response:
        return Counter(json.loads(response.read()))


# -- requests --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP POST, ready to send; `check` says what is wrong with a 2xx answer's body (None: nothing)."""

    path: str
    body: bytes
    headers: dict[str, str]
    check: Callable[[bytes], str | None] | None = None


class Mentions:
    """Signed mention deliveries (Standard Webhooks), each a new mention and a new `webhook-id`."""

    def __init__(self, tag: str) -> None:
        self._tag = tag
        self._template = mention_data(0)
        self._next = 0

    def _data(self) -> dict[str, Any]:
        self._next += 1
        n = f"{self._tag}{self._next}"
        return {**self._template, "source_mention_id": f"mw:doc:{n}", "network_item_id": f"bench{n}",
                "url": f"https://x.com/sannedv/status/{n}"}

    def _signed(self, payload: dict[str, Any]) -> Request:
        body = json.dumps(payload).encode()
        headers = signed_headers(INGEST_SECRET, f"msg_{self._tag}{self._next}", body)
        return Request(INGEST_PATH, body, {**headers, "Content-Type": "application/json"})

    def single(self, **overrides: Any) -> Request:
        """A `mention.created` delivery; `overrides` replace fields of its `data` (text, author…)."""
        return self._signed(event({**self._data(), **overrides}))

    def batch(self, size: int) -> Request:
        """A `mention.batch` delivery of `size` new mentions."""
        return self._signed({"type": "mention.batch", "data": {"items": [self._data() for _ in range(size)]}})


def claim_click(mention_id: int, user_id: str = CLICKER) -> Request:
    """A signed Slack block_actions POST: `user_id` clicks Claim on the mention's card."""
    payload = block_action(user_id, "webcare.claim", str(mention_id))
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    return Request(SLACK_PATH, body.encode(),
                   slack_headers(body, content_type="application/x-www-form-urlencoded"))


def bench_user(n: int) -> dict[str, str]:
    """`from` of Teams bench user `n` (1…BENCH_USERS), on the webcare team in the bench's webcare.toml."""
    return {"id": f"29:bench-user-{n}", "name": f"Bench User {n}"}


def _bench_people() -> str:
    """webcare.toml entries of the Teams bench users: only people on the team may claim."""
    return "".join(f'\n[people.bench{n}]\nname = "Bench User {n}"\nteams = "29:bench-user-{n}"\nroles = ["webcare"]\n'
                   for n in range(1, BENCH_USERS + 1))


def claim_invoke(mention_id: int, service_url: str, user: int = 1) -> Request:
    """A Teams `Action.Execute` invoke (recorded shape, no JWT): bench user `user` clicks Claim on a mention's card."""
    card_id = str(1_732_000_000_000 + mention_id)  # the card's message id; the app does not look it up
    activity = {**_INVOKE, "id": f"f:bench{mention_id}", "serviceUrl": service_url, "from": bench_user(user),
                "conversation": {**_INVOKE["conversation"], "tenantId": TEAMS_TENANT,
                                 "id": f"{TEAMS_CHANNEL};messageid={card_id}"},
                "channelData": {**_INVOKE["channelData"], "channel": {"id": TEAMS_CHANNEL},
                                "tenant": {"id": TEAMS_TENANT}},
                "replyToId": card_id,
                "value": {"action": {"type": "Action.Execute", "verb": "webcare.claim",
                                     "data": {"mention_id": mention_id}}, "trigger": "manual"}}
    return Request(TEAMS_PATH, json.dumps(activity).encode(), {"Content-Type": "application/json"},
                   check=_not_a_refreshed_card)


def _not_a_refreshed_card(body: bytes) -> str | None:
    """What is wrong with an invoke answer that should carry the refreshed card: `no-card`, `refused`, or None."""
    try:
        answer = json.loads(body)
    except ValueError:
        return "no-card"
    if not isinstance(answer, dict) or answer.get("type") != CARD_TYPE or not isinstance(answer.get("value"), dict):
        return "no-card"  # e.g. a message answer: the apology, or "not one of our buttons"
    first = (answer["value"].get("body") or [{}])[0]
    return "refused" if str(first.get("text", "")).startswith("⚠") else None  # the notice on top of the card


def refreshed_card_answer(user: int = 1) -> bytes:
    """The app's answer to a Claim invoke on a bench mention (its card, claimed), for the baseline to send back."""
    data = mention_data(0)
    author = data["author"]
    config = team_config()
    claimer = bench_user(user)
    view = CardView(mention_id=1, network=data["network"], url=data["url"], author_handle=author["handle"],
                    author_name=author["display_name"], author_url=author["profile_url"],
                    author_followers=author["followers"], author_verified=False, text=data["text"],
                    published_at=datetime.fromisoformat(data["published_at"]), state=MentionState.CLAIMED,
                    now=datetime.now(UTC), reply_via=data["can_reply_via"],
                    claimed_by=PersonRef(key=f"bench{user}", name=claimer["name"],
                                         chat_ids=(("teams", claimer["id"]),)))
    card = render_card(view, [config.department_view(key) for key in config.departments], config.team.words)
    return json.dumps({"statusCode": 200, "type": CARD_TYPE, "value": card}).encode()


# -- load ------------------------------------------------------------------------------------


@dataclass
class Result:
    """What one load phase saw: latencies of 2xx answers (seconds), answers by status, how late the client sent."""

    latencies: list[float] = field(default_factory=list)
    failed: list[float] = field(default_factory=list)  # latencies of non-2xx answers, failures and timeouts
    statuses: Counter[str] = field(default_factory=Counter)
    send_lag: list[float] = field(default_factory=list)
    answer_bytes: int = 0  # total size of the 2xx answers' bodies
    elapsed: float = 0.0
    cpu: float = 0.0  # CPU seconds of the server under test during the phase

    @property
    def sent(self) -> int:
        """Requests sent."""
        return sum(self.statuses.values())

    @property
    def ok(self) -> int:
        """Requests answered 2xx."""
        return sum(n for status, n in self.statuses.items() if status.startswith("2"))

    @property
    def errors(self) -> int:
        """Requests not answered 2xx (refused, failed or timed out)."""
        return self.sent - self.ok

    @property
    def throughput(self) -> float:
        """2xx answers per second."""
        return self.ok / self.elapsed if self.elapsed else 0.0

    def mean_answer_bytes(self) -> float:
        """The mean body size of 2xx answers."""
        return self.answer_bytes / self.ok if self.ok else 0.0

    def ms(self, q: float) -> float:
        """The q-quantile latency of 2xx answers in milliseconds (nearest rank; q=1 is the maximum)."""
        return 1000 * quantile(self.latencies, q)

    def slower_than(self, seconds: float) -> int:
        """How many requests took at least `seconds` (whatever the answer)."""
        return sum(latency >= seconds for latency in [*self.latencies, *self.failed])

    def error_kinds(self) -> str:
        """The non-2xx outcomes and their counts, e.g. `503:12 timeout:3`, or `-`."""
        kinds = [f"{status}:{n}" for status, n in sorted(self.statuses.items()) if not status.startswith("2")]
        return " ".join(kinds) or "-"

    def cpu_percent(self) -> float:
        """The server's CPU use during the phase, in percent of one core."""
        return 100 * self.cpu / self.elapsed if self.elapsed else 0.0


def session(limit: int) -> aiohttp.ClientSession:
    """A client with at most `limit` connections, and no cookie or timeout surprises."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit),
                                 timeout=aiohttp.ClientTimeout(total=60), cookie_jar=aiohttp.DummyCookieJar())


async def _send(client: aiohttp.ClientSession, base: str, request: Request, start: float, result: Result) -> None:
    answer = b""
    try:
        async with client.post(base + request.path, data=request.body, headers=request.headers) as response:
            answer = await response.read()
            status = str(response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        status = type(exc).__name__
    latency = time.perf_counter() - start
    if status.startswith("2") and request.check is not None:
        status = request.check(answer) or status
    if status.startswith("2"):
        result.answer_bytes += len(answer)
    (result.latencies if status.startswith("2") else result.failed).append(latency)
    result.statuses[status] += 1


async def closed_loop(base: str, make: Callable[[], Request], *, concurrency: int, duration: float,
                      server: Process | None = None) -> Result:
    """`concurrency` clients each send the next request as soon as the last is answered, for `duration` s."""
    result = Result()
    cpu0 = server.cpu_seconds() if server else 0.0
    async with session(concurrency) as client:
        start = time.perf_counter()
        deadline = start + duration

        async def worker() -> None:
            while time.perf_counter() < deadline:
                request = make()
                await _send(client, base, request, time.perf_counter(), result)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.elapsed = time.perf_counter() - start
    result.cpu = server.cpu_seconds() - cpu0 if server else 0.0
    return result


async def open_loop(base: str, requests: Sequence[Request], *, rate: float, server: Process | None = None,
                    limit: int = 64, drain: float = 15.0) -> Result:
    """Send `requests` at fixed times (`rate` per second) whatever the answers; latency counts from the schedule.

    Requests still unanswered `drain` seconds after the last was due count as `timeout` with their age.
    """
    result = Result()
    cpu0 = server.cpu_seconds() if server else 0.0
    pending: set[asyncio.Task[None]] = set()
    async with session(limit) as client:
        start = time.perf_counter() + 0.05
        for i, request in enumerate(requests):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            result.send_lag.append(time.perf_counter() - due)
            task = asyncio.create_task(_send(client, base, request, due, result))
            pending.add(task)
            task.add_done_callback(pending.discard)
        last_due = start + (len(requests) - 1) / rate
        if pending:
            await asyncio.wait(set(pending), timeout=max(0.0, last_due + drain - time.perf_counter()))
        for task in list(pending):
            task.cancel()
        late = time.perf_counter()
        await asyncio.gather(*pending, return_exceptions=True)
        for i in range(len(requests) - result.sent):
            result.failed.append(late - (last_due - i / rate))  # at least this old; exact order unknown
            result.statuses["timeout"] += 1
        result.elapsed = max(last_due, time.perf_counter()) - start
    result.cpu = server.cpu_seconds() - cpu0 if server else 0.0
    return result


async def prefill(base: str, mentions: Mentions, count: int, *, batch: int = 100) -> list[int]:
    """Ingest `count` new mentions in batches (not measured) and return their ids."""
    ids: list[int] = []
    async with session(2) as client:
        while len(ids) < count:
            request = mentions.batch(min(batch, count - len(ids)))
            async with client.post(base + request.path, data=request.body, headers=request.headers) as response:
                if response.status != 202:
                    raise SystemExit(f"bench: prefill answered {response.status}: {await response.text()}")
                ids.extend(m["id"] for m in (await response.json())["mentions"])
    return ids


def use_fast_loop() -> str:
    """Run the load generator on uvloop (a cheaper client measures more of the server)."""
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"
