"""The pure rules of sober living: occupancy over time, move-in checks and curfews.
Hypothesis plays random sequences of move-ins, move-outs and retirements through the
same checks the services use, and counts the beds at random instants."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.residences import rules
from stepwise.residences.rules import BedSpan, BedState, Counts, Refusal, Span

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NY = ZoneInfo("America/New_York")
# Hypothesis takes naive bounds and adds the zone itself.
EARLIEST = datetime(2020, 1, 1)  # noqa: DTZ001
LATEST = datetime(2035, 1, 1)  # noqa: DTZ001


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def refused(check: rules.MoveInCheck | None) -> Refusal:
    assert check is not None
    return check.refusal


# --- Occupancy at an instant -----------------------------------------------------


def test_a_move_out_frees_the_bed_at_that_very_instant():
    bed = BedSpan(1, 10, at(0))
    stay = Span(1, 100, at(1), at(5))
    assert rules.bed_state(bed, [stay], at(0.5)) is BedState.VACANT
    assert rules.bed_state(bed, [stay], at(1)) is BedState.OCCUPIED
    assert rules.bed_state(bed, [stay], at(4.99)) is BedState.OCCUPIED
    assert rules.bed_state(bed, [stay], at(5)) is BedState.VACANT
    # The next resident may move in at the instant of the move-out.
    assert rules.move_in_refusal(bed, [stay], [], at(5)) is None
    assert refused(rules.move_in_refusal(bed, [stay], [], at(4.9))) is Refusal.BED_TAKEN


def test_beds_before_they_exist_and_out_of_service_ones():
    bed = BedSpan(1, 10, at(2), retired_at=at(10))
    assert rules.bed_state(bed, [], at(1)) is None
    assert rules.bed_state(bed, [], at(2)) is BedState.VACANT
    assert rules.bed_state(bed, [], at(10)) is BedState.OUT_OF_SERVICE
    assert refused(rules.move_in_refusal(bed, [], [], at(3))) is Refusal.BED_OUT_OF_SERVICE


def test_a_resident_from_before_the_bed_was_entered_counts_from_their_move_in():
    bed = BedSpan(1, 10, at(100))
    assert rules.move_in_refusal(bed, [], [], at(1)) is None
    earlier = Span(1, 100, at(1), None)
    assert rules.bed_state(bed, [earlier], at(50)) is BedState.OCCUPIED
    assert rules.house_counts([bed], [earlier], at(50)) == {10: Counts(occupied=1)}
    assert rules.bed_state(bed, [], at(50)) is None


def test_counts_per_house_and_residence():
    beds = [BedSpan(1, 10, at(0)), BedSpan(2, 10, at(0)), BedSpan(3, 11, at(0), at(1))]
    spans = [Span(1, 100, at(0), None)]
    counts = rules.house_counts(beds, spans, at(2))
    assert counts == {10: Counts(occupied=1, vacant=1), 11: Counts(out_of_service=1)}
    whole = rules.total(counts.values())
    assert (whole.occupied, whole.vacant, whole.out_of_service, whole.total) == (1, 1, 1, 3)
    assert whole.in_service == 2


def test_a_back_dated_move_in_cannot_slip_under_a_later_resident():
    bed = BedSpan(1, 10, at(0))
    later = Span(1, 100, at(10), None, key=7)
    check = rules.move_in_refusal(bed, [later], [], at(5))
    assert check == rules.MoveInCheck(Refusal.BED_TAKEN, later)
    # Nor can a patient living somewhere later be put in a bed earlier.
    elsewhere = Span(2, 200, at(10), at(20), key=8)
    assert refused(rules.move_in_refusal(bed, [], [elsewhere], at(5))) is Refusal.PATIENT_HOUSED
    assert rules.move_in_refusal(bed, [], [elsewhere], at(20)) is None


def test_move_out_and_retire_errors():
    assert rules.move_out_error(at(1), None, at(1)) == "the move-out must come after the move-in"
    assert rules.move_out_error(at(1), at(2), at(3)) == "already moved out"
    assert rules.move_out_error(at(1), None, at(1.01)) is None
    bed = BedSpan(1, 10, at(0))
    assert rules.retire_error(bed, [Span(1, 100, at(1), None)], at(2)) == "someone lives in it"
    assert rules.retire_error(bed, [Span(1, 100, at(1), at(2))], at(2)) is None


def test_php_and_iop_stays_are_linked_other_levels_are_not():
    assert rules.links_stay("2.5") and rules.links_stay("2.1")
    for level in ("3.7-WM", "3.5", "1", "CC", "2.7"):
        assert not rules.links_stay(level)


# --- Sequences of moves (the services' checks, played at random) -----------------


@dataclass
class House:
    """A model of one organization's beds, moved through the rules only."""

    beds: list[BedSpan]
    spans: list[Span] = field(default_factory=list)

    def open_of(self, patient: int) -> Span | None:
        return next(
            (s for s in self.spans if s.patient_id == patient and s.moved_out_at is None), None
        )

    def move_in(self, patient: int, bed_id: int, when: datetime) -> bool:
        bed = next(b for b in self.beds if b.bed_id == bed_id)
        mine = [s for s in self.spans if s.patient_id == patient]
        theirs = [s for s in self.spans if s.bed_id == bed_id]
        if rules.move_in_refusal(bed, theirs, mine, when) is not None:
            return False
        self.spans.append(Span(bed_id, patient, when, None, key=len(self.spans) + 1))
        return True

    def move_out(self, patient: int, when: datetime) -> bool:
        found = self.open_of(patient)
        if found is None or rules.move_out_error(found.moved_in_at, None, when):
            return False
        self.spans[self.spans.index(found)] = Span(
            found.bed_id, patient, found.moved_in_at, when, key=found.key
        )
        return True

    def retire(self, bed_id: int, when: datetime) -> bool:
        index = next(i for i, b in enumerate(self.beds) if b.bed_id == bed_id)
        bed = self.beds[index]
        if when < bed.added_at or rules.retire_error(bed, self.spans, when):
            return False
        self.beds[index] = BedSpan(bed.bed_id, bed.house_id, bed.added_at, when)
        return True


