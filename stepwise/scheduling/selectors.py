"""Reads of the schedule: calendars (no patient names), a session's roster, a
patient's schedule and weekly clinical hours against their level's minimum. Each
costs a fixed number of queries; reads that name patients are audited."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet

from stepwise.accounts.models import Membership
from stepwise.care.models import Program, ProgramStaff, Stay
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import NotFound
from stepwise.core.models import AuditAction, Facility
from stepwise.core.roles import Permission, sees_all_patients
from stepwise.patients.access import cared_for, require_patient_access
from stepwise.patients.models import Contact, Patient, Task, TaskStatus
from stepwise.scheduling import rules
from stepwise.scheduling.models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceStatus,
    Closure,
    Enrollment,
    OutreachAttempt,
    Room,
    Session,
    SessionMode,
    SessionSeries,
    SessionStatus,
    SessionType,
)
from stepwise.scheduling.services.common import CATEGORY, require_run, zone_of
from stepwise.scheduling.services.series import FACILITATOR_ROLES


def local_day_bounds(first: date, days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC bounds of `days` local days from `first` (23 or 25 hours on change days)."""
    return (
        rules.local_to_utc(datetime.combine(first, time.min), zone),
        rules.local_to_utc(datetime.combine(first + timedelta(days=days), time.min), zone),
    )


def _with_counts(sessions: QuerySet[Session]) -> QuerySet[Session]:
    return sessions.select_related("session_type", "room", "facilitator", "program").annotate(
        seats=Count("attendance", distinct=True),
        taken=Count(
            "attendance", filter=~Q(attendance__status=AttendanceStatus.EXPECTED), distinct=True
        ),
        came=Count("attendance", filter=Q(attendance__status__in=ATTENDED_STATUSES), distinct=True),
    )


@dataclass(frozen=True)
class CalendarDay:
    on: date
    sessions: list[Session]
    closed: str = ""


def program_week(actor: Actor, program: Program, monday: date) -> list[CalendarDay]:
    """The program's sessions Monday to Sunday with how many are seated: no names."""
    require_permission(actor, Permission.SCHEDULE_READ, category=CATEGORY)
    if program.organization_id != actor.organization_id:
        raise NotFound()
    zone = zone_of(program)
    start, end = local_day_bounds(monday, 7, zone)
    sessions = list(
        _with_counts(
            Session.objects.filter(
                organization_id=actor.organization_id,
                program=program,
                starts_at__gte=start,
                starts_at__lt=end,
            )
        ).order_by("starts_at", "id")
    )
    closed = dict(
        Closure.objects.filter(
            facility_id=program.facility_id, on__gte=monday, on__lt=monday + timedelta(days=7)
        ).values_list("on", "name")
    )
    by_day: dict[date, list[Session]] = defaultdict(list)
    for session in sessions:
        by_day[session.starts_at.astimezone(zone).date()].append(session)
    return [
        CalendarDay(day, by_day.get(day, []), closed.get(day, ""))
        for day in (monday + timedelta(days=n) for n in range(7))
    ]


def facilitator_day(actor: Actor, user_id: int, day: date, zone: ZoneInfo) -> list[Session]:
    """One member of staff's sessions on a local day, with seat counts: no names."""
    require_permission(actor, Permission.SCHEDULE_READ, category=CATEGORY)
    start, end = local_day_bounds(day, 1, zone)
    return list(
        _with_counts(
            Session.objects.filter(
                organization_id=actor.organization_id,
                facilitator_id=user_id,
                starts_at__gte=start,
                starts_at__lt=end,
            )
        )
        .select_related("program__facility")
        .order_by("starts_at", "id")
    )


def session_roster(actor: Actor, session: Session) -> list[Attendance]:
    """The session's members (names, so audited), for whoever runs it."""
    require_run(actor, session)
    rows = list(
        Attendance.objects.filter(session=session)
        .select_related("patient", "recorded_by")
        .order_by("patient__family_name", "patient__given_name", "id")
    )
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category=CATEGORY,
            object_type="session_roster",
            object_id=session.public_id,
            detail={"patients": [str(row.patient.public_id) for row in rows]},
        )
    return rows


