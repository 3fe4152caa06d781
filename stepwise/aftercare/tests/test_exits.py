"""Every way out of a stay asks for the aftercare plan: a move needs one started, a
discharge one gone through with the patient; unplanned leavings are not refused but
task the team; check-ins start at discharge, pause back in care, and stop at death."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from stepwise.aftercare.models import AftercarePlan, Checkin, PlanStatus
from stepwise.aftercare.services.plans import plan_activate, plan_end, plan_start
from stepwise.aftercare.tests.support import active_plan, admitted, facility_noon, written_plan
from stepwise.care.exits import prepare_exit
from stepwise.care.models import Program
from stepwise.care.services import episode_admit, episode_discharge, stay_transition
from stepwise.core.errors import ValidationFailed
from stepwise.patients.models import CareTeamMember, Task

NEW_YORK = ZoneInfo("America/New_York")


def today() -> date:
    return timezone.now().astimezone(NEW_YORK).date()


def continuing_care(cast: Any) -> Program:
    return Program.objects.create(
        organization=cast.org,
        facility=cast.facility,
        name="Continuing care",
        asam_level="CC",
        teds_service=7,
    )


def test_a_move_without_a_plan_is_refused_and_a_draft_is_enough(cast):
    episode = admitted(cast)
    owner = cast.actors["owner"]
    with pytest.raises(ValidationFailed) as refused:
        stay_transition(owner, episode, cast.iop_east, kind="transfer", reason="Closer to home")
    message = refused.value.errors["aftercare_plan"]
    assert "No aftercare plan yet" in message and "start one" in message
    plan_start(owner, cast.patient)
    stay_transition(owner, episode, cast.iop_east, kind="transfer", reason="Closer to home")


def test_a_discharge_needs_the_plan_gone_through_with_the_patient(cast):
    episode = admitted(cast)
    owner = cast.actors["owner"]
    with pytest.raises(ValidationFailed, match="No aftercare plan yet"):
        episode_discharge(owner, episode, reason=1)
    written_plan(cast)
    with pytest.raises(ValidationFailed) as refused:
        episode_discharge(owner, episode, reason=1)
    assert "still a draft" in refused.value.errors["aftercare_plan"]
    active_plan_for = AftercarePlan.objects.get(patient=cast.patient)
    from stepwise.aftercare.services.plans import plan_activate

    plan_activate(owner, active_plan_for)
    episode_discharge(owner, episode, reason=1)


def test_an_ended_plan_is_refused_until_restarted(cast):
    episode = admitted(cast)
    plan_end(cast.actors["owner"], written_plan(cast), reason="Not now")
    with pytest.raises(ValidationFailed, match="restart it with them"):
        stay_transition(cast.actors["owner"], episode, cast.iop_east, kind="transfer", reason="x")


def test_at_discharge_check_ins_start_from_its_day(clock, cast):
    episode = admitted(cast)
    plan = active_plan(cast)
    assert not Checkin.objects.filter(plan=plan).exists()
    episode_discharge(cast.actors["owner"], episode, reason=1)
    plan.refresh_from_db()
    assert plan.checkins_from == today()
    days = list(
        Checkin.objects.filter(plan=plan).order_by("due_on").values_list("due_on", flat=True)
    )
    assert days[:4] == [today() + timedelta(weeks=k) for k in range(1, 5)]
    assert all(d > today() for d in days)


def test_a_back_dated_discharge_leaves_no_trail_of_missed_check_ins(clock, cast):
    episode = admitted(cast, days=90)
    active_plan(cast)
    episode_discharge(cast.actors["owner"], episode, reason=1, at=facility_noon(40))
    plan = AftercarePlan.objects.get(patient=cast.patient)
    assert plan.checkins_from == today() - timedelta(days=40)
    assert not Checkin.objects.filter(plan=plan, due_on__lt=today()).exists()
    assert Checkin.objects.filter(plan=plan).exists()


def test_coming_back_into_care_pauses_check_ins_and_the_next_discharge_restarts_them(cast):
    owner = cast.actors["owner"]
    first = admitted(cast, days=60)
    active_plan(cast)
    episode_discharge(owner, first, reason=1, at=timezone.now() - timedelta(days=30))
    plan = AftercarePlan.objects.get(patient=cast.patient)
    due_before = set(Checkin.objects.filter(plan=plan, status="due").values_list("pk", flat=True))
    assert due_before
    again = episode_admit(
        owner, cast.patient, cast.residential, at=timezone.now() - timedelta(days=5)
    )
    plan.refresh_from_db()
    assert plan.checkins_from is None
    assert set(Checkin.objects.filter(pk__in=due_before).values_list("status", flat=True)) == {
        "cancelled"
    }
    episode_discharge(owner, again, reason=1)
    plan.refresh_from_db()
    assert plan.checkins_from == today()
    assert Checkin.objects.filter(plan=plan, status="due").count() >= 4


def test_a_move_into_continuing_care_needs_the_plan_gone_through(cast):
    episode = admitted(cast)
    owner = cast.actors["owner"]
    plan = written_plan(cast)
    onward = continuing_care(cast)
    with pytest.raises(ValidationFailed) as refused:
        stay_transition(owner, episode, onward, kind="step_down", reason="Stable")
    assert "still a draft" in refused.value.errors["aftercare_plan"]
    plan_activate(owner, plan)
    stay_transition(owner, episode, onward, kind="step_down", reason="Stable")
    assert Checkin.objects.filter(plan=plan, status="due").exists()


def test_a_plan_gone_through_before_a_readmission_is_gone_through_again(cast):
    owner = cast.actors["owner"]
    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):
        first = episode_admit(owner, cast.patient, cast.iop)
    with time_machine.travel(timezone.now() - timedelta(days=35), tick=False):
        plan = active_plan(cast)
    episode_discharge(owner, first, reason=1, at=timezone.now() - timedelta(days=30))
    again = episode_admit(owner, cast.patient, cast.iop, at=timezone.now() - timedelta(days=5))
    with pytest.raises(ValidationFailed, match="before this admission"):
        episode_discharge(owner, again, reason=1)
    plan_activate(owner, plan, note="Went through it again before the second discharge.")
    episode_discharge(owner, again, reason=1)


def test_a_move_into_continuing_care_starts_the_check_ins(cast):
    episode = admitted(cast)
    plan = active_plan(cast)
    stay_transition(
        cast.actors["owner"], episode, continuing_care(cast), kind="step_down", reason="Stable"
    )
    plan.refresh_from_db()
    assert plan.checkins_from == today()
    assert Checkin.objects.filter(plan=plan, status="due").exists()


@pytest.mark.parametrize("reason", [2, 3, 5])
def test_an_unplanned_leaving_is_not_refused_and_tasks_the_whole_team(cast, reason):
    episode = admitted(cast)
    episode_discharge(cast.actors["owner"], episode, reason=reason)
    (task,) = Task.objects.filter(patient=cast.patient, kind="aftercare_plan")
    assert task.title == "Get the aftercare plan to the patient"
    assert "with no aftercare plan" in task.detail
    assert task.for_role == "" and task.source_id == episode.public_id
    assert task.due_at <= timezone.now() + timedelta(hours=24, minutes=1)


def test_the_task_goes_to_the_case_manager_when_the_team_has_one(cast):
    manager = cast.new_member("case_manager")
    CareTeamMember.objects.create(
        organization=cast.org,
        patient=cast.patient,
        user=cast.users["case_manager"],
        team_role="case_manager",
    )
    episode = admitted(cast)
    plan = written_plan(cast)
    episode_discharge(manager, episode, reason=2, note="Left against advice")
    (task,) = Task.objects.filter(patient=cast.patient, kind="aftercare_plan")
    assert task.for_role == "case_manager" and task.source_id == plan.public_id
    assert "the plan is draft" in task.detail


def test_an_unplanned_leaving_with_an_active_plan_only_starts_check_ins(cast):
    episode = admitted(cast)
    plan = active_plan(cast)
    episode_discharge(cast.actors["owner"], episode, reason=2)
    assert not Task.objects.filter(patient=cast.patient, kind="aftercare_plan").exists()
    plan.refresh_from_db()
    assert plan.checkins_from == today()


def test_after_a_death_nothing_is_asked_and_check_ins_stop(cast):
    owner = cast.actors["owner"]
    first = admitted(cast, days=60)
    active_plan(cast)
    episode_discharge(owner, first, reason=1, at=timezone.now() - timedelta(days=30))
    # Back in care without a running schedule, then a death: nothing refused, nothing raised.
    again = episode_admit(owner, cast.patient, cast.iop, at=timezone.now() - timedelta(days=3))
    episode_discharge(owner, again, reason=6)
    plan = AftercarePlan.objects.get(patient=cast.patient)
    assert plan.checkins_from is None
    assert not Checkin.objects.filter(plan=plan, status="due").exists()
    assert not Task.objects.filter(patient=cast.patient, kind="aftercare_plan").exists()


def test_the_exit_preparation_leaves_an_active_plan(cast):
    owner = cast.actors["owner"]
    episode = episode_admit(
        owner, cast.patient, cast.residential, at=timezone.now() - timedelta(days=9)
    )
    prepare_exit(owner, episode, cast.residential, timezone.now(), ends_episode=True)
    plan = AftercarePlan.objects.get(patient=cast.patient)
    assert plan.status == PlanStatus.ACTIVE
    assert plan.supports[0]["name"] == "Follow-up with Main"
    episode_discharge(owner, episode, reason=1)
    # An ended plan is taken up again before the next leaving.
    plan_end(owner, AftercarePlan.objects.get(pk=plan.pk), reason="Done for now")
    again = episode_admit(owner, cast.patient, cast.iop)
    prepare_exit(owner, again, cast.iop, timezone.now(), ends_episode=False)
    assert AftercarePlan.objects.get(pk=plan.pk).status == PlanStatus.ACTIVE


def test_the_refusal_shows_on_the_discharge_page(cast):
    episode = admitted(cast)
    url = f"/patients/{cast.patient.public_id}/episodes/{episode.public_id}/discharge/"
    response = cast.client_for("owner").post(url, {"reason": "1"})
    html = response.content.decode()
    assert response.status_code == 422
    assert "No aftercare plan yet" in html
