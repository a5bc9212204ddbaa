"""Edge: at most one Teams post per subject for what the earlier lost-answer work did not cover: the team id learned
at install (no TEAMS_TEAM_ID), crisis checklists and their notices, and failure lines in the triage channel.

The fake Bot Connector performs a post and drops the answer; the retry must find the post through the
fake's Microsoft Graph delta query and adopt it instead of posting again.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from bot.storage.models import OutboxJob
from tests.edges.teams.test_teams_crisis import ANNA, CONFIRM, checklist_post, replies, start, thread_id, type_in
from tests.edges.teams.test_teams_posts_lost_answer import (
    LOST,
    TEAM,
    card_recorded,
    graph_settings,
    posts_in_channel,
    recorded,
)
from tests.edges.teams.wire import (
    CHANNEL,
    TEAMS_FIXTURES,
    card_post,
    card_text,
    cards_in,
    install,
    quiet,
    send,
    teams_settings,
    until,
)
from tests.support import ShiftedClock, context_of, event, ingest, mention_data, running_app


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


async def jobs_of(app, kind: str) -> list[OutboxJob]:
    async with context_of(app).db.uow() as uow:
        return [job for job in (await uow.session.exec(select(OutboxJob))).all() if job.kind == kind]


async def retried(app, clock: ShiftedClock, kind: str) -> None:
    """Let the relay retry (the clock moved past each retry's delay) until every job of `kind` is done."""
    for _ in range(100):
        clock.advance(seconds=6)
        await quiet(app, 0.02)
        jobs = await jobs_of(app, kind)
        if jobs and all(job.done for job in jobs):
            return
    raise AssertionError(f"the {kind} jobs never finished: {await jobs_of(app, kind)}")


async def test_the_install_teaches_the_team_id_so_a_lost_answer_card_is_adopted_without_teams_team_id(
        database_url, kit, connector, clock):
    connector.add_team(TEAM, CHANNEL)
    settings = teams_settings(kit, connector, channel=None, microsoft_graph_url=connector.graph_url)
    assert "teams_team_id" not in settings
    async with running_app(database_url, None, clock=clock, **settings) as app:
        response = await install(app, kit, connector)  # channelData.team.aadGroupId is TEAM
        assert response.status == 200, await response.text()
        connector.accept_then_drop(LOST)
        [m] = await ingest(app, event(mention_data(1)))
        record = await card_recorded(app, clock, m["id"])
        await quiet(app)
    post = card_post(connector, m["id"])
    assert len(posts_in_channel(connector)) == 1 and record.ts == post["id"]
    assert [c.status for c in connector.calls_to(LOST)] == [201]
    [look] = connector.graph_calls
    assert look.status == 200 and f"/teams/{TEAM}/channels/" in look.path


async def test_an_install_with_an_odd_team_id_keeps_none_and_cards_still_go_out(sqlite_url, kit, connector, clock):
    """A team id that is no Entra id is not kept: the retry cannot look, so it posts again rather than lose a card."""
    settings = teams_settings(kit, connector, channel=None, microsoft_graph_url=connector.graph_url)
    async with running_app(sqlite_url, None, clock=clock, **settings) as app:
        body_team = {"aadGroupId": "../../me/messages", "id": "19:x@thread.tacv2"}
        response = await install_with(app, kit, connector, team=body_team)
        assert response.status == 200, await response.text()
        async with context_of(app).db.uow() as uow:
            learned = await uow.channels.latest("teams")
        assert learned is not None and "aadGroupId" not in learned.reference
        connector.accept_then_drop(LOST)
        [m] = await ingest(app, event(mention_data(1)))
        await card_recorded(app, clock, m["id"])
    assert connector.graph_calls == [] and len(posts_in_channel(connector)) == 2


async def install_with(app, kit, connector, *, team: dict[str, Any]):
    """The install activity with another `channelData.team`."""
    body = json.loads((TEAMS_FIXTURES / "conversation_update_install.json").read_text())
    body.update(serviceUrl=connector.url, membersAdded=[{"id": f"28:{kit.app_id}"}],
                recipient={"id": f"28:{kit.app_id}", "name": "Webcare"})
    body["channelData"]["team"] = team
    return await send(app, kit, body)


async def test_a_crisis_checklist_whose_answer_was_lost_is_adopted_not_posted_twice(
        database_url, kit, connector, clock):
    connector.add_team(TEAM, CHANNEL)
    async with running_app(database_url, None, clock=clock, **graph_settings(kit, connector)) as app:
        connector.accept_then_drop(LOST)
        crisis_id = await start(app, kit, connector)
        await retried(app, clock, "teams.crisis")
        record = await recorded(app, f"crisis:{crisis_id}:checklist")
        await type_in(app, kit, connector, ANNA, f"crisis done {CONFIRM}", thread=thread_id(connector, crisis_id))
        await until(app, lambda: "Done by Anna de Vries" in card_text(cards_in(checklist_post(connector, crisis_id))),
                    what="the adopted checklist updated in place")
    root = checklist_post(connector, crisis_id)  # one checklist in the channel
    assert len(posts_in_channel(connector)) == 1
    assert [c.status for c in connector.calls_to(LOST)] == [201]
    assert record is not None and record.ts == root["id"] and record.crisis_id == crisis_id


async def test_a_crisis_report_whose_answer_was_lost_is_adopted_not_posted_twice(sqlite_url, kit, connector, clock):
    connector.add_team(TEAM, CHANNEL)
    async with running_app(sqlite_url, None, clock=clock, **graph_settings(kit, connector)) as app:
        crisis_id = await start(app, kit, connector)
        connector.accept_then_drop("send_to_conversation")
        ended = await type_in(app, kit, connector, ANNA, "crisis end --force Restored", thread=thread_id(connector,
                                                                                                          crisis_id))
        assert "has ended early" in ended, ended
        await retried(app, clock, "teams.crisis_notice")
    [report] = replies(connector, crisis_id)
    assert "Crisis report" in card_text(cards_in(report))
    assert [c.status for c in connector.calls_to("send_to_conversation")] == [201]
    assert [c.status for c in connector.graph_calls] == [200]


async def test_a_failure_line_whose_answer_was_lost_is_adopted_not_posted_twice(sqlite_url, kit, connector, clock):
    connector.add_team(TEAM, CHANNEL)
    connector.fail_next(LOST, status=400)  # the card is refused…
    connector.accept_then_drop(LOST)  # …and the answer to the line saying so is lost
    async with running_app(sqlite_url, None, clock=clock, **graph_settings(kit, connector)) as app:
        [m] = await ingest(app, event(mention_data(1)))
        await retried(app, clock, "teams.notice")
        await quiet(app)
    [line] = posts_in_channel(connector)
    assert card_text(cards_in(line)).strip() == (f"⚠ Mention #{m['id']} could not be shown on Teams: "
                                                 "Teams refused the post (400: BadArgument)")
    assert [c.status for c in connector.calls_to(LOST)] == [400, 201]
    assert [c.status for c in connector.graph_calls] == [200]
