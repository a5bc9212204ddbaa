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
    figures,
    open_loop,
    slack_fake,
    table,
    use_fast_loop,
)

CONCURRENCY = 16         # closed loop: clients that each send again as soon as they are answered
WARMUP_SECONDS = 1.0
THROUGHPUT_SECONDS = 10.0
RATE = 500               # open loop: mentions per second
RATE_SECONDS = 15.0
TARGET_RATIO = 0.5
TARGET_P99_MS = 20.0


async def _phases(server: Process, tag: str) -> tuple[Result, Result]:
    """Closed-loop throughput, then the fixed-rate run, against one server."""
    mentions = Mentions(tag)
    await closed_loop(server.url, mentions.single, concurrency=CONCURRENCY, duration=WARMUP_SECONDS)
    server.check_alive()
    throughput = await closed_loop(server.url, mentions.single, concurrency=CONCURRENCY,
                                   duration=THROUGHPUT_SECONDS, server=server)
    server.check_alive()
    scheduled = [mentions.single() for _ in range(int(RATE * RATE_SECONDS))]
    fixed = await open_loop(server.url, scheduled, rate=RATE, server=server)
    server.check_alive()
    return throughput, fixed


def _row(target: str, mode: str, r: Result) -> list[object]:
    lag = 1000 * max(r.send_lag) if r.send_lag else "-"
    return [target, mode, r.sent, r.ok, r.throughput, r.ms(0.5), r.ms(0.99), r.ms(1.0), r.cpu_percent(), lag,
            r.error_kinds()]


async def main(loop_name: str) -> None:
    """Measure the bare handler, then the app (SQLite, Slack cards on via the fake), with the same client."""
    with tempfile.TemporaryDirectory(prefix="webcare-bench-") as tmp:
        workdir = Path(tmp)
        with bare_server(workdir) as bare:
            bare_tp, bare_fixed = await _phases(bare, "b")
        with slack_fake(workdir) as fake, app_server(workdir, slack_url=fake.url) as app:
            app_tp, app_fixed = await _phases(app, "a")

    ratio = app_tp.throughput / bare_tp.throughput if bare_tp.throughput else 0.0
    p99_ratio = app_fixed.ms(0.99) / bare_fixed.ms(0.99) if bare_fixed.ms(0.99) else 0.0
    print(f"POST /ingest/v1/mentions, one signed mention.created per request; client on {loop_name}; "
          f"app on SQLite with Slack cards queued (fake Web API); "
          f"closed loop: {CONCURRENCY} clients for {THROUGHPUT_SECONDS:.0f} s; "
          f"open loop: {RATE}/s for {RATE_SECONDS:.0f} s; latency of 2xx answers, in the open loop from the "
          f"scheduled send time")
    print(table(["target", "mode", "sent", "2xx", "2xx/s", "p50 ms", "p99 ms", "max ms", "server CPU %",
                 "max send lag ms", "not 2xx"],
                [_row("bare", "closed", bare_tp), _row("app", "closed", app_tp),
                 _row("bare", f"{RATE}/s", bare_fixed), _row("app", f"{RATE}/s", app_fixed)]))
    print()
    print(f"throughput ratio app/bare: {ratio:.2f} (target >= {TARGET_RATIO}) -> "
          f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}")
    print(f"p99 at {RATE}/s: {app_fixed.ms(0.99):.1f} ms, {p99_ratio:.1f}x the bare handler's "
          f"(target <= {TARGET_P99_MS:.0f} ms, no errors) -> "
          f"{'met' if app_fixed.ms(0.99) <= TARGET_P99_MS and not app_fixed.errors else 'MISSED'}")
    print(figures("ingest", ratio=ratio, p50_ms=app_fixed.ms(0.5), p99_ms=app_fixed.ms(0.99), rate=RATE,
                  errors=app_fixed.errors, p99_vs_bare=p99_ratio))


if __name__ == "__main__":
    asyncio.run(main(use_fast_loop()))