# Weekly clinical hours.


@dataclass
class HoursCount:
    scheduled: int = 0
    attended: int = 0
    remaining: int = 0

    def add(
        self,
        status: str,
        minutes: int | None,
        starts_at: datetime,
        ends_at: datetime,
        now: datetime,
    ) -> None:
        """Count one seat: every session not cancelled is scheduled; minutes recorded
        are attended; a session not over and not taken is still to come."""
        length = int((ends_at - starts_at).total_seconds() // 60)
        self.scheduled += length
        if status in ATTENDED_STATUSES:
            self.attended += minutes or 0
        elif status == AttendanceStatus.EXPECTED and ends_at > now:
            self.remaining += length


def hours_by_patient(
    organization_id: int, patient_ids: Iterable[int], start: datetime, end: datetime, now: datetime
) -> dict[int, HoursCount]:
    """Clinical minutes per patient in [start, end): scheduled (every session not
    cancelled), attended (minutes recorded), remaining (not yet over and not taken).
    One query."""
    counts: dict[int, HoursCount] = defaultdict(HoursCount)
    rows = Attendance.objects.filter(
        organization_id=organization_id,
        patient_id__in=list(patient_ids),
        session__status=SessionStatus.SCHEDULED,
        session__session_type__counts_clinical=True,
        session__starts_at__gte=start,
        session__starts_at__lt=end,
    ).values_list(
        "patient_id", "status", "minutes_attended", "session__starts_at", "session__ends_at"
    )
    for patient_id, status, minutes, starts_at, ends_at in rows:
        counts[patient_id].add(status, minutes, starts_at, ends_at, now)
    return counts


def days_in_care(stay: Stay, monday: date) -> int:
    """How many days of the week (Monday to Sunday, the facility's zone) the stay covers."""
    zone = zone_of(stay.program)
    first = max(monday, stay.started_at.astimezone(zone).date())
    last = monday + timedelta(days=6)
    if stay.ended_at is not None:
        last = min(last, stay.ended_at.astimezone(zone).date())
    return max(0, (last - first).days + 1)


def intensity_of(
    stay: Stay, patient: Patient, monday: date, hours: HoursCount
) -> rules.WeekIntensity:
    """The week against the level's minimum, in proportion for a week the patient spent
    only part of in the program."""
    program = stay.program
    adolescent = rules.is_adolescent(patient.date_of_birth, monday)
    minimum = rules.weekly_minimum_hours(program.asam_level, adolescent=adolescent)
    return rules.week_intensity(
        minimum_hours=rules.prorated_minimum(minimum, days_in_care(stay, monday)),
        ceiling_hours=rules.weekly_ceiling_hours(program.asam_level, adolescent=adolescent),
        scheduled_minutes=hours.scheduled,
        attended_minutes=hours.attended,
        remaining_minutes=hours.remaining,
    )


@dataclass(frozen=True)
class PatientWeek:
    patient: Patient
    stay: Stay
    intensity: rules.WeekIntensity


def _stays_in(program_ids: Iterable[int] | None, organization_id: int) -> QuerySet[Stay]:
    stays = Stay.objects.filter(organization_id=organization_id, ended_at__isnull=True)
    if program_ids is not None:
        stays = stays.filter(program_id__in=list(program_ids))
    return stays.select_related("episode__patient", "program__facility").order_by(
        "episode__patient__family_name", "episode__patient__given_name", "id"
    )


def weeks_of(stays: list[Stay], monday: date, now: datetime) -> list[PatientWeek]:
    """Each stay's patient's week (Monday of `monday`) against the program's minimum;
    one query for all of them. The week is counted in each program's facility zone."""
    if not stays:
        return []
    zone = zone_of(stays[0].program)
    start, end = local_day_bounds(monday, 7, zone)
    hours = hours_by_patient(
        stays[0].organization_id, [s.episode.patient_id for s in stays], start, end, now
    )
    return [
        PatientWeek(
            s.episode.patient,
            s,
            intensity_of(
                s, s.episode.patient, monday, hours.get(s.episode.patient_id, HoursCount())
            ),
        )
        for s in stays
    ]


def may_see_program(actor: Actor, program: Program, today: date) -> bool:
    """Whose work spans the program's patients: facility-wide roles, its staff, and
    whoever runs one of its running core series (every patient of the program is in it)."""
    if sees_all_patients(actor.role):
        return True
    staff = ProgramStaff.objects.filter(program=program, user_id=actor.user_id).exists()
    return (
        staff
        or SessionSeries.objects.filter(program=program, facilitator_id=actor.user_id, is_core=True)
        .filter(Q(last_day__isnull=True) | Q(last_day__gte=today))
        .exists()
    )


@dataclass
class ProgramDashboard:
    program: Program
    monday: date
    weeks: list[PatientWeek]
    minimum_hours: int | None  # the level's adult minimum (a patient's may be prorated)
    sessions_not_taken: list[Session] = field(default_factory=list)

    @property
    def short(self) -> list[PatientWeek]:
        return [w for w in self.weeks if w.intensity.is_short]


def program_dashboard(
    actor: Actor, program: Program, monday: date, now: datetime
) -> ProgramDashboard:
    """Every patient now in the program (for its staff, facilitators and facility-wide
    roles; for others, the ones they care for), their week's clinical hours against the
    level's minimum, and past sessions whose attendance nobody took. Audited."""
    require_permission(actor, Permission.SESSION_RUN, category=CATEGORY)
    if program.organization_id != actor.organization_id:
        raise NotFound()
    stays = _stays_in([program.pk], actor.organization_id)
    if not may_see_program(actor, program, now.astimezone(zone_of(program)).date()):
        # Others who run sessions see the patients of the program they care for.
        cared = cared_for(actor, Patient.objects.filter(organization_id=actor.organization_id), now)
        stays = stays.filter(episode__patient__in=cared)
    weeks = weeks_of(list(stays), monday, now)
    zone = zone_of(program)
    start, end = local_day_bounds(monday, 7, zone)
    not_taken = list(
        Session.objects.filter(
            organization_id=actor.organization_id,
            program=program,
            status=SessionStatus.SCHEDULED,
            ends_at__lte=min(now, end),
            starts_at__gte=start,
            attendance__status=AttendanceStatus.EXPECTED,
        )
        .distinct()
        .order_by("starts_at")
    )
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category=CATEGORY,
            object_type="program_dashboard",
            object_id=program.public_id,
            detail={
                "week": str(monday),
                "patients": [str(week.patient.public_id) for week in weeks],
            },
        )
    return ProgramDashboard(
        program,
        monday,
        weeks,
        rules.weekly_minimum_hours(program.asam_level, adolescent=False),
        not_taken,
    )


