"""The hourly sweep: a check-in not recorded is marked missed once its grace has
passed, with an outreach task for the case manager (or the whole care team) that
leads to the check-in; running it again raises nothing new; schedules keep being
made ahead."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from django.core.management import call_command
from django.utils import timezone

from stepwise.aftercare.models import AftercarePlan, AftercareSettings, Checkin
from stepwise.aftercare.rules.checkin import Report
from stepwise.aftercare.rules.schedule import HORIZON, missed_after
from stepwise.aftercare.services.checkins import checkin_record
from stepwise.aftercare.services.sweep import aftercare_sweep
from stepwise.aftercare.tests.support import discharged
from stepwise.core.models import AuditEvent
from stepwise.patients.models import CareTeamMember, Task
from stepwise.patients.tasks import worklist_tasks

NEW_YORK = ZoneInfo("America/New_York")


def first_due(cast: Any) -> Checkin:
    return Checkin.objects.filter(plan__patient=cast.patient, status="due").order_by("due_on")[0]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK)


def test_a_check_in_is_missed_a_day_after_its_day_and_reaches_the_whole_team(cast):
    discharged(cast)
    due = first_due(cast)
    # Its day ends at midnight; 24 hours of grace (the default) end the next midnight
    # (an hour off when the clocks change that night: the grace is in real hours).
    ends = missed_after(due.due_on, "America/New_York", 24)
    assert ends.astimezone(NEW_YORK).date() in (
        due.due_on + timedelta(days=1),
        due.due_on + timedelta(days=2),
    )
    with time_machine.travel(ends - timedelta(minutes=30), tick=False):
        assert aftercare_sweep(cast.org.pk).missed == 0
    with time_machine.travel(ends + timedelta(minutes=10), tick=False):
        result = aftercare_sweep(cast.org.pk)
        assert result.missed == 1
        due.refresh_from_db()
        assert due.status == "missed" and due.missed_at == timezone.now()
        (task,) = Task.objects.filter(kind="aftercare_outreach")
        assert task.source_id == due.public_id and task.for_role == ""
        assert task.due_at == timezone.now()
        assert f"due {due.due_on:%a %Y-%m-%d}" in task.detail
        views = worklist_tasks(cast.actors["owner"], timezone.now())
        (view,) = [v for v in views if v.task.pk == task.pk]
        assert view.url == f"/aftercare/patients/{cast.patient.public_id}/checkins/{due.public_id}/"
        (row,) = AuditEvent.objects.filter(object_type="aftercare_checkin", object_id=due.public_id)
        assert row.actor_username == "stepwise (aftercare sweep)"
        assert row.detail["status"] == ["due", "missed"]


def test_running_the_sweep_again_raises_nothing_new(cast):
    discharged(cast)
    due = first_due(cast)
    later = local(due.due_on + timedelta(days=3), 9)
    with time_machine.travel(later, tick=False):
        assert aftercare_sweep(cast.org.pk).missed == 1
        assert aftercare_sweep(cast.org.pk).missed == 0
    # Even after the task is closed, the missed check-in is not raised again.
    Task.objects.filter(kind="aftercare_outreach").update(
        status="done", closed_at=timezone.now(), close_note="Left a message"
    )
    with time_machine.travel(later + timedelta(hours=5), tick=False):
        assert aftercare_sweep(cast.org.pk).missed == 0
    assert Task.objects.filter(kind="aftercare_outreach").count() == 1


def test_the_task_goes_to_the_case_manager_when_the_team_has_one(cast):
    cast.new_member("case_manager")
    CareTeamMember.objects.create(
        organization=cast.org,
        patient=cast.patient,
        user=cast.users["case_manager"],
        team_role="case_manager",
    )
    discharged(cast)
    due = first_due(cast)
    with time_machine.travel(local(due.due_on + timedelta(days=3), 9), tick=False):
        aftercare_sweep(cast.org.pk)
        (task,) = Task.objects.filter(kind="aftercare_outreach")
        assert task.for_role == "case_manager"
        assert [v.task for v in worklist_tasks(cast.actors["case_manager"], timezone.now())] == [
            task
        ]
        assert task not in [v.task for v in worklist_tasks(cast.actors["owner"], timezone.now())]


def test_the_grace_is_the_organizations(cast):
    AftercareSettings.objects.create(organization=cast.org, grace_hours=2)
    discharged(cast)
    due = first_due(cast)
    with time_machine.travel(local(due.due_on + timedelta(days=1), 1, 30), tick=False):
        assert aftercare_sweep(cast.org.pk).missed == 0
    with time_machine.travel(missed_after(due.due_on, "America/New_York", 2), tick=False):
        assert aftercare_sweep(cast.org.pk).missed == 1


def test_a_missed_check_in_recorded_late_closes_its_task(cast):
    discharged(cast)
    due = first_due(cast)
    with time_machine.travel(local(due.due_on + timedelta(days=2), 10), tick=False):
        aftercare_sweep(cast.org.pk)
        plan = AftercarePlan.objects.get(patient=cast.patient)
        due.refresh_from_db()
        done = checkin_record(
            cast.actors["owner"],
            plan,
            Report(wellbeing=2, craving=6, used=False, note="Phone was off"),
            method="phone",
            checkin=due,
        )
        assert done.status == "done"
        (task,) = Task.objects.filter(kind="aftercare_outreach")
        assert task.status == "done" and task.close_note.startswith("Reached")


def test_schedules_are_kept_made_ahead_without_doubles(cast):
    discharged(cast)
    plan = AftercarePlan.objects.get(patient=cast.patient)
    first = set(Checkin.objects.filter(plan=plan).values_list("due_on", flat=True))
    later = timezone.now() + timedelta(days=200)
    with time_machine.travel(later, tick=False):
        result = aftercare_sweep(cast.org.pk)
        assert result.made >= 6
        days = list(Checkin.objects.filter(plan=plan).values_list("due_on", flat=True))
        assert len(days) == len(set(days))
        assert first <= set(days)
        horizon = later.astimezone(NEW_YORK).date() + HORIZON
        assert max(days) <= horizon and max(days) > horizon - timedelta(days=31)
        assert aftercare_sweep(cast.org.pk).made == 0


def test_the_command_sweeps_every_organization_and_says_what_it_did(cast):
    discharged(cast)
    due = first_due(cast)
    with time_machine.travel(local(due.due_on + timedelta(days=3), 9), tick=False):
        out = io.StringIO()
        call_command("aftercare_sweep", stdout=out)
        lines = out.getvalue().splitlines()
        assert re.fullmatch(
            r"riverside: \d+ check-ins made ahead, 1 missed \(outreach raised\)", lines[0]
        )
        assert lines[1] == "harbor: 0 check-ins made ahead, 0 missed (outreach raised)"
        again = io.StringIO()
        call_command("aftercare_sweep", stdout=again)
        assert "riverside: 0 check-ins made ahead, 0 missed" in again.getvalue()
    assert Task.objects.filter(kind="aftercare_outreach").count() == 1
