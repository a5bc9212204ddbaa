"""Signed single-mention ingest against a bare aiohttp handler: throughput ratio, and latency at 500 mentions/s."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bench.load import (
    Mentions,
    Process,
    Result,
    app_server,
    bare_server,
    closed_loop,
    open_loop,
    slack_fake,
    use_fast_loop,
)
from bench.report import figures, table

CONCURRENCY = 16         # closed loop: clients that each send again as soon as they are answered
WARMUP_SECONDS = 1.0
ROUNDS = 5               # closed loop: bare and app take turns, so the machine's drift hits both alike
ROUND_SECONDS = 3.0
RATE = 500               # open loop: mentions per second
RATE_SECONDS = 15.0
TARGET_RATIO = 0.5
TARGET_P99_MS = 20.0


def _merged(results: list[Result]) -> Result:
    """One result for several phases against the same server."""
    merged = Result()
    for r in results:
        merged.latencies += r.latencies
        merged.failed += r.failed
        merged.statuses.update(r.statuses)
        merged.answer_bytes += r.answer_bytes
        merged.elapsed += r.elapsed
        merged.cpu += r.cpu
    return merged


async def _closed_rounds(bare: Process, app: Process) -> tuple[Result, Result, list[float]]:
    """Alternate closed-loop rounds on the two servers; both merged, and each round's ratio."""
    bare_mentions, app_mentions = Mentions("b"), Mentions("a")
    for server, mentions in ((bare, bare_mentions), (app, app_mentions)):
        await closed_loop(server.url, mentions.single, concurrency=CONCURRENCY, duration=WARMUP_SECONDS)
    rounds: list[tuple[Result, Result]] = []
    for _ in range(ROUNDS):
        bare_round = await closed_loop(bare.url, bare_mentions.single, concurrency=CONCURRENCY,
                                       duration=ROUND_SECONDS, server=bare)
        app_round = await closed_loop(app.url, app_mentions.single, concurrency=CONCURRENCY,
                                      duration=ROUND_SECONDS, server=app)
        bare.check_alive()
        app.check_alive()
        rounds.append((bare_round, app_round))
    ratios = [a.throughput / b.throughput if b.throughput else 0.0 for b, a in rounds]
    return _merged([b for b, _ in rounds]), _merged([a for _, a in rounds]), ratios


async def _fixed_rate(server: Process, tag: str) -> Result:
    mentions = Mentions(tag)
    scheduled = [mentions.single() for _ in range(int(RATE * RATE_SECONDS))]
    fixed = await open_loop(server.url, scheduled, rate=RATE, server=server)
    server.check_alive()
    return fixed


def _row(target: str, mode: str, r: Result) -> list[object]:
    lag = 1000 * max(r.send_lag) if r.send_lag else "-"
    return [target, mode, r.sent, r.ok, r.throughput, r.ms(0.5), r.ms(0.99), r.ms(1.0), r.cpu_percent(), lag,
            r.error_kinds()]


async def main(loop_name: str) -> None:
    """Measure the bare handler and the app (SQLite, Slack cards on via the fake) with the same client."""
    with tempfile.TemporaryDirectory(prefix="webcare-bench-") as tmp:
        workdir = Path(tmp)
        with bare_server(workdir) as bare, slack_fake(workdir) as fake, \
                app_server(workdir, slack_url=fake.url) as app:
            bare_tp, app_tp, ratios = await _closed_rounds(bare, app)
            bare_fixed = await _fixed_rate(bare, "bf")
            app_fixed = await _fixed_rate(app, "af")

    ratio = app_tp.throughput / bare_tp.throughput if bare_tp.throughput else 0.0
    p99_ratio = app_fixed.ms(0.99) / bare_fixed.ms(0.99) if bare_fixed.ms(0.99) else 0.0
    print(f"POST /ingest/v1/mentions, one signed mention.created per request; client on {loop_name}; "
          f"app on SQLite with Slack cards queued (fake Web API); "
          f"closed loop: {CONCURRENCY} clients, {ROUNDS} rounds of {ROUND_SECONDS:.0f} s per server, taking turns; "
          f"open loop: {RATE}/s for {RATE_SECONDS:.0f} s; latency of 2xx answers, in the open loop from the "
          f"scheduled send time")
    print(table(["target", "mode", "sent", "2xx", "2xx/s", "p50 ms", "p99 ms", "max ms", "server CPU %",
                 "max send lag ms", "not 2xx"],
                [_row("bare", "closed", bare_tp), _row("app", "closed", app_tp),
                 _row("bare", f"{RATE}/s", bare_fixed), _row("app", f"{RATE}/s", app_fixed)]))
    print()
    print("ratio app/bare per round: " + " ".join(f"{r:.2f}" for r in ratios))
    print(f"throughput ratio app/bare: {ratio:.2f} (target >= {TARGET_RATIO}) -> "
          f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}")
    print(f"p99 at {RATE}/s: {app_fixed.ms(0.99):.1f} ms, {p99_ratio:.1f}x the bare handler's "
          f"(target <= {TARGET_P99_MS:.0f} ms, no errors) -> "
          f"{'met' if app_fixed.ms(0.99) <= TARGET_P99_MS and not app_fixed.errors else 'MISSED'}")
    print(figures("ingest", ratio=ratio, p50_ms=app_fixed.ms(0.5), p99_ms=app_fixed.ms(0.99), rate=RATE,
                  errors=app_fixed.errors, p99_vs_bare=p99_ratio, round_min=min(ratios), round_max=max(ratios)))


if __name__ == "__main__":
    asyncio.run(main(use_fast_loop()))
