"""Who sees a task meant for one role on their worklist."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.utils import timezone

from stepwise.accounts.models import Membership
from stepwise.core.actor import Actor
from stepwise.patients.models import Task
from stepwise.patients.services import care_team_join
from stepwise.patients.tasks import outreach_role, task_raise, worklist_tasks


def listed(actor: Actor, now: datetime) -> list[Task]:
    return [view.task for view in worklist_tasks(actor, now)]


def test_a_task_for_a_departed_case_manager_falls_to_the_whole_team(cast):
    manager = cast.new_member("case_manager", "manager")
    care_team_join(
        manager, cast.patient, user_id=cast.users["manager"].pk, role="case_manager", why="test"
    )
    now = timezone.now()
    task = task_raise(
        None,
        cast.patient,
        kind="outreach",
        title="Call back",
        due_at=now + timedelta(hours=24),
        source_type="test",
        source_id=uuid.uuid4(),
        for_role=outreach_role(cast.patient),
    )
    assert task.for_role == "case_manager"
    assert listed(manager, now) == [task]
    assert task not in listed(cast.actors["owner"], now)

    # The case manager leaves the organization: the counselor on the team now sees it.
    Membership.objects.filter(user=cast.users["manager"]).update(is_active=False)
    assert task in listed(cast.actors["owner"], now)


def test_a_task_for_a_role_nobody_on_the_team_holds_reaches_the_team(cast):
    now = timezone.now()
    task = task_raise(
        None,
        cast.patient,
        kind="outreach",
        title="Call back",
        due_at=now + timedelta(hours=24),
        source_type="test",
        source_id=uuid.uuid4(),
        for_role="case_manager",
    )
    assert task in listed(cast.actors["owner"], now)
    # Still not on the list of someone outside the patient's care.
    assert task not in listed(cast.actors["outsider"], now)
