"""Programs, episodes of treatment and the stays that make them up."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from stepwise.care import rules
from stepwise.core.models import Facility, TenantScoped
from stepwise.patients.models import Patient

# Codes only: one code (e.g. 3.7) can mean different levels in the two editions;
# the name comes from the program's edition (Program.level).
ASAM_LEVEL_CHOICES = [
    (code, code) for code in dict.fromkeys(lv.code for lv in rules.LEVELS_3RD + rules.LEVELS_4TH)
]


def _level_in_edition(edition: int) -> models.Q:
    return models.Q(asam_edition=edition, asam_level__in=list(rules.LEVELS_BY_EDITION[edition]))


class Program(TenantScoped):
    """A service at one level of care, at one facility."""

    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(max_length=200)
    asam_level = models.CharField("ASAM level", max_length=10, choices=ASAM_LEVEL_CHOICES)
    asam_edition = models.PositiveSmallIntegerField(
        "ASAM edition", default=3, choices=[(3, "3rd"), (4, "4th")]
    )
    teds_service = models.PositiveSmallIntegerField(
        "TEDS service setting", choices=rules.TEDS_SERVICES
    )
    is_24_hour = models.BooleanField("24-hour", default=False)
    bed_capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty for ambulatory programs."
    )
    otp_certified = models.BooleanField("may dispense methadone (OTP-certified)", default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["facility__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "facility", "name"], name="program_name_unique"
            ),
            # The level must exist in the edition it claims (R-ASAM-1: editions never mix).
            models.CheckConstraint(
                condition=_level_in_edition(3) | _level_in_edition(4),
                name="program_level_in_edition",
            ),
            models.CheckConstraint(
                condition=models.Q(teds_service__gte=1, teds_service__lte=8),
                name="program_teds_service_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(bed_capacity__isnull=True) | models.Q(bed_capacity__gte=1),
                name="program_beds_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.asam_level})"

    @property
    def level(self) -> rules.Level:
        return rules.level(self.asam_edition, self.asam_level)

    @property
    def level_display(self) -> str:
        if self.asam_level == rules.CONTINUING_CARE:
            return "Continuing care"
        return f"ASAM {self.asam_level}"

    @property
    def has_beds(self) -> bool:
        return self.bed_capacity is not None

    @property
    def is_withdrawal_management(self) -> bool:
        """A withdrawal-management (detox) program: a -WM level, or a TEDS detox setting
        (the 4th edition folds withdrawal management into the levels)."""
        return self.asam_level.endswith("-WM") or self.teds_service in rules.TEDS_DETOX_SERVICES


class EpisodeStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISCHARGED = "discharged", "Discharged"


class Episode(TenantScoped):
    """One TEDS treatment episode: admission, stays in programs, discharge."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="episodes")
    status = models.CharField(
        max_length=12, choices=EpisodeStatus.choices, default=EpisodeStatus.OPEN
    )
    admitted_at = models.DateTimeField()
    referral_source = models.SmallIntegerField(choices=rules.REFERRAL_SOURCES, default=-9)
    discharged_at = models.DateTimeField(null=True, blank=True)
    discharge_reason = models.PositiveSmallIntegerField(
        choices=rules.DISCHARGE_REASONS, null=True, blank=True
    )
    discharge_note = models.TextField(blank=True)
    previous_episode = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="readmission"
    )
    admitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-admitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(status="open"),
                name="episode_one_open_per_patient",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=EpisodeStatus.values), name="episode_status_valid"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        status="open", discharged_at__isnull=True, discharge_reason__isnull=True
                    )
                    | models.Q(
                        status="discharged",
                        discharged_at__isnull=False,
                        discharge_reason__gte=1,
                        discharge_reason__lte=7,
                    )
                ),
                name="episode_discharge_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(discharged_at__isnull=True)
                | models.Q(discharged_at__gt=models.F("admitted_at")),
                name="episode_discharge_after_admission",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    referral_source__in=[code for code, _ in rules.REFERRAL_SOURCES]
                ),
                name="episode_referral_valid",
            ),
        ]
        indexes = [
            # The chart: a patient's episodes, newest first.
            models.Index(
                fields=["organization", "patient", "admitted_at"], name="episode_org_patient_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Episode of {self.patient} from {self.admitted_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.status == EpisodeStatus.OPEN


class StayEntry(models.TextChoices):
    ADMISSION = "admission", "Admission"
    STEP_DOWN = "step_down", "Step down"
    STEP_UP = "step_up", "Step up"
    TRANSFER = "transfer", "Lateral transfer"


class Stay(TenantScoped):
    """A stretch of one episode in one program. Stays of an episode touch end to start."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="stays")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="stays")
    sequence = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    entry_kind = models.CharField(max_length=12, choices=StayEntry.choices)
    entry_reason = models.TextField(blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # Beds of a 24-hour program are numbered 1..capacity; a stay holds one while open.
    bed_number = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["episode_id", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "bed_number"],
                condition=models.Q(ended_at__isnull=True, bed_number__isnull=False),
                name="stay_one_patient_per_bed",
            ),
            models.UniqueConstraint(fields=["episode", "sequence"], name="stay_sequence_unique"),
            models.UniqueConstraint(
                fields=["episode"],
                condition=models.Q(ended_at__isnull=True),
                name="stay_one_open_per_episode",
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gt=models.F("started_at")),
                name="stay_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(entry_kind__in=StayEntry.values), name="stay_entry_valid"
            ),
            # Only the first stay is an admission; every later one is a transition with a reason.
            models.CheckConstraint(
                condition=models.Q(sequence=1, entry_kind="admission")
                | (
                    models.Q(sequence__gt=1)
                    & ~models.Q(entry_kind="admission")
                    & ~models.Q(entry_reason="")
                ),
                name="stay_entry_matches_sequence",
            ),
        ]
        indexes = [
            # Census: open stays per program.
            models.Index(
                fields=["organization", "program"],
                condition=models.Q(ended_at__isnull=True),
                name="stay_open_idx",
            ),
            # Census: stays started or ended today per program.
            models.Index(
                fields=["organization", "program", "started_at"], name="stay_program_start_idx"
            ),
            models.Index(
                fields=["organization", "program", "ended_at"], name="stay_program_end_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Stay {self.sequence} in {self.program}"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class ProgramStaff(TenantScoped):
    """A member of a program's staff (the nurses and physicians of a detox unit): on the
    care team of every patient who comes into the program while they are on it."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="program_staff"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["program_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "user"], name="programstaff_unique"),
        ]
