"""Edge (Teams wire): one mention on Slack and Teams at once, in sync; customer text and tokens stay inert."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.edges.teams.wire import (
    ANNA,
    CHANNEL,
    all_of,
    card_post,
    card_text,
    claims_of,
    invoke,
    mention_entities,
    one_mention,
    quiet,
    said,
    sent_bodies,
    slack_card,
    slack_click,
    slack_shows,
    the_card,
    until,
)
from tests.support import event, ingest, mention_data


async def test_a_mention_gets_a_card_on_slack_and_on_teams(both, slack, connector):
    [m] = await ingest(both, event(mention_data(1)))
    await until(both, lambda: slack_card(slack, m["id"]) and card_post(connector, m["id"]), what="both cards")
    await quiet(both)
    assert len(slack.calls_to("chat.postMessage")) == 1 and len(connector.posts(CHANNEL)) == 1


async def test_a_claim_in_teams_shows_on_slack(both, slack, kit, connector):
    [m] = await ingest(both, event(mention_data(1)))
    await until(both, lambda: slack_card(slack, m["id"]) and card_post(connector, m["id"]), what="both cards")
    await invoke(both, kit, connector, ANNA, "webcare.claim", {"mention_id": m["id"]},
                 card_post(connector, m["id"])["id"])
    await until(both, lambda: "Claimed* by <@U01ANNA>" in slack_shows(slack, m["id"]), what="the Slack card")
    assert slack.calls_to("chat.update")


async def test_a_claim_in_slack_shows_on_teams(both, slack, kit, connector):
    [m] = await ingest(both, event(mention_data(1)))
    await until(both, lambda: slack_card(slack, m["id"]) and card_post(connector, m["id"]), what="both cards")
    await slack_click(both, "U03CARLA", "webcare.claim", str(m["id"]))
    await until(both, lambda: "Claimed by Carla Smit" in card_text(the_card(connector, m["id"])),
                what="the Teams card")
    assert connector.calls_to("update_activity")


async def test_simultaneous_claims_in_slack_and_teams_have_one_winner_shown_everywhere(both, slack, kit, connector):
    [m] = await ingest(both, event(mention_data(1)))
    mention_id = m["id"]
    await until(both, lambda: slack_card(slack, mention_id) and card_post(connector, mention_id), what="both cards")
    card_id = card_post(connector, mention_id)["id"]
    _, answer = await asyncio.gather(
        slack_click(both, "U03CARLA", "webcare.claim", str(mention_id)),
        invoke(both, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id}, card_id))
    await asyncio.sleep(0.2)
    await quiet(both)
    [winner] = await claims_of(both, mention_id)
    slack_id = {"Anna de Vries": "U01ANNA", "Carla Smit": "U03CARLA"}[winner]
    await until(both, lambda: f"Claimed* by <@{slack_id}>" in slack_shows(slack, mention_id), what="Slack winner")
    await until(both, lambda: f"Claimed by {winner}" in card_text(the_card(connector, mention_id)),
                what="Teams winner")
    if winner == "Carla Smit":
        assert "Already claimed by Carla Smit" in said(answer)
    else:
        assert "Claimed by Anna de Vries" in said(answer)
        assert [e["text"] for e in slack.ephemerals] == ["Already claimed by <@U01ANNA>."]


async def test_customer_text_never_reaches_teams_as_live_markup(app, kit, connector):
    hostile = "[click](http://evil.example) **bold** <at>Bram Jansen</at> @Anna <at>Anna de Vries</at> _it_"
    mention_id = await one_mention(app, connector, text=hostile,
                                   author={"handle": "<at>Anna de Vries</at>", "display_name": "**Boss** [x](http://evil.example)",
                                           "followers": 1})
    await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id},
                 card_post(connector, mention_id)["id"])
    await until(app, lambda: connector.calls_to("update_activity"), what="the card update")
    await quiet(app)

    sent = sent_bodies(connector)
    assert sent
    for body in sent:
        assert mention_entities(body) == [], body
        assert "<at>" not in json.dumps(body, ensure_ascii=False)
    card = the_card(connector, mention_id)
    runs = [i["text"] for b in card["body"] if b.get("type") == "RichTextBlock" for i in b["inlines"]]
    assert any("[click](http://evil.example) **bold**" in r for r in runs), runs  # shown as written

    def text_blocks(node: Any) -> list[str]:
        if isinstance(node, dict):
            own = [node.get("text", "")] if node.get("type") == "TextBlock" else []
            return own + [t for v in node.values() for t in text_blocks(v)]
        if isinstance(node, list):
            return [t for v in node for t in text_blocks(v)]
        return []

    for body in sent:
        for markdown in text_blocks(body):
            assert "evil.example" not in markdown and "**" not in markdown, markdown
    urls = [a["url"] for b in sent for a in all_of(b, "Action.OpenUrl")]
    assert urls and all(not u.startswith("http://evil.example") for u in urls)


async def test_access_tokens_never_reach_the_logs(app, kit, connector, caplog):
    mention_id = await one_mention(app, connector)
    await invoke(app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id},
                 card_post(connector, mention_id)["id"])
    await until(app, lambda: connector.calls_to("update_activity"), what="the card update")
    assert kit.issued
    logged = "\n".join(r.getMessage() for r in caplog.records) + "".join(str(r.__dict__) for r in caplog.records)
    for token in kit.issued:
        assert token not in logged
