"""Chat pace: processes on one database share each channel's posting schedule, so together they keep its pace."""

from __future__ import annotations

import asyncio
import time

from bot.outbox.fanout import Fanout
from bot.storage.database import Database
from handlers.context import Context
from handlers.messages import next_slot
from tests.support import team_config


async def test_two_processes_posting_to_one_channel_get_slots_a_second_apart(database_url):
    first, second = Database(database_url), Database(database_url)  # two processes' own connections
    try:
        contexts = [Context(db=db, config=team_config(), fanout=Fanout(())) for db in (first, second)]
        waits = await asyncio.gather(*(next_slot(contexts[n % 2], "slack:C0TRIAGE01", 1.0) for n in range(10)))
        assert sorted(round(w) for w in waits) == list(range(10))  # one slot each, one second apart, none shared
        assert await next_slot(contexts[0], "slack:C0OTHER", 1.0) == 0.0  # another channel has its own schedule
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_quiet_conversation_takes_a_short_burst_then_its_steady_pace(database_url):
    db = Database(database_url)
    try:
        ctx = Context(db=db, config=team_config(), fanout=Fanout(()))
        waits = [await next_slot(ctx, "teams:19:triage", 0.6, 3.0) for _ in range(8)]
        assert waits[:6] == [0.0] * 6  # 0.6 s apart, up to 3 s ahead: six go at once
        assert 0.0 < waits[6] <= 0.6 < waits[7] <= 1.2
    finally:
        await db.dispose()


async def test_a_booking_left_far_ahead_by_a_wrong_clock_does_not_hold_the_channel(database_url):
    db = Database(database_url)
    try:
        ctx = Context(db=db, config=team_config(), fanout=Fanout(()))
        async with db.uow() as uow:  # a process whose clock ran a day ahead booked the channel
            await uow.paces.take("slack:C0TRIAGE01", 1.0, time.time() + 86_400)
            await uow.commit()
        assert await next_slot(ctx, "slack:C0TRIAGE01", 1.0) == 0.0
        assert 0.9 < await next_slot(ctx, "slack:C0TRIAGE01", 1.0) <= 1.0
    finally:
        await db.dispose()