def shortfalls_for(
    actor: Actor, now: datetime, cared: QuerySet[Patient] | None
) -> list[PatientWeek]:
    """This week's patients short of their level's minimum, among `cared` (None: all of
    the organization). For the worklist; its read's audit row covers these."""
    stays = _stays_in(None, actor.organization_id)
    if cared is not None:
        stays = stays.filter(episode__patient__in=cared)
    found: list[PatientWeek] = []
    by_zone: dict[str, list[Stay]] = defaultdict(list)
    for stay in stays:
        if rules.weekly_minimum_hours(stay.program.asam_level, adolescent=True) is not None:
            by_zone[stay.program.facility.time_zone].append(stay)
    for zone_name, zone_stays in by_zone.items():
        monday = rules.week_start(now.astimezone(ZoneInfo(zone_name)).date())
        found += [w for w in weeks_of(zone_stays, monday, now) if w.intensity.is_short]
    return found


@dataclass
class PatientSchedule:
    patient: Patient
    upcoming: list[Attendance]
    past: list[Attendance]
    enrollments: list[Enrollment]
    weeks: list[tuple[date, rules.WeekIntensity]]
    stay: Stay | None
    optional_series: list[SessionSeries]


def patient_schedule(
    actor: Actor, patient: Patient, now: datetime, *, weeks_back: int = 4
) -> PatientSchedule:
    """A patient's sessions ahead and behind, enrollments, and weekly hours (this week
    and the ones before) against the current program's minimum. Audited."""
    if patient.organization_id != actor.organization_id:
        raise NotFound()
    require_patient_access(actor, Permission.CHART_READ, patient, category=CATEGORY)
    seats = Attendance.objects.filter(
        organization_id=actor.organization_id, patient=patient
    ).select_related(
        "session__session_type",
        "session__room",
        "session__program__facility",
        "session__facilitator",
    )
    upcoming = list(seats.filter(session__ends_at__gt=now).order_by("session__starts_at")[:40])
    past = list(
        seats.filter(
            session__ends_at__lte=now, session__starts_at__gte=now - timedelta(weeks=8)
        ).order_by("-session__starts_at")[:60]
    )
    enrollments = list(
        Enrollment.objects.filter(organization_id=actor.organization_id, patient=patient)
        .select_related("series__program", "series__session_type")
        .order_by("-started_at")[:30]
    )
    stay = (
        Stay.objects.filter(
            organization_id=actor.organization_id, episode__patient=patient, ended_at__isnull=True
        )
        .select_related("program__facility")
        .first()
    )
    week_rows: list[tuple[date, rules.WeekIntensity]] = []
    optional: list[SessionSeries] = []
    if stay is not None:
        zone = zone_of(stay.program)
        this_monday = rules.week_start(now.astimezone(zone).date())
        first_monday = this_monday - timedelta(weeks=weeks_back)
        start, _ = local_day_bounds(first_monday, 7, zone)
        _, end = local_day_bounds(this_monday, 7, zone)
        rows = Attendance.objects.filter(
            organization_id=actor.organization_id,
            patient=patient,
            session__status=SessionStatus.SCHEDULED,
            session__session_type__counts_clinical=True,
            session__starts_at__gte=start,
            session__starts_at__lt=end,
        ).values_list("status", "minutes_attended", "session__starts_at", "session__ends_at")
        per_week: dict[date, HoursCount] = defaultdict(HoursCount)
        for status, minutes, starts_at, ends_at in rows:
            week = rules.week_start(starts_at.astimezone(zone).date())
            per_week[week].add(status, minutes, starts_at, ends_at, now)
        for n in range(weeks_back, -1, -1):
            monday = this_monday - timedelta(weeks=n)
            week_rows.append((monday, intensity_of(stay, patient, monday, per_week[monday])))
        optional = list(
            SessionSeries.objects.filter(program=stay.program, is_core=False)
            .filter(Q(last_day__isnull=True) | Q(last_day__gte=now.astimezone(zone).date()))
            .select_related("session_type")
        )
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="patient_schedule",
            object_id=patient.public_id,
            detail={"upcoming": len(upcoming), "past": len(past)},
        )
    return PatientSchedule(patient, upcoming, past, enrollments, week_rows, stay, optional)


