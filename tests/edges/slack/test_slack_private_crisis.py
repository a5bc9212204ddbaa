"""Edge: a crisis' own Slack channel is private unless its playbook says `channel: public`, and the app's manifest
scopes are what Slack asks of each call the crisis makes (a fake holding only those scopes answers like Slack)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.slack.manifest import BOT_SCOPES
from tests.edges.slack.test_slack_crisis import (
    SLACK_EPOCH,
    buttons,
    by_subject,
    checklist,
    click,
    room_name,
    text_of,
    typed,
)
from tests.fakes.slack_api import SlackFake
from tests.support import TEAM_PLAYBOOKS, TRIAGE_CHANNEL, HandClock, running_app, settle_slack

# Slack's documented bot scope of each method the crisis calls, for a (public, private) channel.
SLACK_SCOPES: dict[str, tuple[str, str]] = {
    "chat.postMessage": ("chat:write", "chat:write"),
    "chat.update": ("chat:write", "chat:write"),
    "chat.postEphemeral": ("chat:write", "chat:write"),
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.replies": ("channels:history", "groups:history"),
    "conversations.create": ("channels:manage", "groups:write"),
    "conversations.invite": ("channels:manage", "groups:write"),
}
NO_SCOPE = frozenset({"auth.test", "views.open"})
EVERYONE = {"U01ANNA", "U02BRAM", "U03CARLA", "U04DIRK", "U05EVA"}


class ScopedSlack(SlackFake):
    """The Slack fake installed with only `scopes`: a call needing another answers `missing_scope`, as Slack does."""

    def __init__(self, scopes: set[str]) -> None:
        super().__init__()
        self.scopes = scopes
        self.needed: set[str] = set()

    def scope_of(self, method: str, params: dict[str, Any]) -> str | None:
        if method in NO_SCOPE:
            return None
        assert method in SLACK_SCOPES, f"the bot called {method}: add Slack's scopes for it to SLACK_SCOPES"
        public, private = SLACK_SCOPES[method]
        if method == "conversations.create":
            return private if str(params.get("is_private")).lower() in ("1", "true") else public
        return private if params.get("channel") in self.private_channels else public

    def _answer(self, method: str, token: str | None, params: dict[str, Any]) -> dict[str, Any]:
        needed = self.scope_of(method, params)
        if needed is None:
            return super()._answer(method, token, params)
        self.needed.add(needed)
        if needed not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": needed, "provided": ",".join(sorted(self.scopes))}
        return super()._answer(method, token, params)


@pytest.fixture
def clock() -> HandClock:
    clock = HandClock()
    # The fake numbers messages from a fixed 2024 epoch and the bot looks for a lost post only among messages
    # newer than its job, as on real Slack, so the crises here start then.
    clock.now = datetime.fromtimestamp(SLACK_EPOCH, UTC)
    return clock


@pytest.fixture
def scopes() -> set[str]:
    return set(BOT_SCOPES)


@pytest.fixture
async def slack(scopes: set[str]) -> AsyncIterator[ScopedSlack]:
    async with ScopedSlack(scopes) as fake:
        yield fake


def public_outage(directory: Path) -> Path:
    """The team's playbooks, with the outage one opting out: `channel: public`."""
    directory.mkdir()
    for playbook in TEAM_PLAYBOOKS.glob("*.md"):
        text = playbook.read_text(encoding="utf-8")
        if playbook.stem == "outage":
            text = text.replace("lead_role: crisis-lead\n", "lead_role: crisis-lead\nchannel: public\n", 1)
        (directory / playbook.name).write_text(text, encoding="utf-8")
    return directory


async def test_a_crisis_channel_is_private_and_works_on_the_manifests_scopes(database_url, slack, clock):
    slack.accept_then_drop("chat.postMessage")  # the room's first post is made, its answer lost: the bot reads back
    async with running_app(database_url, slack.url, clock=clock) as app:
        assert (await typed(app, "U01ANNA", "crisis start outage")).startswith("Crisis #1 started.")
        clock.advance(seconds=30)
        await settle_slack(app)
        room = slack.channel_named(room_name(clock))
        assert room in slack.private_channels
        assert EVERYONE <= slack.members[room]
        assert room in {c["channel"] for c in slack.calls_to("conversations.history")}
        subjects = [m["metadata"]["event_payload"]["subject"] for m in slack.messages(room)]
        assert subjects == ["crisis:1:room", "crisis:1:checklist"]  # found after the crash, not posted twice

        action_id, value = buttons(checklist(slack, room))["Mark done confirm-the-outage"]
        await click(app, "U03CARLA", action_id, value, channel=room)
        assert "Done by <@U03CARLA>" in text_of(checklist(slack, room)["blocks"])
        assert f"<#{room}>" in text_of(by_subject(slack, TRIAGE_CHANNEL, "crisis:1:banner")["blocks"])

    assert {"groups:write", "groups:history", "chat:write"} <= slack.needed <= set(BOT_SCOPES)


async def test_a_playbook_saying_channel_public_gets_a_public_channel(sqlite_url, slack, clock, tmp_path):
    async with running_app(sqlite_url, slack.url, clock=clock, playbooks_dir=public_outage(tmp_path / "pb")) as app:
        await typed(app, "U01ANNA", "crisis start outage")
        room = slack.channel_named(room_name(clock))
        assert room is not None and room not in slack.private_channels
        assert EVERYONE <= slack.members[room]
        assert "Mark done" in text_of(checklist(slack, room)["blocks"])
    assert "channels:manage" in slack.needed and "groups:write" not in slack.needed


@pytest.mark.parametrize("scopes", [set(BOT_SCOPES) - {"groups:write"}])
async def test_an_app_installed_without_groups_write_runs_the_crisis_in_a_thread_saying_why(sqlite_url, slack, clock):
    async with running_app(sqlite_url, slack.url, clock=clock) as app:
        await typed(app, "U01ANNA", "crisis start outage")
    assert slack.channel_named(room_name(clock)) is None
    banner = by_subject(slack, TRIAGE_CHANNEL, "crisis:1:banner")
    intro = slack.thread(TRIAGE_CHANNEL, banner["ts"])[1]
    assert "Slack did not let me create a channel" in text_of(intro["blocks"])
    assert "missing_scope" in text_of(intro["blocks"])
