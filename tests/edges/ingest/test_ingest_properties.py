"""Property: every mention ingest accepts renders on Slack and Teams; every refusal is a 4xx naming fields."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.core.catalogue import words
from bot.core.incoming import NETWORKS
from bot.slack import render as slack_render
from bot.teams import render as teams_render
from handlers.cards import card_view
from tests.edges.slack.test_slack_render import assert_within_block_kit_limits
from tests.edges.teams.test_teams_render import assert_valid_card, nodes
from tests.fakes.slack_api import SlackFake
from tests.support import context_of, running_app, signed

EN = words("en")

ROUTE = "/ingest/v1/mentions"

NOW = datetime.now(UTC).replace(tzinfo=None)
OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
# What Python counts as printable (no control, format, separator or unassigned character; space is added).
PRINTABLE = st.characters(categories=["L", "M", "N", "P", "S"])
ONE_LINE = st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"])

good_hosts = st.sampled_from(["x.com", "caf\u00e9.nl", "xn--caf-dma.nl", "[::1]", "127.0.0.1", "user:pw@x.com",
                              "x.com:443", "sub.ex_ample.org"])
bad_hosts = st.sampled_from(["[::1", "1.2.3.4.5", "exa<mple.com", "", "x.com:99999", "x.com:port", "a b.com"])
good_urls = st.one_of(st.none(), st.builds(lambda scheme, host, path: f"{scheme}://{host}/{path}",
                                           st.sampled_from(["https", "http", "HTTPS"]), good_hosts,
                                           st.text(PRINTABLE, max_size=30)))
wild_urls = st.one_of(
    st.builds(lambda scheme, host, path: f"{scheme}://{host}/{path}", st.sampled_from(["https", "http"]), bad_hosts,
              st.text(PRINTABLE, max_size=10)),
    st.builds(lambda scheme, host, path: f"{scheme}://{host}/{path}",
              st.sampled_from(["https", "http", "ftp", "javascript"]), good_hosts, st.text(max_size=30)),
    st.text(max_size=40), st.just("https://x.com/" + "a" * 2100))
good_names = st.one_of(st.none(), st.text(ONE_LINE, min_size=1, max_size=40),
                       st.text(ONE_LINE, min_size=490, max_size=500))
wild_names = st.one_of(st.text(max_size=40), st.text(min_size=495, max_size=520), st.integers())
good_moments = st.datetimes(min_value=datetime(1970, 1, 2), max_value=NOW, timezones=OFFSETS).map(datetime.isoformat)
wild_moments = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS)
    .map(datetime.isoformat), st.datetimes().map(datetime.isoformat), st.text(max_size=20), st.integers())
good_texts = st.one_of(st.text(min_size=1), st.text(min_size=3000, max_size=6000))
wild_texts = st.one_of(st.just(""), st.text(), st.integers(), st.text().map(lambda t: t + "\x00"))


@st.composite
def mentions(draw: st.DrawFn) -> dict[str, Any]:
    """Mention data as listening tools send it: from a careful one, or a careless one (some fields absurd)."""
    careless = draw(st.booleans())

    def pick(good: st.SearchStrategy[Any], wild: st.SearchStrategy[Any]) -> Any:
        return draw(wild) if careless and draw(st.booleans()) else draw(good)

    data: dict[str, Any] = {
        "source": pick(st.sampled_from(["meltwater", "brandwatch", "rss"]), st.sampled_from(["", "melt\nwater"])),
        "source_mention_id": f"id:{uuid.uuid4().hex}",
        "network": pick(st.sampled_from(sorted(NETWORKS)), st.just("myspace")),
        "network_item_id": pick(st.one_of(st.none(), st.just(uuid.uuid4().hex)), st.text(max_size=8)),
        "url": pick(good_urls, wild_urls),
        "kind": pick(st.sampled_from([None, "post", "reply", "quote"]), st.text(max_size=60)),
        "text": pick(good_texts, wild_texts),
        "lang": pick(st.sampled_from([None, "nl", "en", "pt-BR"]), st.text(max_size=25)),
        "published_at": pick(good_moments, wild_moments),
        "reply_via": pick(st.sampled_from([None, "webhook", "mastodon"]), st.just("pigeon")),
        "raw": draw(st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=5)), max_size=3)),
    }
    if draw(st.booleans()):
        data["author"] = {
            "id": pick(good_names, wild_names), "handle": pick(good_names, wild_names),
            "display_name": pick(good_names, wild_names), "profile_url": pick(good_urls, wild_urls),
            "followers": pick(st.one_of(st.none(), st.integers(0, 2**31 - 1)),
                              st.one_of(st.integers(-5, 2**40), st.just("312"))),
            "verified": pick(st.booleans(), st.just("yes"))}
    return {k: v for k, v in data.items() if v is not None}


bodies = st.one_of(
    mentions().map(lambda data: {"type": "mention.created", "data": data}),
    st.lists(mentions(), min_size=1, max_size=4).map(lambda items: {"type": "mention.batch", "data": {"items": items}}))



def sample(n: int, **fields: Any) -> dict[str, Any]:
    """A mention.created event of the smallest valid mention, `n` its own."""
    data = {"source": "meltwater", "source_mention_id": f"mw:example:{n}", "network": "x", "text": "Storing?",
            "published_at": "2026-11-20T10:00:05Z", **fields}
    return {"type": "mention.created", "data": data}


@pytest.fixture
async def app(database_url: str, slack: SlackFake) -> AsyncIterator[TestClient]:
    async with running_app(database_url, slack.url) as client:
        yield client


async def cards(client: TestClient, mention_id: int) -> tuple[tuple[str, list[dict]], dict]:
    """The Slack message and the Teams card of a stored mention, built as the outbox builds them."""
    ctx = context_of(client)
    async with ctx.db.uow() as uow:
        view = await card_view(uow, ctx.config, mention_id, ctx.clock())
    departments = [ctx.config.department_view(key) for key in ctx.config.departments]
    return slack_render.render_card(view, EN), teams_render.render_card(view, departments, EN)


def links(slack_message: tuple[str, list[dict]], teams_card: dict) -> tuple[set[str], set[str]]:
    """The addresses each card opens."""
    _, blocks = slack_message
    in_slack = {e["url"] for b in blocks if b["type"] == "actions" for e in b["elements"] if "url" in e}
    in_teams = {n["url"] for n in nodes(teams_card) if n.get("type") == "Action.OpenUrl"}
    return in_slack, in_teams


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(body=bodies)
@example(body=sample(1, url="http://[::1"))  # issue 11, point 3
@example(body=sample(2, author={"handle": "sanne", "profile_url": "https://[evil"}))
@example(body=sample(3, url="http://[::1]:8080/status/1"))
@example(body=sample(4, url="https://caf\u00e9.nl/\u00fc?q=a_b#c", author={
    "handle": "a" * 500, "display_name": "\U0001f469\u200d\U0001f4bb \u202eSanne", "followers": 2**31 - 1,
    "profile_url": "HTTPS://X.COM/sannedv"}))
@example(body=sample(5, text="a\x07\x1b[31m\r\n\t\u2028b" * 2000, published_at="1970-01-01T00:00:00Z"))
async def test_every_accepted_mention_renders_on_both_platforms_and_every_refusal_names_fields(app, body):
    raw = json.dumps(body).encode()
    headers = signed(raw)
    for _ in range(3):  # a loaded machine may answer 503 "overloaded" (retry later): the same delivery again
        response = await app.post(ROUTE, data=raw, headers=headers)
        answer = await response.json()
        if response.status != 503 or answer.get("error") != "overloaded":
            break
    assert response.status in (202, 400), answer
    if response.status == 400:
        assert answer["errors"], answer
        assert all(e["path"].startswith(("data", "type")) and e["problem"] for e in answer["errors"]), answer
        return
    sent = [body["data"]] if body["type"] == "mention.created" else body["data"]["items"]
    for entry, item in zip(answer["mentions"], sent, strict=True):
        slack_message, teams_card = await cards(app, entry["id"])
        assert_within_block_kit_limits(slack_message)
        assert_valid_card(teams_card)
        if not entry["duplicate"] and item.get("url"):
            in_slack, in_teams = links(slack_message, teams_card)
            assert item["url"] in in_slack and item["url"] in in_teams, "the post's link was dropped"
