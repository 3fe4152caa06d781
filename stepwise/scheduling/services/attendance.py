"""Taking attendance for a whole session at once, and the outreach it can set off."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from stepwise.care.models import Stay
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, ValidationFailed, allowed_values
from stepwise.core.models import AuditAction
from stepwise.patients.models import Patient
from stepwise.scheduling import rules
from stepwise.scheduling.models import Attendance, AttendanceStatus, Session, SessionStatus
from stepwise.scheduling.services.common import CATEGORY, require_run, settings_of
from stepwise.scheduling.services.outreach import raise_outreach

# Attendance opens a little before the start (people arrive early).
OPENS_BEFORE = timedelta(minutes=30)
_TAKEN = [(s.value, s.label) for s in AttendanceStatus if s != AttendanceStatus.EXPECTED]


# Checks the apps above make before attendance changes (a signed group note has an
# entry for a member who is now marked absent). A guard raises Conflict to refuse;
# it gets the session and each (patient, new status) about to change.
AttendanceGuard = Callable[[Session, list[tuple[Patient, str]]], None]
_GUARDS: dict[str, AttendanceGuard] = {}


def register_attendance_guard(name: str, guard: AttendanceGuard) -> None:
    _GUARDS[name] = guard


@dataclass(frozen=True)
class Mark:
    patient_public_id: uuid.UUID
    status: str
    minutes: int | None = None


def _mark_errors(
    marks: list[Mark], session: Session, seated: dict[uuid.UUID, Attendance]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    length = session.minutes
    seen: set[uuid.UUID] = set()
    for mark in marks:
        if mark.patient_public_id in seen:
            errors[f"patient_{mark.patient_public_id}"] = (
                "This patient is marked twice; mark each once."
            )
            continue
        seen.add(mark.patient_public_id)
        key = f"status_{mark.patient_public_id}"
        row = seated.get(mark.patient_public_id)
        if row is None:
            errors[f"patient_{mark.patient_public_id}"] = (
                "This patient is not on the session's roster."
            )
            continue
        if mark.status not in dict(_TAKEN):
            errors[key] = f"Allowed values: {allowed_values(_TAKEN)}."
            continue
        minutes = mark.minutes
        if minutes is None:
            minutes = rules.minutes_attended_default(mark.status, length)
        name = row.patient.display_name
        if minutes is None:
            errors[f"minutes_{mark.patient_public_id}"] = (
                f"{name}: give the minutes attended (1 to {length}) for late or left early."
            )
        elif not 0 <= minutes <= length:
            errors[f"minutes_{mark.patient_public_id}"] = (
                f"{name}: minutes attended are 0 to {length}."
            )
        elif mark.status in ("absent_excused", "absent_unexcused") and minutes != 0:
            errors[f"minutes_{mark.patient_public_id}"] = f"{name}: an absence has 0 minutes."
        elif mark.status in ("late", "left_early") and not 0 < minutes < length:
            errors[f"minutes_{mark.patient_public_id}"] = (
                f"{name}: late or left early is more than 0 and less than {length} minutes."
            )
    return errors


def attendance_record(
    actor: Actor, session: Session, marks: list[Mark], *, now: datetime | None = None
) -> list[Attendance]:
    """Record (or correct) attendance for any members of one session in one go.
    Two unexcused absences in a row raise an outreach task for the case manager."""
    require_run(actor, session)
    now = now or timezone.now()
    if session.status == SessionStatus.CANCELLED:
        raise Conflict(f"This session was cancelled ({session.cancel_reason}).")
    if session.starts_at - OPENS_BEFORE > now:
        raise ValidationFailed(
            {"session": "Attendance opens 30 minutes before the session starts."}
        )
    if not marks:
        raise ValidationFailed({"marks": "Mark at least one member."})
    with transaction.atomic():
        seated = {
            row.patient.public_id: row
            for row in Attendance.objects.select_for_update()
            .filter(session=session)
            .select_related("patient")
        }
        errors = _mark_errors(marks, session, seated)
        if errors:
            raise ValidationFailed(errors)
        changing = [
            (seated[mark.patient_public_id].patient, mark.status)
            for mark in marks
            if seated[mark.patient_public_id].status != mark.status
        ]
        for guard in _GUARDS.values():
            guard(session, changing)
        changed: list[Attendance] = []
        for mark in marks:
            row = seated[mark.patient_public_id]
            minutes = mark.minutes
            if minutes is None:
                minutes = rules.minutes_attended_default(mark.status, session.minutes)
            if row.status == mark.status and row.minutes_attended == minutes:
                continue
            before = row.status
            row.status = mark.status
            row.minutes_attended = minutes
            row.recorded_by_id = actor.user_id
            row.recorded_at = now
            row.save(
                update_fields=[
                    "status",
                    "minutes_attended",
                    "recorded_by",
                    "recorded_at",
                    "updated_at",
                ]
            )
            changed.append(row)
            audit_record(
                action=AuditAction.UPDATE,
                actor=actor,
                patient_public_id=row.patient.public_id,
                category=CATEGORY,
                object_type="attendance",
                object_id=row.public_id,
                detail={
                    "session": str(session.public_id),
                    "status": row.status,
                    "minutes": minutes,
                    **({"was": before} if before != AttendanceStatus.EXPECTED else {}),
                },
            )
        missed = [row for row in changed if row.status == AttendanceStatus.ABSENT_UNEXCUSED]
        if missed:
            threshold = settings_of(session.organization_id).absences_for_outreach
            for row in missed:
                _check_absences(actor, row.patient, session, now, threshold)
    return changed


def _check_absences(
    actor: Actor, patient: Patient, session: Session, now: datetime, threshold: int
) -> None:
    latest = list(
        Attendance.objects.filter(
            organization_id=patient.organization_id,
            patient=patient,
            session__status=SessionStatus.SCHEDULED,
            session__starts_at__lte=session.starts_at,
        )
        .exclude(status=AttendanceStatus.EXPECTED)
        .order_by("-session__starts_at")
        .values_list("status", flat=True)[:threshold]
    )
    if not rules.missed_in_a_row(latest, threshold):
        return
    stay = (
        Stay.objects.filter(
            organization_id=patient.organization_id, episode__patient=patient, ended_at__isnull=True
        )
        .select_related("program")
        .first()
    )
    raise_outreach(
        actor,
        patient,
        stay=stay,
        now=now,
        why=f"{threshold} unexcused absences in a row",
    )
