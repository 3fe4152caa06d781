"""Pure rules of sober living: which beds are occupied, vacant or out of service at an
instant, whether a move-in fits (the bed, the house's sex, the stay linked), and a
resident's curfew status. No Django here.

Times are aware datetimes. A residency covers [moved_in_at, moved_out_at): a move-out
frees the bed at that very instant, so the next resident may move in at it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

# Levels of care whose stay a residency links to: partial hospitalization (2.5) and
# intensive outpatient (2.1), the same codes in the 3rd and 4th editions.
LINKED_LEVELS = frozenset({"2.5", "2.1"})


def links_stay(asam_level: str) -> bool:
    return asam_level in LINKED_LEVELS


def link_on_stay_start(asam_level: str, linked_stay_open: bool | None) -> bool:
    """Whether an open residency takes a stay that has just started at `asam_level` as
    its link: a PHP or IOP stay, when the residency has no link (None) or its linked
    stay has ended (False: moved on to another program, or discharged). A link to a
    stay still open is kept."""
    return links_stay(asam_level) and linked_stay_open is not True


# Who a house is for, against the sex recorded on the patient (TEDS codes: 1 male,
# 2 female; anything else, "-9" included, is not recorded).
HOUSE_FOR_ANYONE = "any"
HOUSE_FOR_BY_SEX = {"1": "men", "2": "women"}


def houses_allowed(sex: str) -> frozenset[str] | None:
    """The kinds of house a patient of this recorded sex may live in; None when the sex
    is not recorded (no check is made)."""
    kind = HOUSE_FOR_BY_SEX.get(sex)
    if kind is None:
        return None
    return frozenset({kind, HOUSE_FOR_ANYONE})


def house_admits(house_for: str, sex: str) -> bool:
    allowed = houses_allowed(sex)
    return allowed is None or house_for in allowed


# Occupancy.


@dataclass(frozen=True)
class BedSpan:
    """A bed as occupancy sees it: in service from `added_at` until `retired_at`."""

    bed_id: int
    house_id: int
    added_at: datetime
    retired_at: datetime | None = None

    def exists_at(self, at: datetime) -> bool:
        return self.added_at <= at

    def in_service_at(self, at: datetime) -> bool:
        return self.exists_at(at) and (self.retired_at is None or at < self.retired_at)


@dataclass(frozen=True)
class Span:
    """One residency: a patient in a bed over [moved_in_at, moved_out_at)."""

    bed_id: int
    patient_id: int
    moved_in_at: datetime
    moved_out_at: datetime | None = None
    key: int = 0  # the residency's own id, to name it in a refusal

    def covers(self, at: datetime) -> bool:
        return self.moved_in_at <= at and (self.moved_out_at is None or at < self.moved_out_at)

    def overlaps(self, start: datetime, end: datetime | None) -> bool:
        """Whether it shares any instant with [start, end) (end None: open-ended)."""
        starts_before_end = end is None or self.moved_in_at < end
        ends_after_start = self.moved_out_at is None or self.moved_out_at > start
        return starts_before_end and ends_after_start


class BedState(StrEnum):
    OCCUPIED = "occupied"
    VACANT = "vacant"
    OUT_OF_SERVICE = "out_of_service"


def bed_state(bed: BedSpan, spans: Iterable[Span], at: datetime) -> BedState | None:
    """The bed's state at `at`; None before it was added and while nobody lived in it.
    Someone living in it counts first: over its being out of service (retiring an
    occupied bed is refused anyway), and before it was entered (residents who lived
    there before the house was set up here)."""
    if any(s.bed_id == bed.bed_id and s.covers(at) for s in spans):
        return BedState.OCCUPIED
    if not bed.exists_at(at):
        return None
    return BedState.VACANT if bed.in_service_at(at) else BedState.OUT_OF_SERVICE


@dataclass(frozen=True)
class Counts:
    occupied: int = 0
    vacant: int = 0
    out_of_service: int = 0

    @property
    def in_service(self) -> int:
        return self.occupied + self.vacant

    @property
    def total(self) -> int:
        return self.in_service + self.out_of_service

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.occupied + other.occupied,
            self.vacant + other.vacant,
            self.out_of_service + other.out_of_service,
        )

    def add(self, state: BedState) -> Counts:
        return self + Counts(
            occupied=int(state is BedState.OCCUPIED),
            vacant=int(state is BedState.VACANT),
            out_of_service=int(state is BedState.OUT_OF_SERVICE),
        )


def bed_states(beds: Iterable[BedSpan], spans: Iterable[Span], at: datetime) -> dict[int, BedState]:
    """Each bed that exists at `at`, with its state."""
    covering = {s.bed_id for s in spans if s.covers(at)}
    states: dict[int, BedState] = {}
    for bed in beds:
        if bed.bed_id in covering:
            states[bed.bed_id] = BedState.OCCUPIED
        elif not bed.exists_at(at):
            continue
        elif bed.in_service_at(at):
            states[bed.bed_id] = BedState.VACANT
        else:
            states[bed.bed_id] = BedState.OUT_OF_SERVICE
    return states


def house_counts(beds: Iterable[BedSpan], spans: Iterable[Span], at: datetime) -> dict[int, Counts]:
    """Occupied, vacant and out-of-service beds per house at `at`."""
    beds = list(beds)
    states = bed_states(beds, spans, at)
    counts: dict[int, Counts] = defaultdict(Counts)
    for bed in beds:
        state = states.get(bed.bed_id)
        if state is not None:
            counts[bed.house_id] = counts[bed.house_id].add(state)
    return dict(counts)


def total(counts: Iterable[Counts]) -> Counts:
    found = Counts()
    for one in counts:
        found = found + one
    return found


# Moves.


class Refusal(StrEnum):
    BED_OUT_OF_SERVICE = "bed_out_of_service"
    BED_TAKEN = "bed_taken"
    PATIENT_HOUSED = "patient_housed"


@dataclass(frozen=True)
class MoveInCheck:
    refusal: Refusal
    # The residency in the way (for BED_TAKEN and PATIENT_HOUSED).
    blocking: Span | None = None


def move_in_refusal(
    bed: BedSpan,
    bed_spans: Iterable[Span],
    patient_spans: Iterable[Span],
    at: datetime,
) -> MoveInCheck | None:
    """Why the patient cannot move into the bed from `at` on (None if they can).

    A move-in is open-ended, so any residency of the bed or of the patient from `at`
    onwards is in the way, including one that starts later (a back-dated move-in
    must not slip under a later resident). A move-in may be dated before the bed was
    entered: residents already living there when the house is set up."""
    if bed.retired_at is not None:
        return MoveInCheck(Refusal.BED_OUT_OF_SERVICE)
    for span in patient_spans:
        if span.overlaps(at, None):
            return MoveInCheck(Refusal.PATIENT_HOUSED, span)
    for span in bed_spans:
        if span.overlaps(at, None):
            return MoveInCheck(Refusal.BED_TAKEN, span)
    return None


def move_out_error(
    moved_in_at: datetime, moved_out_at: datetime | None, at: datetime
) -> str | None:
    """Why a residency cannot end at `at` (None if it can)."""
    if moved_out_at is not None:
        return "already moved out"
    if at <= moved_in_at:
        return "the move-out must come after the move-in"
    return None


def retire_error(bed: BedSpan, spans: Iterable[Span], at: datetime) -> str | None:
    """A bed goes out of service only when nobody lives in it now or later."""
    if bed.retired_at is not None:
        return "already out of service"
    if any(s.bed_id == bed.bed_id and s.overlaps(at, None) for s in spans):
        return "someone lives in it"
    return None


# Curfew.

# A night runs from noon to noon in the residence's zone, so a 00:30 arrival belongs to
# the evening before.
NIGHT_STARTS = time(12, 0)
# Nights with the weekend curfew: those of Friday and Saturday evenings (Monday is 0).
WEEKEND_NIGHTS = frozenset({4, 5})


class CurfewKind(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"


@dataclass(frozen=True)
class CurfewResult:
    status: CurfewKind
    minutes_late: int | None = None


def local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A wall-clock time in the zone as an instant. A time the clocks skip (spring
    forward) reads as the same number of minutes past the change; a repeated one
    (fall back) is its first occurrence."""
    naive = datetime.combine(day, clock)
    return naive.replace(tzinfo=zone, fold=0).astimezone(ZoneInfo("UTC"))


