"""SLA clocks and who is reminded when: counted from arrival in working time, across closing time and DST, on a
controllable clock (Europe/Amsterdam)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.catalogue import words
from bot.core.sla import OpenClock, SlaEvent, WaitingDraft, due_for_draft, due_for_mention
from bot.core.sla_clock import ClockStage, SlaTargets, first_response_clock
from bot.core.sla_words import clock_line
from bot.core.working_time import WorkingHours, parse_hours

AMS = ZoneInfo("Europe/Amsterdam")
HOURS = parse_hours({"mon-fri": "08:00-22:00", "sat-sun": "10:00-18:00"}, AMS)
GOALS = SlaTargets(first_response_minutes=60, claim_reminder_minutes=15, warn_at=0.75)
WEBCARE, LEADS = ("anna", "carla"), ("anna",)


def ams(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=AMS).astimezone(UTC)


def clock(received: datetime, now: datetime, *, responded: datetime | None = None, ended: bool = False,
          hours: WorkingHours = HOURS):
    return first_response_clock(received, responded, now, ended=ended, hours=hours, targets=GOALS)


def test_the_clock_stops_at_closing_time_and_runs_on_at_the_opening():
    received = ams(12, 7, 21, 50)  # Monday, ten minutes before closing
    at_night = clock(received, ams(12, 7, 23, 0))
    assert at_night.stage is ClockStage.RUNNING
    assert at_night.minutes == 50 and at_night.due_at == ams(12, 8, 8, 50)
    assert at_night.resumes_at == ams(12, 8, 8, 0)
    assert clock(received, ams(12, 8, 8, 40)).stage is ClockStage.WARNING  # 45 working minutes gone
    overdue = clock(received, ams(12, 8, 8, 55))
    assert (overdue.stage, overdue.minutes) == (ClockStage.OVERDUE, 5)


def test_a_mention_arriving_at_night_starts_its_clock_at_the_opening():
    received = ams(12, 8, 3, 0)
    assert clock(received, ams(12, 8, 7, 59)).minutes == 60
    assert clock(received, ams(12, 8, 8, 12)).minutes == 48


def test_the_weekend_hours_and_the_end_of_summer_time_count_in_real_minutes():
    received = ams(10, 24, 17, 30)  # Saturday before the clocks go back (Sunday 25 October 03:00 → 02:00)
    due = clock(received, ams(10, 24, 17, 45)).due_at
    assert due == ams(10, 25, 10, 30)  # 30 minutes on Saturday, 30 from Sunday's opening (now CET)
    assert due.astimezone(AMS).utcoffset() == timedelta(hours=1)


def test_around_the_clock_the_night_the_clocks_go_back_lasts_an_hour_longer_on_the_wall():
    always = WorkingHours(zone=AMS)
    received = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first time
    due = clock(received, received, hours=always).due_at
    assert due == received + timedelta(minutes=60)  # 02:30 CET on the wall: the second 02:30 of the night
    assert due.astimezone(AMS).hour == 2


def test_the_first_delivered_reply_stops_the_clock_and_says_whether_it_was_in_time():
    received = ams(12, 7, 10, 0)
    met = clock(received, ams(12, 7, 12, 0), responded=ams(12, 7, 10, 40))
    assert (met.stage, met.minutes) == (ClockStage.MET, 40)
    late = clock(ams(12, 7, 21, 30), ams(12, 8, 9, 0), responded=ams(12, 8, 8, 45))  # 30 + 45 working minutes
    assert (late.stage, late.minutes) == (ClockStage.LATE, 75)
    assert clock(received, ams(12, 7, 12, 0), ended=True).stage is ClockStage.STOPPED


def test_the_card_says_the_clock_in_words_in_the_teams_language():
    received = ams(12, 7, 10, 0)
    en, nl = words("en"), words("nl")
    running = clock(received, ams(12, 7, 10, 48))
    assert clock_line(running, ams(12, 7, 10, 48), AMS, en) == "12 min left · due 11:00"
    assert clock_line(running, ams(12, 7, 10, 48), AMS, nl).startswith("nog 12 min")
    overdue = clock(received, ams(12, 7, 11, 5))
    assert clock_line(overdue, ams(12, 7, 11, 5), AMS, en) == "overdue 5 min · was due 11:00"
    assert clock_line(clock(received, ams(12, 7, 11, 5), responded=ams(12, 7, 10, 30)), ams(12, 7, 11, 5), AMS,
                      en) is None


def _open(received: datetime, claimed_by: str | None = None, *done: SlaEvent) -> OpenClock:
    return OpenClock(1, received, "claimed" if claimed_by else "new", claimed_by, frozenset(done))


def _due(open_clock: OpenClock, now: datetime):
    return {(d.event, d.to) for d in due_for_mention(open_clock, now, hours=HOURS, targets=GOALS,
                                                       webcare=WEBCARE, leads=LEADS)}


def test_unclaimed_reminds_the_webcare_people_once_after_the_claim_reminder_time_in_working_time():
    received = ams(12, 7, 21, 50)
    assert _due(_open(received), ams(12, 7, 23, 0)) == set()  # ten working minutes so far
    assert _due(_open(received), ams(12, 8, 8, 5)) == {(SlaEvent.CLAIM_REMINDER, WEBCARE)}
    assert _due(_open(received, None, SlaEvent.CLAIM_REMINDER), ams(12, 8, 8, 5)) == set()


def test_the_claimant_alone_is_reminded_at_warn_at_and_the_leads_alone_at_the_breach():
    received = ams(12, 7, 10, 0)
    assert _due(_open(received, "carla"), ams(12, 7, 10, 44)) == set()
    assert _due(_open(received, "carla"), ams(12, 7, 10, 45)) == {(SlaEvent.WARNING, ("carla",))}
    warned = _open(received, "carla", SlaEvent.WARNING)
    assert _due(warned, ams(12, 7, 11, 0)) == {(SlaEvent.BREACH, LEADS)}
    # unclaimed at warn_at: nobody is told (the card is redrawn); the webcare people were told before
    assert _due(_open(received, None, SlaEvent.CLAIM_REMINDER), ams(12, 7, 10, 50)) == {(SlaEvent.WARNING, ())}


def test_a_draft_waiting_for_approval_reminds_its_heads_then_the_leads():
    draft = WaitingDraft(1, 7, ams(12, 7, 10, 0), ("bram", "dirk"), frozenset())

    def due(now: datetime, *done: SlaEvent):
        waiting = WaitingDraft(draft.mention_id, draft.draft_id, draft.created_at, draft.approvers, frozenset(done))
        return {(d.event, d.to, d.draft_id) for d in due_for_draft(waiting, now, hours=HOURS, targets=GOALS,
                                                                     leads=LEADS)}

    assert due(ams(12, 7, 10, 14)) == set()
    assert due(ams(12, 7, 10, 15)) == {(SlaEvent.APPROVAL_REMINDER, ("bram", "dirk"), 7)}
    assert due(ams(12, 7, 10, 30), SlaEvent.APPROVAL_REMINDER) == {(SlaEvent.APPROVAL_LEAD, LEADS, 7)}
