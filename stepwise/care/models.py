"""Programs, episodes of treatment and the stays that make them up."""

from __future__ import annotations

from datetime import datetime

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
    # An ambulatory program's open places are counted against this cap (the bed board);
    # empty means no cap. A 24-hour program counts its beds instead.
    place_cap = models.PositiveIntegerField(
        "places (cap)", null=True, blank=True, help_text="Ambulatory programs only."
    )
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
            models.CheckConstraint(
                condition=models.Q(place_cap__isnull=True)
                | models.Q(place_cap__gte=1, bed_capacity__isnull=True),
                name="program_place_cap_ambulatory",
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
    def capacity(self) -> int | None:
        """Beds, or the cap on places of an ambulatory program; None when uncapped."""
        return self.bed_capacity if self.bed_capacity is not None else self.place_cap

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
    # TEDS admission fields: prior treatment episodes (NOPRIOR) and days from the first
    # request for treatment to this admission (DAYWAIT); empty when not known.
    prior_treatment = models.SmallIntegerField(choices=rules.PRIOR_TREATMENT, default=-9)
    days_waiting = models.PositiveIntegerField(null=True, blank=True)
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
            models.CheckConstraint(
                condition=models.Q(prior_treatment__in=[c for c, _ in rules.PRIOR_TREATMENT]),
                name="episode_prior_treatment_valid",
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
    # The facility-local day the team plans the patient to leave this program: the bed
    # board's "expected tomorrow".
    planned_end_on = models.DateField(null=True, blank=True)

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


class EpisodeSubstance(TenantScoped):
    """A substance problem of the episode at admission (TEDS SUB1-3 with ROUTE1-3 and
    FREQ1-3): rank 1 is the primary substance."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="substances")
    rank = models.PositiveSmallIntegerField()
    substance = models.SmallIntegerField(choices=rules.SUBSTANCES)
    route = models.SmallIntegerField(choices=rules.ROUTES, default=-9)
    frequency = models.CharField(max_length=20, choices=rules.FREQUENCIES, default="unknown")

    class Meta:
        ordering = ["episode_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "rank"], name="episode_substance_rank"),
            models.CheckConstraint(
                condition=models.Q(rank__gte=1, rank__lte=3), name="episode_substance_rank_1_3"
            ),
            models.CheckConstraint(
                condition=models.Q(substance__in=[c for c, _ in rules.SUBSTANCES]),
                name="episode_substance_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(route__in=[c for c, _ in rules.ROUTES]),
                name="episode_substance_route_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(frequency__in=[c for c, _ in rules.FREQUENCIES]),
                name="episode_substance_frequency_valid",
            ),
        ]


class ReservationStatus(models.TextChoices):
    HELD = "held", "Held"
    ADMITTED = "admitted", "Admitted"
    RELEASED = "released", "Released"
    LAPSED = "lapsed", "Lapsed (did not arrive)"


class BedReservation(TenantScoped):
    """A place held in a program for someone expected to arrive (a scheduled admission).

    It counts against the program's capacity while held and until `hold_until`; after
    that it no longer holds the place, whether or not anyone has closed it yet.
    """

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="reservations")
    expected_at = models.DateTimeField()
    hold_until = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=ReservationStatus.choices, default=ReservationStatus.HELD
    )
    reserved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_reason = models.TextField(blank=True)
    episode = models.OneToOneField(
        Episode, null=True, blank=True, on_delete=models.PROTECT, related_name="reservation"
    )

    class Meta:
        ordering = ["expected_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ReservationStatus.values),
                name="reservation_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(hold_until__gt=models.F("expected_at")),
                name="reservation_hold_after_expected",
            ),
            models.CheckConstraint(
                condition=models.Q(status="held", closed_at__isnull=True)
                | (~models.Q(status="held") & models.Q(closed_at__isnull=False)),
                name="reservation_closed_when_not_held",
            ),
            models.CheckConstraint(
                condition=models.Q(status="admitted", episode__isnull=False)
                | (~models.Q(status="admitted") & models.Q(episode__isnull=True)),
                name="reservation_episode_when_admitted",
            ),
        ]
        indexes = [
            # The bed board: places held per program.
            models.Index(
                fields=["organization", "program", "hold_until"],
                condition=models.Q(status="held"),
                name="reservation_held_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Place held in {self.program} from {self.expected_at:%Y-%m-%d %H:%M}"

    def holds_place(self, now: datetime) -> bool:
        return self.status == ReservationStatus.HELD and self.hold_until > now
