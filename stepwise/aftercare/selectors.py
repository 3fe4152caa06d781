"""Reads of aftercare plans and check-ins: scoped to the organization, behind the
care team, audited, in a fixed number of queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from stepwise.aftercare.models import (
    AftercarePlan,
    AftercareSettings,
    Checkin,
    CheckinStatus,
    PlanChange,
    PlanStatus,
)
from stepwise.aftercare.rules import crisis as crisis_rules
from stepwise.aftercare.rules import plan as rules
from stepwise.aftercare.rules.schedule import GRACE_DEFAULT, describe, local_day, missed_after
from stepwise.aftercare.services.common import CATEGORY, settings_of
from stepwise.care.chart import patient_access, record_read
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import NotFound
from stepwise.core.ids import public_id_or_404
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission, sees_all_patients
from stepwise.patients.access import AccessBasis, cared_for
from stepwise.patients.models import Patient

HISTORY_LIMIT = 500
CHECKINS_LIMIT = 1000
UPCOMING_SHOWN = 3
PRINTED_CHECKINS = 6
WORKLIST_LIMIT = 200
# Missed check-ins stay on the worklist this long, unless recorded late.
WORKLIST_MISSED_DAYS = 30


@dataclass
class PlanView:
    """A plan with its sections as values, in the order the pages show them."""

    plan: AftercarePlan
    sections: dict[rules.Section, list[Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, plan: AftercarePlan) -> PlanView:
        return cls(plan, {s: plan.entries(s) for s in rules.SECTION_LABELS})

    @property
    def supports(self) -> list[rules.Support]:
        return self.sections[rules.Section.SUPPORTS]

    def shown(self) -> list[tuple[rules.Section, str, str, list[Any]]]:
        """(section, staff label, the patient's heading, entries), in page order."""
        return [
            (s, label, rules.PATIENT_HEADINGS[s], self.sections[s])
            for s, label in rules.SECTION_LABELS.items()
        ]

    @property
    def schedule_text(self) -> str:
        return describe(self.plan.taper)


def _plans(actor: Actor) -> Any:
    return AftercarePlan.objects.filter(organization_id=actor.organization_id).select_related(
        "started_by", "reviewed_by", "ended_by"
    )


def _plan_of(actor: Actor, patient: Patient) -> AftercarePlan | None:
    plan = _plans(actor).filter(patient=patient).first()
    if plan is not None:
        plan.patient = patient
    return plan


def _audit_read(
    actor: Actor,
    patient: Patient,
    basis: AccessBasis,
    object_type: str,
    object_id: uuid.UUID,
    detail: dict[str, str] | None = None,
) -> None:
    record_read(
        actor,
        patient,
        basis,
        category=CATEGORY,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )


@dataclass(frozen=True)
class PlanPage:
    patient: Patient
    view: PlanView | None
    settings: AftercareSettings
    upcoming: list[Checkin]

    @property
    def plan(self) -> AftercarePlan | None:
        return self.view.plan if self.view else None

    def crisis_lines(self, organization_name: str) -> crisis_rules.CrisisLines:
        """What the plan's crisis section shows: 988, the program's number, 911."""
        found = self.settings
        steps = self.view.sections[rules.Section.CRISIS] if self.view else []
        return crisis_rules.crisis_lines(
            organization_name,
            crisis_rules.Number(found.crisis_line_name, found.crisis_line_phone),
            steps,
        )


def _upcoming(plan: AftercarePlan | None, limit: int) -> list[Checkin]:
    if plan is None:
        return []
    return list(
        Checkin.objects.filter(
            organization_id=plan.organization_id, plan=plan, status=CheckinStatus.DUE
        ).order_by("due_on", "id")[:limit]
    )


def _page(actor: Actor, patient: Patient, upcoming: int) -> PlanPage:
    plan = _plan_of(actor, patient)
    return PlanPage(
        patient=patient,
        view=PlanView.of(plan) if plan else None,
        settings=settings_of(actor.organization_id),
        upcoming=_upcoming(plan, upcoming),
    )


def plan_page_read(
    actor: Actor, public_id: uuid.UUID | str, *, permission: Permission = Permission.CHART_READ
) -> PlanPage:
    """The patient's plan (or None when none was started), the crisis line it shows
    and the next check-ins, with its audit row."""
    patient, basis = patient_access(actor, public_id, permission=permission, category=CATEGORY)
    page = _page(actor, patient, UPCOMING_SHOWN)
    _audit_read(
        actor,
        patient,
        basis,
        "aftercare_plan",
        page.plan.public_id if page.plan else patient.public_id,
    )
    return page


def plan_printout_read(actor: Actor, public_id: uuid.UUID | str) -> PlanPage:
    """The plan as printed for the patient; its audit row is an export (a read when
    there is no plan yet, and nothing to print)."""
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=CATEGORY
    )
    page = _page(actor, patient, PRINTED_CHECKINS)
    if page.plan is None:
        _audit_read(actor, patient, basis, "aftercare_plan", patient.public_id)
        return page
    with transaction.atomic():
        audit_record(
            action=AuditAction.EXPORT,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="aftercare_plan",
            object_id=page.plan.public_id,
            detail={
                "format": "pdf",
                **({"access": basis.value} if basis is AccessBasis.BREAK_GLASS else {}),
            },
        )
    return page


