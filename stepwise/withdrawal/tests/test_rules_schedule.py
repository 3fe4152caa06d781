"""Dose schedules in the facility's local time, across both 2026 clock changes in
America/New_York (spring forward 8 March, fall back 1 November), with tapers, one-off
and as-needed orders, and the half-open window."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.withdrawal.rules.schedule import (
    FREQUENCIES,
    FREQUENCIES_BY_CODE,
    OVERDUE_AFTER,
    ScheduledDose,
    TaperStep,
    dose_on_day,
    frequency,
    local_instant,
    planned_daily_total,
    scheduled_doses,
    taper_errors,
    taper_length_days,
)

NY = ZoneInfo("America/New_York")
SPRING_FORWARD = date(2026, 3, 8)
FALL_BACK = date(2026, 11, 1)
SCHEDULED = [f.code for f in FREQUENCIES if not f.is_prn and not f.once]
PRN = [f.code for f in FREQUENCIES if f.is_prn]


def ny(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A New York wall-clock time as a UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=NY).astimezone(UTC)


def day_window(first: date, days: int = 1) -> tuple[datetime, datetime]:
    """Local midnight to local midnight, `days` days later."""
    return ny(first), ny(first + timedelta(days=days))


def doses(
    code: str,
    *,
    starts_at: datetime,
    window: tuple[datetime, datetime],
    dose: str = "2",
    taper: list[TaperStep] | None = None,
    ends_at: datetime | None = None,
) -> list[ScheduledDose]:
    return scheduled_doses(
        frequency_code=code,
        dose_mg=Decimal(dose),
        taper=taper or [],
        starts_at=starts_at,
        ends_at=ends_at,
        window_start=window[0],
        window_end=window[1],
        zone=NY,
    )


def wall(dose: ScheduledDose) -> datetime:
    return dose.due_at.astimezone(NY)


def wall_times(result: list[ScheduledDose]) -> list[tuple[date, time]]:
    return [(wall(d).date(), wall(d).time()) for d in result]


# --- the frequency table ------------------------------------------------------------


def test_frequency_table_is_pinned():
    assert {f.code: f.times for f in FREQUENCIES if f.times} == {
        "daily": (time(9),),
        "bid": (time(9), time(21)),
        "tid": (time(9), time(14), time(21)),
        "qid": (time(9), time(13), time(17), time(21)),
        "q4h": (time(2), time(6), time(10), time(14), time(18), time(22)),
        "q6h": (time(0), time(6), time(12), time(18)),
        "q8h": (time(6), time(14), time(22)),
        "qhs": (time(21),),
    }
    assert {f.code: f.prn_every_hours for f in FREQUENCIES if f.is_prn} == {
        "q1h_prn": 1,
        "q2h_prn": 2,
        "q4h_prn": 4,
        "q6h_prn": 6,
        "q8h_prn": 8,
        "qhs_prn": 20,
    }
    assert [f.code for f in FREQUENCIES if f.once] == ["once"]
    assert len(FREQUENCIES_BY_CODE) == len(FREQUENCIES)
    assert frequency("bid") is FREQUENCIES_BY_CODE["bid"]
    assert timedelta(minutes=60) == OVERDUE_AFTER


@pytest.mark.parametrize("f", FREQUENCIES, ids=lambda f: f.code)
def test_each_frequency_is_exactly_one_kind_with_sorted_times(f):
    kinds = [bool(f.times), f.is_prn, f.once]
    assert kinds.count(True) == 1
    assert list(f.times) == sorted(set(f.times))
    assert f.label


def test_unknown_frequency_raises():
    with pytest.raises(KeyError):
        frequency("q3h")


# --- local wall-clock times across the clock changes ----------------------------------


def test_local_instant_on_ordinary_days():
    assert local_instant(date(2026, 1, 15), time(9), NY) == datetime(2026, 1, 15, 14, tzinfo=UTC)
    assert local_instant(date(2026, 7, 15), time(9), NY) == datetime(2026, 7, 15, 13, tzinfo=UTC)
    assert local_instant(date(2026, 7, 15), time(9), NY).tzinfo is UTC


def test_local_instant_in_the_spring_forward_gap_moves_an_hour_later_on_the_clock():
    instant = local_instant(SPRING_FORWARD, time(2), NY)
    assert instant == datetime(2026, 3, 8, 7, tzinfo=UTC)
    assert instant.astimezone(NY).time() == time(3)
    assert instant == local_instant(SPRING_FORWARD, time(3), NY)


def test_local_instant_on_the_fall_back_day():
    # 02:00 EST exists once; 01:00 is ambiguous and resolves to the first (EDT) one.
    assert local_instant(FALL_BACK, time(2), NY) == datetime(2026, 11, 1, 7, tzinfo=UTC)
    assert local_instant(FALL_BACK, time(1), NY) == datetime(2026, 11, 1, 5, tzinfo=UTC)
    assert local_instant(FALL_BACK, time(0), NY) == datetime(2026, 11, 1, 4, tzinfo=UTC)


def test_daily_dose_stays_at_nine_local_across_spring_forward():
    start = ny(date(2026, 3, 6))
    result = doses("daily", starts_at=start, window=day_window(date(2026, 3, 6), 5))
    assert wall_times(result) == [(date(2026, 3, d), time(9)) for d in range(6, 11)]
    assert [d.due_at.hour for d in result] == [14, 14, 13, 13, 13]  # EST, then EDT
    assert all(d.due_at.tzinfo is UTC for d in result)
    assert result[2].due_at - result[1].due_at == timedelta(hours=23)


def test_daily_dose_stays_at_nine_local_across_fall_back():
    start = ny(date(2026, 10, 30))
    result = doses("daily", starts_at=start, window=day_window(date(2026, 10, 30), 5))
    assert wall_times(result) == [
        (date(2026, 10, 30), time(9)),
        (date(2026, 10, 31), time(9)),
        (date(2026, 11, 1), time(9)),
        (date(2026, 11, 2), time(9)),
        (date(2026, 11, 3), time(9)),
    ]
    assert [d.due_at.hour for d in result] == [13, 13, 14, 14, 14]  # EDT, then EST
    assert result[2].due_at - result[1].due_at == timedelta(hours=25)


def test_q4h_two_oclock_dose_on_spring_forward_day_neither_vanishes_nor_doubles():
    start = ny(date(2026, 3, 7))
    result = doses("q4h", starts_at=start, window=day_window(SPRING_FORWARD))
    assert [wall(d).time() for d in result] == [
        time(3),  # 02:00 does not exist; the dose falls to 03:00 EDT
        time(6),
        time(10),
        time(14),
        time(18),
        time(22),
    ]
    utc = [d.due_at for d in result]
    assert utc == sorted(set(utc))
    assert utc[0] == datetime(2026, 3, 8, 7, tzinfo=UTC)
    assert utc[1] - utc[0] == timedelta(hours=3)


@pytest.mark.parametrize("code", SCHEDULED)
@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK], ids=["spring", "fall"])
def test_every_scheduled_frequency_gives_each_dose_once_on_clock_change_days(code: str, day: date):
    start = ny(day - timedelta(days=2))
    result = doses(code, starts_at=start, window=day_window(day))
    times = frequency(code).times
    assert len(result) == len(times)
    utc = [d.due_at for d in result]
    assert utc == sorted(set(utc))
    assert all(wall(d).date() == day for d in result)
    # Doses three days running: no instant twice, the changed day holds its own doses.
    three = doses(code, starts_at=start, window=day_window(day - timedelta(days=1), 3))
    assert len(three) == 3 * len(times)
    assert len({d.due_at for d in three}) == len(three)


def test_no_duplicate_doses_on_the_fall_back_day_q4h_and_q6h():
    start = ny(date(2026, 10, 1))
    q4h = doses("q4h", starts_at=start, window=day_window(FALL_BACK))
    q6h = doses("q6h", starts_at=start, window=day_window(FALL_BACK))
    assert [wall(d).time() for d in q4h] == [time(h) for h in (2, 6, 10, 14, 18, 22)]
    assert [wall(d).time() for d in q6h] == [time(h) for h in (0, 6, 12, 18)]
    # The 25-hour day: midnight EDT to 06:00 EST is 7 elapsed hours.
    assert q6h[1].due_at - q6h[0].due_at == timedelta(hours=7)
    assert q4h[0].due_at == datetime(2026, 11, 1, 7, tzinfo=UTC)


@settings(max_examples=200, deadline=None)
@given(
    code=st.sampled_from(SCHEDULED),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
)
def test_every_local_day_holds_each_listed_time_once(code, day):
    result = doses(code, starts_at=ny(date(2025, 12, 1)), window=day_window(day))
    assert len(result) == len(frequency(code).times)
    assert all(wall(d).date() == day for d in result)
    assert [d.due_at for d in result] == sorted({d.due_at for d in result})
    for dose, listed in zip(result, frequency(code).times, strict=True):
        shown = wall(dose).time()
        # Either the listed time, or (in a spring-forward gap) one hour later.
        assert shown == listed or (
            shown.hour == listed.hour + 1 and local_instant(day, listed, NY) == dose.due_at
        )


# --- tapers -----------------------------------------------------------------------------

TAPER = [
    TaperStep(2, Decimal("4")),  # 2 days at 4 mg, the order's own frequency (qid)
    TaperStep(1, Decimal("2"), "bid"),
    TaperStep(1, Decimal("1"), "daily"),
]


def test_taper_changes_dose_and_frequency_by_local_day_and_stops_after_its_length():
    # Starts on the day before spring forward, at 12:00 local: the 09:00 dose is gone.
    start = ny(date(2026, 3, 7), 12)
    result = doses(
        "qid", starts_at=start, window=day_window(date(2026, 3, 1), 20), dose="8", taper=TAPER
    )
    by_day: dict[date, list[tuple[time, Decimal]]] = {}
    for d in result:
        by_day.setdefault(wall(d).date(), []).append((wall(d).time(), d.dose_mg))
    four = Decimal("4")
    assert by_day == {
        date(2026, 3, 7): [(time(13), four), (time(17), four), (time(21), four)],
        date(2026, 3, 8): [(time(9), four), (time(13), four), (time(17), four), (time(21), four)],
        date(2026, 3, 9): [(time(9), Decimal("2")), (time(21), Decimal("2"))],
        date(2026, 3, 10): [(time(9), Decimal("1"))],
    }
    assert taper_length_days(TAPER) == 4


def test_taper_days_count_from_the_start_day_not_the_window():
    start = ny(date(2026, 3, 7), 12)
    # A window on the third day of the taper alone.
    third = doses("qid", starts_at=start, window=day_window(date(2026, 3, 9)), taper=TAPER)
    assert [(wall(d).time(), d.dose_mg) for d in third] == [
        (time(9), Decimal("2")),
        (time(21), Decimal("2")),
    ]
    after = doses("qid", starts_at=start, window=day_window(date(2026, 3, 11), 30), taper=TAPER)
    assert after == []


def test_taper_over_fall_back_keeps_its_local_days():
    start = ny(date(2026, 10, 31))
    steps = [TaperStep(1, Decimal("3")), TaperStep(1, Decimal("2")), TaperStep(1, Decimal("1"))]
    result = doses("daily", starts_at=start, window=day_window(date(2026, 10, 30), 10), taper=steps)
    assert [(wall(d).date(), wall(d).time(), d.dose_mg) for d in result] == [
        (date(2026, 10, 31), time(9), Decimal("3")),
        (date(2026, 11, 1), time(9), Decimal("2")),
        (date(2026, 11, 2), time(9), Decimal("1")),
    ]


def test_dose_on_day():
    base = Decimal("8")
    assert dose_on_day(base, "qid", [], 0) == (base, "qid")
    assert dose_on_day(base, "qid", [], 1000) == (base, "qid")
    assert dose_on_day(base, "qid", TAPER, 0) == (Decimal("4"), "qid")
    assert dose_on_day(base, "qid", TAPER, 1) == (Decimal("4"), "qid")
    assert dose_on_day(base, "qid", TAPER, 2) == (Decimal("2"), "bid")
    assert dose_on_day(base, "qid", TAPER, 3) == (Decimal("1"), "daily")
    assert dose_on_day(base, "qid", TAPER, 4) is None
    assert dose_on_day(base, "qid", TAPER, 50) is None


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.builds(
            TaperStep,
            days=st.integers(min_value=1, max_value=5),
            dose_mg=st.decimals(min_value=Decimal("0.5"), max_value=40, places=1),
            frequency=st.sampled_from(["", *SCHEDULED]),
        ),
        min_size=1,
        max_size=5,
    ),
    start_day=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31)),
)
def test_taper_property_doses_follow_the_step_of_their_local_day(steps, start_day):
    assert taper_errors(steps) is None
    start = ny(start_day)
    length = taper_length_days(steps)
    result = doses(
        "tid",
        starts_at=start,
        window=day_window(start_day - timedelta(days=2), length + 5),
        taper=steps,
    )
    expected_count = 0
    for index in range(length):
        todays = dose_on_day(Decimal(2), "tid", steps, index)
        assert todays is not None
        expected_count += len(frequency(todays[1]).times)
    assert len(result) == expected_count
    for d in result:
        index = (wall(d).date() - start_day).days
        assert 0 <= index < length
        todays = dose_on_day(Decimal(2), "tid", steps, index)
        assert todays is not None and todays[0] == d.dose_mg


def test_taper_errors():
    assert taper_errors([]) is None
    assert taper_errors(TAPER) is None
    assert taper_errors([TaperStep(0, Decimal(1))]) == "Each taper step lasts 1 to 365 days."
    assert taper_errors([TaperStep(-1, Decimal(1))]) == "Each taper step lasts 1 to 365 days."
    assert taper_errors([TaperStep(1, Decimal(0))]) == "Each taper step needs a dose above 0 mg."
    assert taper_errors([TaperStep(1, Decimal("-0.5"))]) is not None
    assert taper_errors([TaperStep(1, Decimal("0.01"))]) is None
    scheduled = "daily, bid, tid, qid, q4h, q6h, q8h, qhs"
    message = f"A taper step's frequency must be scheduled: {scheduled}."
    for bad in ["q4h_prn", "qhs_prn", "once", "q3h", "DAILY"]:
        assert taper_errors([TaperStep(1, Decimal(1), bad)]) == message, bad
    for good in SCHEDULED:
        assert taper_errors([TaperStep(1, Decimal(1), good)]) is None
    # The first problem found in a later step is still reported.
    assert taper_errors([TaperStep(1, Decimal(1)), TaperStep(0, Decimal(1))]) is not None


def test_taper_length_days():
    assert taper_length_days([]) == 0
    assert taper_length_days([TaperStep(3, Decimal(1)), TaperStep(4, Decimal(1))]) == 7


# --- once, as-needed, order bounds and the window ---------------------------------------

T = datetime(2026, 5, 4, 14, 30, tzinfo=UTC)


def test_once_order_gives_one_dose_at_its_start_inside_the_window():
    dose = doses("once", starts_at=T, window=(T - timedelta(hours=1), T + timedelta(hours=1)))
    assert dose == [ScheduledDose(T, Decimal("2"))]
    # Half-open: at the window start yes, at the window end no.
    assert len(doses("once", starts_at=T, window=(T, T + timedelta(hours=1)))) == 1
    assert doses("once", starts_at=T, window=(T - timedelta(hours=1), T)) == []
    # An order ended at or before its start gives nothing.
    assert doses("once", starts_at=T, window=(T, T + timedelta(days=1)), ends_at=T) == []
    assert (
        len(
            doses(
                "once",
                starts_at=T,
                window=(T, T + timedelta(days=1)),
                ends_at=T + timedelta(seconds=1),
            )
        )
        == 1
    )


def test_once_order_ignores_its_taper_and_returns_utc():
    local_start = T.astimezone(NY)
    result = doses(
        "once", starts_at=local_start, window=(T, T + timedelta(days=3)), taper=TAPER, dose="5"
    )
    assert result == [ScheduledDose(T, Decimal("5"))]
    assert result[0].due_at.tzinfo is UTC


@pytest.mark.parametrize("code", PRN)
def test_as_needed_orders_have_no_scheduled_doses(code: str):
    assert doses(code, starts_at=T, window=(T - timedelta(days=10), T + timedelta(days=10))) == []


def test_order_start_and_end_bound_the_doses():
    day = date(2026, 5, 4)
    nine = ny(day, 9)
    window = day_window(day, 3)
    # A start exactly at 09:00 keeps the 09:00 dose; a minute later loses it.
    assert wall_times(doses("bid", starts_at=nine, window=window))[0] == (day, time(9))
    later = doses("bid", starts_at=nine + timedelta(minutes=1), window=window)
    assert wall_times(later)[0] == (day, time(21))
    # An end exactly at a dose's time excludes it; a minute after keeps it.
    end = ny(day + timedelta(days=1), 9)
    ended = doses("bid", starts_at=nine, ends_at=end, window=window)
    assert wall_times(ended) == [(day, time(9)), (day, time(21))]
    kept = doses("bid", starts_at=nine, ends_at=end + timedelta(minutes=1), window=window)
    assert wall_times(kept)[-1] == (day + timedelta(days=1), time(9))
    assert len(kept) == 3
    # Nothing before the order starts, whatever the window.
    assert doses("bid", starts_at=ny(day + timedelta(days=5)), window=window) == []


def test_window_is_half_open():
    day = date(2026, 5, 4)
    nine, nine_pm = ny(day, 9), ny(day, 21)
    start = ny(day)
    assert [d.due_at for d in doses("bid", starts_at=start, window=(nine, nine_pm))] == [nine]
    assert [
        d.due_at
        for d in doses("bid", starts_at=start, window=(nine, nine_pm + timedelta(seconds=1)))
    ] == [nine, nine_pm]
    assert doses("bid", starts_at=start, window=(nine + timedelta(seconds=1), nine_pm)) == []
    assert doses("bid", starts_at=start, window=(nine, nine)) == []
    assert doses("bid", starts_at=start, window=(nine_pm, nine)) == []


@st.composite
def order_and_window(draw: st.DrawFn) -> dict[str, object]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    hours = st.integers(min_value=0, max_value=365 * 24)
    start = base + timedelta(hours=draw(hours), minutes=draw(st.integers(0, 59)))
    end = draw(st.none() | st.integers(min_value=0, max_value=10 * 24))
    w0 = base + timedelta(hours=draw(hours), minutes=draw(st.sampled_from([0, 30])))
    w1 = w0 + timedelta(hours=draw(st.integers(min_value=0, max_value=6 * 24)))
    split = w0 + (w1 - w0) * draw(st.floats(min_value=0, max_value=1))
    return {
        "code": draw(st.sampled_from([*SCHEDULED, "once"])),
        "starts_at": start,
        "ends_at": None if end is None else start + timedelta(hours=end),
        "window": (w0, w1),
        "split": split,
    }


@settings(max_examples=200, deadline=None)
@given(order_and_window())
def test_doses_are_ordered_bounded_and_split_cleanly(case):
    code = case["code"]
    starts_at = case["starts_at"]
    ends_at = case["ends_at"]
    w0, w1 = case["window"]
    split = case["split"]
    assert isinstance(code, str) and isinstance(starts_at, datetime)
    assert ends_at is None or isinstance(ends_at, datetime)
    assert isinstance(w0, datetime) and isinstance(w1, datetime) and isinstance(split, datetime)
    whole = doses(code, starts_at=starts_at, ends_at=ends_at, window=(w0, w1))
    due = [d.due_at for d in whole]
    assert due == sorted(set(due))
    for d in whole:
        assert w0 <= d.due_at < w1
        assert d.due_at >= starts_at
        assert ends_at is None or d.due_at < ends_at
    # The window is half-open, so two adjacent windows give exactly the whole.
    left = doses(code, starts_at=starts_at, ends_at=ends_at, window=(w0, split))
    right = doses(code, starts_at=starts_at, ends_at=ends_at, window=(split, w1))
    assert left + right == whole
    counts = Counter(d.due_at for d in left + right)
    assert all(n == 1 for n in counts.values())


# --- planned daily total ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "count"),
    [
        ("once", 1),
        ("daily", 1),
        ("bid", 2),
        ("tid", 3),
        ("qid", 4),
        ("q4h", 6),
        ("q6h", 4),
        ("q8h", 3),
        ("qhs", 1),
        ("q1h_prn", 24),
        ("q2h_prn", 12),
        ("q4h_prn", 6),
        ("q6h_prn", 4),
        ("q8h_prn", 3),
        ("qhs_prn", 1),  # once a night (at most every 20 hours)
    ],
)
def test_planned_daily_total(code: str, count: int):
    assert planned_daily_total(code, Decimal("2.5")) == Decimal("2.5") * count
    assert planned_daily_total(code, Decimal(0)) == 0


@pytest.mark.parametrize("code", SCHEDULED)
def test_planned_daily_total_matches_one_ordinary_scheduled_day(code: str):
    day = date(2026, 5, 4)
    one_day = doses(code, starts_at=ny(day), window=day_window(day), dose="3")
    assert sum((d.dose_mg for d in one_day), Decimal(0)) == planned_daily_total(code, Decimal(3))
