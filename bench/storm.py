"""A 25/s storm against a Slack fake that keeps Slack's pace: time to card by priority, against first come first served.

3,000 signed mention.created deliveries in 120 s (bench/storm_mix.py): 90% retweet-like near-duplicates of four
viral posts, chatter, an ordinary customer question every 10 s, and at t = 60 s a verified journalist with 250,000
followers and a customer reporting a data leak ("datalek"). The Slack fake (bench/paced_slack.py) answers
chat.postMessage beyond 1 a second per channel (bursts of 2) with HTTP 429 and Retry-After, as Slack does.

Two runs, each with a fresh app (SQLite) and fake, one after the other:
- **priority**: the bot as it is, with a realistic [priority] (PRIORITY_TOML, from webcare.example.toml) except that
  `datalek` weighs 70 instead of 40, so a data-leak complaint is P1 on its own (40 makes it P2 alone). The journalist
  is P1 by reach and the verified mark (3 × 15 + 25 = 70).
- **naive**: one card per mention, first come first served, as the bot posted before priority and storms: no VIP
  list or keywords, `p1 = 100`, `p2 = 99` (config requires p2 < p1), so every score (at most 45 reach + 25 verified
  + 10 negative = 80) is P3, every card job has the same priority and the outbox and the pacer keep arrival order;
  no storm groups (`group_min` a million) and no digests (`digest_after_seconds` a day).

Time to card is from the ingest's 202 answer to the card's post at the fake (both `time.monotonic()`, one machine).
The priority run stops once the journalist's, the leak's and every ordinary question's card is posted, or PRIORITY_CAP
s after the storm's start; the naive run once its journalist card is posted or NAIVE_CAP s after the start (then its
time is the wait so far, a lower bound: `naive_capped=1`). A card not posted by the stop counts with its wait so far,
shown as `>=`. A mention is shown by its own card, or (a member of a storm below P1, or a P3 line in a digest) by
the first post or update of its storm card or digest at or after its 202; "every mention accounted for" is when the
last ingested mention was shown; "grouped" is the share of ingested mentions in a storm group. Then grouping's own
cost is measured at 10,000 open mentions (bench/grouping.py): `group_rate` is the new mentions it places a second on
one core in the storm's mix (texts that all differ, its worst case, are printed beside it). r429, lost and
duplicated in the last line add up both runs. The whole bench takes about 10 minutes.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.grouping import measure as measure_grouping
from bench.grouping import report as grouping_report
from bench.grouping import storm_rate
from bench.load import (
    Mentions,
    Request,
    app_server,
    fake_stats,
    session,
    slack_fake,
    use_fast_loop,
)
from bench.paced_slack import Posted, Updated
from bench.report import figures, quantile, table
from bench.storm_mix import RATE, SPECIAL_AT, STORM_SECONDS, Kind, Planned, storm
from bot.core.catalogue import words
from bot.core.storms.priority_words import priority_label

PRIORITY_CAP = 240.0     # seconds after the storm's start
NAIVE_CAP = 300.0
START_DELAY = 1.0        # seconds between building the signed deliveries and sending the first
POLL_SECONDS = 0.25      # how often the fake's posts are fetched (stop condition only; post times are the fake's)
PACE_RUN = 60            # the pace per channel is measured over this many consecutive intervals between posts (a
                         # minute's: Slack allows short bursts, which urgent posts take; its 429s show any excess)
PACE_TOLERANCE = 0.01    # messages/s: jitter between the app's pacer and the post's arrival at the fake
TARGET_CARD_S = 2.0
TARGET_RATIO = 100.0
TARGET_ORDINARY_P99_S = 60.0
TARGET_ACCOUNTED_S = 60.0  # after the storm's end
TARGET_RATE = 1.0        # messages per second per channel
PRIORITY_TOML = """
[priority]
vip = ["x:NOS", "x:RTLnieuws", "x:Consumentenbond", "x:radaravrotros", "x:kassa", "mastodon:nos@mastodon.nl"]
reach = [1000, 10000, 100000]
p1 = 70
p2 = 40

[priority.keywords]
datalek = 70   # webcare.example.toml: 40; here a data leak is P1 on its own
"data breach" = 70
lek = 20
privacy = 15
AVG = 15
rechter = 30
advocaat = 30
lawsuit = 30
journalist = 20
persvraag = 30
gevaarlijk = 30
gewond = 40
storing = 20
refund = 10
"geld terug" = 10

