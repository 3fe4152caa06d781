"""The treatment plan of an episode and its versions.

One plan per episode. Its versions are numbered 1..n: at most one draft (being
written) and one active (signed, in force); signing a draft supersedes the active
one. A signed version is never changed (save() refuses it too): a review copies it
into a new draft, and the new version says what changed and why. The one thing
added to a signed version later is the patient's signature, once, if it was not
yet given when the clinician signed."""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from stepwise.care.models import Episode
from stepwise.core.models import TenantScoped
from stepwise.patients.models import Patient

IMMUTABLE = "A signed plan version is not changed; start a review to make a new version."


class SignedPlanChanged(ValueError):
    """Raised by save() when a signed version (or its contents) would change."""


class TreatmentPlan(TenantScoped):
    """The plan of one episode, with when its next review is due.

    The review's due day lives here, not on the signed version: a change of level of
    care after the signing brings it forward without touching the signed document."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="treatment_plans")
    episode = models.OneToOneField(Episode, on_delete=models.PROTECT, related_name="treatment_plan")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    last_signed_at = models.DateTimeField(null=True, blank=True)
    review_due_on = models.DateField(null=True, blank=True)
    # The latest change of level of care (program) after the last signing, if any.
    level_changed_at = models.DateTimeField(null=True, blank=True)
    level_changed_to = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_signed_at__isnull=True, review_due_on__isnull=True)
                | models.Q(last_signed_at__isnull=False, review_due_on__isnull=False),
                name="treatmentplan_due_once_signed",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "patient"], name="treatmentplan_patient_idx"),
            # The worklist: plans whose review is due.
            models.Index(
                fields=["organization", "review_due_on"],
                condition=models.Q(review_due_on__isnull=False),
                name="treatmentplan_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Treatment plan {self.public_id}"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active (signed)"
    SUPERSEDED = "superseded", "Superseded"


class ReviewTrigger(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled review"
    LEVEL_OF_CARE = "level_of_care", "Change of level of care"
    RELAPSE = "relapse", "Relapse"
    PATIENT_REQUEST = "patient_request", "Patient request"
    OTHER = "other", "Other"


class PatientSignature(models.TextChoices):
    NOT_YET = "not_yet", "Not yet"
    SIGNED = "signed", "Signed"
    DECLINED = "declined", "Patient declined to sign"


# Where a version may go once signed: superseded by the next; never back to a draft.
_NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    VersionStatus.ACTIVE: (VersionStatus.ACTIVE, VersionStatus.SUPERSEDED),
    VersionStatus.SUPERSEDED: (VersionStatus.SUPERSEDED,),
}
_SIGNATURE_FIELDS = (
    "patient_signature",
    "patient_signed_name",
    "patient_signed_on",
    "patient_declined_reason",
    "patient_signature_by",
    "patient_signature_at",
)


def _version_constraints() -> list[models.BaseConstraint]:
    draft = models.Q(
        status=VersionStatus.DRAFT,
        signed_at__isnull=True,
        signed_by__isnull=True,
        review_due_on__isnull=True,
        superseded_at__isnull=True,
    )
    signed = models.Q(
        signed_at__isnull=False,
        signed_by__isnull=False,
        review_due_on__isnull=False,
        review_interval_days__isnull=False,
    )
    return [
        models.CheckConstraint(
            condition=models.Q(status__in=VersionStatus.values), name="planversion_status_valid"
        ),
        models.CheckConstraint(
            condition=draft
            | models.Q(status=VersionStatus.ACTIVE, superseded_at__isnull=True) & signed
            | models.Q(status=VersionStatus.SUPERSEDED, superseded_at__isnull=False) & signed,
            name="planversion_signature_matches_status",
        ),
        models.CheckConstraint(
            condition=models.Q(number__gte=1), name="planversion_number_positive"
        ),
        # The first version has no trigger; a review says what led to it and why.
        models.CheckConstraint(
            condition=models.Q(number=1, trigger="", why="")
            | models.Q(number__gt=1, trigger__in=ReviewTrigger.values) & ~models.Q(why=""),
            name="planversion_review_has_trigger_and_why",
        ),
        models.CheckConstraint(
            condition=models.Q(source_id__isnull=True) | ~models.Q(source_type=""),
            name="planversion_source_has_type",
        ),
        models.CheckConstraint(
            condition=models.Q(
                patient_signature=PatientSignature.NOT_YET,
                patient_signed_name="",
                patient_signed_on__isnull=True,
                patient_declined_reason="",
            )
            | models.Q(
                patient_signature=PatientSignature.SIGNED,
                patient_signed_on__isnull=False,
                patient_declined_reason="",
            )
            & ~models.Q(patient_signed_name="")
            | models.Q(
                patient_signature=PatientSignature.DECLINED,
                patient_signed_name="",
                patient_signed_on__isnull=True,
            )
            & ~models.Q(patient_declined_reason=""),
            name="planversion_patient_signature_complete",
        ),
        models.UniqueConstraint(fields=["plan", "number"], name="planversion_number_unique"),
        models.UniqueConstraint(
            fields=["plan"],
            condition=models.Q(status=VersionStatus.DRAFT),
            name="planversion_one_draft",
        ),
        models.UniqueConstraint(
            fields=["plan"],
            condition=models.Q(status=VersionStatus.ACTIVE),
            name="planversion_one_active",
        ),
    ]


class PlanVersion(TenantScoped):
    """One version of the plan: its contents (problems, goals, objectives,
    interventions: see content.py), the patient's own words and signature, and for a
    review what led to it (trigger, source) and why."""

    # What a signed version says: frozen once it leaves the draft.
    FROZEN: ClassVar[tuple[str, ...]] = (
        "plan",
        "number",
        "author",
        "based_on",
        "patient_words",
        "trigger",
        "source_type",
        "source_id",
        "why",
        "change_summary",
        "review_interval_days",
        "review_due_on",
        "signed_at",
        "signed_by",
    )

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # What the patient wants from treatment, in their own words.
    patient_words = models.TextField(blank=True)
    patient_signature = models.CharField(
        max_length=10, choices=PatientSignature.choices, default=PatientSignature.NOT_YET
    )
    patient_signed_name = models.CharField(max_length=200, blank=True)
    patient_signed_on = models.DateField(null=True, blank=True)
    patient_declined_reason = models.TextField(blank=True)
    patient_signature_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    patient_signature_at = models.DateTimeField(null=True, blank=True)
    # A review: what led to it, the record that did (a relapse event's public id, a
    # stay's; no foreign key, the record lives in another app), and why.
    trigger = models.CharField(max_length=20, choices=ReviewTrigger.choices, blank=True)
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.UUIDField(null=True, blank=True)
    why = models.TextField(blank=True)
    # Set when signed: what changed since the version it replaces, in plain sentences.
    change_summary = models.JSONField(default=list, blank=True)
    review_interval_days = models.PositiveSmallIntegerField(null=True, blank=True)
    review_due_on = models.DateField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan_id", "-number"]
        constraints = _version_constraints()
        indexes = [
            models.Index(fields=["organization", "plan", "status"], name="planversion_plan_idx"),
        ]

    def __str__(self) -> str:
        return f"Plan version {self.number} ({self.status})"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def is_active(self) -> bool:
        return self.status == VersionStatus.ACTIVE

    @property
    def is_review(self) -> bool:
        return self.number > 1

    @property
    def awaits_patient_signature(self) -> bool:
        return self.patient_signature == PatientSignature.NOT_YET

    # Immutability: what was loaded is kept, and save() compares against it.

    @classmethod
    def from_db(cls, *args: Any, **kwargs: Any) -> Any:
        instance = super().from_db(*args, **kwargs)
        instance._remember()
        return instance

    def _attnames(self, names: tuple[str, ...]) -> list[str]:
        return [self._meta.get_field(name).attname for name in names]  # type: ignore[union-attr]

    def _remember(self) -> None:
        loaded = self.__dict__
        names = self._attnames(self.FROZEN + _SIGNATURE_FIELDS)
        self._stored = {
            "status": loaded.get("status"),
            **{name: copy.deepcopy(loaded[name]) for name in names if name in loaded},
        }

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        super().refresh_from_db(*args, **kwargs)
        self._remember()

    def _stored_row(self) -> dict[str, Any]:
        if hasattr(self, "_stored"):
            return dict(self._stored)
        names = self._attnames(self.FROZEN + _SIGNATURE_FIELDS)
        row = type(self)._default_manager.filter(pk=self.pk).values("status", *names).first()
        return row or {}

    def save(self, *args: Any, **kwargs: Any) -> None:
        stored = self._stored_row() if self.pk is not None else {}
        status = stored.pop("status", None)
        if status not in (None, VersionStatus.DRAFT):
            self._check_signed_change(str(status), stored)
        super().save(*args, **kwargs)
        self._remember()

    def _check_signed_change(self, status: str, stored: dict[str, Any]) -> None:
        changed = [name for name, value in stored.items() if self.__dict__.get(name) != value]
        signature = set(self._attnames(_SIGNATURE_FIELDS))
        content = [name for name in changed if name not in signature]
        if content:
            raise SignedPlanChanged(f"{IMMUTABLE} (changed: {', '.join(content)})")
        if changed and not (
            status == VersionStatus.ACTIVE
            and stored.get("patient_signature") == PatientSignature.NOT_YET
        ):
            raise SignedPlanChanged("The patient's signature of a signed version is final.")
        if self.status not in _NEXT_STATUSES.get(status, ()):
            raise SignedPlanChanged(f"A plan version that is {status} cannot become {self.status}.")

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise SignedPlanChanged("Plan versions are never deleted.")
