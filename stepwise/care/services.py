"""The named writes of the continuum: admit, transition, discharge.

Each takes the acting user, checks access, runs in one transaction, writes
its audit row, and is the only way its change happens.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from stepwise.care import rules
from stepwise.care.exits import (
    StayExit,
    StayStart,
    run_exit_checks,
    run_exit_effects,
    run_start_effects,
)
from stepwise.care.models import (
    BedReservation,
    Episode,
    EpisodeStatus,
    EpisodeSubstance,
    Program,
    ReservationStatus,
    Stay,
    StayEntry,
)
from stepwise.care.roster import join_program_staff
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, NotFound, ValidationFailed, allowed_values
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient

CATEGORY = "episodes"


def _same_org(actor: Actor, *objects: Patient | Program | Episode | Stay) -> None:
    for obj in objects:
        if obj.organization_id != actor.organization_id:
            raise NotFound()


def _places_taken(
    program: Program, now: datetime, *, besides: int | None = None
) -> tuple[int, int]:
    """Patients in the program and places held for expected admissions (leaving out
    the reservation `besides`, which the caller is turning into an admission)."""
    occupied = Stay.objects.filter(
        organization_id=program.organization_id, program=program, ended_at__isnull=True
    ).count()
    held = BedReservation.objects.filter(
        organization_id=program.organization_id,
        program=program,
        status=ReservationStatus.HELD,
        hold_until__gt=now,
    )
    if besides is not None:
        held = held.exclude(pk=besides)
    return occupied, held.count()


def _lock_program_with_place(
    program: Program, *, besides: int | None = None, now: datetime | None = None
) -> int | None:
    """Lock the program row, refuse if no place is left (beds, or an ambulatory
    program's cap, less the places held for others), and return the lowest free bed
    number (None for an ambulatory program). Every admission, transfer in and
    reservation takes this lock, so two of them never get the same last place."""
    locked = Program.objects.select_for_update().get(pk=program.pk)
    capacity = locked.capacity
    if capacity is None:
        return None
    occupied, held = _places_taken(locked, now or timezone.now(), besides=besides)
    if occupied + held >= capacity:
        unit = "beds" if locked.has_beds else "places"
        if held:
            raise Conflict(
                f"{locked.name} is full: {occupied} of {capacity} {unit} are occupied and "
                f"{held} held for expected admissions. Choose another program, release a "
                "held place, or discharge first."
            )
        raise Conflict(
            f"{locked.name} is full: {occupied} of {capacity} {unit} are occupied. "
            "Choose another program or discharge first."
        )
    if not locked.has_beds:
        return None
    taken = set(
        Stay.objects.filter(
            organization_id=locked.organization_id,
            program=locked,
            ended_at__isnull=True,
            bed_number__isnull=False,
        ).values_list("bed_number", flat=True)
    )
    # Stays opened before beds were numbered hold none; the count above covers them.
    return next(n for n in range(1, capacity + 1) if n not in taken)


def _check_program_usable(program: Program, field: str) -> None:
    if not program.is_active:
        raise ValidationFailed(
            {field: f"{program.name} is not taking patients (inactive program)."}
        )


@dataclass(frozen=True)
class SubstanceUse:
    substance: int
    route: int = -9
    frequency: str = "unknown"


@dataclass(frozen=True)
class AdmissionDetails:
    """TEDS admission fields known at admission: substances in rank order (at most
    three), prior treatment episodes, and days waited since the first request."""

    substances: Sequence[SubstanceUse] = ()
    prior_treatment: int = -9
    days_waiting: int | None = None


def _admission_errors(referral_source: int, details: AdmissionDetails) -> dict[str, str]:
    errors: dict[str, str] = {}
    if referral_source not in dict(rules.REFERRAL_SOURCES):
        errors["referral_source"] = f"Allowed values: {allowed_values(rules.REFERRAL_SOURCES)}."
    if details.prior_treatment not in dict(rules.PRIOR_TREATMENT):
        errors["prior_treatment"] = f"Allowed values: {allowed_values(rules.PRIOR_TREATMENT)}."
    if details.days_waiting is not None and details.days_waiting < 0:
        errors["days_waiting"] = "Days waiting cannot be negative."
    if len(details.substances) > 3:
        errors["substances"] = "TEDS records at most three substances (primary to tertiary)."
    seen: set[int] = set()
    for rank, use in enumerate(details.substances, start=1):
        if use.substance not in dict(rules.SUBSTANCES):
            errors[f"substance_{rank}"] = f"Allowed values: {allowed_values(rules.SUBSTANCES)}."
        elif use.substance in seen:
            errors[f"substance_{rank}"] = "Each substance is listed once."
        seen.add(use.substance)
        if use.route not in dict(rules.ROUTES):
            errors[f"route_{rank}"] = f"Allowed values: {allowed_values(rules.ROUTES)}."
        if use.frequency not in dict(rules.FREQUENCIES):
            errors[f"frequency_{rank}"] = f"Allowed values: {allowed_values(rules.FREQUENCIES)}."
    return errors


def episode_admit(
    actor: Actor,
    patient: Patient,
    program: Program,
    *,
    at: datetime | None = None,
    referral_source: int = -9,
    admission: AdmissionDetails | None = None,
    reservation: BedReservation | None = None,
) -> Episode:
    """Open a treatment episode with its first stay; links it to the previous episode.

    `admission` carries the TEDS admission fields already known (from the admissions
    line); `reservation` is the place held for this admission, which it takes.
    """
    details = admission or AdmissionDetails()
    _same_org(actor, patient, program)
    require_patient_access(actor, Permission.CARE_WRITE, patient, category=CATEGORY)
    admitted_at = event_time(at, "admitted_at")
    _check_program_usable(program, "program")
    errors = _admission_errors(referral_source, details)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        held = _lock_reservation(actor, reservation, program) if reservation else None
        Patient.objects.select_for_update().get(pk=patient.pk)
        open_episode = Episode.objects.filter(
            organization_id=actor.organization_id, patient=patient, status=EpisodeStatus.OPEN
        ).first()
        if open_episode is not None:
            raise Conflict(
                f"{patient.display_name} already has an open episode (admitted "
                f"{open_episode.admitted_at:%Y-%m-%d}); transfer or discharge it instead."
            )
        previous = (
            Episode.objects.filter(organization_id=actor.organization_id, patient=patient)
            .order_by("-admitted_at")
            .first()
        )
        if (
            previous is not None
            and previous.discharged_at
            and admitted_at <= previous.discharged_at
        ):
            raise ValidationFailed(
                {
                    "admitted_at": f"The previous episode ended {previous.discharged_at:%Y-%m-%d %H:%M} UTC; admit after it."
                }
            )
        bed = _lock_program_with_place(program, besides=held.pk if held else None)
        episode = Episode.objects.create(
            organization_id=actor.organization_id,
            patient=patient,
            admitted_at=admitted_at,
            referral_source=referral_source,
            prior_treatment=details.prior_treatment,
            days_waiting=details.days_waiting,
            previous_episode=previous,
            admitted_by_id=actor.user_id,
        )
        EpisodeSubstance.objects.bulk_create(
            EpisodeSubstance(
                organization_id=actor.organization_id,
                episode=episode,
                rank=rank,
                substance=use.substance,
                route=use.route,
                frequency=use.frequency,
            )
            for rank, use in enumerate(details.substances, start=1)
        )
        if held is not None:
            _close_reservation(actor, held, ReservationStatus.ADMITTED, episode=episode)
        first_stay = Stay.objects.create(
            organization_id=actor.organization_id,
            episode=episode,
            program=program,
            sequence=1,
            started_at=admitted_at,
            entry_kind=StayEntry.ADMISSION,
            entered_by_id=actor.user_id,
            bed_number=bed,
        )
        joined = join_program_staff(actor, patient, program)
        entered = run_start_effects(StayStart(actor, first_stay))
        audit_record(
            action=AuditAction.ADMIT,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="episode",
            object_id=episode.public_id,
            detail={
                "program": str(program.public_id),
                "readmission_of": str(previous.public_id) if previous else None,
                **({"reservation": str(held.public_id)} if held else {}),
                **({"care_team_joined": joined} if joined else {}),
                **entered,
            },
        )
    return episode


def _current_stay(episode: Episode) -> Stay:
    stay = (
        Stay.objects.select_for_update()
        .filter(episode=episode, ended_at__isnull=True)
        .select_related("program")
        .first()
    )
    if stay is None:
        raise Conflict("This episode has no open stay.")
    return stay


def _lock_open_episode(actor: Actor, episode: Episode) -> Episode:
    locked = Episode.objects.select_for_update().get(pk=episode.pk)
    if locked.status != EpisodeStatus.OPEN:
        raise Conflict(
            f"This episode was discharged on {locked.discharged_at:%Y-%m-%d}; admit the patient again."
        )
    return locked


def stay_transition(
    actor: Actor,
    episode: Episode,
    to_program: Program,
    *,
    kind: str,
    reason: str,
    at: datetime | None = None,
) -> Stay:
    """Close the current stay and open the next one, in one transaction."""
    patient_public_id = episode.patient.public_id
    _same_org(actor, episode, to_program)
    require_patient_access(actor, Permission.CARE_WRITE, episode.patient, category=CATEGORY)
    moved_at = event_time(at, "at")
    errors: dict[str, str] = {}
    if kind not in rules.TransitionKind.__members__.values():
        errors["kind"] = "Allowed values: step_down, step_up, transfer."
    if not reason.strip():
        errors["reason"] = "Say why the patient moves; the reason is part of the record."
    if errors:
        raise ValidationFailed(errors)
    _check_program_usable(to_program, "to_program")
    with transaction.atomic():
        _lock_open_episode(actor, episode)
        current = _current_stay(episode)
        if current.program_id == to_program.pk:
            raise ValidationFailed({"to_program": f"The patient is already in {to_program.name}."})
        kind_error = rules.transition_kind_error(kind, current.program.level, to_program.level)
        if kind_error:
            raise ValidationFailed({"kind": kind_error})
        if moved_at <= current.started_at:
            raise ValidationFailed(
                {
                    "at": f"The current stay began {current.started_at:%Y-%m-%d %H:%M} UTC; the move must be later."
                }
            )
        bed = _lock_program_with_place(to_program)
        leaving = StayExit(actor, current, moved_at, to_program=to_program)
        run_exit_checks(leaving)
        current.ended_at = moved_at
        current.save(update_fields=["ended_at", "updated_at"])
        left = run_exit_effects(leaving)
        try:
            new_stay = Stay.objects.create(
                organization_id=actor.organization_id,
                episode=episode,
                program=to_program,
                sequence=current.sequence + 1,
                started_at=moved_at,
                entry_kind=kind,
                entry_reason=reason.strip(),
                entered_by_id=actor.user_id,
                bed_number=bed,
            )
        except IntegrityError:
            raise Conflict(
                "Another change to this episode happened at the same time; reload and try again."
            ) from None
        joined = join_program_staff(actor, episode.patient, to_program)
        entered = run_start_effects(StayStart(actor, new_stay))
        audit_record(
            action=AuditAction.TRANSITION,
            actor=actor,
            patient_public_id=patient_public_id,
            category=CATEGORY,
            object_type="stay",
            object_id=new_stay.public_id,
            detail={
                "from": str(current.program.public_id),
                "to": str(to_program.public_id),
                "kind": kind,
                **left,
                **({"care_team_joined": joined} if joined else {}),
                **entered,
            },
        )
    return new_stay


def episode_discharge(
    actor: Actor,
    episode: Episode,
    *,
    reason: int,
    at: datetime | None = None,
    note: str = "",
) -> Episode:
    """Close the episode and its last stay with a TEDS reason for discharge."""
    patient_public_id = episode.patient.public_id
    _same_org(actor, episode)
    require_patient_access(actor, Permission.CARE_WRITE, episode.patient, category=CATEGORY)
    discharged_at = event_time(at, "at")
    if reason not in dict(rules.DISCHARGE_REASONS):
        allowed = ", ".join(f"{c} ({t})" for c, t in rules.DISCHARGE_REASONS)
        raise ValidationFailed(
            {"reason": f"Choose a TEDS reason for discharge; allowed values: {allowed}."}
        )
    with transaction.atomic():
        locked = _lock_open_episode(actor, episode)
        current = _current_stay(episode)
        if discharged_at <= current.started_at:
            raise ValidationFailed(
                {
                    "at": f"The current stay began {current.started_at:%Y-%m-%d %H:%M} UTC; discharge must be later."
                }
            )
        leaving = StayExit(actor, current, discharged_at, discharge_reason=reason)
        run_exit_checks(leaving)
        current.ended_at = discharged_at
        current.save(update_fields=["ended_at", "updated_at"])
        locked.status = EpisodeStatus.DISCHARGED
        locked.discharged_at = discharged_at
        locked.discharge_reason = reason
        locked.discharge_note = note.strip()
        locked.discharged_by_id = actor.user_id
        locked.save(
            update_fields=[
                "status",
                "discharged_at",
                "discharge_reason",
                "discharge_note",
                "discharged_by",
                "updated_at",
            ]
        )
        audit_record(
            action=AuditAction.DISCHARGE,
            actor=actor,
            patient_public_id=patient_public_id,
            category=CATEGORY,
            object_type="episode",
            object_id=locked.public_id,
            detail={"reason": reason, **run_exit_effects(leaving)},
        )
    return locked


# Places held for expected admissions (scheduled from the admissions line).

RESERVATION_CATEGORY = "intake"


def _lock_reservation(
    actor: Actor, reservation: BedReservation, program: Program
) -> BedReservation:
    locked = BedReservation.objects.select_for_update().get(pk=reservation.pk)
    if locked.organization_id != actor.organization_id:
        raise NotFound()
    if locked.status != ReservationStatus.HELD:
        raise Conflict(
            f"This reservation is already closed ({locked.get_status_display().lower()})."
        )
    if locked.program_id != program.pk:
        raise ValidationFailed(
            {"program": "The place was held in another program; admit there or release it."}
        )
    return locked


def _close_reservation(
    actor: Actor,
    reservation: BedReservation,
    status: str,
    *,
    reason: str = "",
    episode: Episode | None = None,
) -> None:
    reservation.status = status
    reservation.closed_at = timezone.now()
    reservation.closed_by_id = actor.user_id
    reservation.close_reason = reason
    reservation.episode = episode
    reservation.save(
        update_fields=["status", "closed_at", "closed_by", "close_reason", "episode", "updated_at"]
    )


def place_reserve(
    actor: Actor,
    program: Program,
    *,
    expected_at: datetime,
    hold_until: datetime,
    patient_public_id: uuid.UUID | None = None,
) -> BedReservation:
    """Hold a place in a program for an expected admission, if one is free now.
    The caller names how long the place is held (the organization's setting)."""
    _same_org(actor, program)
    require_permission(actor, Permission.INTAKE_WRITE, category=RESERVATION_CATEGORY)
    _check_program_usable(program, "program")
    now = timezone.now()
    errors: dict[str, str] = {}
    if timezone.is_naive(expected_at):
        errors["expected_at"] = "Give the time with its time zone."
    elif expected_at < now - timedelta(hours=1):
        errors["expected_at"] = "The expected arrival is in the past; give a time from now on."
    elif hold_until <= max(expected_at, now):
        errors["hold_until"] = "The place must be held until after the expected arrival."
    if errors:
        raise ValidationFailed(errors)
    if program.capacity is None:
        raise ValidationFailed(
            {"program": f"{program.name} has no cap on places, so there is nothing to hold."}
        )
    with transaction.atomic():
        _lock_program_with_place(program, now=now)
        reservation = BedReservation.objects.create(
            organization_id=actor.organization_id,
            program=program,
            expected_at=expected_at,
            hold_until=hold_until,
            reserved_by_id=actor.user_id,
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient_public_id,
            category=RESERVATION_CATEGORY,
            object_type="bed_reservation",
            object_id=reservation.public_id,
            detail={
                "program": str(program.public_id),
                "expected_at": expected_at.isoformat(),
                "hold_until": hold_until.isoformat(),
            },
        )
    return reservation


def place_release(
    actor: Actor,
    reservation: BedReservation,
    *,
    reason: str,
    lapsed: bool = False,
    patient_public_id: uuid.UUID | None = None,
) -> BedReservation:
    """Give a held place back: released by someone, or lapsed because the person did
    not arrive in time (the reason is kept)."""
    if reservation.organization_id != actor.organization_id:
        raise NotFound()
    require_permission(actor, Permission.INTAKE_WRITE, category=RESERVATION_CATEGORY)
    if not reason.strip():
        raise ValidationFailed({"reason": "Say why the place is given back."})
    with transaction.atomic():
        locked = BedReservation.objects.select_for_update().get(pk=reservation.pk)
        if locked.status != ReservationStatus.HELD:
            raise Conflict(
                f"This reservation is already closed ({locked.get_status_display().lower()})."
            )
        status = ReservationStatus.LAPSED if lapsed else ReservationStatus.RELEASED
        _close_reservation(actor, locked, status, reason=reason.strip())
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient_public_id,
            category=RESERVATION_CATEGORY,
            object_type="bed_reservation",
            object_id=locked.public_id,
            detail={"status": status, "program": str(locked.program.public_id)},
        )
    return locked


def stay_plan_end(actor: Actor, stay: Stay, *, on: date | None) -> Stay:
    """Set (or clear) the day the team plans the patient to leave this program."""
    patient = stay.episode.patient
    _same_org(actor, stay)
    require_patient_access(actor, Permission.CARE_WRITE, patient, category=CATEGORY)
    with transaction.atomic():
        locked = Stay.objects.select_for_update().get(pk=stay.pk)
        if locked.ended_at is not None:
            raise Conflict("This stay has ended; plan the current one.")
        if on is not None and on < locked.started_at.date() - timedelta(days=1):
            raise ValidationFailed({"planned_end_on": "The planned day is before the stay began."})
        before = locked.planned_end_on
        locked.planned_end_on = on
        locked.save(update_fields=["planned_end_on", "updated_at"])
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="stay",
            object_id=locked.public_id,
            detail={
                "planned_end_on": [
                    before.isoformat() if before else None,
                    on.isoformat() if on else None,
                ]
            },
        )
    return locked


def program_place_cap_set(actor: Actor, program: Program, cap: int | None) -> Program:
    """Cap the places of an ambulatory program (the bed board's open places), or lift
    the cap. A 24-hour program counts its beds instead."""
    _same_org(actor, program)
    require_permission(actor, Permission.CLINICAL_SETTINGS, category="system")
    if program.has_beds:
        raise ValidationFailed({"place_cap": f"{program.name} counts its beds; it has no cap."})
    if cap is not None and not 1 <= cap <= 10000:
        raise ValidationFailed({"place_cap": "Allowed values: 1 to 10000, or empty for no cap."})
    with transaction.atomic():
        locked = Program.objects.select_for_update().get(pk=program.pk)
        before = locked.place_cap
        locked.place_cap = cap
        locked.save(update_fields=["place_cap", "updated_at"])
        audit_record(
            action=AuditAction.SETTINGS_CHANGE,
            actor=actor,
            category="system",
            object_type="program",
            object_id=locked.public_id,
            detail={"place_cap": [before, cap]},
        )
    return locked