def plan_for_write(
    actor: Actor, public_id: uuid.UUID | str
) -> tuple[Patient, AftercarePlan | None]:
    """The patient and their plan, for a write (the service audits what it does)."""
    patient, _ = patient_access(
        actor, public_id, permission=Permission.RECOVERY_WRITE, category=CATEGORY
    )
    return patient, _plan_of(actor, patient)


def plan_history_read(
    actor: Actor, public_id: uuid.UUID | str
) -> tuple[Patient, AftercarePlan | None, list[PlanChange]]:
    """Every change to the plan, newest first: each section's text as it was saved."""
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=CATEGORY
    )
    plan = _plan_of(actor, patient)
    changes: list[PlanChange] = []
    if plan is not None:
        changes = list(
            PlanChange.objects.filter(organization_id=actor.organization_id, plan=plan)
            .select_related("by")
            .order_by("-sequence")[:HISTORY_LIMIT]
        )
    _audit_read(
        actor,
        patient,
        basis,
        "aftercare_plan_history",
        plan.public_id if plan else patient.public_id,
        {"shown": str(len(changes))},
    )
    return patient, plan, changes


# Check-ins


@dataclass(frozen=True)
class CheckinsPage:
    patient: Patient
    plan: AftercarePlan | None
    upcoming: list[Checkin]
    missed: list[Checkin]
    done: list[Checkin]
    stopped: list[Checkin]
    today: date

    @property
    def recordable(self) -> list[Checkin]:
        """Open check-ins a record may fulfil: missed ones, and those due up to a week ahead."""
        soon = self.today + timedelta(days=7)
        return [c for c in [*self.missed, *self.upcoming] if c.due_on <= soon]


def checkins_read(
    actor: Actor,
    public_id: uuid.UUID | str,
    now: datetime,
    *,
    permission: Permission = Permission.CHART_READ,
) -> CheckinsPage:
    """The plan's check-ins: upcoming, missed, done (newest first) and no longer due."""
    patient, basis = patient_access(actor, public_id, permission=permission, category=CATEGORY)
    plan = _plan_of(actor, patient)
    rows: list[Checkin] = []
    if plan is not None:
        rows = list(
            Checkin.objects.filter(organization_id=actor.organization_id, plan=plan)
            .select_related("recorded_by")
            .order_by("-due_on", "-id")[:CHECKINS_LIMIT]
        )
    by_status: dict[str, list[Checkin]] = {s: [] for s in CheckinStatus.values}
    for row in rows:
        by_status[row.status].append(row)
    _audit_read(
        actor,
        patient,
        basis,
        "aftercare_checkins",
        plan.public_id if plan else patient.public_id,
        {"shown": str(len(rows))},
    )
    return CheckinsPage(
        patient=patient,
        plan=plan,
        upcoming=list(reversed(by_status[CheckinStatus.DUE])),
        missed=by_status[CheckinStatus.MISSED],
        done=by_status[CheckinStatus.DONE],
        stopped=by_status[CheckinStatus.CANCELLED],
        today=local_day(now, plan.time_zone if plan else "UTC"),
    )