BEDS = 4
PATIENTS = 6
step = st.tuples(
    st.sampled_from(["in", "in", "in", "out", "out", "retire"]),
    st.integers(1, PATIENTS),
    st.integers(1, BEDS),
    # Mostly forward in time, sometimes back-dated (a late entry).
    st.floats(-6, 12, allow_nan=False),
)


def play(steps: list[tuple[str, int, int, float]]) -> House:
    # Beds entered at different times; early move-ins may predate a bed's entry.
    house = House([BedSpan(b, 10 + b % 2, at(3 * b)) for b in range(1, BEDS + 1)])
    clock = 1.0
    for kind, patient, bed, delta in steps:
        if delta >= 0:
            clock += delta
            when = at(clock)
        else:
            when = at(max(0.01, clock + delta))
        if kind == "in":
            house.move_in(patient, bed, when)
        elif kind == "out":
            house.move_out(patient, when)
        else:
            house.retire(bed, when)
    return house


@settings(max_examples=300, deadline=None)
@given(
    st.lists(step, max_size=40),
    st.lists(st.floats(0, 200, allow_nan=False), min_size=1, max_size=8),
)
def test_occupancy_never_exceeds_the_beds_in_service_and_no_bed_is_shared(steps, instants):
    house = play(steps)
    for hours in instants:
        when = at(hours)
        covering = [s for s in house.spans if s.covers(when)]
        # A bed is never occupied twice, a patient never lives in two beds.
        assert len({s.bed_id for s in covering}) == len(covering)
        assert len({s.patient_id for s in covering}) == len(covering)
        counts = rules.total(rules.house_counts(house.beds, house.spans, when).values())
        # Beds not taken out of service (a resident may predate the bed's entry).
        active = {b.bed_id for b in house.beds if b.retired_at is None or when < b.retired_at}
        assert {s.bed_id for s in covering} <= active
        assert counts.occupied == len(covering) <= len(active)
        in_service = {b.bed_id for b in house.beds if b.in_service_at(when)}
        assert counts.vacant == len(in_service - {s.bed_id for s in covering})
        shown = {b.bed_id for b in house.beds if b.exists_at(when)} | {s.bed_id for s in covering}
        assert counts.total == len(shown)