[storm]
group_min = 3
group_window_minutes = 30
digest_after_seconds = 60
spike_window_minutes = 10
spike_min_mentions = 20
spike_ratio = 4.0
"""
NAIVE_TOML = """
[priority]
reach = [1000, 10000, 100000]
p1 = 100
p2 = 99

[storm]                         # no storm groups, no digests: one card each
group_min = 1000000
digest_after_seconds = 86400
"""


@dataclass(frozen=True, slots=True)
class Mode:
    """One run: its name, the [priority] it runs with, and how long it may run after the storm's start."""

    name: str
    config: str
    cap: float


@dataclass
class Delivery:
    """One mention of the storm as sent: its plan, the ingest's answer, and when it came (`time.monotonic()`)."""

    planned: Planned
    status: str = ""
    mention_id: int | None = None
    answered: float = 0.0


@dataclass
class Run:
    """What one run saw: the deliveries, the fake's accepted posts, its 429s and calls, and the outbox at the end."""

    mode: Mode
    deliveries: list[Delivery]
    start: float
    stopped: float = 0.0
    posts: list[Posted] = field(default_factory=list)
    updates: list[Updated] = field(default_factory=list)
    limited: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    waiting: set[str] = field(default_factory=set)  # subjects whose job is neither done nor given up
    failed: set[str] = field(default_factory=set)  # subjects whose job was given up
    levels: dict[int, str] = field(default_factory=dict)  # the special mentions' priority labels
    shown_on: dict[int, str] = field(default_factory=dict)  # a mention without a card: its storm's or digest's subject

    def card_at(self) -> dict[str, float]:
        """When each subject's first message was posted."""
        first: dict[str, float] = {}
        for post in self.posts:
            first.setdefault(post.subject, post.at)
        return first

    def drawn(self) -> dict[str, list[float]]:
        """When each subject's message was posted and each time it was updated, in order."""
        subject_of = {(post.channel, post.ts): post.subject for post in self.posts}
        times: dict[str, list[float]] = {}
        for post in self.posts:
            times.setdefault(post.subject, []).append(post.at)
        for update in self.updates:
            subject = subject_of.get((update.channel, update.ts))
            if subject:
                times.setdefault(subject, []).append(update.at)
        return {subject: sorted(at) for subject, at in times.items()}

    def subject_of(self, delivery: Delivery) -> str:
        """Where the mention is shown: its own card, or its storm card or digest."""
        return self.shown_on.get(delivery.mention_id or 0, f"card:{delivery.mention_id}")

    def shown(self, delivery: Delivery, drawn: dict[str, list[float]] | None = None) -> float | None:
        """When the mention was first shown (its card posted; its storm card or digest drawn after its 202)."""
        subject = self.subject_of(delivery)
        times = (drawn if drawn is not None else self.drawn()).get(subject, [])
        if subject.startswith("card:"):
            return times[0] if times else None
        return next((at for at in times if at >= delivery.answered), None)

    def ingested(self) -> list[Delivery]:
        """The deliveries the app stored (answered 202 with a mention id)."""
        return [d for d in self.deliveries if d.mention_id is not None]

    def time_to_card(self, delivery: Delivery) -> tuple[float, bool]:
        """Seconds from the 202 to being shown, and whether it was still not shown (then: the wait so far)."""
        at = self.shown(delivery)
        return (at - delivery.answered, False) if at is not None else (self.stopped - delivery.answered, True)

    def of(self, kind: Kind) -> list[Delivery]:
        """The ingested deliveries of this kind."""
        return [d for d in self.ingested() if d.planned.kind is kind]

    def posted(self) -> int:
        """Ingested mentions that were shown (card, storm card or digest)."""
        drawn = self.drawn()
        return sum(self.shown(d, drawn) is not None for d in self.ingested())

    def lost(self) -> int:
        """Ingested mentions neither shown nor with a job still waiting to show them."""
        drawn = self.drawn()
        return sum(self.shown(d, drawn) is None and self.subject_of(d) not in self.waiting for d in self.ingested())

    def still_waiting(self) -> int:
        """Ingested mentions not shown whose job still waits in the outbox."""
        drawn = self.drawn()
        return sum(self.shown(d, drawn) is None and self.subject_of(d) in self.waiting for d in self.ingested())

    def grouped_share(self) -> float:
        """The share of ingested mentions in a storm group."""
        ingested = self.ingested()
        grouped = sum(self.shown_on.get(d.mention_id or 0, "").startswith("storm:") for d in ingested)
        return grouped / max(1, len(ingested))

    def carded(self) -> int:
        """Ingested mentions shown on a card of their own."""
        cards = self.card_at()
        return sum(f"card:{d.mention_id}" in cards for d in self.ingested())

    def duplicated(self) -> int:
        """Subjects posted more than once."""
        return sum(n > 1 for n in Counter(p.subject for p in self.posts if p.subject).values())

    def per_minute(self) -> list[int]:
        """Messages posted in each full minute from the storm's start to the stop."""
        minutes = Counter(int((p.at - self.start) // 60) for p in self.posts)
        return [minutes[m] for m in range(int((self.stopped - self.start) // 60))]

    def posts_per_minute(self) -> float:
        """Mean messages posted per minute from the storm's start to the stop."""
        return 60 * len(self.posts) / (self.stopped - self.start)

    def peak_rate(self) -> float:
        """The highest rate of posts in one channel over PACE_RUN consecutive intervals, per second."""
        by_channel: dict[str, list[float]] = {}
        for post in self.posts:
            by_channel.setdefault(post.channel, []).append(post.at)
        spans = [t[i + PACE_RUN] - t[i] for t in map(sorted, by_channel.values()) for i in range(len(t) - PACE_RUN)]
        return PACE_RUN / min(spans) if spans else 0.0


# -- running ---------------------------------------------------------------------------------


async def _deliver(client: aiohttp.ClientSession, base: str, request: Request, delivery: Delivery) -> None:
    try:
        async with client.post(base + request.path, data=request.body, headers=request.headers) as response:
            body = await response.read()
            delivery.status = str(response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        delivery.status = type(exc).__name__
        return
    delivery.answered = time.monotonic()
    if delivery.status == "202":
        delivery.mention_id = int(json.loads(body)["mentions"][0]["id"])


async def _send_storm(base: str, requests: list[Request], deliveries: list[Delivery], start: float) -> None:
    """Send each delivery at its planned time, whatever the answers."""
    pending: set[asyncio.Task[None]] = set()
    async with session(64) as client:
        for request, delivery in zip(requests, deliveries, strict=True):
            delay = start + delivery.planned.at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(_deliver(client, base, request, delivery))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)


async def _fetch_posts(client: aiohttp.ClientSession, fake_url: str, run: Run) -> None:
    """Add the posts and updates the fake accepted since the last fetch, and its count of 429s."""
    query = f"/bench/posts?since={len(run.posts)}&updates_since={len(run.updates)}"
    async with client.get(fake_url.removesuffix("/api/") + query) as response:
        answer = await response.json()
    run.posts.extend(Posted(**post) for post in answer["posts"])
    run.updates.extend(Updated(**update) for update in answer["updates"])
    run.limited = int(answer["limited"])


def _finished(run: Run, sent: asyncio.Task[None]) -> bool:
    """Whether the run has seen what it waits for: naive the journalist's card; priority also the leak's and every
    ordinary question's."""
    cards = run.card_at()
    kinds = (Kind.JOURNALIST,) if run.mode.name == "naive" else (Kind.JOURNALIST, Kind.LEAK, Kind.ORDINARY)
    return sent.done() and all(f"card:{d.mention_id}" in cards for kind in kinds for d in run.of(kind))


def _priority_finished(run: Run, sent: asyncio.Task[None], database: Path) -> bool:
    """The priority run waits until every ingested mention is shown (its card, storm card or digest)."""
    if not sent.done():
        return False
    _placement(run, database)
    return run.posted() == len(run.ingested())


def _placement(run: Run, database: Path) -> None:
    """Read where each mention without a card of its own is shown: its storm's card or its minute's digest."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as conn:
        for mention_id, storm_id, level, digest_at in conn.execute(
                "SELECT id, storm_id, priority_level, digest_at FROM mention "
                "WHERE (storm_id IS NOT NULL AND priority_level != 'P1') OR digest_at IS NOT NULL"):
            run.shown_on[mention_id] = f"storm:{storm_id}" if storm_id is not None and level != "P1" else \
                f"digest:{str(digest_at)[:16].replace(' ', 'T')}"


def _outbox(run: Run, database: Path | None) -> None:
    """Read the jobs still waiting or given up, where each mention is shown, and the special mentions' priorities,
    from the app's database."""
    assert database is not None
    _placement(run, database)
    special = {d.mention_id for kind in (Kind.JOURNALIST, Kind.LEAK) for d in run.of(kind)}
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as conn:
        for key, done, failed_at in conn.execute(
                "SELECT key, done, failed_at FROM outbox WHERE kind IN ('slack.card', 'slack.storm', 'slack.digest')"):
            if not done:
                subject = key.removeprefix("slack:")
                (run.failed if failed_at else run.waiting).add(subject)
        for mention_id, level, reasons in conn.execute("SELECT id, priority_level, priority_reasons FROM mention"):
            if mention_id in special:
                run.levels[mention_id] = priority_label(level, json.loads(reasons), words("en"))


async def _run(mode: Mode, plan: list[Planned], workdir: Path) -> Run:
    """Replay the storm against a fresh app and paced fake until the mode's stop; read what was posted and left."""
    with slack_fake(workdir, module="bench.paced_slack") as fake:
        with app_server(workdir, slack_url=fake.url, config_extra=mode.config) as app:
            mentions = Mentions(mode.name[0])
            requests = [mentions.single(**p.data) for p in plan]
            run = Run(mode, [Delivery(p) for p in plan], start=time.monotonic() + START_DELAY)
            sent = asyncio.create_task(_send_storm(app.url, requests, run.deliveries, run.start))
            async with session(2) as client:
                while time.monotonic() < run.start + mode.cap:
                    await asyncio.sleep(POLL_SECONDS)
                    app.check_alive()
                    await _fetch_posts(client, fake.url, run)
                    if mode.name == "naive" and _finished(run, sent):
                        break
                    if mode.name != "naive" and _finished(run, sent) and _priority_finished(run, sent, app.database):
                        break
                run.stopped = time.monotonic()
                sent.cancel()
                await asyncio.gather(sent, return_exceptions=True)
                database = app.database
        async with session(2) as client:  # the app has stopped: nothing more is posted
            await _fetch_posts(client, fake.url, run)
        run.calls = fake_stats(fake)
    _outbox(run, database)
    return run


# -- report ----------------------------------------------------------------------------------


def _lower_bound_quantile(waits: list[tuple[float, bool]], q: float) -> tuple[float, bool]:
    """The q-quantile of waits, and whether it is only a lower bound (a missing card at or below it may be later)."""
    value = quantile([w for w, _ in waits], q)
    return value, any(missing and w <= value for w, missing in waits)


def _shown(wait: tuple[float, bool]) -> object:
    return f">={wait[0]:.0f}" if wait[1] else wait[0]


def _ordinary(run: Run, q: float) -> tuple[float, bool]:
    return _lower_bound_quantile([run.time_to_card(d) for d in run.of(Kind.ORDINARY)], q)


def _one(run: Run, kind: Kind) -> tuple[float, bool]:
    found = run.of(kind)
    return run.time_to_card(found[0]) if found else (float("nan"), True)


def _row(run: Run) -> list[object]:
    not_202 = len(run.deliveries) - len(run.ingested())
    return [run.mode.name, run.stopped - run.start, len(run.ingested()), not_202, _shown(_one(run, Kind.JOURNALIST)),
            _shown(_one(run, Kind.LEAK)), _shown(_ordinary(run, 0.5)), _shown(_ordinary(run, 0.99)),
            run.posts_per_minute(), run.peak_rate(), run.limited, run.calls["chat.update"], run.carded(),
            run.posted(), f"{run.grouped_share():.0%}", run.still_waiting(), len(run.failed), run.lost(),
            run.duplicated()]


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _accounted_s(run: Run) -> float | None:
    """Seconds after the storm's end until every ingested mention was shown; None if that never happened."""
    drawn = run.drawn()
    shown = [run.shown(d, drawn) for d in run.ingested()]
    if not shown or None in shown:
        return None
    return max(at for at in shown if at is not None) - (run.start + STORM_SECONDS)


def _targets(fast: Run, naive: Run) -> list[str]:
    lines = []
    for kind, name in ((Kind.JOURNALIST, "journalist (P1: reach + verified)"), (Kind.LEAK, "data leak (P1: datalek)")):
        (quick, missing), (slow, capped) = _one(fast, kind), _one(naive, kind)
        ratio = slow / quick if quick else 0.0
        lines.append(f"{name}: card {quick:.2f} s after its 202{' (not posted)' if missing else ''} "
                     f"(target <= {TARGET_CARD_S:.0f} s) -> {_verdict(quick <= TARGET_CARD_S and not missing)}; "
                     f"naive {'>=' if capped else ''}{slow:.0f} s, {'>=' if capped else ''}{ratio:.0f}x "
                     f"(target >= {TARGET_RATIO:.0f}x) -> {_verdict(ratio >= TARGET_RATIO and not missing)}")
    p99, bound = _ordinary(fast, 0.99)
    lines.append(f"ordinary questions p99: {'>=' if bound else ''}{p99:.1f} s (target <= {TARGET_ORDINARY_P99_S:.0f} s)"
                 f" -> {_verdict(p99 <= TARGET_ORDINARY_P99_S and not bound)}")
    runs = (fast, naive)
    lines.append(f"429s: {sum(r.limited for r in runs)} (target 0) -> {_verdict(not any(r.limited for r in runs))}")
    peak = max(r.peak_rate() for r in runs)
    lines.append(f"peak messages/s per channel over {PACE_RUN} intervals: {peak:.3f} (target <= {TARGET_RATE:.0f}) -> "
                 f"{_verdict(peak <= TARGET_RATE + PACE_TOLERANCE)}")
    accounted = _accounted_s(fast)
    lines.append("every mention accounted for: " + (
        f"{accounted:.0f} s after the storm's end" if accounted is not None else
        f"capped (at {fast.stopped - fast.start:.0f} s: {fast.posted()} shown, {fast.still_waiting()} waiting)")
        + f" (target <= {TARGET_ACCOUNTED_S:.0f} s) -> "
        f"{_verdict(accounted is not None and accounted <= TARGET_ACCOUNTED_S)}")
    lost, duplicated = sum(r.lost() for r in runs), sum(r.duplicated() for r in runs)
    lines.append(f"lost: {lost}, duplicated: {duplicated} (target 0, 0) -> {_verdict(not lost and not duplicated)}")
    return lines


async def main(loop_name: str) -> None:
    """Replay the storm with priority, then naive (first come first served), and compare."""
    plan = storm()
    modes = (Mode("priority", PRIORITY_TOML, PRIORITY_CAP), Mode("naive", NAIVE_TOML, NAIVE_CAP))
    with tempfile.TemporaryDirectory(prefix="webcare-bench-") as tmp:
        fast, naive = [await _run(mode, plan, Path(tmp)) for mode in modes]
    kinds = Counter(p.kind for p in plan)
    print(f"storm: {len(plan)} signed mention.created in {STORM_SECONDS} s ({RATE}/s): "
          + ", ".join(f"{n} {kind}" for kind, n in kinds.items())
          + f"; journalist and data leak at t = {SPECIAL_AT} s; client on {loop_name}; app on SQLite; Slack fake "
          f"keeps 1 post/s per channel (burst 2), else 429 + Retry-After; time to card from the 202 answer, "
          f"'>=' = card not posted by the stop (wait so far)")
    for run in (fast, naive):
        print(f"{run.mode.name}: " + "; ".join(f"{kind} {run.levels.get(d.mention_id, '?')}"
                                              for kind in (Kind.JOURNALIST, Kind.LEAK) for d in run.of(kind)))
    print(table(["mode", "ran s", "ingested", "not 202", "journalist s", "data leak s", "ordinary p50 s",
                 "ordinary p99 s", "posts/min", "peak msg/s/ch", "429s", "chat.update", "own cards", "shown",
                 "grouped", "waiting", "given up", "lost", "duplicated"], [_row(fast), _row(naive)]))
    for run in (fast, naive):
        minutes = " ".join(map(str, run.per_minute()))
        print(f"{run.mode.name} posts in each full minute from the storm's start: {minutes}")
    print()
    for line in _targets(fast, naive):
        print(line)
    grouping = await asyncio.to_thread(measure_grouping)  # its migrations run their own event loop
    print()
    for line in grouping_report(grouping):
        print(line)
    vip_s, _ = _one(fast, Kind.JOURNALIST)
    naive_vip_s, naive_capped = _one(naive, Kind.JOURNALIST)
    line = figures("storm", vip_s=vip_s, naive_vip_s=naive_vip_s, ratio=naive_vip_s / vip_s if vip_s else 0.0,
                   ordinary_p99_s=_ordinary(fast, 0.99)[0], r429=fast.limited + naive.limited,
                   lost=fast.lost() + naive.lost(), duplicated=fast.duplicated() + naive.duplicated(),
                   group_rate=round(storm_rate(grouping)))
    print(line + (" naive_capped=1" if naive_capped else ""))


if __name__ == "__main__":
    asyncio.run(main(use_fast_loop()))
