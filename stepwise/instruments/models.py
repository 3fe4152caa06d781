"""Assessments (instrument responses, scored and stored with the instrument version)
and placement decisions (the recommendation, and what the clinician decided)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from stepwise.care.models import Episode, Stay
from stepwise.core.models import TenantScoped
from stepwise.patients.models import Patient


class AssessmentStatus(models.TextChoices):
    # FHIR Observation.status: final, or entered-in-error (never deleted).
    FINAL = "final", "Final"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class Assessment(TenantScoped):
    """One completed instrument response. The score is computed once, when recorded,
    by the instrument version named here, and never recomputed: a mistake is marked
    entered in error with a reason and a new response recorded."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="assessments")
    episode = models.ForeignKey(
        Episode, on_delete=models.PROTECT, null=True, blank=True, related_name="assessments"
    )
    instrument = models.CharField(max_length=20)
    instrument_version = models.CharField(max_length=20)
    answers = models.JSONField()
    # Facts the score depended on (sex for AUDIT-C, dates for DSM-5 remission).
    context = models.JSONField(default=dict, blank=True)
    total = models.IntegerField(null=True, blank=True)
    band_code = models.CharField(max_length=40, blank=True)
    band_label = models.CharField(max_length=100, blank=True)
    findings = models.JSONField(default=list, blank=True)
    signals = models.JSONField(default=list, blank=True)
    observed_at = models.DateTimeField()
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assessments_entered"
    )
    status = models.CharField(
        max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.FINAL
    )
    error_reason = models.TextField(blank=True)
    error_marked_at = models.DateTimeField(null=True, blank=True)
    error_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments_marked_in_error",
    )
    # The response this one corrects, when recorded to replace a mistaken one.
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )

    class Meta:
        ordering = ["-observed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=AssessmentStatus.values),
                name="assessment_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status=AssessmentStatus.FINAL, error_marked_at__isnull=True)
                | (
                    models.Q(
                        status=AssessmentStatus.ENTERED_IN_ERROR, error_marked_at__isnull=False
                    )
                    & ~models.Q(error_reason="")
                ),
                name="assessment_error_has_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "patient", "instrument", "observed_at"],
                name="assessment_trend_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total} at {self.observed_at:%Y-%m-%d %H:%M}"

    @property
    def in_error(self) -> bool:
        return self.status == AssessmentStatus.ENTERED_IN_ERROR


class PlacementChoice(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed the recommendation"
    OVERRIDDEN = "overridden", "Chose another level"


class PlacementDecision(TenantScoped):
    """The recommendation Stepwise made from an ASAM assessment (with the facts it was
    given and the rationale, as shown), and the clinician's decision on it."""

    assessment = models.OneToOneField(
        Assessment, on_delete=models.PROTECT, related_name="placement"
    )
    asam_edition = models.PositiveSmallIntegerField(default=3)
    facts = models.JSONField(default=dict)
    rules_version = models.CharField(max_length=20)
    recommended_level = models.CharField(max_length=10)
    recommended_withdrawal_level = models.CharField(max_length=10, blank=True)
    rationale = models.JSONField(default=list)
    cautions = models.JSONField(default=list, blank=True)
    choice = models.CharField(max_length=12, choices=PlacementChoice.choices)
    chosen_level = models.CharField(max_length=10)
    override_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="placements_decided"
    )
    decided_at = models.DateTimeField()
    # The stay the decision started, when the clinician moved the patient from here.
    started_stay = models.OneToOneField(
        Stay, on_delete=models.PROTECT, null=True, blank=True, related_name="placement"
    )

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(choice__in=PlacementChoice.values),
                name="placement_choice_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(choice=PlacementChoice.CONFIRMED)
                | (models.Q(choice=PlacementChoice.OVERRIDDEN) & ~models.Q(override_reason="")),
                name="placement_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Placement {self.chosen_level} ({self.choice})"
