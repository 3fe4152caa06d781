"""The named writes of the continuum: admit, transition, discharge.

Each takes the acting user, checks access, runs in one transaction, writes
its audit row, and is the only way its change happens.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction

from stepwise.care import rules
from stepwise.care.exits import StayExit, run_exit_checks, run_exit_effects
from stepwise.care.models import Episode, EpisodeStatus, Program, Stay, StayEntry
from stepwise.care.roster import join_program_staff
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient

CATEGORY = "episodes"


def _same_org(actor: Actor, *objects: Patient | Program | Episode) -> None:
    for obj in objects:
        if obj.organization_id != actor.organization_id:
            raise NotFound()


def _occupied_beds(program: Program) -> int:
    return Stay.objects.filter(
        organization_id=program.organization_id, program=program, ended_at__isnull=True
    ).count()


def _lock_program_with_bed(program: Program) -> int | None:
    """Lock the program row, refuse if every bed is taken, and return the lowest free
    bed number (None for an ambulatory program)."""
    locked = Program.objects.select_for_update().get(pk=program.pk)
    if locked.bed_capacity is None:
        return None
    occupied = _occupied_beds(locked)
    if occupied >= locked.bed_capacity:
        raise Conflict(
            f"{locked.name} is full: {occupied} of {locked.bed_capacity} beds are occupied. "
            "Choose another program or discharge first."
        )
    taken = set(
        Stay.objects.filter(
            organization_id=locked.organization_id,
            program=locked,
            ended_at__isnull=True,
            bed_number__isnull=False,
        ).values_list("bed_number", flat=True)
    )
    # Stays opened before beds were numbered hold none; the count above covers them.
    return next(n for n in range(1, locked.bed_capacity + 1) if n not in taken)


def _check_program_usable(program: Program, field: str) -> None:
    if not program.is_active:
        raise ValidationFailed(
            {field: f"{program.name} is not taking patients (inactive program)."}
        )


def episode_admit(
    actor: Actor,
    patient: Patient,
    program: Program,
    *,
    at: datetime | None = None,
    referral_source: int = -9,
) -> Episode:
    """Open a treatment episode with its first stay; links it to the previous episode."""
    _same_org(actor, patient, program)
    require_patient_access(actor, Permission.CARE_WRITE, patient, category=CATEGORY)
    admitted_at = event_time(at, "admitted_at")
    _check_program_usable(program, "program")
    if referral_source not in dict(rules.REFERRAL_SOURCES):
        allowed = ", ".join(f"{c} ({t})" for c, t in rules.REFERRAL_SOURCES)
        raise ValidationFailed({"referral_source": f"Allowed values: {allowed}."})
    with transaction.atomic():
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
        bed = _lock_program_with_bed(program)
        episode = Episode.objects.create(
            organization_id=actor.organization_id,
            patient=patient,
            admitted_at=admitted_at,
            referral_source=referral_source,
            previous_episode=previous,
            admitted_by_id=actor.user_id,
        )
        Stay.objects.create(
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
                **({"care_team_joined": joined} if joined else {}),
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
        bed = _lock_program_with_bed(to_program)
        leaving = StayExit(actor, current, moved_at, to_program=to_program)
        run_exit_checks(leaving)
        current.ended_at = moved_at
        current.save(update_fields=["ended_at", "updated_at"])
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
                **run_exit_effects(leaving),
                **({"care_team_joined": joined} if joined else {}),
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