def checkin_read(
    actor: Actor,
    public_id: uuid.UUID | str,
    checkin_id: uuid.UUID | str,
    *,
    permission: Permission = Permission.CHART_READ,
    audited: bool = True,
) -> tuple[Patient, AftercarePlan, Checkin]:
    """One check-in of the patient's plan, with its audit row (unless the caller is a
    write, which its service audits)."""
    patient, basis = patient_access(actor, public_id, permission=permission, category=CATEGORY)
    plan = _plan_of(actor, patient)
    key = public_id_or_404(checkin_id)
    found = None
    if plan is not None:
        found = (
            Checkin.objects.filter(organization_id=actor.organization_id, plan=plan, public_id=key)
            .select_related("recorded_by")
            .first()
        )
    if plan is None or found is None:
        raise NotFound()
    if audited:
        _audit_read(actor, patient, basis, "aftercare_checkin", found.public_id)
    return patient, plan, found


# The chart's panel and the worklist's section


def _summary_query(actor: Actor) -> Any:
    checkins = Checkin.objects.filter(plan=OuterRef("pk"))
    return _plans(actor).annotate(
        next_due=Subquery(
            checkins.filter(status=CheckinStatus.DUE).order_by("due_on").values("due_on")[:1]
        ),
        missed_count=Coalesce(
            Subquery(
                checkins.filter(status=CheckinStatus.MISSED)
                .order_by()
                .values("plan")
                .annotate(n=Count("id"))
                .values("n")[:1],
                output_field=IntegerField(),
            ),
            0,
        ),
        last_done=Subquery(
            checkins.filter(status=CheckinStatus.DONE)
            .order_by("-happened_at")
            .values("happened_at")[:1]
        ),
        last_wellbeing=Subquery(
            checkins.filter(status=CheckinStatus.DONE)
            .order_by("-happened_at")
            .values("wellbeing")[:1]
        ),
    )


def chart_summary(actor: Actor, patient: Patient) -> AftercarePlan | None:
    """The plan with its next check-in, missed count and last check-in: one query,
    plan or none. Audited by the chart read that calls it."""
    plan = _summary_query(actor).filter(patient=patient).first()
    if plan is not None:
        plan.patient = patient
    return plan


@dataclass(frozen=True)
class WorklistRow:
    checkin: Checkin
    state: str  # "due today", "overdue", "missed"
    missed_from: datetime | None = None


def worklist_checkins(actor: Actor, now: datetime) -> list[WorklistRow]:
    """Check-ins due today or overdue, and missed in the last weeks, of the patients the
    actor looks after (the organization's for facility-wide roles): one query. A
    check-in past its grace shows as missed even before the sweep marks it."""
    utc_today = now.date()
    rows = Checkin.objects.filter(
        organization_id=actor.organization_id, plan__status=PlanStatus.ACTIVE
    ).filter(
        Q(status=CheckinStatus.DUE, due_on__lte=utc_today + timedelta(days=1))
        | Q(
            status=CheckinStatus.MISSED,
            due_on__gte=utc_today - timedelta(days=WORKLIST_MISSED_DAYS),
        )
    )
    if not sees_all_patients(actor.role):
        patients = Patient.objects.filter(organization_id=actor.organization_id)
        rows = rows.filter(patient__in=cared_for(actor, patients, now))
    # The grace comes along in the same query, so the section costs one query always.
    grace_hours = Subquery(
        AftercareSettings.objects.filter(organization_id=OuterRef("organization_id")).values(
            "grace_hours"
        )[:1],
        output_field=IntegerField(),
    )
    found = (
        rows.select_related("patient")
        .annotate(grace=Coalesce(grace_hours, GRACE_DEFAULT))
        .order_by("due_on", "id")[:WORKLIST_LIMIT]
    )
    shown: list[WorklistRow] = []
    for row in found:
        if row.status == CheckinStatus.MISSED:
            shown.append(WorklistRow(row, "missed", row.missed_at))
            continue
        today = local_day(now, row.time_zone)
        if row.due_on > today:
            continue  # due tomorrow where the patient is
        if row.due_on == today:
            shown.append(WorklistRow(row, "due today"))
            continue
        late = missed_after(row.due_on, row.time_zone, row.grace)
        shown.append(WorklistRow(row, "missed" if now >= late else "overdue", late))
    return shown
