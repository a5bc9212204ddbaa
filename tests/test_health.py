"""App: liveness, readiness and Prometheus metrics reflect what the bot did."""

import asyncio

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
