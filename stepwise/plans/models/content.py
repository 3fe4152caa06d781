"""What a plan version holds: problems (each tied to an ASAM dimension), goals per
problem, measurable objectives per goal, and interventions per problem or goal.

Each row carries its version (for one query per kind) and a `key` that a review
copies into the next version, so an item is followed through revisions. Rows of a
signed version are never changed or deleted (save() and delete() refuse)."""

from __future__ import annotations

from typing import Any

from django.db import models

from stepwise.core.models import TenantScoped
from stepwise.plans.models.plan import IMMUTABLE, PlanVersion, SignedPlanChanged, VersionStatus
from stepwise.plans.rules import content as rules
from stepwise.scheduling.models import SessionType


class ObjectiveStatus(models.TextChoices):
    OPEN = "open", rules.OBJECTIVE_STATUSES["open"]
    MET = "met", rules.OBJECTIVE_STATUSES["met"]
    REVISED = "revised", rules.OBJECTIVE_STATUSES["revised"]
    DISCONTINUED = "discontinued", rules.OBJECTIVE_STATUSES["discontinued"]


class InterventionKind(models.TextChoices):
    SESSION = "session", rules.INTERVENTION_KINDS["session"]
    MEDICATION = "medication", rules.INTERVENTION_KINDS["medication"]
    REFERRAL = "referral", rules.INTERVENTION_KINDS["referral"]
    OTHER = "other", rules.INTERVENTION_KINDS["other"]


class PlanItem(TenantScoped):
    """What every item of a version shares: its version, key and place."""

    version = models.ForeignKey(PlanVersion, on_delete=models.PROTECT, related_name="+")
    key = models.UUIDField()
    position = models.PositiveSmallIntegerField()

    class Meta:
        abstract = True

    def _version_status(self) -> str | None:
        """The stored status of its version (read, never taken from a cached copy)."""
        return (
            PlanVersion.objects.filter(pk=self.version_id).values_list("status", flat=True).first()
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._version_status() not in (None, VersionStatus.DRAFT):
            raise SignedPlanChanged(IMMUTABLE)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._version_status() not in (None, VersionStatus.DRAFT):
            raise SignedPlanChanged(IMMUTABLE)
        return super().delete(*args, **kwargs)


def _item_constraints(prefix: str) -> list[models.BaseConstraint]:
    return [
        models.UniqueConstraint(fields=["version", "key"], name=f"{prefix}_key_unique"),
    ]


def _item_indexes(prefix: str) -> list[models.Index]:
    return [models.Index(fields=["organization", "version"], name=f"{prefix}_version_idx")]


class PlanProblem(PlanItem):
    dimension = models.PositiveSmallIntegerField(
        "ASAM dimension", choices=list(rules.DIMENSIONS.items())
    )
    statement = models.TextField()

    class Meta:
        ordering = ["version_id", "position", "id"]
        constraints = [
            *_item_constraints("planproblem"),
            models.CheckConstraint(
                condition=models.Q(dimension__gte=1, dimension__lte=6),
                name="planproblem_dimension_1_6",
            ),
            models.CheckConstraint(condition=~models.Q(statement=""), name="planproblem_statement"),
        ]
        indexes = _item_indexes("planproblem")

    def __str__(self) -> str:
        return f"PlanProblem {self.position + 1} (dimension {self.dimension})"


class PlanGoal(PlanItem):
    problem = models.ForeignKey(PlanProblem, on_delete=models.CASCADE, related_name="goals")
    statement = models.TextField()

    class Meta:
        ordering = ["version_id", "position", "id"]
        constraints = [
            *_item_constraints("plangoal"),
            models.CheckConstraint(condition=~models.Q(statement=""), name="plangoal_statement"),
        ]
        indexes = _item_indexes("plangoal")

    def __str__(self) -> str:
        return f"PlanGoal {self.public_id}"


class PlanObjective(PlanItem):
    """A measurable objective with its target date. Its key stays the same through
    the plan's versions: progress recorded in notes follows it."""

    goal = models.ForeignKey(PlanGoal, on_delete=models.CASCADE, related_name="objectives")
    statement = models.TextField()
    target_on = models.DateField()
    status = models.CharField(
        max_length=12, choices=ObjectiveStatus.choices, default=ObjectiveStatus.OPEN
    )

    class Meta:
        ordering = ["version_id", "position", "id"]
        constraints = [
            *_item_constraints("planobjective"),
            models.CheckConstraint(
                condition=models.Q(status__in=ObjectiveStatus.values),
                name="planobjective_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(statement=""), name="planobjective_statement"
            ),
        ]
        indexes = _item_indexes("planobjective")

    def __str__(self) -> str:
        return f"PlanObjective {self.key}"


class PlanIntervention(PlanItem):
    """What the program does (or the patient does) toward a problem or one of its
    goals: sessions of a type so many times a week, medication, a referral, other."""

    problem = models.ForeignKey(PlanProblem, on_delete=models.CASCADE, related_name="interventions")
    # Empty when the intervention addresses the problem as a whole.
    goal = models.ForeignKey(
        PlanGoal, on_delete=models.CASCADE, null=True, blank=True, related_name="interventions"
    )
    kind = models.CharField(max_length=12, choices=InterventionKind.choices)
    session_type = models.ForeignKey(
        SessionType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sessions_per_week = models.PositiveSmallIntegerField(null=True, blank=True)
    medication = models.CharField(max_length=rules.SHORT_MAX, blank=True)
    referral_to = models.CharField(max_length=rules.SHORT_MAX, blank=True)
    referral_for = models.CharField(max_length=rules.SHORT_MAX, blank=True)
    detail = models.TextField(blank=True)
    responsible_role = models.CharField(
        max_length=20, choices=list(rules.RESPONSIBLE_ROLES.items())
    )

    class Meta:
        ordering = ["version_id", "position", "id"]
        constraints = [
            *_item_constraints("planintervention"),
            models.CheckConstraint(
                condition=models.Q(kind__in=InterventionKind.values),
                name="planintervention_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(responsible_role__in=list(rules.RESPONSIBLE_ROLES)),
                name="planintervention_role_valid",
            ),
            # Each kind has its own fields: sessions a type and a number a week, a
            # medication its name, a referral its recipient, another its description.
            models.CheckConstraint(
                condition=models.Q(
                    kind=InterventionKind.SESSION,
                    session_type__isnull=False,
                    sessions_per_week__gte=rules.PER_WEEK_MIN,
                    sessions_per_week__lte=rules.PER_WEEK_MAX,
                )
                | ~models.Q(kind=InterventionKind.SESSION)
                & models.Q(session_type__isnull=True, sessions_per_week__isnull=True),
                name="planintervention_session_fields",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=InterventionKind.MEDICATION) | ~models.Q(medication=""),
                name="planintervention_medication_named",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=InterventionKind.REFERRAL) | ~models.Q(referral_to=""),
                name="planintervention_referral_to",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind=InterventionKind.OTHER) | ~models.Q(detail=""),
                name="planintervention_other_described",
            ),
        ]
        indexes = _item_indexes("planintervention")

    def __str__(self) -> str:
        return f"PlanIntervention {self.key}"
