"""Slack Claim clicks, then Teams Claim invokes, at 50/s while 200 mentions/s are ingested, against a bare handler."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from pathlib import Path

from bench.load import (
    BENCH_USERS,
    Mentions,
    Process,
    Request,
    Result,
    app_server,
    bare_server,
    bot_connector_fake,
    claim_click,
    claim_invoke,
    fake_stats,
    open_loop,
    prefill,
    refreshed_card_answer,
    slack_fake,
    use_fast_loop,
)
from bench.report import figures, table

CLICK_RATE = 50          # Slack Claim clicks per second, each on a different mention ingested beforehand
INVOKE_RATE = 50         # Teams Claim invokes per second (a phase of their own), each on another such mention
INGEST_RATE = 200        # mentions per second ingested meanwhile (one signed mention.created each)
QUIET_SECONDS = 5        # clicks (then invokes) alone: the app's own floor
LOADED_SECONDS = 15      # clicks (then invokes) while ingesting
DRAIN_SECONDS = 10.0     # how long unanswered requests may take after the last was due
SETTLE_SECONDS = 3.0     # for the claims acknowledged last to be stored before counting them
TARGET_P99_MS = 100.0
SLOW_SECONDS = 2.5       # Slack gives up after 3 s; no click may come near it
TEAMS_TARGET_P99_MS = 200.0
TEAMS_SLOW_SECONDS = 5.0  # Teams gives up on an invoke after 5 s
BARE_SERVICE_URL = "https://smba.trafficmanager.net/amer/"  # the bare handler never calls back


def _clicks(mention_ids: list[int]) -> list[Request]:
    return [claim_click(mention_id) for mention_id in mention_ids]


def _invokes(mention_ids: list[int], service_url: str) -> list[Request]:
    return [claim_invoke(mention_id, service_url, user=n % BENCH_USERS + 1) for n, mention_id in enumerate(mention_ids)]


async def _phase(server: Process, requests: list[Request], rate: int,
                 mentions: Mentions | None) -> tuple[Result, Result | None]:
    """`requests` at `rate` (and, with `mentions`, ingest at INGEST_RATE for as long), both open loop."""
    runs = [open_loop(server.url, requests, rate=rate, server=server, limit=100, drain=DRAIN_SECONDS)]
    if mentions is not None:
        deliveries = [mentions.single() for _ in range(INGEST_RATE * len(requests) // rate)]
        runs.append(open_loop(server.url, deliveries, rate=INGEST_RATE, limit=64, drain=DRAIN_SECONDS))
    results = await asyncio.gather(*runs)
    server.check_alive()
    return results[0], (results[1] if len(results) > 1 else None)


def _claimed(database: Path | None, mention_ids: list[int]) -> int:
    """How many of these mentions the app's database shows as claimed."""
    assert database is not None
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as conn:
        claimed = {row[0] for row in conn.execute("SELECT id FROM mention WHERE claimed_by IS NOT NULL")}
    return len(claimed.intersection(mention_ids))


def _row(target: str, phase: str, answers: Result, slow: float, ingest: Result | None) -> list[object]:
    return [target, phase, answers.sent, answers.ok, answers.ms(0.5), answers.ms(0.99), answers.ms(1.0), slow,
            answers.slower_than(slow), answers.error_kinds(), answers.mean_answer_bytes(),
            ingest.sent if ingest else "-", ingest.throughput if ingest else "-",
            ingest.ms(0.99) if ingest else "-", ingest.error_kinds() if ingest else "-", answers.cpu_percent()]


def _ratio(app: Result, bare: Result) -> float:
    return app.ms(0.99) / bare.ms(0.99) if bare.ms(0.99) else 0.0