@settings(max_examples=200, deadline=None)
@given(st.lists(step, max_size=40))
def test_every_residency_ends_after_it_starts_and_one_is_open_per_patient(steps):
    house = play(steps)
    for span in house.spans:
        assert span.moved_out_at is None or span.moved_out_at > span.moved_in_at
    for patient in range(1, PATIENTS + 1):
        assert (
            sum(1 for s in house.spans if s.patient_id == patient and s.moved_out_at is None) <= 1
        )
    for bed in range(1, BEDS + 1):
        assert sum(1 for s in house.spans if s.bed_id == bed and s.moved_out_at is None) <= 1


@settings(max_examples=200, deadline=None)
@given(st.lists(step, max_size=30))
def test_a_vacant_bed_in_service_always_takes_a_patient_who_lives_nowhere(steps):
    house = play(steps)
    later = at(10_000)
    vacant = [b for b in house.beds if rules.bed_state(b, house.spans, later) is BedState.VACANT]
    homeless = [
        p
        for p in range(1, PATIENTS + 2)
        if not any(s.patient_id == p and s.overlaps(later, None) for s in house.spans)
    ]
    if vacant and homeless:
        assert house.move_in(homeless[0], vacant[0].bed_id, later)
        assert rules.bed_state(vacant[0], house.spans, later) is BedState.OCCUPIED


# --- Curfew ---------------------------------------------------------------------


def test_nights_run_noon_to_noon_in_the_residence_zone():
    assert rules.night_of(datetime(2026, 11, 6, 23, 30, tzinfo=NY), NY) == date(2026, 11, 6)
    assert rules.night_of(datetime(2026, 11, 7, 0, 30, tzinfo=NY), NY) == date(2026, 11, 6)
    assert rules.night_of(datetime(2026, 11, 7, 12, 0, tzinfo=NY), NY) == date(2026, 11, 7)
    start, end = rules.night_window(date(2026, 11, 6), NY)
    assert start.astimezone(NY).time() == time(12, 0) and end - start == timedelta(hours=24)


def test_weekend_nights_take_the_weekend_curfew():
    weekday, weekend = time(22, 0), time(23, 0)
    thursday, friday, saturday, sunday = (date(2026, 11, d) for d in (5, 6, 7, 8))
    assert rules.curfew_clock(thursday, weekday, weekend) == weekday
    assert rules.curfew_clock(friday, weekday, weekend) == weekend
    assert rules.curfew_clock(saturday, weekday, weekend) == weekend
    assert rules.curfew_clock(sunday, weekday, weekend) == weekday
    at_friday = rules.curfew_at(friday, weekday, weekend, NY)
    assert at_friday.astimezone(NY) == datetime(2026, 11, 6, 23, 0, tzinfo=NY)


def test_a_curfew_after_midnight_falls_on_the_next_morning():
    night = date(2026, 11, 5)
    curfew = rules.curfew_at(night, time(1, 0), time(2, 0), NY)
    assert curfew.astimezone(NY) == datetime(2026, 11, 6, 1, 0, tzinfo=NY)


def test_late_by_whole_minutes_after_the_curfew_minute():
    curfew = datetime(2026, 11, 5, 22, 0, tzinfo=NY)
    assert (
        rules.curfew_status(curfew - timedelta(hours=2), curfew).status is rules.CurfewKind.ON_TIME
    )
    assert (
        rules.curfew_status(curfew + timedelta(seconds=59), curfew).status
        is rules.CurfewKind.ON_TIME
    )
    late = rules.curfew_status(curfew + timedelta(minutes=17, seconds=30), curfew)
    assert late == rules.CurfewResult(rules.CurfewKind.LATE, 17)


