"""Relapse events and their response, and urine drug screens with their results."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from django.conf import settings
from django.db import models

from stepwise.care.models import Episode
from stepwise.care.rules import ROUTES, SUBSTANCES
from stepwise.core.models import Organization, TenantScoped, TimeStamped
from stepwise.patients.models import Patient
from stepwise.recovery.rules import relapse, screens

_Code = TypeVar("_Code", bound=StrEnum)


def _choices(labels: Mapping[_Code, str]) -> list[tuple[str, str]]:
    return [(member.value, label) for member, label in labels.items()]


def _in(field: str, values: list[str]) -> models.Q:
    return models.Q(**{f"{field}__in": values})


class RecoverySettings(TimeStamped):
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="recovery_settings"
    )
    # Hours the team has to reach a patient after a relapse is confirmed.
    outreach_hours = models.PositiveSmallIntegerField(default=24)
    # Days without use after which a return to use counts as after lost tolerance.
    # Not a published figure: each program sets its own.
    tolerance_days = models.PositiveSmallIntegerField(default=7)
    # How long the overdose-risk flag runs (R-OD-1: 30 days).
    flag_days = models.PositiveSmallIntegerField(default=30)
    # Medication code -> analytes it shows as on a screen (screens.DEFAULT_EXPECTATIONS).
    expectations = models.JSONField(default=dict)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(outreach_hours__gte=1, outreach_hours__lte=168),
                name="recovery_outreach_hours_range",
            ),
            models.CheckConstraint(
                condition=models.Q(tolerance_days__gte=1, tolerance_days__lte=365),
                name="recovery_tolerance_days_range",
            ),
            models.CheckConstraint(
                condition=models.Q(flag_days__gte=1, flag_days__lte=365),
                name="recovery_flag_days_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Recovery settings of {self.organization_id}"

    def expectation_table(self) -> dict[str, tuple[str, ...]]:
        if not self.expectations:
            return dict(screens.DEFAULT_EXPECTATIONS)
        return {med: tuple(analytes) for med, analytes in self.expectations.items()}


class RelapseStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed, to confirm"
    CONFIRMED = "confirmed", "Confirmed"
    DISMISSED = "dismissed", "Not a return to use"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class RelapseEvent(TenantScoped):
    """A return to use. Proposed by a screen, a check-in or an overdose, or recorded by a
    clinician; confirmed, it starts the response checklist. Never deleted: a wrong
    one is dismissed or marked entered in error with the reason."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(
        Episode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=RelapseStatus.choices)
    source = models.CharField(max_length=10, choices=_choices(relapse.SOURCE_LABELS))
    # What proposed it (a drug screen, a check-in); no foreign key across apps.
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.UUIDField(null=True, blank=True)
    # The day of use, in the patient's own account or the screen's window; back-dating
    # is allowed, and the recovery count places it on its own day.
    used_on = models.DateField(null=True, blank=True)
    kind = models.CharField(max_length=8, blank=True, choices=_choices(relapse.KIND_LABELS))
    substances = models.JSONField(default=list, blank=True)  # TEDS SUB codes
    route = models.SmallIntegerField(default=-9, choices=ROUTES)  # TEDS ROUTE code
    overdose = models.BooleanField("non-fatal overdose", default=False)
    context = models.TextField(blank=True)
    triggers = models.TextField(blank=True)
    proposal = models.TextField(blank=True)  # why it was proposed (what the screen showed)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Days without use before this one, and whether that meant lost tolerance.
    abstinent_days = models.PositiveIntegerField(null=True, blank=True)
    flag_until = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-used_on", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=_in("status", RelapseStatus.values), name="relapse_status_valid"
            ),
            models.CheckConstraint(
                condition=_in("source", [s.value for s in relapse.Source]),
                name="relapse_source_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="") | _in("kind", [k.value for k in relapse.Kind]),
                name="relapse_kind_valid",
            ),
            # A confirmed event says what happened and when, and who confirmed it.
            models.CheckConstraint(
                condition=~models.Q(status="confirmed")
                | models.Q(
                    used_on__isnull=False, confirmed_at__isnull=False, kind__in=["lapse", "relapse"]
                ),
                name="relapse_confirmed_complete",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["dismissed", "entered_in_error"])
                | (models.Q(closed_at__isnull=False) & ~models.Q(close_reason="")),
                name="relapse_closed_has_reason",
            ),
            # One proposal per screen or check-in.
            models.UniqueConstraint(
                fields=["organization", "source_type", "source_id"],
                condition=models.Q(source_id__isnull=False),
                name="relapse_one_per_source",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "patient", "status"], name="relapse_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"Relapse event {self.public_id} ({self.status})"

    @property
    def substance_names(self) -> list[str]:
        names = dict(SUBSTANCES)
        return [names.get(code, str(code)) for code in self.substances]


_EVIDENCE = {"assessment": "ASAM assessment", "plan_version": "signed plan version"}


