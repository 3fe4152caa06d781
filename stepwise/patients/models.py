"""Patient identity, demographics (TEDS admission fields), contacts and care team."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import models

from stepwise.core.crypto import EncryptedTextField
from stepwise.core.models import TenantScoped
from stepwise.patients import teds


def _in(field: str, choices: list[tuple[str, str]]) -> models.Q:
    return models.Q(**{f"{field}__in": [code for code, _ in choices]})


class Patient(TenantScoped):
    mrn = models.CharField("medical record number", max_length=32)
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=2, choices=teds.SEX, default=teds.MISSING)
    race = models.CharField(max_length=2, choices=teds.RACE, default=teds.MISSING)
    ethnicity = models.CharField(max_length=2, choices=teds.ETHNICITY, default=teds.MISSING)
    education = models.CharField(max_length=2, choices=teds.EDUCATION, default=teds.MISSING)
    employment = models.CharField(max_length=2, choices=teds.EMPLOYMENT, default=teds.MISSING)
    living_arrangement = models.CharField(
        max_length=2, choices=teds.LIVING_ARRANGEMENT, default=teds.MISSING
    )
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    # The identifiers most useful to a thief, encrypted with keys kept outside the
    # database (stepwise.core.crypto); shown masked everywhere but the editing form.
    ssn = EncryptedTextField("social security number", blank=True, default="")
    payer_member_id = EncryptedTextField("payer member number", blank=True, default="")
    # Lower-cased "family given preferred" kept in step by the services, for search.
    search_name = models.CharField(max_length=320, editable=False, default="")

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "mrn"], name="patient_mrn_unique_in_org"
            ),
            models.CheckConstraint(condition=_in("sex", teds.SEX), name="patient_sex_valid"),
            models.CheckConstraint(condition=_in("race", teds.RACE), name="patient_race_valid"),
            models.CheckConstraint(
                condition=_in("ethnicity", teds.ETHNICITY), name="patient_ethnicity_valid"
            ),
            models.CheckConstraint(
                condition=_in("education", teds.EDUCATION), name="patient_education_valid"
            ),
            models.CheckConstraint(
                condition=_in("employment", teds.EMPLOYMENT), name="patient_employment_valid"
            ),
            models.CheckConstraint(
                condition=_in("living_arrangement", teds.LIVING_ARRANGEMENT),
                name="patient_livarag_valid",
            ),
        ]
        indexes = [
            # The patient list: one organization's patients in name order.
            models.Index(
                fields=["organization", "family_name", "given_name"], name="patient_org_name_idx"
            ),
            # Search by date of birth.
            models.Index(fields=["organization", "date_of_birth"], name="patient_org_dob_idx"),
            # Search by name prefix (family or given name start the search_name words).
            models.Index(fields=["organization", "search_name"], name="patient_org_search_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    @property
    def display_name(self) -> str:
        shown = f"{self.given_name} {self.family_name}"
        if self.preferred_name and self.preferred_name != self.given_name:
            shown = f"{self.given_name} “{self.preferred_name}” {self.family_name}"
        return shown

    @property
    def ssn_masked(self) -> str:
        return f"***-**-{self.ssn[-4:]}" if self.ssn else ""

    @property
    def payer_member_id_masked(self) -> str:
        if not self.payer_member_id:
            return ""
        # A short number would be shown whole by its last four characters.
        return f"****{self.payer_member_id[-4:]}" if len(self.payer_member_id) > 6 else "****"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def refresh_search_name(self) -> None:
        parts = [self.family_name, self.given_name, self.preferred_name]
        self.search_name = " ".join(p.strip().lower() for p in parts if p.strip())


class ContactRelationship(models.TextChoices):
    PARENT = "parent", "Parent"
    SPOUSE = "spouse", "Spouse or partner"
    SIBLING = "sibling", "Sibling"
    CHILD = "child", "Child"
    OTHER_FAMILY = "other_family", "Other family"
    FRIEND = "friend", "Friend"
    SPONSOR = "sponsor", "Sponsor"
    OTHER = "other", "Other"


class Contact(TenantScoped):
    """Family member, friend or emergency contact. What they may see is decided by consent."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=20, choices=ContactRelationship.choices)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    is_emergency_contact = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_emergency_contact", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(relationship__in=ContactRelationship.values),
                name="contact_relationship_valid",
            ),
        ]
        indexes = [models.Index(fields=["organization", "patient"], name="contact_org_patient_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relationship_display()})"


class CareTeamRole(models.TextChoices):
    PRIMARY_COUNSELOR = "primary_counselor", "Primary counselor"
    PRESCRIBER = "prescriber", "Prescriber"
    NURSE = "nurse", "Nurse"
    CASE_MANAGER = "case_manager", "Case manager"
    OTHER = "other", "Other"


class CareTeamMember(TenantScoped):
    """Links a staff member to a patient they look after."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_teams"
    )
    team_role = models.CharField(max_length=30, choices=CareTeamRole.choices)

    class Meta:
        ordering = ["team_role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "user", "team_role"], name="careteam_unique_role"
            ),
            models.CheckConstraint(
                condition=models.Q(team_role__in=CareTeamRole.values), name="careteam_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["organization", "user"], name="careteam_org_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} as {self.get_team_role_display()}"


class BreakGlassAccess(TenantScoped):
    """Emergency access to a chart by a clinician outside the care team (HIPAA
    164.312(a)(2)(ii)): given with a reason and a re-entered password, for a set
    time, and reviewed afterwards by the privacy officer."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="break_glass")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="break_glass"
    )
    reason = models.TextField()
    started_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="break_glass_reviews",
    )
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("started_at")),
                name="breakglass_expires_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="breakglass_reason_required"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "user", "patient", "expires_at"],
                name="breakglass_active_idx",
            ),
            models.Index(fields=["organization", "reviewed_at"], name="breakglass_review_idx"),
        ]

    def __str__(self) -> str:
        return f"Emergency access by {self.user} from {self.started_at:%Y-%m-%d %H:%M}"

    def is_active(self, now: datetime) -> bool:
        return self.started_at <= now < self.expires_at


class AlertStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class AlertSeverity(models.TextChoices):
    # Act now (suicide risk, over-sedation); act soon (moderate withdrawal, no plan).
    CRITICAL = "critical", "Act now"
    WARNING = "warning", "Act soon"


class Alert(TenantScoped):
    """A safety signal that stays visible on the chart and the care team's worklist
    until a clinician resolves it with a note (or a later result clears it).

    Raised by the apps above (an instrument's signal, a vital sign); the source is
    named by type and public id so this app depends on none of them. One open alert
    per patient and kind: a repeat raises its count instead of a second row."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="alerts")
    kind = models.CharField(max_length=40)
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices)
    message = models.TextField()
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    source_type = models.CharField(max_length=40)
    source_id = models.UUIDField()
    raised_at = models.DateTimeField()
    last_raised_at = models.DateTimeField()
    times_raised = models.PositiveIntegerField(default=1)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts_resolved",
    )
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-last_raised_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=AlertStatus.values), name="alert_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(severity__in=AlertSeverity.values), name="alert_severity_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status=AlertStatus.OPEN, resolved_at__isnull=True)
                | models.Q(status=AlertStatus.RESOLVED, resolved_at__isnull=False),
                name="alert_resolved_has_time",
            ),
            models.UniqueConstraint(
                fields=["patient", "kind"],
                condition=models.Q(status=AlertStatus.OPEN),
                name="alert_one_open_per_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "patient"], name="alert_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display()}: {self.kind}"


class RiskFlag(TenantScoped):
    """An elevated-risk period on a patient with a start, an end and a reason (e.g.
    lost tolerance after withdrawal management, domain §6.1). Shown on the chart, the
    census and the worklists while it runs; raised by the apps above, named by source."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="risk_flags")
    kind = models.CharField(max_length=40)
    reason = models.TextField()
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    source_type = models.CharField(max_length=40)
    source_id = models.UUIDField()
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="riskflag_ends_after"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "ends_at", "patient"], name="riskflag_active_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} until {self.ends_at:%Y-%m-%d}"

    def is_active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class Task(TenantScoped):
    """A follow-up someone on the care team must do (a referral, a vaccination, a
    naloxone kit not handed over), due by a time; raised by the apps above."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    source_type = models.CharField(max_length=40)
    source_id = models.UUIDField()
    # The role whose worklist carries the task (outreach goes to the case manager);
    # blank: everyone on the care team.
    for_role = models.CharField(max_length=20, blank=True)
    # Empty when Stepwise raised it on its own (the missed-session sweep).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    close_note = models.TextField(blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=TaskStatus.values), name="task_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status=TaskStatus.OPEN, closed_at__isnull=True)
                | (~models.Q(status=TaskStatus.OPEN) & models.Q(closed_at__isnull=False)),
                name="task_closed_has_time",
            ),
            # One open task of a kind from one source: raising it again changes nothing.
            models.UniqueConstraint(
                fields=["patient", "kind", "source_id"],
                condition=models.Q(status=TaskStatus.OPEN),
                name="task_one_open_per_source",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "due_at"], name="task_open_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ProblemStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"


class Problem(TenantScoped):
    """An entry of the patient's problem list (a condition, a risk), noted by the apps
    above from what they found; ``asam_dimension`` says which ASAM dimension it weighs on."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="problems")
    key = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    code = models.CharField("ICD-10-CM", max_length=10, blank=True)
    asam_dimension = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ProblemStatus.choices, default=ProblemStatus.ACTIVE
    )
    noted_at = models.DateTimeField()
    noted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    source_type = models.CharField(max_length=40)
    source_id = models.UUIDField()

    class Meta:
        ordering = ["noted_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ProblemStatus.values), name="problem_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(asam_dimension__isnull=True)
                | models.Q(asam_dimension__gte=1, asam_dimension__lte=6),
                name="problem_dimension_valid",
            ),
            models.UniqueConstraint(
                fields=["patient", "key"],
                condition=models.Q(status="active"),
                name="problem_one_active_per_key",
            ),
        ]

    def __str__(self) -> str:
        return self.title
