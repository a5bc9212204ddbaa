"""Smoke: a signed mention becomes a card; a Claim click updates it."""

from tests.support import TRIAGE_CHANNEL, block_action, event, ingest, mention_data, post_interaction, relay_of, running_app


async def test_mention_becomes_card_and_claim_updates_it(sqlite_url, slack):
    async with running_app(sqlite_url, slack.url) as client:
        [m] = await ingest(client, event(mention_data(1)))
        await relay_of(client).drain()
        cards = slack.messages(TRIAGE_CHANNEL)
        assert len(cards) == 1
        response = await post_interaction(client, block_action("U03CARLA", "webcare.claim", str(m["id"])))
        assert response.status == 200
        for _ in range(50):
            await relay_of(client).drain()
            if slack.calls_to("chat.update"):
                break
            import asyncio; await asyncio.sleep(0.05)
        update = slack.calls_to("chat.update")[-1]
        assert "U03CARLA" in str(update["blocks"])
