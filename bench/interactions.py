"""Slack Claim clicks at 50/s while 200 mentions/s are ingested: ack latency, against a bare aiohttp handler."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

from bench.load import (
    Mentions,
    Process,
    Result,
    app_server,
    bare_server,
    claim_click,
    figures,
    open_loop,
    prefill,
    slack_fake,
    slack_stats,
    table,
    use_fast_loop,
)

CLICK_RATE = 50          # Claim clicks per second, each on a different mention ingested beforehand
INGEST_RATE = 200        # mentions per second ingested meanwhile (one signed mention.created each)
QUIET_SECONDS = 10       # clicks alone: the app's own floor
LOADED_SECONDS = 20      # clicks while ingesting
DRAIN_SECONDS = 10.0     # how long unanswered requests may take after the last was due
SETTLE_SECONDS = 3.0     # for the claims acknowledged last to be stored before counting them
TARGET_P99_MS = 100.0
SLOW_SECONDS = 2.5       # Slack gives up after 3 s; no click may come near it


async def _phase(server: Process, mention_ids: list[int], mentions: Mentions | None,
                 seconds: int) -> tuple[Result, Result | None]:
    """Clicks at CLICK_RATE (and, with `mentions`, ingest at INGEST_RATE) for `seconds`, both open loop."""
    clicks = [claim_click(mention_id) for mention_id in mention_ids[:CLICK_RATE * seconds]]
    runs = [open_loop(server.url, clicks, rate=CLICK_RATE, server=server, limit=100, drain=DRAIN_SECONDS)]
    if mentions is not None:
        deliveries = [mentions.single() for _ in range(INGEST_RATE * seconds)]
        runs.append(open_loop(server.url, deliveries, rate=INGEST_RATE, limit=64, drain=DRAIN_SECONDS))
    results = await asyncio.gather(*runs)
    server.check_alive()
    return results[0], (results[1] if len(results) > 1 else None)


def _claimed(database: Path | None) -> int:
    """How many mentions the app's database shows as claimed."""
    assert database is not None
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as conn:
        return int(conn.execute("SELECT count(*) FROM mention WHERE claimed_by IS NOT NULL").fetchone()[0])


def _row(target: str, phase: str, clicks: Result, ingest: Result | None) -> list[object]:
    return [target, phase, clicks.sent, clicks.ok, clicks.ms(0.5), clicks.ms(0.99), clicks.ms(1.0),
            clicks.slower_than(SLOW_SECONDS), clicks.error_kinds(),
            ingest.sent if ingest else "-", ingest.throughput if ingest else "-",
            ingest.ms(0.99) if ingest else "-", ingest.error_kinds() if ingest else "-", clicks.cpu_percent()]


async def main(loop_name: str) -> None:
    """Bare handler under the loaded mix, then the app (SQLite, Slack via the fake): clicks alone, then loaded."""
    with tempfile.TemporaryDirectory(prefix="webcare-bench-") as tmp:
        workdir = Path(tmp)
        with bare_server(workdir) as bare:
            fake_ids = list(range(1, CLICK_RATE * LOADED_SECONDS + 1))
            bare_clicks, bare_ingest = await _phase(bare, fake_ids, Mentions("b"), LOADED_SECONDS)
        with slack_fake(workdir) as fake, app_server(workdir, slack_url=fake.url) as app:
            mentions = Mentions("a")
            ids = await prefill(app.url, mentions, CLICK_RATE * (QUIET_SECONDS + LOADED_SECONDS))
            quiet_clicks, _ = await _phase(app, ids, None, QUIET_SECONDS)
            loaded_clicks, loaded_ingest = await _phase(app, ids[CLICK_RATE * QUIET_SECONDS:], mentions,
                                                        LOADED_SECONDS)
            await asyncio.sleep(SETTLE_SECONDS)
            claimed = _claimed(app.database)
            calls = slack_stats(fake)

    assert loaded_ingest is not None
    p99_ratio = loaded_clicks.ms(0.99) / bare_clicks.ms(0.99) if bare_clicks.ms(0.99) else 0.0
    slow = loaded_clicks.slower_than(SLOW_SECONDS) + quiet_clicks.slower_than(SLOW_SECONDS)
    clicked = quiet_clicks.sent + loaded_clicks.sent
    print(f"POST /slack/events, signed block_actions Claim clicks at {CLICK_RATE}/s, each on another ingested "
          f"mention; with ingest: POST /ingest/v1/mentions at {INGEST_RATE}/s; open loop, latency of 2xx answers "
          f"from the scheduled send time; client on {loop_name}; app on SQLite, Slack Web API = tests' fake")
    print(table(["target", "phase", "clicks", "2xx", "p50 ms", "p99 ms", "max ms", f">={SLOW_SECONDS} s",
                 "clicks not 2xx", "ingest sent", "ingest 2xx/s", "ingest p99 ms", "ingest not 2xx",
                 "server CPU %"],
                [_row("bare", "clicks+ingest", bare_clicks, bare_ingest),
                 _row("app", "clicks alone", quiet_clicks, None),
                 _row("app", "clicks+ingest", loaded_clicks, loaded_ingest)]))
    print()
    print(f"effects: {claimed} of {clicked} clicked mentions claimed in the database {SETTLE_SECONDS:.0f} s later; "
          f"Slack fake saw chat.postMessage x{calls['chat.postMessage']}, chat.update x{calls['chat.update']}, "
          f"chat.postEphemeral x{calls['chat.postEphemeral']}")
    print(f"ingest while clicking: offered {INGEST_RATE}/s, answered 2xx {loaded_ingest.throughput:.0f}/s"
          + ("" if loaded_ingest.throughput >= 0.95 * INGEST_RATE else
             " -> the app did not keep up, so the click latencies were measured with the server saturated"))
    met = loaded_clicks.ms(0.99) <= TARGET_P99_MS and not slow and not loaded_clicks.errors
    print(f"click ack p99 while ingesting: {loaded_clicks.ms(0.99):.1f} ms, {p99_ratio:.1f}x the bare handler's "
          f"(target <= {TARGET_P99_MS:.0f} ms, none >= {SLOW_SECONDS} s, all 2xx) -> {'met' if met else 'MISSED'}")
    print(figures("interactions", p50_ms=loaded_clicks.ms(0.5), p99_ms=loaded_clicks.ms(0.99),
                  max_ms=loaded_clicks.ms(1.0), clicks=loaded_clicks.sent, ingest_rate=INGEST_RATE,
                  click_rate=CLICK_RATE, ingest_served=loaded_ingest.throughput, slow=slow,
                  errors=loaded_clicks.errors, p99_vs_bare=p99_ratio))


if __name__ == "__main__":
    asyncio.run(main(use_fast_loop()))