def night_of(at: datetime, zone: ZoneInfo) -> date:
    """The night (its evening's local date) that an instant belongs to."""
    local = at.astimezone(zone)
    if local.time() >= NIGHT_STARTS:
        return local.date()
    return local.date() - timedelta(days=1)


def night_window(night: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants of a night: from its noon to the next day's noon."""
    return (
        local_instant(night, NIGHT_STARTS, zone),
        local_instant(night + timedelta(days=1), NIGHT_STARTS, zone),
    )


def curfew_clock(night: date, weekday_curfew: time, weekend_curfew: time) -> time:
    return weekend_curfew if night.weekday() in WEEKEND_NIGHTS else weekday_curfew


def curfew_at(night: date, weekday_curfew: time, weekend_curfew: time, zone: ZoneInfo) -> datetime:
    """The night's curfew as an instant; a curfew before noon falls after midnight."""
    clock = curfew_clock(night, weekday_curfew, weekend_curfew)
    day = night if clock >= NIGHT_STARTS else night + timedelta(days=1)
    return local_instant(day, clock, zone)


def curfew_status(arrived_at: datetime, curfew: datetime) -> CurfewResult:
    """On time up to the curfew's minute (22:00:59 is on time for 22:00); after it,
    late by the whole minutes past the curfew."""
    minutes = int((arrived_at - curfew).total_seconds() // 60)
    if minutes < 1:
        return CurfewResult(CurfewKind.ON_TIME)
    return CurfewResult(CurfewKind.LATE, minutes)
