"""Storms across real processes: two servers share one storm, and a server killed mid-storm loses no mention."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import aiohttp
from sqlmodel import select

from bot.storage.models import Mention, Storm
from tests.app.test_app_processes import (
    REQUEST_TIMEOUT,
    WallClockSlack,
    assert_clean_log,
    database,
    eventually,
)
from tests.app.test_app_processes import live_slack as live_slack  # noqa: F401 (the fixture)
from tests.processes import ServerProcess, server_process, start_server
from tests.support import TEAM_TOML, TRIAGE_CHANNEL, event, mention_data, signed

COMPLAINT = "@KLM waar is mijn koffer? Al drie dagen niets gehoord van jullie, dit is echt schandalig"


def storm_team(workdir: Path) -> Path:
    """The test team, where three similar mentions make a storm (the servers read it from their folder)."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "webcare.toml").write_text(TEAM_TOML.read_text().replace("group_min = 1000", "group_min = 3"))
    return workdir


def storm_delivery(n: int) -> tuple[str, bytes]:
    """The n-th mention of the storm, as a listening tool sends it (its webhook-id stays the same on a retry)."""
    return f"msg_storm_{n:04d}", json.dumps(event(mention_data(n, text=f"{COMPLAINT} {'!' * (n % 7)}"))).encode()


async def deliver(http: aiohttp.ClientSession, server: ServerProcess, n: int) -> int | None:
    msg_id, body = storm_delivery(n)
    try:
        async with http.post(f"{server.url}/ingest/v1/mentions", data=body, headers=signed(body, msg_id=msg_id),
                             timeout=REQUEST_TIMEOUT) as response:
            return int((await response.json())["mentions"][0]["id"]) if response.status == 202 else None
    except (aiohttp.ClientError, TimeoutError):
        return None


def subjects(fake: WallClockSlack) -> Counter[str]:
    """How many messages in the triage channel carry each subject."""
    found = ((m.get("metadata") or {}).get("event_payload", {}).get("subject", "")
             for m in fake.messages(TRIAGE_CHANNEL))
    return Counter(subject for subject in found if subject)


async def members(db, mention_ids: list[int]) -> dict[int, int | None]:  # type: ignore[no-untyped-def]
    async with db.uow() as uow:
        rows = (await uow.session.exec(select(Mention.id, Mention.storm_id).where(
            Mention.id.in_(mention_ids)))).all()  # type: ignore[union-attr]
    return dict(rows)  # type: ignore[arg-type]


async def accounted(db, fake: WallClockSlack, mention_ids: list[int]) -> bool:  # type: ignore[no-untyped-def]
    """Every mention is shown: on its own card or on its storm's card (whose count catches up within 30 s)."""
    shown = subjects(fake)
    storm_of = await members(db, mention_ids)
    return all(f"card:{m}" in shown or (storm_of.get(m) and f"storm:{storm_of[m]}" in shown)
               for m in mention_ids)


async def test_two_servers_storing_one_storm_at_once_make_one_storm_card(database_url, live_slack, tmp_path: Path):
    storm_team(tmp_path)
    async with (server_process(database_url, live_slack.url, tmp_path, name="a") as a,
                server_process(database_url, live_slack.url, tmp_path, name="b") as b,
                aiohttp.ClientSession() as http, database(database_url) as db):
        ids = await asyncio.gather(*(deliver(http, (a, b)[n % 2], n) for n in range(1, 21)))
        assert None not in ids
        await eventually(lambda: accounted(db, live_slack, ids), timeout=30, what="every mention shown")
        async with db.uow() as uow:
            storms = (await uow.session.exec(select(Storm))).all()
        assert len(storms) == 1 and storms[0].members == 20
        shown = subjects(live_slack)
        assert shown[f"storm:{storms[0].id}"] == 1
        assert sum(1 for s in shown if s.startswith("card:")) < 3  # only those before the storm formed
        assert all(n == 1 for n in shown.values())  # nothing posted twice
    assert_clean_log(a)
    assert_clean_log(b)


async def test_a_server_killed_mid_storm_and_restarted_shows_every_acknowledged_mention_once(
        database_url, live_slack, tmp_path: Path):
    storm_team(tmp_path)
    async with aiohttp.ClientSession() as http, database(database_url) as db:
        server = await start_server(database_url, live_slack.url, tmp_path, name="before-kill")
        acknowledged: list[int] = []
        try:
            async def deliver_then_kill(n: int) -> None:
                await asyncio.sleep(n * 0.01)  # a storm arrives over time, not in one instant
                mention_id = await deliver(http, server, n)
                if mention_id is not None:
                    acknowledged.append(mention_id)
                if len(acknowledged) == 15:
                    server.kill()  # SIGKILL while the storm is still coming in

            await asyncio.gather(*(deliver_then_kill(n) for n in range(1, 41)))
        finally:
            server.kill()
            await server.wait()
        assert 15 <= len(acknowledged) < 40, "the kill came after the whole storm was acknowledged"
        async with server_process(database_url, live_slack.url, tmp_path, name="after-kill") as restarted:
            for n in range(1, 41):  # the listening tool retries what was not acknowledged (same webhook-id)
                mention_id = await deliver(http, restarted, n)
                assert mention_id is not None
                if mention_id not in acknowledged:
                    acknowledged.append(mention_id)
            await eventually(lambda: accounted(db, live_slack, acknowledged), timeout=40,
                             what="every mention shown after the restart")
        assert len(acknowledged) == 40
        assert all(n == 1 for n in subjects(live_slack).values())  # nothing posted twice
        assert sum(1 for s in subjects(live_slack) if s.startswith("storm:")) == 1
