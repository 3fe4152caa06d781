"""Series: generation in the facility's zone across daylight-saving changes, holidays,
one-off cancellations and moves, and conflicts of facilitators and rooms."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from stepwise.core.errors import AccessDenied, Conflict, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.scheduling.models import Session, SessionStatus
from stepwise.scheduling.services.series import (
    closure_add,
    series_end,
    session_cancel,
    session_move,
)
from stepwise.scheduling.tests.support import FIRST_DAY, at, iop_series

NY = ZoneInfo("America/New_York")


def test_an_iop_series_runs_monday_wednesday_thursday_at_six_on_both_sides_of_the_change(cast):
    series = iop_series(cast)
    sessions = list(Session.objects.filter(series=series).order_by("starts_at"))
    # Twelve weeks ahead by default, three a week.
    assert len(sessions) == 12 * 3 + 1  # the horizon day itself (a Monday) is included
    local = [s.starts_at.astimezone(NY) for s in sessions]
    assert {t.strftime("%a %H:%M") for t in local} == {"Mon 18:00", "Wed 18:00", "Thu 18:00"}
    # 18:00 EDT before Nov 1 is 22:00 UTC; after, 18:00 EST is 23:00 UTC.
    before = next(s for s in sessions if s.occurrence_on == date(2026, 10, 29))
    after = next(s for s in sessions if s.occurrence_on == date(2026, 11, 2))
    assert before.starts_at.utcoffset() == timedelta(0)
    assert before.starts_at.hour == 22 and after.starts_at.hour == 23
    assert all(s.minutes == 180 for s in sessions)
    event = AuditEvent.objects.get(object_type="session_series")
    assert event.detail["sessions"] == len(sessions)


def test_the_spring_change_keeps_wall_clock_time_and_a_skipped_hour_lands_after_it(cast):
    # 2027-03-14 02:00 clocks jump to 03:00 in New York.
    series = iop_series(
        cast,
        rule="FREQ=DAILY",
        start=time(2, 30),
        minutes=30,
        first_day=date(2027, 3, 13),
        last_day=date(2027, 3, 15),
        room_name=None,
    )
    local = {
        s.occurrence_on: s.starts_at.astimezone(NY).strftime("%H:%M")
        for s in Session.objects.filter(series=series)
    }
    assert local == {
        date(2027, 3, 13): "02:30",
        date(2027, 3, 14): "03:30",  # 02:30 does not exist that night
        date(2027, 3, 15): "02:30",
    }


def test_a_holiday_cancels_that_day_and_the_series_goes_on(cast):
    series = iop_series(cast)
    thanksgiving = date(2026, 11, 26)
    closure_add(cast.actors["director"], cast.facility, on=thanksgiving, name="Thanksgiving")
    that_day = Session.objects.get(series=series, occurrence_on=thanksgiving)
    assert that_day.status == SessionStatus.CANCELLED
    assert that_day.cancel_reason == "Closed: Thanksgiving"
    assert Session.objects.get(series=series, occurrence_on=date(2026, 11, 30)).status == (
        SessionStatus.SCHEDULED
    )


def test_series_generated_later_skip_a_closed_day(cast):
    closure_add(cast.actors["director"], cast.facility, on=date(2026, 11, 2), name="Staff day")
    series = iop_series(cast)
    closed = Session.objects.get(series=series, occurrence_on=date(2026, 11, 2))
    assert closed.status == SessionStatus.CANCELLED and closed.cancel_reason == "Closed: Staff day"


def test_one_occurrence_is_cancelled_or_moved_without_breaking_the_series(cast):
    series = iop_series(cast)
    monday = Session.objects.get(series=series, occurrence_on=date(2026, 11, 2))
    wednesday = Session.objects.get(series=series, occurrence_on=date(2026, 11, 4))
    session_cancel(cast.actors["director"], monday, reason="Facilitator at training")
    moved = session_move(cast.actors["director"], wednesday, starts_at=at(date(2026, 11, 5), 13))
    assert moved.moved_from == wednesday.starts_at
    assert moved.occurrence_on == date(2026, 11, 4)  # still that occurrence of the series
    assert moved.starts_at.astimezone(NY).strftime("%a %H:%M") == "Thu 13:00"
    assert Session.objects.filter(series=series, status="scheduled").count() == 36


def test_the_facilitator_cannot_be_in_two_groups_at_once(cast):
    iop_series(cast)
    with pytest.raises(Conflict, match='Owner is already booked for "Evening IOP group"'):
        iop_series(cast, program=cast.iop_east, room_name="Group room B", start=time(20, 0))
    assert Session.objects.filter(program=cast.iop_east).count() == 0


def test_a_room_cannot_hold_two_groups_at_once(cast):
    cast.new_member("counselor", "second")
    iop_series(cast)
    with pytest.raises(Conflict, match="Room Group room A is already booked"):
        iop_series(cast, program=cast.iop_east, facilitator="second", rule="FREQ=WEEKLY;BYDAY=TH")


def test_back_to_back_sessions_do_not_clash(cast):
    iop_series(cast, minutes=90)
    iop_series(cast, program=cast.iop_east, start=time(19, 30), minutes=90, title="Second half")
    assert Session.objects.filter(program=cast.iop_east).exists()


def test_a_move_onto_a_busy_facilitator_is_refused(cast):
    iop_series(cast)
    other = iop_series(
        cast, program=cast.iop_east, rule="FREQ=WEEKLY;BYDAY=TU", room_name="Group room B"
    )
    tuesday = Session.objects.get(series=other, occurrence_on=date(2026, 11, 3))
    with pytest.raises(Conflict, match="Owner is already booked"):
        session_move(cast.actors["director"], tuesday, starts_at=at(date(2026, 11, 4), 19))


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ("FREQ=HOURLY", "rule"),
        ("FREQ=WEEKLY;BYDAY=XX", "rule"),
        ("FREQ=WEEKLY;COUNT=3", "rule"),
        ("nonsense", "rule"),
        ("FREQ=WEEKLY;INTERVAL=0;BYDAY=MO", "rule"),  # would never advance
        ("FREQ=WEEKLY;INTERVAL=-1;BYDAY=MO", "rule"),
        ("FREQ=DAILY;BYHOUR=9,18", "rule"),  # two sessions a day for one occurrence
        ("FREQ=WEEKLY;BYDAY=MO;BYDAY=TU", "rule"),
    ],
)
def test_an_unusable_rule_is_refused_by_field(cast, rule, field):
    with pytest.raises(ValidationFailed) as refused:
        iop_series(cast, rule=rule)
    assert field in refused.value.errors
    assert not Session.objects.exists()


def test_only_schedule_managers_create_series(cast):
    from stepwise.scheduling.services.series import SeriesPlan, series_create
    from stepwise.scheduling.tests.support import session_type

    plan = SeriesPlan(
        program=cast.iop,
        session_type=session_type(cast),
        facilitator_id=cast.users["owner"].pk,
        rule="FREQ=WEEKLY;BYDAY=MO",
        start_time=time(18),
        minutes=60,
        first_day=FIRST_DAY,
    )
    with pytest.raises(AccessDenied):
        series_create(cast.actors["colleague"], plan)
    assert not Session.objects.exists()


def test_ending_a_series_cancels_later_sessions_and_keeps_earlier_ones(cast):
    series = iop_series(cast)
    series_end(cast.actors["director"], series, last_day=date(2026, 11, 15))
    later = Session.objects.filter(series=series, occurrence_on__gt=date(2026, 11, 15))
    assert later.exists() and not later.filter(status="scheduled").exists()
    assert (
        Session.objects.filter(
            series=series, occurrence_on__lte=date(2026, 11, 15), status="scheduled"
        ).count()
        == 9
    )


def test_a_day_with_attendance_taken_for_one_member_cannot_be_closed(cast):
    import time_machine

    from stepwise.care.services import episode_admit
    from stepwise.scheduling.services.attendance import Mark, attendance_record

    series = iop_series(cast)
    other = cast.new_patient("RR-2", "Ben", "Ortiz")
    with time_machine.travel(at(date(2026, 11, 2), 9), tick=False):
        episode_admit(cast.actors["owner"], cast.patient, cast.iop)
        episode_admit(cast.actors["owner"], other, cast.iop)
    monday = Session.objects.get(series=series, occurrence_on=date(2026, 11, 2))
    with time_machine.travel(at(date(2026, 11, 2), 21), tick=False):
        # One member taken, the other still "not taken": the session took place.
        attendance_record(cast.actors["owner"], monday, [Mark(cast.patient.public_id, "present")])
    with pytest.raises(Conflict, match="already taken"):
        closure_add(cast.actors["director"], cast.facility, on=date(2026, 11, 2), name="Storm")
    with pytest.raises(Conflict, match="already taken"):
        series_end(cast.actors["director"], series, last_day=date(2026, 11, 1))
    assert Session.objects.get(pk=monday.pk).status == SessionStatus.SCHEDULED


def test_a_series_cannot_end_before_it_starts(cast):
    series = iop_series(cast)
    with pytest.raises(ValidationFailed) as refused:
        series_end(cast.actors["director"], series, last_day=FIRST_DAY - timedelta(days=1))
    assert "last_day" in refused.value.errors
    assert not Session.objects.filter(series=series, status="cancelled").exists()


def test_a_move_onto_a_closed_day_is_refused(cast):
    series = iop_series(cast)
    closure_add(cast.actors["director"], cast.facility, on=date(2026, 11, 26), name="Thanksgiving")
    monday = Session.objects.get(series=series, occurrence_on=date(2026, 11, 23))
    with pytest.raises(Conflict, match="closed on Thu 2026-11-26 \\(Thanksgiving\\)"):
        session_move(cast.actors["director"], monday, starts_at=at(date(2026, 11, 26), 10))


def test_the_sweep_keeps_a_fortnightly_rhythm_and_a_monthly_day(cast):
    from stepwise.scheduling.services.series import extend_all

    fortnightly = iop_series(cast, rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", title="Fortnightly")
    monthly = iop_series(
        cast,
        rule="FREQ=MONTHLY;BYMONTHDAY=26",
        program=cast.iop_east,
        start=time(12),
        minutes=60,
        room_name="Group room B",
        title="Monthly",
    )
    # Daily sweeps over two months, each generating a day or two more.
    for offset in range(1, 60):
        extend_all(cast.org.pk, FIRST_DAY + timedelta(days=offset))
    mondays = sorted(
        day
        for day in Session.objects.filter(series=fortnightly).values_list(
            "occurrence_on", flat=True
        )
        if day is not None
    )
    assert all((day - FIRST_DAY).days % 14 == 0 for day in mondays)
    assert len(mondays) == len(set(mondays)) > 8
    days = Session.objects.filter(series=monthly).values_list("occurrence_on", flat=True)
    assert {day.day for day in days if day is not None} == {26}


def test_a_closed_day_at_the_end_of_a_sweep_does_not_stop_the_series(cast):
    import time_machine

    from stepwise.care.services import episode_admit
    from stepwise.scheduling.services.series import extend_all

    series = iop_series(cast, rule="FREQ=WEEKLY;BYDAY=TH")
    with time_machine.travel(at(FIRST_DAY, 9), tick=False):
        episode_admit(cast.actors["owner"], cast.patient, cast.iop)
    horizon = series.generated_through
    # The only day the next sweep generates is a closed Thursday.
    next_thursday = horizon + timedelta(days=(3 - horizon.weekday()) % 7 or 7)
    closure_add(cast.actors["director"], cast.facility, on=next_thursday, name="Staff day")
    extend_all(cast.org.pk, FIRST_DAY + timedelta(days=(next_thursday - horizon).days))
    closed = Session.objects.get(series=series, occurrence_on=next_thursday)
    assert closed.status == SessionStatus.CANCELLED
    extend_all(cast.org.pk, FIRST_DAY + timedelta(days=(next_thursday - horizon).days + 7))
    assert Session.objects.filter(
        series=series, occurrence_on=next_thursday + timedelta(days=7), status="scheduled"
    ).exists()


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYMONTHDAY=0",
        "FREQ=MONTHLY;BYMONTH=13",
    ],
)
def test_days_that_never_happen_are_refused_at_once(cast, rule):
    with pytest.raises(ValidationFailed) as refused:
        iop_series(cast, rule=rule)
    assert "rule" in refused.value.errors
