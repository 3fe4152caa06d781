"""The demo's aftercare: a plan being written for everyone in outpatient care, the
discharged patients' active plans with the calls they made (one reporting use, which
proposes a relapse), and check-ins the sweep marks missed once their day and grace
have passed, with outreach for the case manager; loaded once."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import time_machine
from django.core.management import call_command

from stepwise.aftercare.models import AftercarePlan, Checkin, PlanChange
from stepwise.aftercare.rules.schedule import missed_after
from stepwise.aftercare.services.common import settings_of
from stepwise.aftercare.services.sweep import aftercare_sweep
from stepwise.care.models import Stay
from stepwise.core.audit import audit_verify
from stepwise.core.models import Organization
from stepwise.patients.models import Task
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

    # Nothing is overdue at load time (schedules start today); once the first
    # check-in's day and grace have passed, the sweep marks it and asks the case manager.
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
