"""The schedule's pages: the attendance screen, calendars, weekly hours, a patient's
schedule; who may see them, what they cost in queries, and what they show."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stepwise.care.services import episode_admit
from stepwise.scheduling.models import Attendance, Session
from stepwise.scheduling.tests.support import at, iop_series

MONDAY = date(2026, 11, 2)


def admit_group(cast: Any, size: int) -> list[Any]:
    members = [cast.patient] + [
        cast.new_patient(f"G-{n}", f"Member{n}", f"Family{n}") for n in range(size - 1)
    ]
    with time_machine.travel(at(MONDAY, 9), tick=False):
        for patient in members:
            episode_admit(cast.actors["owner"], patient, cast.iop)
    return members


@pytest.fixture
def monday_group(cast: Any) -> Session:
    series = iop_series(cast)
    return Session.objects.get(series=series, occurrence_on=MONDAY)


def session_url(session: Session) -> str:
    return reverse("scheduling:session", args=[session.public_id])


def test_the_attendance_screen_lists_every_member_with_present_preselected(cast, monday_group):
    admit_group(cast, 3)
    with time_machine.travel(at(MONDAY, 18, 5), tick=False):
        html = cast.client_for("owner").get(session_url(monday_group)).content.decode()
    assert html.count('class="member') == 3
    assert len(re.findall(r'value="present" checked', html)) == 3
    assert "Rivera, Ana" in html or "Ana Rivera" in html


def test_fifteen_members_are_taken_in_one_post_with_only_the_exceptions_changed(cast, monday_group):
    members = admit_group(cast, 15)
    data = {f"status_{p.public_id}": "present" for p in members}
    data[f"status_{members[1].public_id}"] = "late"
    data[f"minutes_{members[1].public_id}"] = "150"
    data[f"status_{members[2].public_id}"] = "absent_unexcused"
    client = cast.client_for("owner")
    with time_machine.travel(at(MONDAY, 21), tick=False):
        response = client.post(session_url(monday_group), data)
    assert response.status_code == 302
    statuses = dict(
        Attendance.objects.filter(session=monday_group).values_list("patient_id", "status")
    )
    assert list(statuses.values()).count("present") == 13
    assert statuses[members[1].pk] == "late" and statuses[members[2].pk] == "absent_unexcused"


def test_late_without_minutes_comes_back_422_naming_the_member_and_keeps_the_taps(
    cast, monday_group
):
    members = admit_group(cast, 2)
    data = {
        f"status_{members[0].public_id}": "absent_excused",
        f"status_{members[1].public_id}": "late",
    }
    with time_machine.travel(at(MONDAY, 21), tick=False):
        response = cast.client_for("owner").post(session_url(monday_group), data)
    html = response.content.decode()
    assert response.status_code == 422
    assert "give the minutes attended" in html and "Family0" in html
    assert re.search(r'value="absent_excused" checked', html)
    assert not Attendance.objects.exclude(status="expected").exists()


def test_a_counselor_who_does_not_run_the_session_is_refused(cast, monday_group):
    admit_group(cast, 1)
    cast.new_member("counselor", "stranger")
    response = cast.client_for("stranger").get(session_url(monday_group))
    assert response.status_code == 403
    assert "Rivera" not in response.content.decode()


def test_the_outsider_gets_404(cast, monday_group):
    assert cast.client_for("outsider").get(session_url(monday_group)).status_code == 404


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


# Session, member, roster, its audit row, and the page's shared reads.
ATTENDANCE_SCREEN_QUERIES = 14


def test_the_attendance_screen_costs_the_same_for_3_or_15_members(cast, monday_group):
    client = cast.client_for("owner")
    admit_group(cast, 3)
    with time_machine.travel(at(MONDAY, 18, 5), tick=False):
        small = _queries(client, session_url(monday_group))
    for n in range(12):
        patient = cast.new_patient(f"X-{n}")
        with time_machine.travel(at(MONDAY, 9, 30), tick=False):
            episode_admit(cast.actors["owner"], patient, cast.iop)
    assert Attendance.objects.filter(session=monday_group).count() == 15
    with time_machine.travel(at(MONDAY, 18, 5), tick=False):
        assert _queries(client, session_url(monday_group)) == small == ATTENDANCE_SCREEN_QUERIES


# Session and member, the program, its sessions with their counts, the closed days,
# its recurring sessions and the programs for the navigation.
WEEK_QUERIES = 9


def test_the_program_week_costs_the_same_for_one_or_three_series_and_names_nobody(cast):
    client = cast.client_for("owner")
    url = reverse("scheduling:program_week", args=[cast.iop.public_id]) + "?week=2026-11-02"
    iop_series(cast)
    admit_group(cast, 2)
    small = _queries(client, url)
    cast.new_member("counselor", "second")
    iop_series(cast, rule="FREQ=WEEKLY;BYDAY=TU", facilitator="second", title="Tuesday group")
    iop_series(
        cast,
        rule="FREQ=WEEKLY;BYDAY=SA",
        facilitator="second",
        title="Saturday class",
        code="drug_education",
    )
    assert _queries(client, url) == small == WEEK_QUERIES
    html = client.get(url).content.decode()
    assert "Tuesday group" in html and "Saturday class" in html
    assert "Rivera" not in html and "Family0" not in html


def test_the_week_shows_a_holiday_and_the_cancelled_session(cast):
    from stepwise.scheduling.services.series import closure_add

    iop_series(cast)
    closure_add(cast.actors["director"], cast.facility, on=date(2026, 11, 26), name="Thanksgiving")
    url = reverse("scheduling:program_week", args=[cast.iop.public_id]) + "?week=2026-11-23"
    html = cast.client_for("owner").get(url).content.decode()
    assert "Closed: Thanksgiving" in html


def test_the_facilitators_day_lists_their_sessions_in_local_time(cast, monday_group):
    url = reverse("scheduling:day") + "?date=2026-11-02"
    html = cast.client_for("owner").get(url).content.decode()
    assert "18:00" in html and "21:00" in html and "Evening IOP group" in html


def test_weekly_hours_show_who_falls_short_of_the_iop_minimum(cast, monday_group):
    members = admit_group(cast, 2)
    data = {
        f"status_{members[0].public_id}": "present",
        f"status_{members[1].public_id}": "absent_unexcused",
    }
    client = cast.client_for("director")
    with time_machine.travel(at(MONDAY, 21), tick=False):
        client.post(session_url(monday_group), data)
    # Thursday night: Wednesday was taken for nobody, so the 9 hours cannot be reached
    # by the second member (3 attended at most of what is left).
    with time_machine.travel(at(date(2026, 11, 5), 22), tick=False):
        html = client.get(reverse("scheduling:program", args=[cast.iop.public_id])).content.decode()
    assert "needs at least <strong>9 hours</strong>" in html
    assert "Short" in html


def test_a_patients_schedule_shows_their_weeks_and_sessions(cast, monday_group):
    admit_group(cast, 1)
    url = reverse("scheduling:patient", args=[cast.patient.public_id])
    with time_machine.travel(at(MONDAY, 12), tick=False):
        html = cast.client_for("owner").get(url).content.decode()
    assert "Clinical hours per week" in html and "Evening IOP group" in html
    assert cast.client_for("colleague").get(url).status_code == 403


def _two_no_shows(cast: Any, monday_group: Session) -> tuple[Any, Any]:
    members = admit_group(cast, 2)
    manager = cast.new_member("case_manager", "manager")
    from stepwise.patients.services import care_team_join

    care_team_join(
        manager, members[0], user_id=cast.users["manager"].pk, role="case_manager", why="t"
    )
    client = cast.client_for("owner")
    wednesday = Session.objects.get(series=monday_group.series, occurrence_on=date(2026, 11, 4))
    for session, day in ((monday_group, MONDAY), (wednesday, date(2026, 11, 4))):
        with time_machine.travel(at(day, 21), tick=False):
            client.post(
                session_url(session), {f"status_{members[0].public_id}": "absent_unexcused"}
            )
    return members[0], manager


def test_no_shows_reach_the_case_managers_worklist_with_a_link_to_the_outreach_page(
    cast, monday_group
):
    patient, _ = _two_no_shows(cast, monday_group)
    with time_machine.travel(at(date(2026, 11, 4), 22), tick=False):
        html = cast.client_for("manager").get(reverse("care:worklist")).content.decode()
    outreach = reverse("scheduling:outreach", args=[patient.public_id])
    assert "Reach out after missed sessions" in html and outreach in html
    assert "2 unexcused absences in a row" in html


def test_the_outreach_page_shows_missed_sessions_and_logs_a_try(cast, monday_group):
    patient, _ = _two_no_shows(cast, monday_group)
    client = cast.client_for("manager")
    url = reverse("scheduling:outreach", args=[patient.public_id])
    with time_machine.travel(at(date(2026, 11, 5), 9), tick=False):
        html = client.get(url).content.decode()
        assert html.count("Absent, unexcused") == 2
        refused = client.post(url, {"method": "pigeon", "outcome": "reached"})
        assert refused.status_code == 422
        response = client.post(
            url, {"method": "phone", "outcome": "message", "note": "Left a voicemail"}
        )
    assert response.status_code == 302
    with time_machine.travel(at(date(2026, 11, 5), 9, 5), tick=False):
        html = client.get(url).content.decode()
    assert "Left a voicemail" in html and "Left a message" in html
    assert cast.client_for("colleague").get(url).status_code == 403


def test_the_worklist_shows_patients_short_of_their_weekly_hours(cast, monday_group):
    admit_group(cast, 1)
    # Nobody took Monday's or Wednesday's attendance: by Thursday night, 9 hours
    # cannot be reached any more.
    with time_machine.travel(at(date(2026, 11, 5), 22), tick=False):
        html = cast.client_for("owner").get(reverse("care:worklist")).content.decode()
    assert "Weekly hours short of the level" in html and "Rivera" in html


def test_the_chart_shows_this_weeks_hours_and_the_next_sessions_at_a_fixed_cost(cast, monday_group):
    admit_group(cast, 1)
    client = cast.client_for("owner")
    url = reverse("care:chart", args=[cast.patient.public_id])
    with time_machine.travel(at(MONDAY, 12), tick=False):
        html = client.get(url).content.decode()
        few = _queries(client, url)
    assert "Week of 2 Nov" in html and "minimum 9 h" in html
    assert "Mon 2 Nov 18:00 · Evening IOP group" in html
    iop_series(
        cast,
        rule="FREQ=WEEKLY;BYDAY=TU,FR",
        start=time(10),
        title="Morning class",
        code="drug_education",
        room_name="Group room B",
    )
    with time_machine.travel(at(MONDAY, 12), tick=False):
        assert _queries(client, url) == few


def test_a_patient_admitted_on_wednesday_has_a_minimum_in_proportion(cast, monday_group):
    with time_machine.travel(at(date(2026, 11, 4), 9), tick=False):
        episode_admit(cast.actors["owner"], cast.patient, cast.iop)
        html = (
            cast.client_for("owner")
            .get(reverse("scheduling:program", args=[cast.iop.public_id]))
            .content.decode()
        )
    # Wednesday to Sunday: 9 hours x 5/7, to the half hour.
    assert '<td class="num">6.5 h</td>' in html


def test_an_appointment_is_booked_from_the_patients_schedule(cast, monday_group):
    from stepwise.accounts.models import Membership
    from stepwise.scheduling.tests.support import session_type

    admit_group(cast, 1)
    client = cast.client_for("owner")
    url = reverse("scheduling:appointment_new", args=[cast.patient.public_id])
    owner = Membership.objects.get(user=cast.users["owner"])
    form = {
        "session_type": str(session_type(cast, "individual_therapy").public_id),
        "facilitator": str(owner.public_id),
        "minutes": "",
        "room": "",
    }
    with time_machine.travel(at(MONDAY, 10), tick=False):
        assert client.get(url).status_code == 200
        # During Monday's group: the patient (and the counselor) are busy.
        busy = client.post(url, {**form, "starts_at": "2026-11-02T19:00"})
        assert busy.status_code == 409 and "is already" in busy.content.decode()
        missing = client.post(url, {**form, "starts_at": ""})
        assert missing.status_code == 422 and "Give the day and time." in missing.content.decode()
        booked = client.post(url, {**form, "starts_at": "2026-11-03T10:00"})
    assert booked.status_code == 302
    session = Session.objects.get(series__isnull=True)
    assert session.starts_at == at(date(2026, 11, 3), 10) and session.minutes == 50
    assert cast.client_for("colleague").get(url).status_code == 403


def test_an_optional_series_is_chosen_and_left_from_the_patients_schedule(cast, monday_group):
    from stepwise.scheduling.models import Enrollment

    admit_group(cast, 1)
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
    client = cast.client_for("owner")
    page = reverse("scheduling:patient", args=[cast.patient.public_id])
    with time_machine.travel(at(MONDAY, 10), tick=False):
        assert "Saturday support" in client.get(page).content.decode()
        client.post(
            reverse("scheduling:enroll", args=[cast.patient.public_id]),
            {"series": str(optional.public_id)},
        )
        enrollment = Enrollment.objects.get(series=optional)
        end = reverse(
            "scheduling:enrollment_end", args=[cast.patient.public_id, enrollment.public_id]
        )
        client.post(end, {"reason": "Works Saturdays now"})
    enrollment.refresh_from_db()
    assert enrollment.ended_at is not None and enrollment.end_reason == "Works Saturdays now"
