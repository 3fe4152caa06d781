"""Sessions of the programs: types, rooms, recurring series and their concrete
sessions, holidays, enrollment, attendance, and outreach after missed sessions."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from stepwise.care.models import Program, Stay
from stepwise.core.models import Facility, Organization, TenantScoped, TimeStamped
from stepwise.patients.models import Patient, Task


class SchedulingSettings(TimeStamped):
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="scheduling_settings"
    )
    # How far ahead a series' sessions exist as rows (the sweep extends them daily).
    horizon_weeks = models.PositiveSmallIntegerField(default=12)
    # Unexcused absences in a row that call for outreach (the "two in a row").
    absences_for_outreach = models.PositiveSmallIntegerField(default=2)
    # Days without attending in an ambulatory program that call for outreach.
    days_without_attendance = models.PositiveSmallIntegerField(default=7)
    # Hours the case manager has to reach the patient.
    outreach_due_hours = models.PositiveSmallIntegerField(default=24)
    # Notes of staff without their own licence wait for a supervisor's co-signature.
    cosign_required = models.BooleanField(default=False)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(horizon_weeks__gte=2, horizon_weeks__lte=52),
                name="scheduling_horizon_range",
            ),
            models.CheckConstraint(
                condition=models.Q(absences_for_outreach__gte=1, absences_for_outreach__lte=10),
                name="scheduling_absences_range",
            ),
            models.CheckConstraint(
                condition=models.Q(days_without_attendance__gte=3, days_without_attendance__lte=30),
                name="scheduling_days_range",
            ),
            models.CheckConstraint(
                condition=models.Q(outreach_due_hours__gte=1, outreach_due_hours__lte=168),
                name="scheduling_outreach_due_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Scheduling settings of {self.organization_id}"


class SessionMode(models.TextChoices):
    GROUP = "group", "Group"
    INDIVIDUAL = "individual", "Individual"


class SessionType(TenantScoped):
    code = models.SlugField(max_length=40)
    name = models.CharField(max_length=100)
    mode = models.CharField(max_length=10, choices=SessionMode.choices)
    default_minutes = models.PositiveSmallIntegerField()
    counts_clinical = models.BooleanField("counts as clinical hours", default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"], name="sessiontype_code_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(mode__in=SessionMode.values), name="sessiontype_mode_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(default_minutes__gte=5, default_minutes__lte=600),
                name="sessiontype_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_group(self) -> bool:
        return self.mode == SessionMode.GROUP


class Room(TenantScoped):
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=100)
    seats = models.PositiveSmallIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["facility_id", "name"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "name"], name="room_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class SessionSeries(TenantScoped):
    """A recurring session of a program: a rule (RFC 5545 RRULE) over wall-clock times
    in the facility's zone. Its sessions exist as rows up to `generated_through`."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="series")
    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    capacity = models.PositiveSmallIntegerField(null=True, blank=True)
    rule = models.CharField(max_length=200)
    start_time = models.TimeField()
    minutes = models.PositiveSmallIntegerField()
    first_day = models.DateField()
    last_day = models.DateField(null=True, blank=True)
    # Core sessions enroll every patient of the program automatically; the others
    # are chosen per patient.
    is_core = models.BooleanField(default=True)
    generated_through = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["program_id", "start_time", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(minutes__gte=5, minutes__lte=600), name="series_minutes_range"
            ),
            models.CheckConstraint(
                condition=models.Q(last_day__isnull=True)
                | models.Q(last_day__gte=models.F("first_day")),
                name="series_last_after_first",
            ),
        ]

    def __str__(self) -> str:
        return self.title


