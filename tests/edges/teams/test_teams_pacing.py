"""Core: Teams pacing keeps every window (per conversation and per tenant) without sleeping in the test."""

from bot.teams.pacing import CONVERSATION_WINDOWS, Pacer


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
