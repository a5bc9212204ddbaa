"""Database outage: one line when it starts, quiet backoff, one line when it ends; /metrics answers throughout."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.logs import Outage
from bot.metrics import Metrics
from bot.outbox.fanout import Fanout
from bot.outbox.relay import Relay
from bot.storage.database import Database
from bot.storage.errors import unreachable
from bot.storage.models import OutboxJob, utcnow
from tests.support import TRIAGE_CHANNEL, event, ingest, mention_data, running_app, settings, team_config

OUTAGE_SECONDS = 4.0


class Cable:
    """A TCP forwarder in front of PostgreSQL that the test unplugs (every connection cut, none accepted) and
    plugs back in on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self._upstream = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def plug(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def unplug(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()
        self._server = None

    async def _pipe(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            client_writer.transport.abort()
            return
        self._writers |= {client_writer, server_writer}

        async def copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                writer.transport.abort()
                self._writers.discard(writer)

        await asyncio.gather(copy(client_reader, server_writer), copy(server_reader, client_writer))


@pytest.fixture
async def cable(postgres_url: str) -> AsyncIterator[tuple[Cable, str]]:
    """The test's PostgreSQL database reached through a cable (a database server's outage); the URL for the app."""
    url = make_url(postgres_url)
    wire = Cable(url.host or "127.0.0.1", url.port or 5432)
    await wire.plug()
    try:
        yield wire, url.set(host="127.0.0.1", port=wire.port).render_as_string(hide_password=False)
    finally:
        if wire._server is not None:  # noqa: SLF001 (the test's own helper)
            await wire.unplug()


def ours(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("bot.", "handlers.")) and r.levelno >= logging.WARNING]


async def test_an_unreachable_database_logs_one_line_each_way_and_metrics_answer_meanwhile(cable, slack, caplog):
    wire, url = cable
    async with running_app(url, slack.url) as client:
        [first] = await ingest(client, event(mention_data(1)))
        await until(lambda: len(slack.messages(TRIAGE_CHANNEL)) == 1, "the first card")

        caplog.clear()
        await wire.unplug()
        started = time.monotonic()
        metrics = await asyncio.wait_for(client.get("/metrics"), timeout=2)
        assert metrics.status == 200 and "webcare_outbox_queue_depth" in await metrics.text()
        await asyncio.sleep(OUTAGE_SECONDS - (time.monotonic() - started))
        during = ours(caplog)

        await wire.plug()
        await until(lambda: any("available again" in r.getMessage() for r in ours(caplog)), "the end of the outage")
        [second] = await ingest(client, event(mention_data(2)))
        await until(lambda: len(slack.messages(TRIAGE_CHANNEL)) == 2, "a card after the outage")

    starts = [r for r in during if "unavailable" in r.getMessage() and r.name == "bot.outbox.relay"]
    assert len(starts) == 1, [r.getMessage() for r in during]
    assert len(during) <= 3, [r.getMessage() for r in during]  # not one line per poll (16 polls went by)
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    ends = [r for r in ours(caplog) if "available again" in r.getMessage() and r.name == "bot.outbox.relay"]
    assert len(ends) == 1
    assert first["id"] != second["id"]


async def until(check, what: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_database_nothing_listens_on_gives_one_line_per_loop_and_metrics_still_answer(caplog):
    app = create_app(settings("postgresql://nobody@127.0.0.1:1/none"), config=team_config(),
                     relay_poll_seconds=0.05, reminder_seconds=0.05)
    async with TestClient(TestServer(app)) as client:
        await asyncio.sleep(2.0)  # 40 polls of the relay and of the crisis reminders
        metrics = await asyncio.wait_for(client.get("/metrics"), timeout=2)
        assert metrics.status == 200

    lines = [r.getMessage() for r in ours(caplog)]
    assert sorted(line.split(" (")[0] for line in lines) == ["crisis reminders: database unavailable",
                                                             "outbox relay: database unavailable"], lines
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def test_an_outage_logs_its_start_and_end_once_and_backs_off_up_to_its_cap(caplog):
    outage = Outage("database", logging.getLogger("bot.test"), first_delay=0.5, max_delay=4.0)
    delays = [outage.failed(ConnectionRefusedError(111, "Connect call failed\nwith details")) for _ in range(8)]
    outage.recovered()
    outage.recovered()

    lines = [r.getMessage() for r in caplog.records if r.name == "bot.test"]
    assert lines[0] == ("database unavailable (ConnectionRefusedError: [Errno 111] Connect call failed); "
                        "retrying with backoff, next line when it is back")
    assert lines[1].startswith("database available again after ") and lines[1].endswith("(8 failed attempts)")
    assert len(lines) == 2
    assert 0.25 <= delays[0] <= 0.5 and all(2.0 <= d <= 4.0 for d in delays[4:])


async def test_a_job_cut_off_by_the_database_going_away_is_rerun_once_it_is_back_without_a_traceback(cable, caplog):
    wire, url = cable
    db = Database(url)
    runs: list[str] = []

    async def send(job: OutboxJob) -> None:  # the database goes away while the job writes its outcome
        runs.append(job.key)
        if len(runs) == 1:
            await wire.unplug()
        async with db.uow() as uow:
            await uow.outbox.depth()

    relay = Relay(db, {"slack.card": send}, Metrics(), fanout=Fanout(("slack",)), housekeeping_seconds=0.1,
                  poll_seconds=0.05)
    try:
        async with db.uow() as uow:
            await uow.outbox.sync("slack:card:1", "slack.card", None, {}, utcnow())
            await uow.commit()
        running = asyncio.create_task(relay.run())
        await until(lambda: runs, "the job to start")
        await asyncio.sleep(1.0)
        await wire.plug()
        await until(lambda: len(runs) == 2, "the job to run again", timeout=20)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    finally:
        await db.dispose()
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert not [r for r in ours(caplog) if "incident" in r.getMessage()]


async def test_a_connection_cut_in_the_middle_of_a_transaction_counts_as_the_database_unreachable(cable):
    """What the relay and ingest answer as an outage (one line, no traceback, the job handed back), not as a bug:
    the cut connection's error counts as unreachable however the driver words it."""
    wire, url = cable
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
            await wire.unplug()
            with pytest.raises(Exception) as cut:  # noqa: PT011 (which class is what the test looks at)
                await conn.execute(sa.text("SELECT 1"))
            assert unreachable(cut.value), repr(cut.value)
    except Exception as exc:  # noqa: BLE001 (giving the dead connection back fails the same way)
        assert unreachable(exc), repr(exc)
    finally:
        await db.dispose()