async def main(loop_name: str) -> None:
    """Bare handler under the loaded mixes, then the app (SQLite, Slack and Teams via fakes): alone, then loaded."""
    clicks, invokes = CLICK_RATE * (QUIET_SECONDS + LOADED_SECONDS), INVOKE_RATE * (QUIET_SECONDS + LOADED_SECONDS)
    quiet_clicks_n, quiet_invokes_n = CLICK_RATE * QUIET_SECONDS, INVOKE_RATE * QUIET_SECONDS
    with tempfile.TemporaryDirectory(prefix="webcare-bench-") as tmp:
        workdir = Path(tmp)
        with bare_server(workdir, invoke_answer=refreshed_card_answer()) as bare:
            fake_ids = list(range(1, max(CLICK_RATE, INVOKE_RATE) * LOADED_SECONDS + 1))
            bare_clicks, bare_click_ingest = await _phase(bare, _clicks(fake_ids[:CLICK_RATE * LOADED_SECONDS]),
                                                          CLICK_RATE, Mentions("b"))
            bare_invokes, bare_invoke_ingest = await _phase(
                bare, _invokes(fake_ids[:INVOKE_RATE * LOADED_SECONDS], BARE_SERVICE_URL), INVOKE_RATE,
                Mentions("c"))
        with (slack_fake(workdir) as slack, bot_connector_fake(workdir) as connector,
              app_server(workdir, slack_url=slack.url, teams_url=connector.url) as app):
            mentions = Mentions("a")
            ids = await prefill(app.url, mentions, clicks + invokes)
            click_ids, invoke_ids = ids[:clicks], ids[clicks:]
            quiet_clicks, _ = await _phase(app, _clicks(click_ids[:quiet_clicks_n]), CLICK_RATE, None)
            quiet_invokes, _ = await _phase(app, _invokes(invoke_ids[:quiet_invokes_n], connector.url), INVOKE_RATE,
                                            None)
            loaded_clicks, click_ingest = await _phase(app, _clicks(click_ids[quiet_clicks_n:]), CLICK_RATE,
                                                       mentions)
            loaded_invokes, invoke_ingest = await _phase(app, _invokes(invoke_ids[quiet_invokes_n:], connector.url),
                                                         INVOKE_RATE, mentions)
            await asyncio.sleep(SETTLE_SECONDS)
            claimed_clicked, claimed_invoked = _claimed(app.database, click_ids), _claimed(app.database, invoke_ids)
            calls, teams_calls = fake_stats(slack), fake_stats(connector)

    assert click_ingest is not None and invoke_ingest is not None
    slow = loaded_clicks.slower_than(SLOW_SECONDS) + quiet_clicks.slower_than(SLOW_SECONDS)
    teams_slow = loaded_invokes.slower_than(TEAMS_SLOW_SECONDS) + quiet_invokes.slower_than(TEAMS_SLOW_SECONDS)
    print(f"Slack: POST /slack/events, signed block_actions Claim clicks at {CLICK_RATE}/s; then, a phase of its own, "
          f"Teams: POST /api/messages, adaptiveCard/action invokes (Action.Execute webcare.claim) at {INVOKE_RATE}/s; "
          f"each on another ingested mention; with ingest: POST /ingest/v1/mentions at {INGEST_RATE}/s meanwhile; "
          f"open loop, latency of ok answers from the scheduled send time (ok: 2xx; for Teams, 200 with the "
          f"refreshed card and no refusal on it); client on {loop_name}; app on SQLite, Slack Web API and Bot "
          f"Connector = tests' fakes; Teams in development mode (WEBCARE_DEV=1, no MICROSOFT_APP_ID: invokes carry "
          f"no JWT and none is validated, so production adds that check)")
    print(table(["target", "phase", "sent", "ok", "p50 ms", "p99 ms", "max ms", "limit s", ">= limit", "not ok",
                 "answer B", "ingest sent", "ingest 2xx/s", "ingest p99 ms", "ingest not 2xx", "server CPU %"],
                [_row("bare", "Slack clicks+ingest", bare_clicks, SLOW_SECONDS, bare_click_ingest),
                 _row("bare", "Teams invokes+ingest", bare_invokes, TEAMS_SLOW_SECONDS, bare_invoke_ingest),
                 _row("app", "Slack clicks alone", quiet_clicks, SLOW_SECONDS, None),
                 _row("app", "Teams invokes alone", quiet_invokes, TEAMS_SLOW_SECONDS, None),
                 _row("app", "Slack clicks+ingest", loaded_clicks, SLOW_SECONDS, click_ingest),
                 _row("app", "Teams invokes+ingest", loaded_invokes, TEAMS_SLOW_SECONDS, invoke_ingest)]))
    print()
    print(f"effects: {claimed_clicked} of {quiet_clicks.sent + loaded_clicks.sent} clicked and {claimed_invoked} of "
          f"{quiet_invokes.sent + loaded_invokes.sent} invoked mentions claimed in the database {SETTLE_SECONDS:.0f} s "
          f"later; Slack fake saw chat.postMessage x{calls['chat.postMessage']}, chat.update x{calls['chat.update']}, "
          f"chat.postEphemeral x{calls['chat.postEphemeral']}; Bot Connector fake saw create_conversation "
          f"x{teams_calls['create_conversation']}, update_activity x{teams_calls['update_activity']}")
    for doing, ingest in (("clicking", click_ingest), ("invoking", invoke_ingest)):
        print(f"ingest while {doing}: offered {INGEST_RATE}/s, answered 2xx {ingest.throughput:.0f}/s"
              + ("" if ingest.throughput >= 0.95 * INGEST_RATE else
                 " -> the app did not keep up, so the latencies were measured with the server saturated"))
    met = loaded_clicks.ms(0.99) <= TARGET_P99_MS and not slow and not loaded_clicks.errors
    print(f"Slack click ack p99 while ingesting: {loaded_clicks.ms(0.99):.1f} ms, "
          f"{_ratio(loaded_clicks, bare_clicks):.1f}x the bare handler's (target <= {TARGET_P99_MS:.0f} ms, "
          f"none >= {SLOW_SECONDS} s, all 2xx) -> {'met' if met else 'MISSED'}")
    teams_met = loaded_invokes.ms(0.99) <= TEAMS_TARGET_P99_MS and not teams_slow and not loaded_invokes.errors
    print(f"Teams invoke answer p99 while ingesting: {loaded_invokes.ms(0.99):.1f} ms, "
          f"{_ratio(loaded_invokes, bare_invokes):.1f}x the bare handler's (target <= {TEAMS_TARGET_P99_MS:.0f} ms, "
          f"none >= {TEAMS_SLOW_SECONDS:.0f} s, all 200 with the refreshed card) -> {'met' if teams_met else 'MISSED'}")
    print(figures("interactions", p50_ms=loaded_clicks.ms(0.5), p99_ms=loaded_clicks.ms(0.99),
                  max_ms=loaded_clicks.ms(1.0), clicks=loaded_clicks.sent, teams_p50_ms=loaded_invokes.ms(0.5),
                  teams_p99_ms=loaded_invokes.ms(0.99), teams_max_ms=loaded_invokes.ms(1.0),
                  invokes=loaded_invokes.sent, ingest_rate=INGEST_RATE, click_rate=CLICK_RATE,
                  invoke_rate=INVOKE_RATE, ingest_served=click_ingest.throughput,
                  teams_ingest_served=invoke_ingest.throughput, slow=slow, errors=loaded_clicks.errors,
                  teams_slow=teams_slow, teams_errors=loaded_invokes.errors,
                  p99_vs_bare=_ratio(loaded_clicks, bare_clicks),
                  teams_p99_vs_bare=_ratio(loaded_invokes, bare_invokes)))


if __name__ == "__main__":
    asyncio.run(main(use_fast_loop()))