@dataclass
class OutreachFile:
    """What a case manager works from to reach a patient who stopped coming."""

    patient: Patient
    tasks: list[Task]
    missed: list[Attendance]
    contacts: list[Contact]
    attempts: list[OutreachAttempt]
    stay: Stay | None


def outreach_read(actor: Actor, patient: Patient, now: datetime) -> OutreachFile:
    """Open outreach tasks, the sessions missed in the last 8 weeks, the patient's
    contacts and every earlier try to reach them. Audited."""
    if patient.organization_id != actor.organization_id:
        raise NotFound()
    require_patient_access(actor, Permission.CHART_READ, patient, category=CATEGORY)
    tasks = list(
        Task.objects.filter(
            organization_id=actor.organization_id, patient=patient, kind="outreach"
        ).order_by("-status", "-created_at")[:10]
    )
    missed = list(
        Attendance.objects.filter(
            organization_id=actor.organization_id,
            patient=patient,
            session__status=SessionStatus.SCHEDULED,
            session__ends_at__lte=now,
            session__starts_at__gte=now - timedelta(weeks=8),
        )
        .exclude(status__in=ATTENDED_STATUSES)
        .select_related("session__program")
        .order_by("-session__starts_at")[:30]
    )
    contacts = list(Contact.objects.filter(organization_id=actor.organization_id, patient=patient))
    attempts = list(
        OutreachAttempt.objects.filter(organization_id=actor.organization_id, patient=patient)
        .select_related("by")
        .order_by("-at", "-id")[:50]
    )
    stay = (
        Stay.objects.filter(
            organization_id=actor.organization_id, episode__patient=patient, ended_at__isnull=True
        )
        .select_related("program__facility")
        .first()
    )
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="outreach",
            object_id=patient.public_id,
            detail={"missed": len(missed), "attempts": len(attempts), "contacts": len(contacts)},
        )
    return OutreachFile(patient, tasks, missed, contacts, attempts, stay)


