"""Seats: a patient's place in concrete sessions, never two at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Q

from stepwise.core.errors import Conflict
from stepwise.patients.models import Patient
from stepwise.scheduling import rules
from stepwise.scheduling.models import (
    Attendance,
    Enrollment,
    Session,
    SessionSeries,
    SessionStatus,
)
from stepwise.scheduling.services.common import local_text


def _seats_between(
    organization_id: int,
    patient_ids: Sequence[int],
    first: datetime,
    last: datetime,
    *,
    besides: int | None = None,
) -> dict[int, list[rules.Booking]]:
    """Each patient's seats in scheduled sessions overlapping [first, last), leaving
    out the session `besides` (the one being moved)."""
    taken: dict[int, list[rules.Booking]] = defaultdict(list)
    found = Attendance.objects.filter(
        organization_id=organization_id,
        patient_id__in=patient_ids,
        session__status=SessionStatus.SCHEDULED,
        session__starts_at__lt=last,
        session__ends_at__gt=first,
    )
    if besides is not None:
        found = found.exclude(session_id=besides)
    rows = found.values_list(
        "patient_id", "session__starts_at", "session__ends_at", "session__title"
    )
    for patient_id, starts_at, ends_at, title in rows:
        taken[patient_id].append(rules.Booking(starts_at, ends_at, f'"{title}"'))
    return taken


def seat(
    patient: Patient,
    sessions: Sequence[Session],
    *,
    enrollment: Enrollment | None,
    zone: ZoneInfo,
    strict: bool,
) -> tuple[int, int]:
    """Seat the patient in each scheduled session. Where the patient is already in
    another session at that time, refuse (strict: a choice someone is making now) or
    leave that one out (an automatic enrollment must not block an admission).
    Returns (seated, left out)."""
    wanted = [s for s in sessions if s.status == SessionStatus.SCHEDULED]
    if not wanted:
        return 0, 0
    first = min(s.starts_at for s in wanted)
    last = max(s.ends_at for s in wanted)
    taken = _seats_between(patient.organization_id, [patient.pk], first, last)[patient.pk]
    already = set(
        Attendance.objects.filter(patient=patient, session__in=wanted).values_list(
            "session_id", flat=True
        )
    )
    fresh: list[Session] = []
    left_out = 0
    for session in sorted(wanted, key=lambda s: s.starts_at):
        if session.pk in already:
            continue
        span = (session.starts_at, session.ends_at)
        clash = rules.first_clash([span], taken)
        if clash:
            if strict:
                raise Conflict(
                    f"{patient.display_name} is already in {clash[1].label} at "
                    f"{local_text(clash[1].starts_at, zone)}, which overlaps "
                    f"{session.title} at {local_text(session.starts_at, zone)}."
                )
            left_out += 1
            continue
        fresh.append(session)
        taken.append(rules.Booking(*span, f'"{session.title}"'))
    Attendance.objects.bulk_create(
        Attendance(
            organization_id=patient.organization_id,
            session=session,
            patient=patient,
            enrollment=enrollment,
        )
        for session in fresh
    )
    return len(fresh), left_out


def seat_enrolled(series: SessionSeries, sessions: Sequence[Session]) -> None:
    """Seat the series' enrolled patients in newly generated sessions (each from the
    start of their enrollment); clashes are left out as for an automatic enrollment."""
    if not sessions:
        return
    enrollments = list(
        Enrollment.objects.filter(series=series)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=min(s.starts_at for s in sessions)))
        .select_related("patient")
    )
    zone = ZoneInfo(series.program.facility.time_zone)
    for enrollment in enrollments:
        mine = [
            s
            for s in sessions
            if s.starts_at >= enrollment.started_at
            and (enrollment.ended_at is None or s.starts_at < enrollment.ended_at)
        ]
        seat(enrollment.patient, mine, enrollment=enrollment, zone=zone, strict=False)


def check_patients_free(
    session: Session, wanted: tuple[datetime, datetime], zone: ZoneInfo
) -> None:
    """Refuse a move that would put a seated patient in two sessions at once."""
    seated = list(
        Attendance.objects.filter(session=session).select_related("patient").order_by("id")
    )
    if not seated:
        return
    taken = _seats_between(
        session.organization_id, [a.patient_id for a in seated], *wanted, besides=session.pk
    )
    for row in seated:
        clash = rules.first_clash([wanted], taken.get(row.patient_id, []))
        if clash:
            raise Conflict(
                f"{row.patient.display_name} is already in {clash[1].label} at "
                f"{local_text(clash[1].starts_at, zone)}; choose another time."
            )
