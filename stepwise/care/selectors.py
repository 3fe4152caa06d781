"""Scoped, prefetched reads of the continuum: a fixed number of queries per page."""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import Count, F, Prefetch, Q, QuerySet

from stepwise.care import rules
from stepwise.care.models import (
    BedReservation,
    Episode,
    EpisodeStatus,
    Program,
    ReservationStatus,
    Stay,
)
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound
from stepwise.core.ids import public_id_or_404
from stepwise.core.models import Facility
from stepwise.patients.models import Patient


def programs_of(actor: Actor, *, active_only: bool = True) -> QuerySet[Program]:
    found = Program.objects.filter(organization_id=actor.organization_id).select_related("facility")
    if active_only:
        found = found.filter(is_active=True)
    return found.order_by("facility__name", "name")


def capped_programs(actor: Actor) -> QuerySet[Program]:
    """Active programs that count their places (beds, or a cap): where a place can be held."""
    return programs_of(actor).filter(Q(bed_capacity__isnull=False) | Q(place_cap__isnull=False))


def program_get(actor: Actor, public_id: uuid.UUID | str) -> Program:
    key = public_id_or_404(public_id)
    program = programs_of(actor, active_only=False).filter(public_id=key).first()
    if program is None:
        raise NotFound()
    return program


def episode_get(actor: Actor, public_id: uuid.UUID | str) -> Episode:
    key = public_id_or_404(public_id)
    episode = (
        Episode.objects.filter(organization_id=actor.organization_id, public_id=key)
        .select_related("patient")
        .first()
    )
    if episode is None:
        raise NotFound()
    return episode


def _episodes_with_stays(actor: Actor) -> QuerySet[Episode]:
    """Episodes with what their timeline shows: stays, programs, facilities, staff."""
    stays = Stay.objects.select_related("program__facility", "entered_by").order_by("sequence")
    return (
        Episode.objects.filter(organization_id=actor.organization_id)
        .select_related("patient", "admitted_by", "discharged_by", "previous_episode")
        .prefetch_related(Prefetch("stays", queryset=stays))
    )


def episodes_for_patient(actor: Actor, patient: Patient) -> list[Episode]:
    """A patient's episodes, newest first, each with its stays and their programs (2 queries)."""
    return list(_episodes_with_stays(actor).filter(patient=patient).order_by("-admitted_at"))


def episode_with_stays(actor: Actor, public_id: uuid.UUID | str) -> Episode:
    """One episode with its stays and their programs (2 queries); NotFound otherwise."""
    episode = _episodes_with_stays(actor).filter(public_id=public_id_or_404(public_id)).first()
    if episode is None:
        raise NotFound()
    return episode


def open_stay(episode: Episode) -> Stay:
    """The episode's current stay with its program and facility; NotFound if closed."""
    stay = (
        Stay.objects.select_related("program__facility")
        .filter(organization_id=episode.organization_id, episode=episode, ended_at__isnull=True)
        .first()
    )
    if stay is None:
        raise NotFound()
    return stay


def open_stays_by_patient(actor: Actor, patient_ids: list[int]) -> dict[int, Stay]:
    """The current stay (with program) of each listed patient that has one: one query."""
    stays = (
        Stay.objects.filter(
            organization_id=actor.organization_id,
            # Naming the episode's organization too lets SQLite start from the
            # patients' episodes instead of scanning the organization's stays.
            episode__organization_id=actor.organization_id,
            episode__patient_id__in=patient_ids,
            ended_at__isnull=True,
        )
        .select_related("program", "episode")
        .only(
            "id",
            "started_at",
            "program__name",
            "program__asam_level",
            "episode__patient_id",
            "episode__public_id",
        )
    )
    return {stay.episode.patient_id: stay for stay in stays}


@dataclass(frozen=True)
class CensusRow:
    program: Program
    occupied: int
    admitted_today: int
    transferred_in_today: int
    discharged_today: int
    # Patients here now with a running overdose-risk flag (lost tolerance after detox).
    flagged: int = 0
    # Beds held for expected admissions (the admissions line), still within their time.
    held: int = 0

    @property
    def available(self) -> int | None:
        if self.program.bed_capacity is None:
            return None
        return max(self.program.bed_capacity - self.occupied - self.held, 0)

    @property
    def occupancy_percent(self) -> int | None:
        if not self.program.bed_capacity:
            return None
        return round(100 * self.occupied / self.program.bed_capacity)