def program_series(actor: Actor, program: Program) -> list[SessionSeries]:
    """The program's recurring sessions, running ones first (no patient data)."""
    require_permission(actor, Permission.SCHEDULE_READ, category=CATEGORY)
    if program.organization_id != actor.organization_id:
        raise NotFound()
    return list(
        SessionSeries.objects.filter(organization_id=actor.organization_id, program=program)
        .select_related("session_type", "facilitator", "room")
        .annotate(members=Count("enrollments", filter=Q(enrollments__ended_at__isnull=True)))
        .order_by(F("last_day").desc(nulls_first=True), "start_time", "id")
    )


@dataclass(frozen=True)
class ChartSchedule:
    stay: Stay
    monday: date
    intensity: rules.WeekIntensity
    upcoming: list[Attendance]


def chart_schedule(actor: Actor, patient: Patient, now: datetime) -> ChartSchedule | None:
    """The chart's view of the schedule: this week's clinical hours against the level's
    minimum and the next sessions. Always two queries (the seats around now, the open
    stay), so the chart costs the same in or out of a program; the chart read's audit
    row covers it."""
    seats = list(
        Attendance.objects.filter(
            organization_id=actor.organization_id,
            patient=patient,
            # Wide enough for this week in any zone and the next seven days.
            session__starts_at__gte=now - timedelta(days=8),
            session__starts_at__lt=now + timedelta(days=8),
        )
        .select_related("session__session_type", "session__room")
        .order_by("session__starts_at")
    )
    stay = (
        Stay.objects.filter(
            organization_id=actor.organization_id, episode__patient=patient, ended_at__isnull=True
        )
        .select_related("program__facility")
        .first()
    )
    if stay is None:
        return None
    zone = zone_of(stay.program)
    monday = rules.week_start(now.astimezone(zone).date())
    start, end = local_day_bounds(monday, 7, zone)
    hours = HoursCount()
    for seat in seats:
        session = seat.session
        if (
            start <= session.starts_at < end
            and session.status == SessionStatus.SCHEDULED
            and session.session_type.counts_clinical
        ):
            hours.add(seat.status, seat.minutes_attended, session.starts_at, session.ends_at, now)
    upcoming = [s for s in seats if s.session.ends_at > now and not s.session.is_cancelled][:3]
    return ChartSchedule(stay, monday, intensity_of(stay, patient, monday, hours), upcoming)


# Set-up reads of the forms: every query names the actor's organization; no patient data.


