"""Core: which topic spikes against its usual volume for the time of week, and that one spike alerts once."""

from datetime import UTC, datetime, timedelta

from bot.core.catalogue import words
from bot.core.crisis.triggers import trigger_pattern
from bot.core.storms.rules import StormRules
from bot.core.storms.spikes import ALL, WEEK, Seen, SpikeAlertView, find_spikes, spike_numbers, spike_what

NOW = datetime(2026, 12, 10, 14, 0, tzinfo=UTC)
RULES = StormRules(spike_window_minutes=10, spike_min_mentions=20, spike_ratio=4.0)
PATTERNS = {"outage": trigger_pattern(["storing", "werkt niet"]), "rumour": trigger_pattern(["takeover"])}


class Mentions:
    """Mentions arriving at chosen times, numbered as they come."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []

    def add(self, count: int, text: str = "hallo", *, at: datetime = NOW, storm: int | None = None) -> None:
        for i in range(count):
            self.seen.append(Seen(len(self.seen) + 1, at - timedelta(seconds=i), storm, text))

    def check(self, now: datetime = NOW, alerted: dict[str, int] | None = None):
        return find_spikes(self.seen, now, RULES, PATTERNS, alerted or {})


def test_with_no_history_the_minimum_alone_decides():
    mentions = Mentions()
    mentions.add(19)
    assert mentions.check().alerts == ()
    mentions.add(1)
    [alert] = mentions.check().alerts
    assert (alert.topic, alert.count, alert.usual, alert.playbook) == (ALL, 20, 0.0, None)
    assert alert.samples == (20, 1, 2)  # the newest three


def test_mentions_older_than_the_window_do_not_count():
    mentions = Mentions()
    mentions.add(15, at=NOW - timedelta(minutes=11))
    mentions.add(10)
    assert mentions.check().alerts == ()


def test_a_topic_must_reach_the_ratio_of_its_usual_volume_for_the_time_of_week():
    mentions = Mentions()
    for week in range(1, 5):  # a busy hour every week: 10 mentions in the same ten minutes
        mentions.add(10, at=NOW - week * WEEK)
    mentions.add(39)
    assert mentions.check().alerts == ()  # 39 < 4 × 10
    mentions.add(1)
    [alert] = mentions.check().alerts
    assert (alert.count, alert.usual) == (40, 10.0)
    shown = SpikeAlertView(1, alert.topic, alert.count, alert.usual, alert.window_minutes, (), None)
    assert spike_numbers(shown, words("en")) == "40 mentions in 10 min, usually 10"
    assert spike_what(shown, words("en")) == "all mentions"
    halting = SpikeAlertView(2, "playbook:outage", 2001, 2.5, 10.0, (), "outage")
    assert spike_numbers(halting, words("nl")) == "2001 vermeldingen in 10 min, normaal 2,5"
    assert spike_what(halting, words("nl")) == "vermeldingen op de triggers van playbook “outage”"


def test_weeks_without_data_count_as_zero_in_the_usual_volume():
    mentions = Mentions()
    mentions.add(20, at=NOW - WEEK)  # one busy week: usually 20 / 4 = 5
    mentions.add(20)
    [alert] = mentions.check().alerts
    assert alert.usual == 5.0


def test_no_second_alert_until_the_count_doubles():
    mentions = Mentions()
    mentions.add(25)
    assert mentions.check(alerted={ALL: 25}).alerts == ()
    mentions.add(24)
    assert mentions.check(alerted={ALL: 25}).alerts == ()
    mentions.add(1)
    [again] = mentions.check(alerted={ALL: 25}).alerts
    assert again.count == 50


def test_a_spike_is_over_when_its_count_falls_below_half_the_minimum():
    mentions = Mentions()
    mentions.add(10)
    assert mentions.check(alerted={ALL: 25}).ended == ()
    assert mentions.check(NOW + timedelta(minutes=11), alerted={ALL: 25, "storm:4": 30}).ended == (ALL, "storm:4")


def test_a_playbook_topic_explains_the_spike_and_all_mentions_stay_silent():
    mentions = Mentions()
    mentions.add(20, "De app WERKT   niet, storing!")
    mentions.add(5)
    [alert] = mentions.check().alerts
    assert (alert.topic, alert.count, alert.playbook) == ("playbook:outage", 20, "outage")
    # Still spiking but not doubled: all mentions stay silent too.
    assert mentions.check(alerted={"playbook:outage": 20}).alerts == ()


def test_triggers_match_whole_words_only():
    mentions = Mentions()
    mentions.add(20, "storingsmelding en takeovers")
    [alert] = mentions.check().alerts
    assert alert.topic == ALL


def test_a_storm_alerts_with_the_playbook_most_of_its_samples_match():
    mentions = Mentions()
    mentions.add(18, "rt @x: kijk dit", storm=7)
    mentions.add(3, "rt @x: kijk dit, een takeover?", storm=7)  # the newest: two of the three samples
    [alert] = mentions.check().alerts
    assert (alert.topic, alert.count, alert.playbook) == ("storm:7", 21, "rumour")


def test_a_storm_that_is_a_playbook_spike_alerts_once_as_the_playbook():
    mentions = Mentions()
    mentions.add(25, "storing bij de bank", storm=3)
    assert [a.topic for a in mentions.check().alerts] == ["playbook:outage"]


def test_two_separate_spikes_give_one_alert_each_in_a_fixed_order():
    mentions = Mentions()
    mentions.add(20, "takeover?")
    mentions.add(20, "gezien?", storm=2)
    assert [a.topic for a in mentions.check().alerts] == ["playbook:rumour", "storm:2"]