def facility_day_bounds(facility: Facility, now: datetime) -> tuple[datetime, datetime]:
    """Start and end of 'today' in the facility's own time zone, as aware datetimes."""
    zone = zoneinfo.ZoneInfo(facility.time_zone)
    local_day = now.astimezone(zone).date()
    start = datetime.combine(local_day, time.min, tzinfo=zone)
    end = datetime.combine(local_day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def census(actor: Actor, now: datetime) -> list[CensusRow]:
    """Today's census per active program, 'today' being each facility's local day.

    Six queries whatever the number of programs or patients.
    """
    # Most intensive first: the order patients move through the continuum.
    programs = sorted(programs_of(actor), key=lambda p: (-p.level.rank, p.facility.name, p.name))
    facilities = {p.facility_id: p.facility for p in programs}
    started_today = Q()
    ended_today = Q()
    for facility_id, facility in facilities.items():
        start, end = facility_day_bounds(facility, now)
        started_today |= Q(
            program__facility_id=facility_id, started_at__gte=start, started_at__lt=end
        )
        ended_today |= Q(program__facility_id=facility_id, ended_at__gte=start, ended_at__lt=end)
    if not programs:
        return []
    # Three narrow queries, each served by one index, instead of one OR that
    # makes the planner read every stay of the organization.
    stays = Stay.objects.filter(organization_id=actor.organization_id, program__in=programs)
    by_program: dict[int, dict[str, int]] = {p.pk: {} for p in programs}
    for open_row in (
        stays.filter(ended_at__isnull=True).values("program_id").annotate(n=Count("id"))
    ):
        by_program[open_row["program_id"]]["occupied"] = open_row["n"]
    started = (
        stays.filter(started_today)
        .values("program_id")
        .annotate(
            admitted=Count("id", filter=Q(sequence=1)),
            transferred_in=Count("id", filter=Q(sequence__gt=1)),
        )
    )
    for row in started:
        by_program[row["program_id"]].update(
            admitted=row["admitted"], transferred_in=row["transferred_in"]
        )
    # A stay that ended when its episode did is a discharge, not a transfer out.
    discharged = (
        stays.filter(ended_today, episode__discharged_at=F("ended_at"))
        .values("program_id")
        .annotate(n=Count("id"))
    )
    for end_row in discharged:
        by_program[end_row["program_id"]]["discharged"] = end_row["n"]
    flagged = (
        stays.filter(
            ended_at__isnull=True,
            episode__patient__risk_flags__starts_at__lte=now,
            episode__patient__risk_flags__ends_at__gt=now,
        )
        .values("program_id")
        .annotate(n=Count("episode__patient", distinct=True))
    )
    for flag_row in flagged:
        by_program[flag_row["program_id"]]["flagged"] = flag_row["n"]
    for program_id, n in held_per_program(actor.organization_id, programs, now).items():
        by_program[program_id]["held"] = n

    rows = []
    for program in programs:
        counts = by_program[program.pk]
        rows.append(
            CensusRow(
                program=program,
                occupied=counts.get("occupied", 0),
                admitted_today=counts.get("admitted", 0),
                transferred_in_today=counts.get("transferred_in", 0),
                discharged_today=counts.get("discharged", 0),
                flagged=counts.get("flagged", 0),
                held=counts.get("held", 0),
            )
        )
    return rows


def held_per_program(
    organization_id: int, programs: list[Program], now: datetime
) -> dict[int, int]:
    """Places still held for expected admissions, per program: a held place stops
    counting at its hold time, whether or not anyone has closed it yet (one query)."""
    return dict(
        BedReservation.objects.filter(
            organization_id=organization_id,
            program__in=programs,
            status=ReservationStatus.HELD,
            hold_until__gt=now,
        )
        .values("program_id")
        .annotate(n=Count("id"))
        .values_list("program_id", "n")
    )


def organization_time_zone(organization_id: int) -> str:
    """The zone of the organization's first facility: times of a patient not in care."""
    zone = (
        Facility.objects.filter(organization_id=organization_id)
        .order_by("name", "id")
        .values_list("time_zone", flat=True)
        .first()
    )
    return zone or "UTC"


# One patient's place in the continuum now, for the apps above (forms, times).


def open_episode_of(patient: Patient) -> Episode | None:
    return (
        Episode.objects.filter(
            organization_id=patient.organization_id, patient=patient, status=EpisodeStatus.OPEN
        )
        .order_by("-admitted_at")
        .first()
    )


def current_stay_of(patient: Patient) -> Stay | None:
    return (
        Stay.objects.filter(
            organization_id=patient.organization_id,
            episode__patient=patient,
            ended_at__isnull=True,
        )
        .select_related("program__facility")
        .first()
    )


def last_stay_of(patient: Patient) -> Stay | None:
    """The most recent stay, for a patient not in care now (the chart uses the same)."""
    return (
        Stay.objects.filter(organization_id=patient.organization_id, episode__patient=patient)
        .select_related("program__facility")
        .order_by("-started_at", "-id")
        .first()
    )


def patient_time_zone(patient: Patient) -> str:
    """The time zone forms use for the patient: their current (or last) program's
    facility, or the organization's first facility when they were never in care."""
    stay = current_stay_of(patient) or last_stay_of(patient)
    if stay is not None:
        return stay.program.facility.time_zone
    return organization_time_zone(patient.organization_id)


# The bed board: places per program, counted from the stays and held places.


@dataclass(frozen=True)
class PlacesRow:
    program: Program
    places: rules.Places

    @property
    def facility(self) -> Facility:
        return self.program.facility


def places_board(actor: Actor, now: datetime) -> list[PlacesRow]:
    """Every active program's places now: capacity, occupied, held for expected
    admissions (a held place stops counting at its hold time), open now, and expected
    open by the end of tomorrow in the facility's own day. Four queries whatever the
    number of programs, patients or held places."""
    return organization_places(actor.organization_id, now)


def organization_places(organization_id: int, now: datetime) -> list[PlacesRow]:
    """`places_board` for an organization, when no member of staff is asking (the
    open-capacity feed): counts only."""
    programs = sorted(
        Program.objects.filter(organization_id=organization_id, is_active=True).select_related(
            "facility"
        ),
        key=lambda p: (p.facility.name, -p.level.rank, p.name),
    )
    if not programs:
        return []
    stays = Stay.objects.filter(
        organization_id=organization_id, program__in=programs, ended_at__isnull=True
    )
    occupied = dict(
        stays.values("program_id").annotate(n=Count("id")).values_list("program_id", "n")
    )
    held = held_per_program(organization_id, programs, now)
    leaving_by_tomorrow = Q()
    for facility in {p.facility_id: p.facility for p in programs}.values():
        today = now.astimezone(zoneinfo.ZoneInfo(facility.time_zone)).date()
        leaving_by_tomorrow |= Q(
            program__facility_id=facility.pk,
            planned_end_on__lte=today + timedelta(days=1),
        )
    leaving = dict(
        stays.filter(leaving_by_tomorrow)
        .values("program_id")
        .annotate(n=Count("id"))
        .values_list("program_id", "n")
    )
    return [
        PlacesRow(
            program=program,
            places=rules.Places(
                capacity=program.capacity,
                occupied=occupied.get(program.pk, 0),
                reserved=held.get(program.pk, 0),
                leaving_by_tomorrow=leaving.get(program.pk, 0),
            ),
        )
        for program in programs
    ]


def held_places(actor: Actor, now: datetime) -> QuerySet[BedReservation]:
    """Places still held (including those past their time, not yet closed)."""
    return (
        BedReservation.objects.filter(
            organization_id=actor.organization_id, status=ReservationStatus.HELD
        )
        .select_related("program__facility")
        .order_by("expected_at", "id")
    )


def reservation_get(actor: Actor, public_id: uuid.UUID | str) -> BedReservation:
    key = public_id_or_404(public_id)
    found = (
        BedReservation.objects.filter(organization_id=actor.organization_id, public_id=key)
        .select_related("program__facility")
        .first()
    )
    if found is None:
        raise NotFound()
    return found
