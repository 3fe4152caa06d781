"""What the plan does when the patient's level of care changes (the review becomes
due that day, a task asks for it, signing the review closes it) and what it offers
the note forms (the objectives in progress of the plan in force)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from stepwise.care.exits import prepare_exit
from stepwise.care.models import Episode, Stay
from stepwise.care.services import stay_transition
from stepwise.core.models import AuditEvent
from stepwise.notes.objectives import objectives_for, objectives_of
from stepwise.patients.models import Task, TaskStatus
from stepwise.patients.tasks import task_view
from stepwise.plans.models import TreatmentPlan
from stepwise.plans.services.drafts import draft_item_change
from stepwise.plans.services.versions import review_start, version_sign
from stepwise.plans.store import content_of
from stepwise.plans.tests.support import TODAY, admitted, at, drafted, signed

TITLE = "Review the treatment plan: level of care changed to Residential"


def step_up(cast: Any, episode: Episode, when: datetime | None = None) -> Stay:
    when = when or timezone.now()
    prepare_exit(cast.actors["owner"], episode, cast.iop, when, ends_episode=False)
    return stay_transition(
        cast.actors["owner"],
        episode,
        cast.residential,
        kind="step_up",
        reason="Used daily despite IOP",
        at=when,
    )


def test_a_change_of_level_makes_the_review_due_that_day_with_a_task(cast, episode):
    v1 = signed(cast)
    assert TreatmentPlan.objects.get().review_due_on == TODAY + timedelta(days=30)
    assert not Task.objects.filter(kind="plan_review").exists()  # the admission raised none
    stay = step_up(cast, episode)
    plan = TreatmentPlan.objects.get()
    assert (plan.review_due_on, plan.level_changed_to) == (TODAY, "Residential")
    task = Task.objects.get(kind="plan_review")
    assert task.title == TITLE and task.source_id == stay.public_id
    assert timezone.now() < task.due_at <= timezone.now() + timedelta(days=1)
    assert task_view(task).url == f"/plans/patients/{cast.patient.public_id}/"
    transition = AuditEvent.objects.get(action="transition")
    assert transition.detail["plan_review_due"] == TODAY.isoformat()

    # The review made for it, once signed, does what the task asked.
    v2 = review_start(
        cast.actors["owner"], v1.plan, trigger="level_of_care", why="Stepped up to residential"
    )
    meetings = next(iter(content_of(v2).objectives()))
    draft_item_change(
        cast.actors["owner"], v2, replace(meetings, statement="Attends house meetings")
    )
    version_sign(cast.actors["owner"], v2)
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.close_note == "Plan version 2 signed."
    plan.refresh_from_db()
    assert plan.review_due_on == TODAY + timedelta(days=30) and plan.level_changed_to == ""


def test_a_plan_not_yet_signed_or_a_move_before_the_signing_changes_nothing(cast, episode):
    drafted(cast)
    step_up(cast, episode, at(TODAY - timedelta(days=1)))
    assert not Task.objects.filter(kind="plan_review").exists()
    other = cast.new_patient("RR-2", "Ben", "Ortiz")
    second = admitted(cast, other)
    signed(cast, other)
    step_up(cast, second, at(TODAY, 9))  # back-dated to before this afternoon's signing
    plan = TreatmentPlan.objects.get(patient=other)
    assert plan.review_due_on == TODAY + timedelta(days=30) and plan.level_changed_at is None
    assert not Task.objects.filter(kind="plan_review").exists()


def test_notes_are_offered_the_objectives_in_progress_of_the_plan_in_force(cast, episode):
    assert objectives_of(cast.org.pk, cast.patient.pk) == []
    draft = drafted(cast)
    assert objectives_of(cast.org.pk, cast.patient.pk) == []  # a draft is not in force
    v1 = version_sign(cast.actors["owner"], draft)
    offered = objectives_of(cast.org.pk, cast.patient.pk)
    content = content_of(v1)
    assert [o.key for o in offered] == [o.key for o in content.objectives()]
    assert [o.number for o in offered] == ["1.1.1", "1.1.2", "2.1.1"]
    assert offered[0].context.startswith('Problem 1: "Cravings after work')
    assert offered[0].label == "1.1.1 Attends 3 mutual-help meetings a week, shown by signed cards"

    # A review that marks one met offers the others once signed.
    v2 = review_start(cast.actors["owner"], v1.plan, trigger="scheduled", why="Monthly")
    met = next(iter(content_of(v2).objectives()))
    draft_item_change(cast.actors["owner"], v2, replace(met, status="met"))
    assert len(objectives_of(cast.org.pk, cast.patient.pk)) == 3  # version 1 still in force
    version_sign(cast.actors["owner"], v2)
    assert [o.key for o in objectives_of(cast.org.pk, cast.patient.pk)] == [
        o.key for o in content.objectives()
    ][1:]

    other = cast.new_patient("RR-2", "Ben", "Ortiz")
    both = objectives_for(cast.org.pk, [cast.patient.pk, other.pk])
    assert set(both) == {cast.patient.pk}
