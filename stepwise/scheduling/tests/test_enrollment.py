"""Enrollment follows stays: admission seats the patient in the program's core
sessions, a transition moves them, a discharge ends them; optional series and
individual appointments are refused when the patient is busy."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import time_machine

from stepwise.care.exits import prepare_exit
from stepwise.care.services import episode_admit, episode_discharge, stay_transition
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.patients.models import CareTeamMember
from stepwise.scheduling.models import Attendance, Enrollment
from stepwise.scheduling.services.enrollment import (
    appointment_book,
    enroll_optional,
    enrollment_end,
)
from stepwise.scheduling.tests.support import at, iop_series, session_type

ADMIT_DAY = date(2026, 11, 4)  # a Wednesday, before the evening group


@pytest.fixture
def admitted_to_iop(cast):
    series = iop_series(cast)
    with time_machine.travel(at(ADMIT_DAY, 10), tick=False):
        episode = episode_admit(cast.actors["owner"], cast.patient, cast.iop)
    return series, episode


def test_admission_seats_the_patient_in_core_sessions_from_the_stay_start(cast, admitted_to_iop):
    series, episode = admitted_to_iop
    enrollment = Enrollment.objects.get(patient=cast.patient, series=series)
    assert enrollment.kind == "core" and enrollment.stay == episode.stays.get()
    seats = Attendance.objects.filter(patient=cast.patient).order_by("session__starts_at")
    first = seats.first()
    assert first is not None and first.session.occurrence_on == ADMIT_DAY
    assert not seats.filter(session__starts_at__lt=at(ADMIT_DAY, 0)).exists()
    admit = AuditEvent.objects.get(action="admit")
    assert admit.detail["enrolled_series"] == 1
    assert admit.detail["sessions_seated"] == seats.count()


def test_a_transition_ends_the_old_programs_sessions_and_seats_the_new_ones(cast, admitted_to_iop):
    series, episode = admitted_to_iop
    east = iop_series(
        cast,
        program=cast.iop_east,
        rule="FREQ=WEEKLY;BYDAY=TU",
        room_name="Group room B",
        title="East group",
    )
    moved_at = at(date(2026, 11, 9), 12)
    with time_machine.travel(moved_at + timedelta(minutes=1), tick=False):
        prepare_exit(cast.actors["owner"], episode, cast.iop, moved_at, ends_episode=False)
        stay_transition(
            cast.actors["owner"],
            episode,
            cast.iop_east,
            kind="transfer",
            reason="Closer to home",
            at=moved_at,
        )
    old = Enrollment.objects.get(series=series)
    assert old.ended_at == moved_at and old.end_reason == "Left the program"
    # Seats taken before the move stay; the old group's later seats are gone.
    assert not Attendance.objects.filter(
        session__series=series, session__starts_at__gte=moved_at
    ).exists()
    # Wednesday and Thursday of the first week came before the move.
    assert Attendance.objects.filter(session__series=series).count() == 2
    assert Attendance.objects.filter(session__series=east).exists()
    transition = AuditEvent.objects.get(action="transition")
    assert transition.detail["enrollments_ended"] == 1 and transition.detail["enrolled_series"] == 1


def test_discharge_ends_every_enrollment_and_keeps_taken_attendance(cast, admitted_to_iop):
    _series, episode = admitted_to_iop
    optional = iop_series(
        cast,
        rule="FREQ=WEEKLY;BYDAY=SA",
        start=time(10),
        minutes=60,
        is_core=False,
        code="support_group",
        title="Saturday support",
        room_name="Group room B",
    )
    with time_machine.travel(at(ADMIT_DAY, 11), tick=False):
        enroll_optional(cast.actors["owner"], cast.patient, optional)
    leave = at(date(2026, 11, 20), 9)
    prepare_exit(cast.actors["owner"], episode, cast.iop, leave, ends_episode=True)
    with time_machine.travel(leave + timedelta(minutes=1), tick=False):
        episode_discharge(cast.actors["owner"], episode, reason=1, at=leave)
    assert not Enrollment.objects.filter(patient=cast.patient, ended_at__isnull=True).exists()
    assert not Attendance.objects.filter(
        patient=cast.patient, session__starts_at__gte=leave
    ).exists()


def test_an_optional_series_at_a_busy_time_is_refused_with_what_it_clashes_with(
    cast, admitted_to_iop
):
    clash = iop_series(
        cast,
        rule="FREQ=WEEKLY;BYDAY=TH",
        start=time(19),
        minutes=60,
        is_core=False,
        facilitator="director",
        room_name="Group room B",
        title="Thursday relapse prevention",
    )
    with (
        time_machine.travel(at(ADMIT_DAY, 11), tick=False),
        pytest.raises(Conflict, match='Rivera is already in "Evening IOP group"'),
    ):
        enroll_optional(cast.actors["owner"], cast.patient, clash)
    assert not Enrollment.objects.filter(series=clash).exists()


def test_an_appointment_during_the_group_is_refused_and_one_after_is_booked(cast, admitted_to_iop):
    individual = session_type(cast, "individual_therapy")
    cast.new_member("counselor", "therapist")
    with pytest.raises(Conflict, match="Rivera is already in"):
        appointment_book(
            cast.actors["owner"],
            cast.patient,
            program=cast.iop,
            session_type=individual,
            facilitator_id=cast.users["therapist"].pk,
            starts_at=at(date(2026, 11, 5), 20),
        )
    booked = appointment_book(
        cast.actors["owner"],
        cast.patient,
        program=cast.iop,
        session_type=individual,
        facilitator_id=cast.users["therapist"].pk,
        starts_at=at(date(2026, 11, 5), 21),
    )
    assert booked.minutes == 50
    assert CareTeamMember.objects.filter(
        patient=cast.patient, user=cast.users["therapist"]
    ).exists()


def test_a_group_type_is_not_an_appointment(cast):
    with pytest.raises(ValidationFailed) as refused:
        appointment_book(
            cast.actors["owner"],
            cast.patient,
            program=cast.iop,
            session_type=session_type(cast),
            facilitator_id=cast.users["owner"].pk,
            starts_at=at(date(2026, 11, 5), 21),
        )
    assert "session_type" in refused.value.errors


def test_core_enrollment_is_not_ended_by_choice(cast, admitted_to_iop):
    enrollment = Enrollment.objects.get(patient=cast.patient)
    with pytest.raises(Conflict, match="end with the stay"):
        enrollment_end(cast.actors["owner"], enrollment, reason="wants out")


def test_a_new_core_series_seats_the_patients_already_in_the_program(cast):
    with time_machine.travel(at(date(2026, 10, 20), 10), tick=False):
        episode_admit(cast.actors["owner"], cast.patient, cast.iop)
        series = iop_series(cast)
    assert Enrollment.objects.filter(series=series, patient=cast.patient).exists()
    assert Attendance.objects.filter(session__series=series, patient=cast.patient).count() == 37


def test_an_optional_series_is_for_patients_of_its_program(cast):
    optional = iop_series(
        cast, rule="FREQ=WEEKLY;BYDAY=SA", is_core=False, code="support_group", room_name=None
    )
    with pytest.raises(ValidationFailed, match="is not in Evening IOP"):
        enroll_optional(cast.actors["owner"], cast.patient, optional)
    assert not Enrollment.objects.exists()


def test_no_appointment_on_a_closed_day(cast):
    from stepwise.scheduling.services.series import closure_add

    closure_add(cast.actors["director"], cast.facility, on=date(2026, 11, 26), name="Thanksgiving")
    with pytest.raises(Conflict, match="closed"):
        appointment_book(
            cast.actors["owner"],
            cast.patient,
            program=cast.iop,
            session_type=session_type(cast, "individual_therapy"),
            facilitator_id=cast.users["owner"].pk,
            starts_at=at(date(2026, 11, 26), 10),
        )


def test_discharge_cancels_the_individual_appointments_after_it(cast, admitted_to_iop):
    _, episode = admitted_to_iop
    booked = appointment_book(
        cast.actors["owner"],
        cast.patient,
        program=cast.iop,
        session_type=session_type(cast, "individual_therapy"),
        facilitator_id=cast.users["owner"].pk,
        starts_at=at(date(2026, 11, 24), 10),
    )
    leave = at(date(2026, 11, 20), 9)
    prepare_exit(cast.actors["owner"], episode, cast.iop, leave, ends_episode=True)
    with time_machine.travel(leave + timedelta(minutes=1), tick=False):
        episode_discharge(cast.actors["owner"], episode, reason=1, at=leave)
    booked.refresh_from_db()
    assert booked.status == "cancelled" and booked.cancel_reason == "Patient discharged"
    assert AuditEvent.objects.get(action="discharge").detail["appointments_cancelled"] == 1