class ResponseItem(TenantScoped):
    """One item of a confirmed relapse's response: open until done or declined."""

    event = models.ForeignKey(RelapseEvent, on_delete=models.PROTECT, related_name="items")
    item = models.CharField(max_length=14, choices=_choices(relapse.ITEM_LABELS))
    state = models.CharField(
        max_length=8,
        choices=[(s.value, s.value.capitalize()) for s in relapse.State],
        default=relapse.State.OPEN,
    )
    due_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    moud_answer = models.CharField(max_length=14, blank=True, choices=_choices(relapse.MOUD_LABELS))
    # What shows it done (an assessment, a plan version); no foreign key across apps.
    evidence_type = models.CharField(max_length=40, blank=True)
    evidence_id = models.UUIDField(null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["event_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "item"], name="response_item_once"),
            models.CheckConstraint(
                condition=_in("item", [i.value for i in relapse.Item]),
                name="response_item_valid",
            ),
            models.CheckConstraint(
                condition=_in("state", [s.value for s in relapse.State]),
                name="response_state_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(state="open", settled_at__isnull=True)
                | (~models.Q(state="open") & models.Q(settled_at__isnull=False)),
                name="response_settled_when_not_open",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="declined") | ~models.Q(note=""),
                name="response_declined_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "state"], name="response_state_idx"),
        ]

    @property
    def label(self) -> str:
        return relapse.ITEM_LABELS[relapse.Item(self.item)]

    @property
    def help_text(self) -> str:
        return relapse.ITEM_HELP[relapse.Item(self.item)]

    @property
    def is_open(self) -> bool:
        return self.state == relapse.State.OPEN

    @property
    def evidence_label(self) -> str:
        """What shows the item done, in words (an ASAM assessment, a plan version)."""
        return _EVIDENCE.get(self.evidence_type, self.evidence_type.replace("_", " "))


class ScreenStatus(models.TextChoices):
    COLLECTED = "collected", "Collected, results pending"
    RESULTED = "resulted", "Resulted"
    ENTERED_IN_ERROR = "entered_in_error", "Entered in error"


class DrugScreen(TenantScoped):
    """A urine drug screen: the collection, then its results per analyte, read against
    the medications the patient was taking when it was collected."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    episode = models.ForeignKey(
        Episode, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=ScreenStatus.choices, default=ScreenStatus.COLLECTED
    )
    collected_at = models.DateTimeField()
    observed = models.BooleanField("collection observed", default=False)
    validity = models.CharField(
        max_length=12,
        choices=_choices(screens.VALIDITY_LABELS),
        default=screens.Validity.VALID,
    )
    medications = models.JSONField(default=list, blank=True)  # screens.MEDICATIONS codes
    # Where it was collected: the program, or a sober-living residence (its residency).
    setting = models.CharField(max_length=40, blank=True)
    setting_id = models.UUIDField(null=True, blank=True)
    note = models.TextField(blank=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    resulted_at = models.DateTimeField(null=True, blank=True)
    resulted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    error_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-collected_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_in("status", ScreenStatus.values), name="screen_status_valid"
            ),
            models.CheckConstraint(
                condition=_in("validity", [v.value for v in screens.Validity]),
                name="screen_validity_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="resulted") | models.Q(resulted_at__isnull=False),
                name="screen_resulted_has_time",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="entered_in_error") | ~models.Q(error_reason=""),
                name="screen_error_has_reason",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "patient", "collected_at"], name="screen_patient_idx"
            ),
            models.Index(
                fields=["organization", "setting", "setting_id"], name="screen_setting_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Drug screen {self.public_id} ({self.status})"

    @property
    def medication_names(self) -> list[str]:
        known = screens.MEDICATIONS_BY_CODE
        return [known[code].name if code in known else code for code in self.medications]


class ScreenResult(TenantScoped):
    """One analyte of a screen: the result, and how it read against the medications
    (kept as read then, never silently recomputed)."""

    screen = models.ForeignKey(DrugScreen, on_delete=models.PROTECT, related_name="results")
    analyte = models.CharField(max_length=20, choices=[(a.code, a.name) for a in screens.ANALYTES])
    result = models.CharField(
        max_length=10, choices=[(r.value, r.value.replace("_", " ")) for r in screens.Result]
    )
    finding = models.CharField(max_length=20, blank=True, choices=_choices(screens.FINDING_LABELS))
    expected_from = models.JSONField(default=list, blank=True)  # the medications expecting it

    class Meta:
        ordering = ["screen_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["screen", "analyte"], name="screen_result_once"),
            models.CheckConstraint(
                condition=_in("analyte", list(screens.ANALYTES_BY_CODE)),
                name="screen_result_analyte_valid",
            ),
            models.CheckConstraint(
                condition=_in("result", [r.value for r in screens.Result]),
                name="screen_result_valid",
            ),
        ]

    @property
    def analyte_name(self) -> str:
        return screens.ANALYTES_BY_CODE[self.analyte].name

    @property
    def finding_label(self) -> str:
        return screens.FINDING_LABELS[screens.Finding(self.finding)] if self.finding else ""
