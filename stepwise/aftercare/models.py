"""The aftercare plan, its append-only history, its check-ins and the organization's
aftercare settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from stepwise.aftercare.rules import checkin as checkin_rules
from stepwise.aftercare.rules import plan as plan_rules
from stepwise.aftercare.rules import schedule as schedule_rules
from stepwise.core.models import Organization, TenantScoped, TimeStamped
from stepwise.patients.models import Patient


class CheckinMethod(models.TextChoices):
    PHONE = "phone", "Phone call"
    PORTAL = "portal", "Patient portal"
    IN_PERSON = "in_person", "In person"


assert [(c, str(t)) for c, t in CheckinMethod.choices] == list(checkin_rules.METHODS)


class AftercareSettings(TimeStamped):
    """The organization's check-in schedule and the crisis line its plans show."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="aftercare_settings"
    )
    weekly_checkins = models.PositiveSmallIntegerField(default=schedule_rules.WEEKLY_DEFAULT)
    monthly_interval = models.PositiveSmallIntegerField(default=schedule_rules.MONTHS_DEFAULT)
    # Hours after the end of its day before a check-in not recorded counts as missed.
    grace_hours = models.PositiveSmallIntegerField(default=schedule_rules.GRACE_DEFAULT)
    default_method = models.CharField(
        max_length=10, choices=CheckinMethod.choices, default=CheckinMethod.PHONE
    )
    # The program's own 24/7 line, shown on every crisis plan next to 988.
    crisis_line_name = models.CharField(max_length=120, blank=True)
    crisis_line_phone = models.CharField(max_length=40, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    weekly_checkins__gte=0, weekly_checkins__lte=schedule_rules.WEEKLY_MAX
                ),
                name="aftercare_weekly_range",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    monthly_interval__gte=1, monthly_interval__lte=schedule_rules.MONTHS_MAX
                ),
                name="aftercare_monthly_range",
            ),
            models.CheckConstraint(
                condition=models.Q(grace_hours__gte=1, grace_hours__lte=schedule_rules.GRACE_MAX),
                name="aftercare_grace_range",
            ),
            models.CheckConstraint(
                condition=models.Q(default_method__in=CheckinMethod.values),
                name="aftercare_method_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Aftercare settings of {self.organization_id}"

    @property
    def taper(self) -> schedule_rules.Taper:
        return schedule_rules.Taper(self.weekly_checkins, self.monthly_interval)


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft (being written)"
    ACTIVE = "active", "Active (reviewed with the patient)"
    ENDED = "ended", "Ended by the patient"


assert PlanStatus.values == [s.value for s in plan_rules.Status]


def _sections() -> list[str]:
    return [s.value for s in plan_rules.Section]


class AftercarePlan(TenantScoped):
    """One patient's aftercare plan. Open-ended: it has no end date, and it carries on
    across episodes and levels of care until the patient chooses to end it (it can be
    restarted). Its sections hold the current text; every earlier version is kept in
    its history (PlanChange)."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="aftercare")
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # The last review with the patient (who went through it with them, when).
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_note = models.TextField(blank=True)
    # The patient's own ending: the day they chose and their reason.
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The sections, as checked by rules.plan (JSON lists).
    supports = models.JSONField(default=list, blank=True)
    triggers = models.JSONField(default=list, blank=True)
    people_to_avoid = models.JSONField(default=list, blank=True)
    coping_strategies = models.JSONField(default=list, blank=True)
    warning_signs = models.JSONField(default=list, blank=True)
    emergency_contacts = models.JSONField(default=list, blank=True)
    crisis_steps = models.JSONField(default=list, blank=True)
    # Counts every change, for the history's order and to catch two people editing at once.
    revision = models.PositiveIntegerField(default=0)
    # The check-in schedule: its first day (empty while none runs: in care, ended) and the
    # taper it was started with, so a later settings change does not reshuffle it.
    checkins_from = models.DateField(null=True, blank=True)
    # The last day check-ins exist for; the hourly sweep extends it to the horizon.
    checkins_through = models.DateField(null=True, blank=True)
    taper_weeks = models.PositiveSmallIntegerField(default=schedule_rules.WEEKLY_DEFAULT)
    taper_months = models.PositiveSmallIntegerField(default=schedule_rules.MONTHS_DEFAULT)
    checkin_method = models.CharField(
        max_length=10, choices=CheckinMethod.choices, default=CheckinMethod.PHONE
    )
    time_zone = models.CharField(max_length=64, default="UTC")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PlanStatus.values), name="aftercare_plan_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=PlanStatus.ACTIVE)
                | models.Q(reviewed_at__isnull=False, reviewed_by__isnull=False),
                name="aftercare_plan_active_reviewed",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=PlanStatus.ENDED)
                | (models.Q(ended_on__isnull=False) & ~models.Q(end_reason="")),
                name="aftercare_plan_ended_has_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(checkin_method__in=CheckinMethod.values),
                name="aftercare_plan_method_valid",
            ),
        ]
        indexes = [
            # The sweep: active plans with a running schedule.
            models.Index(
                fields=["organization", "status", "checkins_from"], name="aftercare_plan_sched_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Aftercare plan of {self.patient_id} ({self.status})"

    def entries(self, section: plan_rules.Section) -> list[Any]:
        return plan_rules.load_section(section, getattr(self, section.value))

    @property
    def taper(self) -> schedule_rules.Taper:
        return schedule_rules.Taper(self.taper_weeks, self.taper_months)

    @property
    def is_ended(self) -> bool:
        return self.status == PlanStatus.ENDED


class ChangeKind(models.TextChoices):
    STARTED = "started", "Plan started"
    SECTION = "section", "Section changed"
    REVIEWED = "reviewed", "Reviewed with the patient"
    ENDED = "ended", "Ended by the patient"
    RESTARTED = "restarted", "Restarted"
    SCHEDULE = "schedule", "Check-in schedule"


class PlanChange(TenantScoped):
    """One change to a plan, kept for good: a section's new text whole, or a step of
    its life (started, reviewed, ended, restarted, check-ins started or paused).
    Append-only, so no edit loses the earlier text."""

    plan = models.ForeignKey(AftercarePlan, on_delete=models.PROTECT, related_name="changes")
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    section = models.CharField(max_length=30, blank=True)
    content = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    at = models.DateTimeField()
    # Empty when Stepwise made the change itself (a discharge started the check-ins).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["plan_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "sequence"], name="aftercare_change_sequence"),
            models.CheckConstraint(
                condition=models.Q(kind__in=ChangeKind.values), name="aftercare_change_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind=ChangeKind.SECTION, section__in=_sections())
                | (~models.Q(kind=ChangeKind.SECTION) & models.Q(section="")),
                name="aftercare_change_section_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Change {self.sequence} of plan {self.plan_id}: {self.kind}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("Plan history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Plan history is append-only.")


class CheckinStatus(models.TextChoices):
    DUE = "due", "Due"
    DONE = "done", "Done"
    MISSED = "missed", "Missed"
    # No longer due: the patient came back into care, ended the plan, or the schedule
    # restarted from a discharge. Kept, never deleted.
    CANCELLED = "cancelled", "No longer due"


def _range(field: str, low: int, high: int) -> models.Q:
    return models.Q(**{f"{field}__gte": low, f"{field}__lte": high})


class Checkin(TenantScoped):
    """One check-in of the plan: due on a day (or unscheduled, when the patient called),
    then recorded with how the patient is doing, or missed."""

    plan = models.ForeignKey(AftercarePlan, on_delete=models.PROTECT, related_name="checkins")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    scheduled = models.BooleanField(default=True)
    time_zone = models.CharField(max_length=64)
    method = models.CharField(max_length=10, choices=CheckinMethod.choices)
    status = models.CharField(
        max_length=10, choices=CheckinStatus.choices, default=CheckinStatus.DUE
    )
    missed_at = models.DateTimeField(null=True, blank=True)
    cancelled_why = models.CharField(max_length=200, blank=True)
    # What was recorded: when it took place, by whom, and the patient's answers.
    happened_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    wellbeing = models.PositiveSmallIntegerField(
        null=True, blank=True, choices=checkin_rules.WELLBEING
    )
    craving = models.PositiveSmallIntegerField(null=True, blank=True)
    used = models.BooleanField(null=True, blank=True)
    substances = models.JSONField(default=list, blank=True)  # TEDS codes
    used_on = models.DateField(null=True, blank=True)
    supports_attended = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    # The relapse event proposed from a report of use, when one was.
    relapse_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=CheckinStatus.values),
                name="aftercare_checkin_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(method__in=CheckinMethod.values),
                name="aftercare_checkin_method_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=CheckinStatus.DONE)
                | models.Q(
                    happened_at__isnull=False,
                    recorded_at__isnull=False,
                    recorded_by__isnull=False,
                    wellbeing__isnull=False,
                    craving__isnull=False,
                    used__isnull=False,
                ),
                name="aftercare_checkin_done_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(wellbeing__isnull=True) | _range("wellbeing", 1, 5),
                name="aftercare_checkin_wellbeing_1_5",
            ),
            models.CheckConstraint(
                condition=models.Q(craving__isnull=True)
                | _range("craving", 0, checkin_rules.CRAVING_MAX),
                name="aftercare_checkin_craving_0_10",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=CheckinStatus.MISSED)
                | models.Q(missed_at__isnull=False),
                name="aftercare_checkin_missed_has_time",
            ),
            # One live check-in a day per plan: regenerating a schedule never doubles one.
            models.UniqueConstraint(
                fields=["plan", "due_on"],
                condition=models.Q(scheduled=True) & ~models.Q(status="cancelled"),
                name="aftercare_checkin_one_per_day",
            ),
        ]
        indexes = [
            # The sweep and the worklist: due check-ins by day.
            models.Index(
                fields=["organization", "status", "due_on"], name="aftercare_checkin_due_idx"
            ),
            # A patient's check-ins page.
            models.Index(
                fields=["organization", "patient", "due_on"], name="aftercare_checkin_pt_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Check-in of {self.patient_id} due {self.due_on} ({self.status})"

    @property
    def wellbeing_label(self) -> str:
        return checkin_rules.wellbeing_label(self.wellbeing)

    @property
    def substance_labels(self) -> list[str]:
        return checkin_rules.substance_labels(list(self.substances or []))

    @property
    def is_open(self) -> bool:
        return self.status in (CheckinStatus.DUE, CheckinStatus.MISSED)
