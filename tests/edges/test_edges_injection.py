"""Edge: text people typed or customers wrote never becomes a live link, ping or markup in Slack or Teams.

Asserted on what the fakes received: the Block Kit and the notification `text` of each Slack call,
the answers the bot sent to the Bot Connector, and the Escalate form on a Teams card.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from tests.edges.slack.test_slack_wire import one_mention
from tests.edges.teams.wire import ANNA, card_post, invoke, send, teams_settings, the_card, typed, until
from tests.edges.teams.wire import one_mention as teams_mention
from tests.fakes.bot_auth import BotFrameworkAuthFake
from tests.fakes.bot_connector import BotConnectorFake
from tests.support import REPLY_SECRET, TEAM_TOML, block_action, post_interaction, running_app, settle_slack, slash

WJ, ZWSP = "\u2060", "\u200b"
HOSTILE_NAME = "https://evil.example/login www.evil.example @here @channel @everyone"


def mrkdwn_objects(node: Any) -> list[dict[str, Any]]:
    """Every mrkdwn text object in some Block Kit."""
    if isinstance(node, dict):
        own = [node] if node.get("type") == "mrkdwn" else []
        return own + [o for v in node.values() for o in mrkdwn_objects(v)]
    if isinstance(node, list):
        return [o for v in node for o in mrkdwn_objects(v)]
    return []


def assert_nothing_slack_would_link(text: str) -> None:
    """No address Slack auto-links, and no ping, in text Slack reads without `verbatim`."""
    for live in ("www.", "evil.example", "@here", "@channel", "@everyone", "<!"):
        assert live not in text, (live, text)
    assert not re.search(r"\w://", text), text  # no scheme runs into its `://`
    assert "https" in text and "evil" in text and "here" in text  # still readable: only made inert


# -- Slack -----------------------------------------------------------------------------------------


@pytest.fixture
async def slack_app(sqlite_url, slack, receiver):
    async with running_app(sqlite_url, slack.url, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        yield client


async def test_slack_card_byline_and_notification_text_link_and_ping_nothing(slack_app, slack):
    author = {"handle": "here", "display_name": HOSTILE_NAME, "followers": 1}
    await one_mention(slack_app, author=author, text="Read www.evil.example and https://evil.example/x_y @channel")
    [post] = slack.calls_to("chat.postMessage")
    objects = mrkdwn_objects(post["blocks"])
    assert objects and all(o.get("verbatim") is True for o in objects), objects  # Slack links nothing on its own
    byline = next(o["text"] for b in post["blocks"] if b.get("block_id", "").endswith("-author")
                  for o in mrkdwn_objects(b))
    assert_nothing_slack_would_link(byline)
    # the notification text has no `verbatim`: every address and ping in it is defused
    assert_nothing_slack_would_link(post["text"])
    assert "@" + WJ + "here (new)" in post["text"]
    # the post itself keeps its addresses whole to copy (its section is verbatim), its pings defused
    body = next(o["text"] for b in post["blocks"] if b.get("block_id", "").endswith("-text")
                for o in mrkdwn_objects(b))
    assert "https://evil.example/x" in body and "www.evil.example" in body and "@channel" not in body


async def test_slack_mine_links_to_the_post_exactly_as_its_url_reads(slack_app, slack):
    url = "https://x.com/sanne_dv/status/1991_438?ref=a_b"
    mention_id = await one_mention(slack_app, url=url)
    await post_interaction(slack_app, block_action("U03CARLA", "webcare.claim", str(mention_id)))
    await settle_slack(slack_app)
    answer = (await (await slash(slack_app, "U03CARLA", "mine")).json())["text"]
    assert f"<{url}|#{mention_id}>" in answer, answer


async def test_slack_command_refusals_quote_what_was_typed_inertly(slack_app, slack):
    typed_text = "crisis skip <!channel>_x_<https://evil.example|click>"  # no reason: the refusal quotes the step
    answer = (await (await slash(slack_app, "U03CARLA", typed_text)).json())["text"]
    assert "Give a reason" in answer and "channel" in answer and "click" in answer, answer
    assert "<!channel>" not in answer and "<https:" not in answer and "_x_" not in answer, answer


# -- Teams -----------------------------------------------------------------------------------------


@pytest.fixture
async def teams_app(sqlite_url, kit, connector, receiver, tmp_path: Path):
    toml = TEAM_TOML.read_text() + (
        '\n[departments.press]\nname = "**Press** [desk](https://evil.example/press)"\nheads = ["markdown"]\n'
        '\n[people.markdown]\nname = "_Mark_ [Down](https://evil.example/mark)"\nslack = "U09MARK"\n'
        'roles = ["press"]\n')
    (tmp_path / "webcare.toml").write_text(toml)
    async with running_app(sqlite_url, None, config=load_config(tmp_path / "webcare.toml"),
                           reply_webhook_url=receiver.url, reply_webhook_secret=REPLY_SECRET,
                           **teams_settings(kit, connector)) as client:
        yield client
        await until(client, lambda: True)


async def say(client, kit: BotFrameworkAuthFake, connector: BotConnectorFake, text: str) -> str:
    """Type `@Webcare <text>` in the channel; return the raw markdown the bot answered with."""
    body = typed(connector, kit, ANNA, text, channel=True)
    before = len(connector.calls)
    assert (await send(client, kit, body)).status in (200, 201, 202)
    [answer] = await until(client, lambda: [c.body for c in connector.calls[before:]
                                            if c.operation == "reply_to_activity" and c.status < 300],
                           what=f"the answer to {text!r}")
    return str(answer["text"])


def live_markdown_links(markdown: str) -> list[str]:
    return re.findall(r"\[[^\]]*\]\((?:https?:)?//[^)]*\)", markdown)


@pytest.mark.parametrize("typed_text", ["stats [x](https://evil.example/stats)",
                                        "crisis skip [x](https://evil.example/skip)",
                                        "crisis start [x](https://evil.example/start)"])
async def test_teams_never_echoes_a_typed_command_as_a_live_link(teams_app, kit, connector, typed_text):
    answer = await say(teams_app, kit, connector, typed_text)
    assert "evil" in answer and "x" in answer, answer  # quoted, as typed
    assert live_markdown_links(answer) == [] and "https://" not in answer, answer


async def test_teams_mine_links_to_the_post_exactly_as_its_url_reads(teams_app, kit, connector):
    url = "https://x.com/sanne_dv/status/1991_438?ref=a_b"
    mention_id = await teams_mention(teams_app, connector, url=url)
    await invoke(teams_app, kit, connector, ANNA, "webcare.claim", {"mention_id": mention_id},
                 card_post(connector, mention_id)["id"])
    answer = await say(teams_app, kit, connector, "mine")
    [(label, target)] = re.findall(r"\[([^\]]*)\]\(([^)]*)\)", answer)
    assert (label.replace(ZWSP, ""), target) == (f"#{mention_id}", url), answer


async def test_teams_escalate_picker_shows_department_and_head_names_as_written(teams_app, kit, connector):
    mention_id = await teams_mention(teams_app, connector)
    [escalate] = [a for a in the_card(connector, mention_id)["actions"] if a["title"] == "Escalate"]
    choices = [c["title"] for c in escalate["card"]["body"][0]["choices"]]
    press = next(c for c in choices if "Press" in c)
    assert live_markdown_links(press) == [] and "**" not in press and "_Mark_" not in press, press
    assert press.replace(ZWSP, "").replace("\u2217", "*").replace("\u02cd", "_") == (
        "**Press** [desk](https://evil.example/press) (_Mark_ [Down](https://evil.example/mark))")