def facilities_of(actor: Actor) -> QuerySet[Facility]:
    return Facility.objects.filter(organization_id=actor.organization_id).order_by("name", "id")


def facilitators_of(actor: Actor) -> QuerySet[Membership]:
    """Active staff who may run sessions, by name."""
    return (
        Membership.objects.filter(
            organization_id=actor.organization_id,
            is_active=True,
            role__in=[r.value for r in FACILITATOR_ROLES],
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )


def active_rooms(actor: Actor, facility_id: int) -> QuerySet[Room]:
    return Room.objects.filter(
        organization_id=actor.organization_id, facility_id=facility_id, is_active=True
    ).order_by("name")


def active_types(actor: Actor) -> QuerySet[SessionType]:
    return SessionType.objects.filter(organization_id=actor.organization_id, is_active=True)


def individual_types(actor: Actor) -> QuerySet[SessionType]:
    return active_types(actor).filter(mode=SessionMode.INDIVIDUAL).order_by("name")


def optional_series_of(program: Program, now: datetime) -> QuerySet[SessionSeries]:
    """The program's optional series still running, for a patient to choose."""
    today = now.astimezone(zone_of(program)).date()
    return (
        SessionSeries.objects.filter(
            organization_id=program.organization_id, program=program, is_core=False
        )
        .filter(Q(last_day__isnull=True) | Q(last_day__gte=today))
        .select_related("session_type", "program__facility")
        .order_by("start_time", "id")
    )


def current_stay(actor: Actor, patient: Patient) -> Stay | None:
    return (
        Stay.objects.filter(
            organization_id=actor.organization_id, episode__patient=patient, ended_at__isnull=True
        )
        .select_related("program__facility")
        .first()
    )


@dataclass(frozen=True)
class SeriesPage:
    upcoming: list[Session]
    enrolled: int
    facilitator: Membership | None


def series_page_read(
    actor: Actor, series: SessionSeries, now: datetime, *, limit: int
) -> SeriesPage:
    """A series' coming sessions, how many are enrolled, and who runs it (no names of
    patients)."""
    upcoming = list(
        Session.objects.filter(
            organization_id=actor.organization_id, series=series, ends_at__gt=now
        )
        .select_related("room", "facilitator")
        .order_by("starts_at", "id")[:limit]
    )
    enrolled = Enrollment.objects.filter(
        organization_id=actor.organization_id, series=series, ended_at__isnull=True
    ).count()
    facilitator = (
        Membership.objects.filter(
            organization_id=actor.organization_id, user_id=series.facilitator_id
        )
        .select_related("user")
        .first()
    )
    return SeriesPage(upcoming, enrolled, facilitator)


def sessions_made(series: SessionSeries) -> int:
    return Session.objects.filter(series=series).count()


def coming_closures(actor: Actor, now: datetime) -> list[Closure]:
    """Closed days from each facility's own today on."""
    # The day before UTC's is the earliest any zone is in.
    since = now.date() - timedelta(days=1)
    return [
        closure
        for closure in Closure.objects.filter(organization_id=actor.organization_id, on__gte=since)
        .select_related("facility")
        .order_by("on", "id")
        if closure.on >= now.astimezone(ZoneInfo(closure.facility.time_zone)).date()
    ]


def rooms_of(actor: Actor) -> list[Room]:
    return list(Room.objects.filter(organization_id=actor.organization_id).order_by("name", "id"))


def session_types_of(actor: Actor) -> list[SessionType]:
    return list(SessionType.objects.filter(organization_id=actor.organization_id))


def open_outreach_task(actor: Actor, patient: Patient) -> Task | None:
    """The patient's open outreach task a logged try belongs to (the earliest due)."""
    return (
        Task.objects.filter(
            organization_id=actor.organization_id,
            patient=patient,
            kind="outreach",
            status=TaskStatus.OPEN,
        )
        .order_by("due_at")
        .first()
    )
