"""Sober living: recovery residences, their houses and beds, who lives in which bed
(a residency), the house rules each resident accepted, and nightly curfew check-ins.

A sober living house is a residence with beds, not a level of care: a residency may
point at the patient's PHP or IOP stay, but it is not a stay and opens no episode."""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.db import models

from stepwise.care.models import Stay
from stepwise.core.models import TenantScoped, validate_time_zone
from stepwise.patients.models import Patient


class Residence(TenantScoped):
    """A recovery residence (one operator, one set of house rules) with its houses."""

    name = models.CharField(max_length=200)
    operator_name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # Free text: "NARR level II", a state certificate number, or nothing.
    certification = models.CharField(max_length=200, blank=True)
    # Curfews and nights are counted in this zone.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # The version of the house rules in force (ResidenceRules); each change adds one.
    rules_version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="residence_name_unique_in_org"
            ),
            models.CheckConstraint(
                condition=models.Q(rules_version__gte=1), name="residence_rules_version_positive"
            ),
        ]
        indexes = [
            # The residences list: one organization's active residences.
            models.Index(fields=["organization", "is_active"], name="residence_org_active_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ResidenceRules(TenantScoped):
    """One version of a residence's house rules. Never changed: a change is a new version,
    so what each resident accepted stays on record word for word."""

    residence = models.ForeignKey(Residence, on_delete=models.PROTECT, related_name="rules")
    version = models.PositiveIntegerField()
    text = models.TextField()
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["residence_id", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["residence", "version"], name="residence_rules_version_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="residence_rules_version_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return f"Rules of {self.residence_id}, version {self.version}"


class HouseFor(models.TextChoices):
    MEN = "men", "Men"
    WOMEN = "women", "Women"
    ANY = "any", "Anyone"


class House(TenantScoped):
    residence = models.ForeignKey(Residence, on_delete=models.PROTECT, related_name="houses")
    name = models.CharField(max_length=120)
    address = models.CharField(max_length=300, blank=True)
    house_for = models.CharField(max_length=10, choices=HouseFor.choices, default=HouseFor.ANY)
    # Local curfew (the residence's zone); a time before noon falls after midnight.
    curfew_weekday = models.TimeField(default=time(22, 0))
    # Friday and Saturday nights.
    curfew_weekend = models.TimeField(default=time(23, 0))
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["residence_id", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["residence", "name"], name="house_name_unique"),
            models.CheckConstraint(
                condition=models.Q(house_for__in=HouseFor.values), name="house_for_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "residence"], name="house_org_residence_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Bed(TenantScoped):
    house = models.ForeignKey(House, on_delete=models.PROTECT, related_name="beds")
    label = models.CharField(max_length=40)
    is_active = models.BooleanField(default=True)
    # When it went out of service (kept with is_active so occupancy at an earlier
    # instant still counts it as in service).
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["house_id", "label", "id"]
        constraints = [
            models.UniqueConstraint(fields=["house", "label"], name="bed_label_unique"),
            models.CheckConstraint(
                condition=models.Q(is_active=True, retired_at__isnull=True)
                | models.Q(is_active=False, retired_at__isnull=False),
                name="bed_retired_when_inactive",
            ),
        ]
        indexes = [
            # Occupancy: the beds of the organization's houses.
            models.Index(fields=["organization", "house"], name="bed_org_house_idx"),
        ]

    def __str__(self) -> str:
        return self.label


class MoveOutReason(models.TextChoices):
    COMPLETED = "completed", "Completed the stay"
    CHOSE_TO_LEAVE = "chose_to_leave", "Chose to leave"
    RULE_VIOLATION = "rule_violation", "Asked to leave for a rule violation"
    HIGHER_CARE = "higher_care", "Returned to a higher level of care"
    OTHER = "other", "Other"
    # Set only by a move to another bed: the residency goes on in the next row.
    BED_MOVE = "bed_move", "Moved to another bed"


class Residency(TenantScoped):
    """A patient living in one bed from move-in to move-out. A move to another bed ends
    this row and starts the next (`moved_from`), so every bed's history stays whole."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="residencies")
    bed = models.ForeignKey(Bed, on_delete=models.PROTECT, related_name="residencies")
    moved_in_at = models.DateTimeField()
    expected_move_out_on = models.DateField(null=True, blank=True)
    moved_out_at = models.DateTimeField(null=True, blank=True)
    move_out_reason = models.CharField(max_length=20, choices=MoveOutReason.choices, blank=True)
    move_out_note = models.TextField(blank=True)
    # The patient's PHP (2.5) or IOP (2.1) stay while living here: the one at move-in, or
    # one started since (services.stay_links keeps it up while the residency is open).
    stay = models.ForeignKey(
        Stay, null=True, blank=True, on_delete=models.PROTECT, related_name="residencies"
    )
    moved_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="moved_to"
    )
    # The house rules version the resident last accepted, and when.
    rules_version = models.PositiveIntegerField()
    rules_accepted_at = models.DateTimeField()
    moved_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    moved_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-moved_in_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["bed"],
                condition=models.Q(moved_out_at__isnull=True),
                name="residency_one_open_per_bed",
            ),
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(moved_out_at__isnull=True),
                name="residency_one_open_per_patient",
            ),
            models.CheckConstraint(
                condition=models.Q(moved_out_at__isnull=True)
                | models.Q(moved_out_at__gt=models.F("moved_in_at")),
                name="residency_move_out_after_move_in",
            ),
            models.CheckConstraint(
                condition=models.Q(moved_out_at__isnull=True, move_out_reason="")
                | models.Q(moved_out_at__isnull=False, move_out_reason__in=MoveOutReason.values),
                name="residency_move_out_reason_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(rules_version__gte=1), name="residency_rules_version_positive"
            ),
        ]
        indexes = [
            # Occupancy at an instant: residencies of the organization's beds by time.
            models.Index(
                fields=["organization", "bed", "moved_in_at"], name="residency_org_bed_idx"
            ),
            # The patient's residence page and chart panel.
            models.Index(
                fields=["organization", "patient", "moved_in_at"],
                name="residency_org_patient_idx",
            ),
            # Residents now.
            models.Index(
                fields=["organization", "bed"],
                condition=models.Q(moved_out_at__isnull=True),
                name="residency_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Residency {self.public_id}"

    @property
    def is_open(self) -> bool:
        return self.moved_out_at is None


class RulesAcceptance(TenantScoped):
    """A resident accepting one version of the house rules (at move-in, and again after
    each change while they live there)."""

    # The residency it was recorded in; a move to another bed of the same residence
    # keeps the acceptance, so the patient's acceptances of a residence tell the story.
    residency = models.ForeignKey(Residency, on_delete=models.PROTECT, related_name="acceptances")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    rules = models.ForeignKey(ResidenceRules, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["residency_id", "accepted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["residency", "rules"], name="rules_acceptance_once_per_version"
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "patient", "accepted_at"],
                name="rules_acceptance_patient_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Rules accepted at {self.accepted_at:%Y-%m-%d}"


class CurfewStatus(models.TextChoices):
    ON_TIME = "on_time", "On time"
    LATE = "late", "Late"
    MISSED = "missed", "Missed"
    EXCUSED = "excused", "Excused"


class CurfewCheckIn(TenantScoped):
    """A resident's curfew for one night (the evening's local date in the residence's
    zone), recorded by staff. One per patient and night; a correction replaces it."""

    residency = models.ForeignKey(Residency, on_delete=models.PROTECT, related_name="check_ins")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    night = models.DateField()
    status = models.CharField(max_length=10, choices=CurfewStatus.choices)
    # The curfew that applied that night, as it was (the house setting may change).
    curfew_at = models.DateTimeField()
    arrived_at = models.DateTimeField(null=True, blank=True)
    minutes_late = models.PositiveIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-night", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "night"], name="curfew_one_per_night"),
            models.CheckConstraint(
                condition=models.Q(status__in=CurfewStatus.values), name="curfew_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(status="late", minutes_late__gte=1)
                | (~models.Q(status="late") & models.Q(minutes_late__isnull=True)),
                name="curfew_minutes_when_late",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["on_time", "late"])
                | models.Q(arrived_at__isnull=False),
                name="curfew_arrival_when_in",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="missed") | models.Q(arrived_at__isnull=True),
                name="curfew_no_arrival_when_missed",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="excused") | ~models.Q(reason=""),
                name="curfew_reason_when_excused",
            ),
        ]
        indexes = [
            # Tonight's list of a house, the patient's curfew history.
            models.Index(fields=["organization", "night"], name="curfew_org_night_idx"),
            models.Index(
                fields=["organization", "patient", "night"], name="curfew_org_patient_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Curfew {self.night}: {self.status}"