def test_the_curfew_across_daylight_saving_changes():
    # 1 Nov 2026: New York falls back at 02:00; a 22:00 curfew the night before and
    # after is still 22:00 on the wall clock.
    before = rules.curfew_at(date(2026, 10, 31), time(22, 0), time(22, 0), NY)
    after = rules.curfew_at(date(2026, 11, 1), time(22, 0), time(22, 0), NY)
    assert before.astimezone(NY).hour == 22 and after.astimezone(NY).hour == 22
    assert after - before == timedelta(hours=25)
    # 8 Mar 2026: springs forward at 02:00; a 02:30 curfew reads 03:30.
    gap = rules.curfew_at(date(2026, 3, 7), time(2, 30), time(2, 30), NY)
    assert gap.astimezone(NY).time() == time(3, 30)


zones = st.sampled_from(
    ["America/New_York", "America/Denver", "Europe/London", "UTC", "Australia/Sydney"]
)


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(UTC)),
    st.times(),
    st.times(),
    zones,
)
def test_an_arrival_is_on_time_exactly_when_within_the_curfew_minute(
    arrival, weekday, weekend, zone_name
):
    zone = ZoneInfo(zone_name)
    night = rules.night_of(arrival, zone)
    start, end = rules.night_window(night, zone)
    assert start <= arrival < end
    curfew = rules.curfew_at(
        night,
        weekday.replace(second=0, microsecond=0),
        weekend.replace(second=0, microsecond=0),
        zone,
    )
    result = rules.curfew_status(arrival, curfew)
    if arrival < curfew + timedelta(minutes=1):
        assert result.status is rules.CurfewKind.ON_TIME and result.minutes_late is None
    else:
        assert result.status is rules.CurfewKind.LATE
        assert result.minutes_late is not None and result.minutes_late >= 1
        assert curfew + timedelta(minutes=result.minutes_late) <= arrival
        assert arrival < curfew + timedelta(minutes=result.minutes_late + 1)


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(UTC)),
    st.integers(0, 600),
)
def test_arriving_later_is_never_less_late(arrival, minutes):
    curfew = rules.curfew_at(rules.night_of(arrival, NY), time(22, 0), time(23, 0), NY)
    first = rules.curfew_status(arrival, curfew).minutes_late or 0
    second = rules.curfew_status(arrival + timedelta(minutes=minutes), curfew).minutes_late or 0
    assert second >= first


# --- Who a house is for, and the stay a residency links to -------------------------

HOUSE_KINDS = ["men", "women", "any"]
# TEDS sex codes as recorded, and strings that are not one of them.
SEXES = st.one_of(st.sampled_from(["1", "2", "-9", ""]), st.text(max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(HOUSE_KINDS), SEXES)
def test_a_house_admits_its_own_sex_anyone_admits_all_and_unknown_is_not_checked(house_for, sex):
    allowed = rules.houses_allowed(sex)
    admits = rules.house_admits(house_for, sex)
    if sex not in ("1", "2"):
        assert allowed is None and admits
    else:
        assert allowed is not None and "any" in allowed and len(allowed) == 2
        assert admits == (house_for in ("any", {"1": "men", "2": "women"}[sex]))
        # Refused exactly when the house is for the other sex, and then it is not offered.
        assert admits == (house_for in allowed)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["2.5", "2.1", "1", "3.5", "3.7-WM", "4", "", "2.1x"]), st.booleans())
def test_a_started_stay_is_linked_only_when_php_or_iop_and_the_link_is_empty_or_ended(
    level, has_link
):
    open_link = rules.link_on_stay_start(level, True)
    assert open_link is False  # a link to a stay still open is kept
    linked_state = False if has_link else None  # an ended link, or none at all
    assert rules.link_on_stay_start(level, linked_state) == (level in ("2.5", "2.1"))
