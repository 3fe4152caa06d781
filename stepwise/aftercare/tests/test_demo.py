"""The demo's aftercare: a plan being written for everyone in outpatient care, the
discharged patients' active plans with the calls they made (one reporting use, which
proposes a relapse), a check-in already missed at load with its outreach on the case
manager's worklist, and check-ins the sweep marks missed once their day and grace
have passed; loaded once."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.core.management import call_command
from django.utils import timezone

from stepwise.accounts.selectors import actors_by_role
from stepwise.aftercare.models import AftercarePlan, Checkin, PlanChange
from stepwise.aftercare.rules.schedule import missed_after
from stepwise.aftercare.selectors import worklist_checkins
from stepwise.aftercare.services.common import SWEEPER, settings_of
from stepwise.aftercare.services.sweep import aftercare_sweep
from stepwise.care.models import Stay
from stepwise.core.audit import audit_verify
from stepwise.core.models import AuditEvent, Organization
from stepwise.core.roles import Role
from stepwise.patients.models import Task
from stepwise.patients.tasks import worklist_tasks
from stepwise.recovery.models import RelapseEvent

OUTPATIENT = ("Outpatient", "Evening IOP")


def test_the_demo_aftercare_plans_and_check_ins(db: Any) -> None:
    call_command("demo_load", stdout=io.StringIO())
    org = Organization.objects.get(slug="riverside")
    in_outpatient = set(
        Stay.objects.filter(
            organization=org, program__name__in=OUTPATIENT, ended_at__isnull=True
        ).values_list("episode__patient_id", flat=True)
    )
    plans = {p.patient_id: p for p in AftercarePlan.objects.filter(organization=org)}
    assert in_outpatient <= set(plans)
    for patient_id in in_outpatient:
        plan = plans[patient_id]
        assert plan.triggers and plan.coping_strategies and plan.warning_signs
        assert plan.people_to_avoid and plan.emergency_contacts
        assert {s["kind"] for s in plan.supports} >= {"support_group", "therapist"}
    assert sum(1 for p in plans.values() if p.status == "draft") >= 10

    # Discharged patients called in; one reported use, proposing a relapse.
    done = Checkin.objects.filter(organization=org, status="done")
    assert done.values("plan").distinct().count() >= 3
    (reported,) = done.filter(used=True)
    assert reported.relapse_id is not None
    proposal = RelapseEvent.objects.get(public_id=reported.relapse_id)
    assert (proposal.status, proposal.source) == ("proposed", "checkin")

    # A patient who dropped out, reached by the case manager weeks ago: an earlier call
    # answered, the latest not. The sweep at load marked it missed and asked the case
    # manager, whose worklist shows it.
    (missed,) = Checkin.objects.filter(organization=org, status="missed")
    plan = missed.plan
    assert plan.status == "active" and plan.checkins_from is not None
    assert plan.patient.episodes.filter(discharge_reason=2).exists()
    assert missed.scheduled and missed.missed_at is not None
    earlier = Checkin.objects.filter(plan=plan, due_on__lt=missed.due_on)
    assert earlier.exists() and {c.status for c in earlier} == {"done"}
    task = Task.objects.get(kind="aftercare_outreach", source_id=missed.public_id)
    assert task.for_role == "case_manager" and task.status == "open"
    manager = actors_by_role(org.pk)[Role.CASE_MANAGER]
    now = timezone.now()
    assert task.pk in {view.task.pk for view in worklist_tasks(manager, now)}
    assert (missed.pk, "missed") in {
        (r.checkin.pk, r.state) for r in worklist_checkins(manager, now)
    }
    # The real services made it: the review made the check-ins from its day, the sweep
    # marked this one. The review was 20 days back on the facility's calendar, at 11:00
    # there; the task to bring the plan to the patient was closed at load, its note
    # naming that day.
    assert AuditEvent.objects.filter(
        object_id=str(plan.public_id), detail__checkins_backfilled=True
    ).exists()
    assert AuditEvent.objects.filter(
        actor_username=SWEEPER, object_id=str(missed.public_id), detail__task=str(task.public_id)
    ).exists()
    zone = ZoneInfo(plan.time_zone)
    assert plan.reviewed_at is not None
    reviewed = plan.reviewed_at.astimezone(zone)
    assert reviewed.date() == timezone.now().astimezone(zone).date() - timedelta(days=20)
    assert (reviewed.hour, reviewed.minute) == (11, 0)
    assert plan.checkins_from == reviewed.date()
    (plan_task,) = Task.objects.filter(patient=plan.patient, kind="aftercare_plan")
    assert plan_task.status == "done"
    assert plan_task.close_note == f"Plan gone through by phone on {reviewed:%Y-%m-%d}."

    counts = (
        AftercarePlan.objects.count(),
        PlanChange.objects.count(),
        Checkin.objects.count(),
        Task.objects.count(),
    )
    call_command("demo_aftercare", stdout=io.StringIO())
    assert (
        AftercarePlan.objects.count(),
        PlanChange.objects.count(),
        Checkin.objects.count(),
        Task.objects.count(),
    ) == counts
    assert audit_verify() == []

    # Schedules started at load begin today; once the first check-in's day and grace
    # have passed, the sweep marks it and asks the case manager.
    first = (
        Checkin.objects.filter(
            organization=org, status="due", plan__patient__episodes__status="discharged"
        )
        .order_by("due_on")
        .first()
    )
    assert first is not None
    with time_machine.travel(
        missed_after(first.due_on, first.time_zone, settings_of(org.pk).grace_hours)
        + timedelta(minutes=5)
    ):
        assert aftercare_sweep(org.pk).missed >= 1
    first.refresh_from_db()
    assert first.status == "missed"
    task = Task.objects.get(kind="aftercare_outreach", source_id=first.public_id)
    assert task.for_role == "case_manager" and task.status == "open"
