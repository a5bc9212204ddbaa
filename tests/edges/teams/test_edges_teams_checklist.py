"""Edge: a crisis on a 30-step playbook on Teams — its checklist always fits one Teams message.

Teams refuses a message over 28 KB. The real 30-step playbook in `fixtures/playbooks/long` renders
a checklist well over that; the card shows the steps around the one to do next, as many as fit,
says how many more `@Webcare crisis status` lists, and keeps the Mark done button of the step
to do next as the crisis moves on. `webcare playbooks check` warns about such a playbook.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.crisis.playbooks import parse_playbook
from tests.edges.teams.test_teams_crisis import buttons, checklist, start, thread_id, type_in
from tests.edges.teams.wire import ANNA, card_text, invoke, quiet, refreshed_card, teams_settings, until
from tests.fakes.bot_auth import BotFrameworkAuthFake
from tests.fakes.bot_connector import BotConnectorFake
from tests.support import FIXTURES, REPLY_SECRET, TEAM_PLAYBOOKS, TEAM_TOML, ShiftedClock, running_app

LONG = FIXTURES / "playbooks" / "long"
PLAYBOOK, _ = parse_playbook(LONG / "data-breach-full.md", (LONG / "data-breach-full.md").read_text())
assert PLAYBOOK is not None and len(PLAYBOOK.steps) == 30
REQUIRED = [s for s in PLAYBOOK.steps if not s.optional]
TEAMS_MESSAGE_LIMIT = 28 * 1024
MORE = re.compile(r"… (\d+) more steps? — `@Webcare crisis status` lists every step\.")
EARLIER = re.compile(r"(\d+) earlier steps? — `@Webcare crisis status` lists every step\.")


@pytest.fixture
async def app(sqlite_url, kit, connector, receiver):
    async with running_app(sqlite_url, None, clock=ShiftedClock(), playbooks_dir=LONG, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, **teams_settings(kit, connector)) as client:
        yield client
        await until(client, lambda: True)


def checklist_bodies(connector: BotConnectorFake) -> list[dict[str, Any]]:
    """Every checklist the bot sent to the connector: the thread's root post and each update of it."""
    return [c.body for c in connector.calls if c.operation in ("create_conversation", "update_activity")
            and '"crisis-1-title"' in json.dumps(c.body)]


def steps_on(card: dict[str, Any]) -> list[str]:
    text = card_text(card)
    return [s.id for s in PLAYBOOK.steps if f"**{s.title}**" in text.replace("\u2217", "*")]


def assert_whole_crisis_accounted_for(card: dict[str, Any]) -> None:
    """The steps shown, plus the counts before and after them, are the 30 steps of the playbook."""
    text = card_text(card)
    shown = steps_on(card)
    before = int(m.group(1)) if (m := EARLIER.search(text)) else 0
    after = int(m.group(1)) if (m := MORE.search(text)) else 0
    ids = [s.id for s in PLAYBOOK.steps]
    assert shown == ids[before:before + len(shown)] and before + len(shown) + after == 30, (before, shown, after)


async def test_the_checklist_of_a_30_step_playbook_fits_a_teams_message_as_the_crisis_moves_on(
        app, kit: BotFrameworkAuthFake, connector: BotConnectorFake):
    crisis_id = await start(app, kit, connector, text="crisis start data-breach-full")
    assert crisis_id == 1
    card = checklist(connector, crisis_id)
    assert MORE.search(card_text(card)), card_text(card)  # it did not all fit, and says so
    assert_whole_crisis_accounted_for(card)
    assert ("webcare.crisis_done", REQUIRED[0].id) in buttons(card)

    moved = False
    for step, following in zip(REQUIRED, [*REQUIRED[1:], None], strict=True):
        answer = await invoke(app, kit, connector, ANNA, "webcare.crisis_done",
                              {"crisis_id": crisis_id, "step": step.id}, thread_id(connector, crisis_id))
        refreshed = refreshed_card(answer)
        assert len(json.dumps(answer)) < TEAMS_MESSAGE_LIMIT
        if following is not None:  # the step to do next is on the card, with its button
            assert ("webcare.crisis_done", following.id) in buttons(refreshed), (following.id, steps_on(refreshed))
        assert_whole_crisis_accounted_for(refreshed)
        moved = moved or bool(EARLIER.search(card_text(refreshed)))
    assert moved  # later in the crisis the card shows later steps, and counts the ones before them
    await quiet(app)
    last = checklist(connector, crisis_id)
    assert ("webcare.crisis_done", REQUIRED[-1].id) not in buttons(last)
    assert_whole_crisis_accounted_for(last)

    sent = checklist_bodies(connector)
    assert len(sent) > len(REQUIRED) // 2
    sizes = [len(json.dumps(body).encode()) for body in sent]
    assert max(sizes) <= TEAMS_MESSAGE_LIMIT, sizes


async def test_crisis_status_lists_every_step_of_a_long_playbook(app, kit, connector):
    crisis_id = await start(app, kit, connector, text="crisis start data-breach-full")
    status = await type_in(app, kit, connector, ANNA, "crisis status", thread=thread_id(connector, crisis_id))
    missing = [s.title for s in PLAYBOOK.steps if s.title not in status]
    assert missing == [], missing


def check(directory: Path) -> Any:
    return CliRunner().invoke(main, ["playbooks", "check", str(directory)], env={"WEBCARE_CONFIG": str(TEAM_TOML)})


def test_playbooks_check_warns_about_a_playbook_too_long_for_a_teams_card_but_passes_it():
    result = check(LONG)
    assert result.exit_code == 0, result.output
    [warning] = result.stdout.splitlines()
    match = re.fullmatch(rf"{re.escape(str(LONG / 'data-breach-full.md'))}:(\d+): warning: 30 steps are more than "
                         r"one Teams message holds: its checklist card shows (\d+) at a time, and `crisis status` "
                         r"lists them all", warning)
    assert match, warning
    line, shown = int(match.group(1)), int(match.group(2))
    assert 0 < shown < 30 and line == PLAYBOOK.steps[shown].line
    assert "1 playbook, 0 problems, 1 warning" in result.stderr


def test_playbooks_check_says_nothing_about_playbooks_that_fit():
    result = check(TEAM_PLAYBOOKS)
    assert result.exit_code == 0 and result.stdout == "", result.output
    assert "warning" not in result.stderr
