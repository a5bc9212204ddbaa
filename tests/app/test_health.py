"""App: liveness, readiness and Prometheus metrics reflect what the bot did."""

import asyncio

from bot.storage.database import Database
from tests.support import block_action, event, ingest, mention_data, post_interaction, relay_of, running_app


async def test_health_ready_and_metrics(sqlite_url, slack):
    async with running_app(sqlite_url, slack.url) as client:
        assert (await client.get("/healthz")).status == 200
        ready = await client.get("/readyz")
        assert ready.status == 200 and (await ready.json())["database"] == "ok"
        [m] = await ingest(client, event(mention_data(1)))
        await ingest(client, event(mention_data(1)))  # a duplicate
        await relay_of(client).drain()
        await post_interaction(client, block_action("U03CARLA", "webcare.claim", str(m["id"])))
        for _ in range(100):  # Bolt acknowledges first and runs the listener right after
            metrics = (await (await client.get("/metrics")).text()).splitlines()
            if 'webcare_mention_transitions_total{action="claim"} 1.0' in metrics:
                break
            await asyncio.sleep(0.02)
    assert "webcare_mentions_ingested_total 1.0" in metrics
    assert "webcare_mentions_duplicate_total 1.0" in metrics
    assert 'webcare_cards_posted_total{platform="slack"} 1.0' in metrics
    assert 'webcare_mention_transitions_total{action="claim"} 1.0' in metrics
    assert any(line.startswith("webcare_outbox_queue_depth ") for line in metrics)


async def test_not_ready_when_the_database_is_unreachable(tmp_path):
    url = "postgresql://nobody@127.0.0.1:1/none"
    async with running_app(url) as client:
        ready = await client.get("/readyz")
        assert ready.status == 503
        assert (await client.get("/healthz")).status == 200


async def test_a_ping_cut_short_by_its_timeout_never_hangs(sqlite_url):
    """The readiness ping gives up at its timeout, wherever that falls (it once hung the suite on a busy machine:
    aiosqlite 0.22 never finishes closing a SQLAlchemy connection whose task was cancelled at the wrong moment)."""
    db = Database(sqlite_url)
    try:
        for n in range(1000):  # timeouts from 0 to 10 ms cut the ping at every step: connect, BEGIN, SELECT, close
            ping = asyncio.ensure_future(db.ping(timeout=0.00001 * n + 0.00001))
            done, _ = await asyncio.wait({ping}, timeout=10)
            assert done, f"ping {n} still running 10 s after its timeout"
            ping.exception()  # answered, or failed (timed out, or locked while earlier pings open the file)
        await db.ping()  # and the database is still reachable
    finally:
        await db.dispose()
