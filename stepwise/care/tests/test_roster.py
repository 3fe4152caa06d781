"""A program's staff join the care team of everyone who is, or comes, into the program:
the unit nurse sees every bed without hand-kept care-team lists."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from stepwise.care.exits import prepare_exit
from stepwise.care.models import ProgramStaff
from stepwise.care.roster import program_staff_add, program_staff_remove
from stepwise.care.services import episode_admit, stay_transition
from stepwise.core.errors import AccessDenied, Conflict, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.patients.models import CareTeamMember

pytestmark = pytest.mark.django_db


def on_team(cast, who, patient) -> bool:
    return CareTeamMember.objects.filter(patient=patient, user=cast.users[who]).exists()


def test_staff_join_the_patients_already_in_the_program_and_those_who_come(cast):
    nurse = cast.new_member("nurse", "unit_nurse")
    episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    program_staff_add(cast.actors["director"], cast.detox, nurse.user_id)
    assert on_team(cast, "unit_nurse", cast.patient)
    later = cast.new_patient("RR-2")
    admitted = episode_admit(cast.actors["owner"], later, cast.detox)
    assert on_team(cast, "unit_nurse", later)
    admit_row = AuditEvent.objects.get(action="admit", object_id=str(admitted.public_id))
    assert admit_row.detail["care_team_joined"] == 1
    joins = AuditEvent.objects.filter(category="care_team", object_type="care_team_member")
    assert joins.filter(detail__why="staff of Detox").count() == 2


def test_moving_into_a_program_joins_its_staff(cast):
    counselor = cast.new_member("counselor", "iop_counselor")
    program_staff_add(cast.actors["director"], cast.iop, counselor.user_id)
    start = timezone.now() - timedelta(days=3)
    episode = episode_admit(cast.actors["owner"], cast.patient, cast.residential, at=start)
    assert not on_team(cast, "iop_counselor", cast.patient)
    prepare_exit(
        cast.actors["owner"], episode, cast.residential, timezone.now(), ends_episode=False
    )
    stay_transition(cast.actors["owner"], episode, cast.iop, kind="step_down", reason="Ready")
    assert on_team(cast, "iop_counselor", cast.patient)


def test_who_may_be_on_a_staff_and_who_decides(cast):
    nurse = cast.new_member("nurse", "unit_nurse")
    clerk = cast.new_member("admissions", "clerk")
    with pytest.raises(AccessDenied):
        program_staff_add(cast.actors["colleague"], cast.detox, nurse.user_id)
    with pytest.raises(ValidationFailed) as refused:
        program_staff_add(cast.actors["director"], cast.detox, clerk.user_id)
    assert "nurse, physician, counselor, case_manager" in refused.value.errors["user"]
    program_staff_add(cast.actors["director"], cast.detox, nurse.user_id)
    with pytest.raises(Conflict):
        program_staff_add(cast.actors["director"], cast.detox, nurse.user_id)


def test_leaving_the_staff_stops_new_patients_and_keeps_the_record(cast):
    nurse = cast.new_member("nurse", "unit_nurse")
    program_staff_add(cast.actors["director"], cast.detox, nurse.user_id)
    episode = episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    program_staff_remove(cast.actors["director"], cast.detox, nurse.user_id)
    assert not ProgramStaff.objects.exists()
    assert on_team(cast, "unit_nurse", cast.patient)
    prepare_exit(cast.actors["owner"], episode, cast.detox, timezone.now(), ends_episode=False)
    later = cast.new_patient("RR-2")
    episode_admit(cast.actors["owner"], later, cast.detox)
    assert not on_team(cast, "unit_nurse", later)


def test_the_staff_page(cast):
    nurse = cast.new_member("nurse", "unit_nurse")
    url = reverse("care:program_staff", kwargs={"program_id": cast.detox.public_id})
    director = cast.client_for("director")
    assert (
        "Unit Nurse" in director.get(url).content.decode() or director.get(url).status_code == 200
    )
    response = director.post(url, {"user": nurse.user_id, "action": "add"})
    assert response.status_code == 302
    assert ProgramStaff.objects.filter(user=cast.users["unit_nurse"]).exists()
    assert cast.client_for("colleague").get(url).status_code == 403
    other = reverse("care:program_staff", kwargs={"program_id": cast.other_program.public_id})
    assert director.get(other).status_code == 404


def test_a_unit_nurse_on_the_staff_sees_every_bed(cast):
    nurse = cast.new_member("nurse", "unit_nurse")
    program_staff_add(cast.actors["director"], cast.detox, nurse.user_id)
    episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    episode_admit(cast.actors["owner"], cast.new_patient("RR-2", "Bo", "Lindqvist"), cast.detox)
    board = reverse("withdrawal:board", kwargs={"program_id": cast.detox.public_id})
    html = cast.client_for("unit_nurse").get(board).content.decode()
    assert "Rivera" in html and "Lindqvist" in html
    assert "not on your care team" not in html
