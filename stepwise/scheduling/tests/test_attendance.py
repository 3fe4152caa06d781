"""Attendance for a whole group at once, and outreach after missed sessions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import time_machine

from stepwise.care.services import episode_admit
from stepwise.core.errors import AccessDenied, Conflict, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.patients.models import Task
from stepwise.patients.tasks import worklist_tasks
from stepwise.scheduling.models import Attendance, Session
from stepwise.scheduling.services.attendance import Mark, attendance_record
from stepwise.scheduling.services.outreach import outreach_sweep
from stepwise.scheduling.services.series import session_cancel
from stepwise.scheduling.tests.support import at, iop_series

ADMIT_DAY = date(2026, 11, 2)


@pytest.fixture
def group(cast):
    """The evening IOP group with three members admitted on Monday morning."""
    series = iop_series(cast)
    members = [cast.patient, cast.new_patient("RR-2", "Ben", "Ortiz"), cast.new_patient("RR-3")]
    with time_machine.travel(at(ADMIT_DAY, 9), tick=False):
        for patient in members:
            episode_admit(cast.actors["owner"], patient, cast.iop)
    return series, members


def session_on(series: Any, day: date) -> Session:
    return Session.objects.get(series=series, occurrence_on=day)


def take(cast: Any, series: Any, day: date, marks: list[Mark], who: str = "owner") -> list[Any]:
    with time_machine.travel(at(day, 21), tick=False):
        return attendance_record(cast.actors[who], session_on(series, day), marks)


def test_a_whole_group_is_marked_in_one_call_with_default_minutes(cast, group):
    series, (ana, ben, sam) = group
    changed = take(
        cast,
        series,
        ADMIT_DAY,
        [
            Mark(ana.public_id, "present"),
            Mark(ben.public_id, "late", 150),
            Mark(sam.public_id, "absent_excused"),
        ],
    )
    assert len(changed) == 3
    rows = {a.patient_id: a for a in Attendance.objects.filter(session__occurrence_on=ADMIT_DAY)}
    assert (rows[ana.pk].status, rows[ana.pk].minutes_attended) == ("present", 180)
    assert (rows[ben.pk].status, rows[ben.pk].minutes_attended) == ("late", 150)
    assert (rows[sam.pk].status, rows[sam.pk].minutes_attended) == ("absent_excused", 0)
    # One audit row per patient: each is that patient's record.
    assert AuditEvent.objects.filter(object_type="attendance").count() == 3


def test_late_without_minutes_is_refused_naming_the_member_and_nothing_is_saved(cast, group):
    series, (ana, ben, _) = group
    with pytest.raises(ValidationFailed) as refused:
        take(cast, series, ADMIT_DAY, [Mark(ana.public_id, "present"), Mark(ben.public_id, "late")])
    assert "Ortiz" in str(refused.value) and f"minutes_{ben.public_id}" in refused.value.errors
    assert not Attendance.objects.exclude(status="expected").exists()


def test_an_unknown_status_names_the_allowed_values(cast, group):
    series, (ana, _, _) = group
    with pytest.raises(ValidationFailed, match="absent_unexcused"):
        take(cast, series, ADMIT_DAY, [Mark(ana.public_id, "maybe")])


def test_a_patient_not_on_the_roster_is_refused(cast, group):
    series, _ = group
    stranger = cast.new_patient("RR-9")
    with pytest.raises(ValidationFailed, match="not on the session's roster"):
        take(cast, series, ADMIT_DAY, [Mark(stranger.public_id, "present")])


def test_attendance_waits_for_the_session_and_a_cancelled_one_takes_none(cast, group):
    series, (ana, _, _) = group
    with (
        time_machine.travel(at(ADMIT_DAY, 12), tick=False),
        pytest.raises(ValidationFailed, match="opens 30 minutes before"),
    ):
        attendance_record(
            cast.actors["owner"], session_on(series, ADMIT_DAY), [Mark(ana.public_id, "present")]
        )
    session_cancel(cast.actors["director"], session_on(series, date(2026, 11, 4)), reason="Snow")
    with pytest.raises(Conflict, match="cancelled"):
        take(cast, series, date(2026, 11, 4), [Mark(ana.public_id, "present")])


def test_only_the_facilitator_program_staff_or_director_take_attendance(cast, group):
    series, (ana, _, _) = group
    cast.new_member("counselor", "stranger")
    with pytest.raises(AccessDenied):
        take(cast, series, ADMIT_DAY, [Mark(ana.public_id, "present")], who="stranger")
    take(cast, series, ADMIT_DAY, [Mark(ana.public_id, "present")], who="director")


def test_two_unexcused_absences_in_a_row_reach_the_case_manager(cast, group):
    series, (ana, _ben, _) = group
    manager = cast.new_member("case_manager", "manager")
    from stepwise.patients.services import care_team_join

    care_team_join(manager, ana, user_id=cast.users["manager"].pk, role="case_manager", why="test")
    take(cast, series, ADMIT_DAY, [Mark(ana.public_id, "absent_unexcused")])
    assert not Task.objects.filter(kind="outreach").exists()
    take(cast, series, date(2026, 11, 4), [Mark(ana.public_id, "absent_unexcused")])
    task = Task.objects.get(kind="outreach", patient=ana)
    assert task.for_role == "case_manager" and "2 unexcused absences in a row" in task.detail
    assert task.due_at == at(date(2026, 11, 4), 21) + timedelta(hours=24)
    # On the case manager's worklist; not on the counselor's.
    now = at(date(2026, 11, 4), 22)
    assert [v.task.pk for v in worklist_tasks(manager, now)] == [task.pk]
    assert task.pk not in [v.task.pk for v in worklist_tasks(cast.actors["owner"], now)]
    # A third absence adds nothing new: the same task stays open.
    take(cast, series, date(2026, 11, 5), [Mark(ana.public_id, "absent_unexcused")])
    assert Task.objects.filter(kind="outreach", patient=ana).count() == 1


def test_an_excused_absence_between_breaks_the_run(cast, group):
    series, (ana, _, _) = group
    take(cast, series, ADMIT_DAY, [Mark(ana.public_id, "absent_unexcused")])
    take(cast, series, date(2026, 11, 4), [Mark(ana.public_id, "absent_excused")])
    take(cast, series, date(2026, 11, 5), [Mark(ana.public_id, "absent_unexcused")])
    assert not Task.objects.filter(kind="outreach").exists()


def test_a_week_without_attendance_is_found_by_the_sweep(cast, group):
    series, (ana, ben, sam) = group
    # Ben came on Wednesday; Ana and Sam came to nothing (excused, so no run of
    # unexcused absences). Monday's and Thursday's attendance was never taken: those
    # count for nobody.
    take(
        cast,
        series,
        date(2026, 11, 4),
        [
            Mark(ben.public_id, "present"),
            Mark(ana.public_id, "absent_excused"),
            Mark(sam.public_id, "absent_excused"),
        ],
    )
    raised = outreach_sweep(cast.org.pk, at(date(2026, 11, 10), 8))
    assert raised == 2
    assert set(Task.objects.filter(kind="outreach").values_list("patient_id", flat=True)) == {
        ana.pk,
        sam.pk,
    }
    event = AuditEvent.objects.filter(object_type="task", actor_username__startswith="stepwise")
    assert event.count() == 2
    # Running it again raises nothing new.
    assert outreach_sweep(cast.org.pk, at(date(2026, 11, 10), 9)) == 0


def test_the_sweep_leaves_24_hour_programs_alone(cast):
    iop_series(cast, program=cast.residential, room_name=None, facilitator="owner")
    with time_machine.travel(at(ADMIT_DAY, 9), tick=False):
        episode_admit(cast.actors["owner"], cast.patient, cast.residential)
    assert outreach_sweep(cast.org.pk, at(date(2026, 11, 12), 8)) == 0


def test_one_member_marked_twice_in_one_call_is_refused(cast, group):
    series, (ana, _, _) = group
    with pytest.raises(ValidationFailed, match="marked twice"):
        take(
            cast,
            series,
            ADMIT_DAY,
            [Mark(ana.public_id, "present"), Mark(ana.public_id, "late", 60)],
        )
    assert not Attendance.objects.exclude(status="expected").exists()


def test_sessions_nobody_took_attendance_for_raise_no_outreach(cast, group):
    assert outreach_sweep(cast.org.pk, at(date(2026, 11, 10), 8)) == 0


def test_a_closed_outreach_is_not_raised_again_for_the_same_quiet_days(cast, group):
    series, (ana, ben, sam) = group
    marks = [Mark(p.public_id, "absent_excused") for p in (ana, ben, sam)]
    take(cast, series, date(2026, 11, 4), marks)
    assert outreach_sweep(cast.org.pk, at(date(2026, 11, 10), 8)) == 3
    from stepwise.patients.tasks import task_close

    task = Task.objects.get(kind="outreach", patient=ana)
    task_close(cast.actors["owner"], task, status="done", note="Reached her; back Monday.")
    assert outreach_sweep(cast.org.pk, at(date(2026, 11, 10), 9)) == 0


def test_outreach_goes_to_the_whole_team_when_no_case_manager_is_on_it(cast, group):
    series, (ana, _, _) = group
    for day in (ADMIT_DAY, date(2026, 11, 4)):
        take(cast, series, day, [Mark(ana.public_id, "absent_unexcused")])
    task = Task.objects.get(kind="outreach", patient=ana)
    assert task.for_role == ""
    now = at(date(2026, 11, 4), 22)
    assert task.pk in [v.task.pk for v in worklist_tasks(cast.actors["owner"], now)]
