"""Chat: one pacer keeps every window of a platform's limits (Teams', Slack's) and serves a key in order."""

import asyncio
import time

from bot.chat.pacing import Pacer
from bot.slack.poster import CHANNEL_WINDOWS
from bot.teams.poster import CONVERSATION_WINDOWS


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_eighth_send_in_one_second_waits_for_the_first_to_age_out():
    clock = Clock()
    pacer = Pacer(CONVERSATION_WINDOWS, clock)
    for _ in range(7):
        assert pacer.delay("conv") == 0
        pacer.record("conv")
        clock.now += 0.01
    assert 0.9 < pacer.delay("conv") <= 1.0  # the first send was 0.07 s ago
    assert pacer.delay("other conversation") == 0


def test_sixty_in_thirty_seconds_then_wait():
    clock = Clock()
    pacer = Pacer(CONVERSATION_WINDOWS, clock)
    for i in range(60):
        clock.now = 1000.0 + i * 0.4  # 2.5 per second: within 7/s, but 60 in 24 s
        assert pacer.delay("conv") == 0
        pacer.record("conv")
    assert pacer.delay("conv") > 5.0
    clock.now = 1030.01
    assert pacer.delay("conv") == 0


def test_a_slack_channel_takes_one_post_a_second_and_other_channels_do_not_wait():
    clock = Clock()
    pacer = Pacer(CHANNEL_WINDOWS, clock)
    pacer.record("C-triage")
    clock.now += 0.25
    assert pacer.delay("C-triage") == 0.75
    assert pacer.delay("C-crisis") == 0
    clock.now += 0.75
    assert pacer.delay("C-triage") == 0


async def test_waiters_on_one_key_are_served_in_the_order_they_came_one_window_apart():
    pacer = Pacer(((1, 0.02),))
    served: list[int] = []

    async def send(n: int) -> None:
        await pacer.wait("C-triage")
        served.append(n)

    started = time.monotonic()
    await asyncio.gather(*(send(n) for n in range(5)))
    assert served == [0, 1, 2, 3, 4]
    assert time.monotonic() - started >= 4 * 0.02  # the first went at once, each other one window after the last


async def test_an_urgent_waiter_takes_the_next_free_slot_ahead_of_the_backlog():
    pacer = Pacer(((1, 0.05),))
    served: list[str] = []

    async def send(name: str, priority: int) -> None:
        await pacer.wait("C-triage", priority)
        served.append(name)

    backlog = [asyncio.create_task(send(f"P3-{n}", 3)) for n in range(4)]
    await asyncio.sleep(0.01)  # the first has gone, three wait out the window
    urgent = asyncio.create_task(send("P1", 1))
    people = asyncio.create_task(send("click", 0))
    await asyncio.gather(*backlog, urgent, people)
    assert served == ["P3-0", "click", "P1", "P3-1", "P3-2", "P3-3"]


async def test_an_urgent_post_may_use_the_burst_and_the_backlog_keeps_the_pace_after_it():
    pacer = Pacer(((1, 0.5),))
    await pacer.wait("C-triage", 3)  # the backlog's last post: the window is shut for 0.5 s
    started = time.monotonic()
    await pacer.wait("C-triage", 1, ahead=0.5)  # a P1 card goes at once, within the platform's burst
    urgent_waited = time.monotonic() - started
    await pacer.wait("C-triage", 3)
    backlog_waited = time.monotonic() - started - urgent_waited
    assert urgent_waited < 0.25
    assert backlog_waited >= 0.45  # the next backlog post keeps a full window after the urgent one


def test_a_send_that_waits_for_its_booked_slot_moves_the_next_window_with_it():
    clock = Clock()
    pacer = Pacer(CHANNEL_WINDOWS, clock)
    counted = pacer.record("C-triage")
    pacer.postpone("C-triage", counted, 0.75)  # another process booked the slot before: it goes 0.75 s later
    clock.now += 1.0
    assert pacer.delay("C-triage") == 0.75  # a second after it is really sent, not after it was counted
    assert pacer.delay("C-crisis") == 0


async def test_a_cancelled_waiter_does_not_hold_up_the_ones_behind_it():
    pacer = Pacer(((1, 0.05),))
    await pacer.wait("C-triage")
    first = asyncio.create_task(pacer.wait("C-triage", 1))
    second = asyncio.create_task(pacer.wait("C-triage", 2))
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.wait_for(second, 1.0)  # served once the window has passed, not stuck behind the cancelled one
    assert first.cancelled()


async def test_a_post_waiting_out_the_pace_stops_when_cancelled_as_its_turn_comes():
    for ticks in range(6):  # the cancel lands a few loop turns after an urgent post woke the waiter to look again
        pacer = Pacer(((1, 0.2),))
        await pacer.wait("C-triage")
        waiting = asyncio.create_task(pacer.wait("C-triage", 3))
        await asyncio.sleep(0.01)  # it sleeps out the window
        urgent = asyncio.create_task(pacer.wait("C-triage", 1))
        for _ in range(ticks):
            await asyncio.sleep(0)
        waiting.cancel()  # the relay stops
        done, _ = await asyncio.wait({waiting}, timeout=1)
        stopped = bool(done) and waiting.cancelled()
        for task in (waiting, urgent):
            task.cancel()
        await asyncio.gather(waiting, urgent, return_exceptions=True)
        assert stopped, f"a cancel {ticks} loop turns after the wake-up was lost: the post went on waiting"