# How a closed day's cancellations read: "Closed: Thanksgiving".
CLOSED_PREFIX = "Closed: "


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class Session(TenantScoped):
    """One concrete session: an occurrence of a series, or a one-off (an individual
    appointment). A moved occurrence keeps its series and its `occurrence_on`."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="sessions")
    series = models.ForeignKey(
        SessionSeries, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    occurrence_on = models.DateField(null=True, blank=True)
    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    capacity = models.PositiveSmallIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    # Set when an occurrence was moved from the time its series gave it.
    moved_from = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="session_ends_after"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=SessionStatus.values), name="session_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status=SessionStatus.SCHEDULED) | ~models.Q(cancel_reason=""),
                name="session_cancel_has_reason",
            ),
            models.UniqueConstraint(
                fields=["series", "occurrence_on"],
                condition=models.Q(series__isnull=False),
                name="session_one_per_occurrence",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "program", "starts_at"], name="session_prog_idx"),
            models.Index(
                fields=["organization", "facilitator", "starts_at"], name="session_facil_idx"
            ),
            models.Index(fields=["organization", "room", "starts_at"], name="session_room_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    @property
    def calendar_reason(self) -> str:
        """Why it is cancelled, as calendars show it to all staff: a closed day's name;
        a reason typed by staff (free text that may name someone) only to those who run
        the session."""
        return self.cancel_reason if self.cancel_reason.startswith(CLOSED_PREFIX) else ""


class Closure(TenantScoped):
    """A day a facility holds no sessions (a holiday): its sessions are cancelled and
    the series carry on after it."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="closures")
    on = models.DateField()
    name = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["on"]
        constraints = [
            models.UniqueConstraint(fields=["facility", "on"], name="closure_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.on})"


class EnrollmentKind(models.TextChoices):
    CORE = "core", "Core (with the stay)"
    OPTIONAL = "optional", "Optional (by choice)"


class Enrollment(TenantScoped):
    """A patient's place in a series from `started_at` until `ended_at`."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="enrollments")
    series = models.ForeignKey(SessionSeries, on_delete=models.PROTECT, related_name="enrollments")
    stay = models.ForeignKey(
        Stay, on_delete=models.PROTECT, null=True, blank=True, related_name="enrollments"
    )
    kind = models.CharField(max_length=10, choices=EnrollmentKind.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "series"],
                condition=models.Q(ended_at__isnull=True),
                name="enrollment_one_open",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=EnrollmentKind.values), name="enrollment_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="enrollment_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "series"],
                condition=models.Q(ended_at__isnull=True),
                name="enrollment_open_idx",
            ),
        ]


class AttendanceStatus(models.TextChoices):
    EXPECTED = "expected", "Not taken yet"
    PRESENT = "present", "Present"
    LATE = "late", "Late"
    LEFT_EARLY = "left_early", "Left early"
    ABSENT_EXCUSED = "absent_excused", "Absent, excused"
    ABSENT_UNEXCUSED = "absent_unexcused", "Absent, unexcused"


ATTENDED_STATUSES = (AttendanceStatus.PRESENT, AttendanceStatus.LATE, AttendanceStatus.LEFT_EARLY)


class Attendance(TenantScoped):
    """A patient's place in one session and, once taken, whether they came."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="attendance")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="attendance")
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=AttendanceStatus.choices, default=AttendanceStatus.EXPECTED
    )
    minutes_attended = models.PositiveSmallIntegerField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["session_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "patient"], name="attendance_one_per_seat"),
            models.CheckConstraint(
                condition=models.Q(status__in=AttendanceStatus.values),
                name="attendance_status_valid",
            ),
            # Taken attendance has its minutes and who took it; a seat not taken has neither.
            models.CheckConstraint(
                condition=models.Q(
                    status=AttendanceStatus.EXPECTED,
                    minutes_attended__isnull=True,
                    recorded_at__isnull=True,
                )
                | (
                    ~models.Q(status=AttendanceStatus.EXPECTED)
                    & models.Q(minutes_attended__isnull=False, recorded_at__isnull=False)
                ),
                name="attendance_taken_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "patient"], name="attendance_patient_idx"),
        ]

    @property
    def attended(self) -> bool:
        return self.status in ATTENDED_STATUSES


class OutreachMethod(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    VISIT = "visit", "Home visit"
    LETTER = "letter", "Letter"
    EMAIL = "email", "Email"


class OutreachOutcome(models.TextChoices):
    REACHED = "reached", "Reached the patient"
    MESSAGE = "message", "Left a message"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong or dead number"
    CONTACT_REACHED = "contact_reached", "Reached a contact"


class OutreachAttempt(TenantScoped):
    """One try to reach a patient who stopped coming: the contact history."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, null=True, related_name="+")
    at = models.DateTimeField()
    method = models.CharField(max_length=10, choices=OutreachMethod.choices)
    outcome = models.CharField(max_length=20, choices=OutreachOutcome.choices)
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(method__in=OutreachMethod.values), name="outreach_method_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome__in=OutreachOutcome.values),
                name="outreach_outcome_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "patient", "at"], name="outreach_patient_idx"),
        ]


class CalendarFeed(TimeStamped):
    """A staff member's private iCalendar address: their sessions for a calendar app,
    with no patient's name. Only a hash of the secret is kept; a new one replaces it."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"],
                condition=models.Q(revoked_at__isnull=True),
                name="calendarfeed_one_live",
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of user {self.user_id}"
