"""Ingest refuses (400, naming the field) what no card could show: broken links, control characters, absurd dates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.fakes.slack_api import SlackFake
from tests.support import context_of, event, mention_data, running_app, signed

ROUTE = "/ingest/v1/mentions"


def author(**fields: Any) -> dict[str, Any]:
    """The fixture's author with some fields changed."""
    return {**mention_data(1)["author"], **fields}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


REFUSED = {
    "url with an unclosed IPv6 host": ({"url": "http://[::1"}, "data.url"),
    "profile_url with an unclosed IPv6 host": ({"author": author(profile_url="https://[evil")},
                                               "data.author.profile_url"),
    "url with junk after an IPv6 host": ({"url": "http://[::1]evil/"}, "data.url"),
    "url with a port out of range": ({"url": "https://x.com:99999/status/1"}, "data.url"),
    "url with a port that is not a number": ({"url": "https://x.com:https/status/1"}, "data.url"),
    "url without a host": ({"url": "https:///status/1"}, "data.url"),
    "url with a space": ({"url": "https://x.com/sannedv/status/1 2"}, "data.url"),
    "url with a newline a browser would drop": ({"url": "https://x.com/sanne\ndv"}, "data.url"),
    "url with a right-to-left override": ({"url": "https://x.com/\u202egnp.exe"}, "data.url"),
    "url with a zero-width space": ({"url": "https://x.com/\u200bsannedv"}, "data.url"),
    "url with a forbidden host character": ({"url": "https://exa<mple.com/"}, "data.url"),
    "url of another scheme": ({"url": "ftp://x.com/status/1"}, "data.url"),
    "url with a backslash for slashes": ({"url": "https:\\\\x.com\\status"}, "data.url"),
    "profile_url without //": ({"author": author(profile_url="https:x.com/sannedv")}, "data.author.profile_url"),
    "display_name with a line break": ({"author": author(display_name="Sanne\n:white_check_mark: Answered by Anna")},
                                       "data.author.display_name"),
    "handle with a tab": ({"author": author(handle="sanne\tdv")}, "data.author.handle"),
    "author id with an escape sequence": ({"author": author(id="88\x1b[31m231")}, "data.author.id"),
    "display_name with a C1 control": ({"author": author(display_name="Sanne\x85de Vries")},
                                       "data.author.display_name"),
    "source_mention_id with a carriage return": ({"source_mention_id": "mw:doc:1\r"}, "data.source_mention_id"),
    "source with DEL": ({"source": "melt\x7fwater"}, "data.source"),
    "kind with a line break": ({"kind": "post\nreply"}, "data.kind"),
    "lang with a NUL": ({"lang": "en\x00"}, "data.lang"),
    "published_at before 1970": ({"published_at": "1969-12-31T23:59:59Z"}, "data.published_at"),
    "published_at in year 1": ({"published_at": "0001-01-01T00:00:00Z"}, "data.published_at"),
    "published_at two days ahead": ({"published_at": iso(datetime.now(UTC) + timedelta(days=2))},
                                    "data.published_at"),
    "published_at in year 9999": ({"published_at": "9999-12-31T23:59:59Z"}, "data.published_at"),
}


@pytest.mark.parametrize(("change", "path"), REFUSED.values(), ids=REFUSED.keys())
async def test_what_no_card_could_show_is_refused_naming_the_field(sqlite_url, slack: SlackFake, change, path):
    async with running_app(sqlite_url, slack.url) as client:
        body = json.dumps(event(mention_data(1, **change))).encode()
        response = await client.post(ROUTE, data=body, headers=signed(body))
        answer = await response.json()
        assert response.status == 400, answer
        assert [e["path"] for e in answer["errors"]] == [path]
        assert all(e["problem"] for e in answer["errors"])
        async with context_of(client).db.engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM mention"))).scalar_one() == 0


async def test_a_bad_link_in_one_item_refuses_the_batch_and_names_the_item(database_url, slack: SlackFake):
    items = [mention_data(1), mention_data(2, author=author(profile_url="https://[evil")), mention_data(3)]
    async with running_app(database_url, slack.url) as client:
        body = json.dumps({"type": "mention.batch", "data": {"items": items}}).encode()
        response = await client.post(ROUTE, data=body, headers=signed(body))
        answer = await response.json()
        assert response.status == 400
        assert [e["path"] for e in answer["errors"]] == ["data.items.1.author.profile_url"]
        async with context_of(client).db.engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM outbox"))).scalar_one() == 0
