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
