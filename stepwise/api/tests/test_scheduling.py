"""The schedule through the JSON API: session types, rooms and holidays, series and
their sessions, the program week without names, rosters and attendance for those who
run a session, weekly hours, a patient's schedule, enrollment, appointments and
outreach; the same walls, audit rows, 409s and 422s as the services, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stepwise.accounts.models import Membership
from stepwise.api.tests.support import audit_rows
from stepwise.care.services import episode_admit
from stepwise.patients.models import Task
from stepwise.scheduling.models import Attendance, Enrollment, Session, SessionSeries
from stepwise.scheduling.tests.support import at, iop_series, room, session_type

MONDAY = date(2026, 11, 2)  # the first Monday after the autumn change in New York
WEDNESDAY = date(2026, 11, 4)
THURSDAY = date(2026, 11, 5)


@pytest.fixture(autouse=True)
def _monday_morning() -> Iterator[None]:
    """Every test starts on Monday 2 November 2026, 09:00 in New York."""
    with time_machine.travel(at(MONDAY, 9), tick=True):
        yield


def member(cast: Any, name: str) -> str:
    """The staff membership id of a member of the cast (what `facilitator` takes)."""
    return str(Membership.objects.get(user=cast.users[name], organization=cast.org).public_id)


def session_on(series: SessionSeries, day: date) -> Session:
    return Session.objects.get(series=series, occurrence_on=day)


@pytest.fixture
def group(cast: Any) -> SimpleNamespace:
    """The evening IOP group (Mon, Wed, Thu 18:00-21:00, the owner facilitating) with
    two members admitted this morning."""
    series = iop_series(cast)
    ben = cast.new_patient("RR-2", "Ben", "Ortiz")
    for patient in (cast.patient, ben):
        episode_admit(cast.actors["owner"], patient, cast.iop, at=at(MONDAY, 8))
    return SimpleNamespace(
        cast=cast,
        series=series,
        ana=cast.patient,
        ben=ben,
        monday=session_on(series, MONDAY),
        week=f"/programs/{cast.iop.public_id}/sessions",
    )


def series_body(cast: Any, **changes: Any) -> dict[str, Any]:
    body = {
        "session_type": str(session_type(cast).public_id),
        "title": "Evening IOP group",
        "weekdays": [0, 2, 3],
        "start_time": "18:00",
        "minutes": 180,
        "first_day": "2026-11-02",
        "facilitator": member(cast, "owner"),
        "room": str(room(cast).public_id),
        "capacity": 12,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


# --- Session types, facilities, rooms, holidays -------------------------------


def test_session_types_are_listed_added_and_changed(api: Any, cast: Any) -> None:
    listed = api.get("owner", "/session-types")
    assert listed.status_code == 200
    assert {"group_therapy", "individual_therapy", "drug_education"} <= {
        t["code"] for t in listed.json()
    }
    body = {"code": "art_therapy", "name": "Art therapy", "mode": "group", "default_minutes": 60}
    made = api.post("director", "/session-types", body)
    assert made.status_code == 201, made.json()
    assert made.json()["counts_clinical"] is True and made.json()["is_active"] is True
    changed = api.post("director", "/session-types", {**body, "default_minutes": 75})
    assert changed.status_code == 200
    assert (changed.json()["id"], changed.json()["default_minutes"]) == (made.json()["id"], 75)
    # A type keeps its mode.
    assert api.post("director", "/session-types", {**body, "mode": "individual"}).status_code == 409
    # Each organization has its own.
    theirs = api.get("outsider", "/session-types").json()
    assert "art_therapy" not in {t["code"] for t in theirs}
    assert not {t["id"] for t in theirs} & {t["id"] for t in listed.json()}


def test_a_session_type_is_refused_by_field(api: Any, cast: Any) -> None:
    body = {"code": "art therapy!", "name": "Art", "mode": "solo", "default_minutes": 2}
    refused = api.post("director", "/session-types", body)
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert errors["mode"] == "Allowed values: group, individual."
    assert set(errors) == {"code", "mode", "default_minutes"}
    # A misspelt field is named, not dropped.
    typo = api.post(
        "director", "/session-types", {"code": "art", "name": "Art", "mode": "group", "minutes": 5}
    )
    assert typo.status_code == 422
    assert {"minutes", "default_minutes"} <= set(typo.json()["errors"])


def test_only_schedule_managers_change_types(api: Any, cast: Any) -> None:
    body = {"code": "yoga", "name": "Yoga", "mode": "group", "default_minutes": 60}
    assert api.post("colleague", "/session-types", body).status_code == 403  # a nurse
    assert api.post("readonly", "/session-types", body).status_code == 403
    assert api.get("readonly", "/session-types").status_code == 403  # the privacy officer
    assert api.get("admin", "/session-types").status_code == 403


def test_rooms_of_a_facility(api: Any, cast: Any) -> None:
    rooms = f"/facilities/{cast.facility.public_id}/rooms"
    made = api.post("director", rooms, {"name": "Garden room", "seats": 12})
    assert made.status_code == 201, made.json()
    assert made.json()["facility"] == str(cast.facility.public_id)
    assert api.post("owner", rooms, {"name": "garden room"}).status_code == 409
    refused = api.post("director", rooms, {"name": "Hall", "seats": 900})
    assert refused.status_code == 422 and "seats" in refused.json()["errors"]

    listed = api.get("owner", "/facilities").json()
    assert [(f["name"], f["time_zone"]) for f in listed] == [("Main", "America/New_York")]
    assert [r["name"] for r in listed[0]["rooms"]] == ["Garden room"]
    assert [f["name"] for f in api.get("outsider", "/facilities").json()] == ["Harbor"]

    assert api.post("outsider", rooms, {"name": "Annex"}).status_code == 404
    assert api.post("director", "/facilities/nope/rooms", {"name": "Annex"}).status_code == 404
    assert api.post("colleague", rooms, {"name": "Annex"}).status_code == 403
    assert api.post("readonly", rooms, {"name": "Annex"}).status_code == 403


def test_a_holiday_cancels_that_days_sessions(api: Any, group: Any) -> None:
    cast = group.cast
    closures = f"/facilities/{cast.facility.public_id}/closures"
    closed = api.post("director", closures, {"on": "2026-11-26", "name": "Thanksgiving"})
    assert closed.status_code == 201, closed.json()
    assert closed.json()["on"] == "2026-11-26" and closed.json()["name"] == "Thanksgiving"
    week = api.get("owner", group.week, week="2026-11-26").json()
    thursday = week["days"][3]
    assert (thursday["on"], thursday["closed"]) == ("2026-11-26", "Thanksgiving")
    assert [(s["status"], s["cancel_reason"]) for s in thursday["sessions"]] == [
        ("cancelled", "Closed: Thanksgiving")
    ]
    assert api.post("director", closures, {"on": "2026-11-26", "name": "Again"}).status_code == 409
    far = api.post("director", closures, {"on": "9999-12-31", "name": "Never"})
    assert far.status_code == 422 and "on" in far.json()["errors"]
    assert api.post("director", closures, {"on": "2026-12-25", "name": ""}).status_code == 422
    assert api.post("outsider", closures, {"on": "2026-12-25", "name": "X"}).status_code == 404
    assert api.post("readonly", closures, {"on": "2026-12-25", "name": "X"}).status_code == 403


def test_facilitators_are_named_by_their_staff_membership(api: Any, cast: Any) -> None:
    listed = api.get("colleague", "/facilitators")
    assert listed.status_code == 200
    found = {f["username"]: f for f in listed.json()}
    assert set(found) == {"owner", "colleague", "director"}  # not the privacy officer, admin
    assert found["owner"]["id"] == member(cast, "owner") and found["owner"]["role"] == "counselor"
    assert found["owner"]["name"] == "Owner"


# --- Series -----------------------------------------------------------------


def test_a_series_on_weekdays_runs_at_six_in_the_facilitys_zone(api: Any, cast: Any) -> None:
    made = api.post("director", f"/programs/{cast.iop.public_id}/series", series_body(cast))
    assert made.status_code == 201, made.json()
    series = made.json()
    assert series["rule"] == "FREQ=WEEKLY;BYDAY=MO,WE,TH"
    assert (series["start_time"], series["minutes"], series["time_zone"]) == (
        "18:00",
        180,
        "America/New_York",
    )
    assert series["facilitator"]["id"] == member(cast, "owner")
    assert series["program"]["id"] == str(cast.iop.public_id)
    assert series["room"]["name"] == "Group room A" and series["is_core"] is True
    assert api.get("colleague", f"/series/{series['id']}").json() == series
    week = api.get("owner", f"/programs/{cast.iop.public_id}/sessions").json()
    monday = week["days"][0]["sessions"][0]
    # 18:00 EST is 23:00 UTC now that the clocks went back.
    assert monday["starts_local"] == "2026-11-02T18:00:00-05:00"
    assert monday["starts_at"] == "2026-11-02T23:00:00Z"
    assert monday["series"] == series["id"] and monday["minutes"] == 180


def test_a_series_by_rrule_with_the_types_minutes(api: Any, cast: Any) -> None:
    body = series_body(
        cast,
        weekdays=None,
        rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
        minutes=None,
        room=None,
        session_type=str(session_type(cast, "drug_education").public_id),
        title="",
    )
    made = api.post("owner", f"/programs/{cast.iop.public_id}/series", body)
    assert made.status_code == 201, made.json()
    assert made.json()["minutes"] == 60 and made.json()["title"] == "Drug education class"
    first_two = Session.objects.filter(series__public_id=made.json()["id"]).order_by("starts_at")
    assert [s.occurrence_on for s in first_two[:2]] == [date(2026, 11, 3), date(2026, 11, 17)]


def test_a_facilitator_double_booked_is_a_conflict(api: Any, cast: Any) -> None:
    assert (
        api.post("director", f"/programs/{cast.iop.public_id}/series", series_body(cast))
    ).status_code == 201
    clash = series_body(cast, room=str(room(cast, "Group room B").public_id), start_time="20:00")
    refused = api.post("director", f"/programs/{cast.iop_east.public_id}/series", clash)
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith('Owner is already booked for "Evening IOP group"')
    assert not Session.objects.filter(program=cast.iop_east).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rule": "FREQ=DAILY"}, "rule"),  # weekdays and a rule
        ({"weekdays": None}, "weekdays"),  # neither
        ({"weekdays": [7]}, "weekdays"),
        ({"every_weeks": 9}, "every_weeks"),
        ({"weekdays": None, "rule": "FREQ=HOURLY"}, "rule"),
        ({"weekdays": None, "rule": "FREQ=WEEKLY;COUNT=3"}, "rule"),
        ({"weekdays": None, "rule": "FREQ=DAILY;INTERVAL=0"}, "rule"),  # would never advance
        ({"weekdays": None, "rule": "FREQ=DAILY;INTERVAL=-1"}, "rule"),
        ({"weekdays": None, "rule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9,10"}, "rule"),
        ({"start_time": "25:00"}, "start_time"),
        ({"start_time": "6pm"}, "start_time"),
        ({"minutes": 900}, "minutes"),
        ({"first_day": "2026-11-09", "last_day": "2026-11-02"}, "last_day"),
        ({"first_day": "0001-01-01"}, "first_day"),
        ({"capacity": 0}, "capacity"),
        ({"facilitator": "00000000-0000-0000-0000-000000000000"}, "facilitator"),
        ({"room": "00000000-0000-0000-0000-000000000000"}, "room"),
        ({"session_type": "00000000-0000-0000-0000-000000000000"}, "session_type"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_series_is_refused_naming_the_field(
    api: Any, cast: Any, changes: dict[str, Any], field: str
) -> None:
    body = series_body(cast)
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not None}
    refused = api.post("director", f"/programs/{cast.iop.public_id}/series", body)
    assert refused.status_code == 422, refused.json()
    assert field in refused.json()["errors"], refused.json()
    assert not SessionSeries.objects.exists()


def test_a_facilitator_in_a_role_that_runs_no_sessions_is_refused(api: Any, cast: Any) -> None:
    body = series_body(cast, facilitator=member(cast, "readonly"))
    refused = api.post("director", f"/programs/{cast.iop.public_id}/series", body)
    assert refused.status_code == 422
    assert "counselor" in refused.json()["errors"]["facilitator"]


def test_only_schedule_managers_of_the_organization_make_series(api: Any, cast: Any) -> None:
    path = f"/programs/{cast.iop.public_id}/series"
    assert api.post("colleague", path, series_body(cast)).status_code == 403
    assert api.post("readonly", path, series_body(cast)).status_code == 403
    assert api.post("outsider", path, series_body(cast)).status_code == 404
    # The other organization's program is as unknown to the director as a made-up id.
    assert (
        api.post(
            "director", f"/programs/{cast.other_program.public_id}/series", series_body(cast)
        ).status_code
        == 404
    )
    assert not SessionSeries.objects.exists()


def test_ending_a_series_cancels_its_later_sessions(api: Any, group: Any) -> None:
    path = f"/series/{group.series.public_id}"
    ended = api.post("owner", f"{path}/end", {"last_day": "2026-11-15"})
    assert ended.status_code == 200, ended.json()
    assert ended.json()["last_day"] == "2026-11-15"
    later = Session.objects.filter(series=group.series, occurrence_on__gt=date(2026, 11, 15))
    assert later.exists() and not later.filter(status="scheduled").exists()
    assert api.get("outsider", path).status_code == 404
    assert api.post("outsider", f"{path}/end", {"last_day": "2026-11-15"}).status_code == 404
    assert api.post("colleague", f"{path}/end", {"last_day": "2026-11-15"}).status_code == 403
    assert api.get("readonly", path).status_code == 403


# --- The program week and a session ------------------------------------------


def test_the_program_week_counts_seats_and_names_no_patient(api: Any, group: Any) -> None:
    response = api.get("colleague", group.week, week="2026-11-04")
    assert response.status_code == 200, response.json()
    week = response.json()
    assert week["week_start"] == "2026-11-02" and week["time_zone"] == "America/New_York"
    assert [d["on"] for d in week["days"]] == [f"2026-11-0{n}" for n in range(2, 9)]
    assert [len(d["sessions"]) for d in week["days"]] == [1, 0, 1, 1, 0, 0, 0]
    monday = week["days"][0]["sessions"][0]
    assert (monday["seats"], monday["taken"], monday["attended"]) == (2, 0, 0)
    assert monday["facilitator"]["username"] == "owner"
    text = response.content.decode()
    for patient in (group.ana, group.ben):
        for shown in (patient.family_name, patient.given_name, patient.mrn, str(patient.public_id)):
            assert shown not in text


def test_the_program_week_runs_the_same_queries_for_one_group_or_three(
    api: Any, group: Any
) -> None:
    cast = group.cast

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("owner", group.week).status_code == 200
        return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"].upper()])

    api.get("owner", group.week)  # the token's first use records last_used_at
    one = statements()
    cast.new_member("counselor", "second")
    iop_series(cast, rule="FREQ=DAILY", start=time(9), minutes=60, room_name="Group room B")
    iop_series(cast, facilitator="second", start=time(12), minutes=60, room_name=None)
    assert statements() == one


def test_the_program_week_is_for_the_organizations_clinical_staff(api: Any, group: Any) -> None:
    assert api.get("readonly", group.week).status_code == 403
    assert api.get("outsider", group.week).status_code == 404
    refused = api.get("owner", group.week, week="9999-12-31")
    assert refused.status_code == 422 and "week" in refused.json()["errors"]
    assert api.get("owner", group.week, week="next week").status_code == 422


def test_a_session_shows_its_roster_to_those_who_run_it(api: Any, group: Any) -> None:
    path = f"/sessions/{group.monday.public_id}"
    mine = api.get("owner", path)  # the facilitator
    assert mine.status_code == 200, mine.json()
    roster = mine.json()["roster"]
    assert [(r["name"], r["status"]) for r in roster] == [
        ("Ben Ortiz", "expected"),
        ("Ana Rivera", "expected"),
    ]
    assert audit_rows(object_type="session_roster")[-1].actor_username == "owner"
    assert api.get("director", path).json()["roster"] is not None
    # A nurse of the organization who does not run it: the session, no names.
    theirs = api.get("colleague", path)
    assert theirs.status_code == 200 and theirs.json()["roster"] is None
    assert theirs.json()["seats"] == 2 and "Rivera" not in theirs.content.decode()
    assert api.get("readonly", path).status_code == 403
    assert api.get("outsider", path).status_code == 404
    assert api.get("owner", "/sessions/not-an-id").status_code == 404


# --- One-off changes ------------------------------------------------------------


def test_a_session_is_cancelled_once_with_a_reason(api: Any, group: Any) -> None:
    path = f"/sessions/{session_on(group.series, WEDNESDAY).public_id}"
    missing = api.post("owner", f"{path}/cancel", {"reason": " "})
    assert missing.status_code == 422 and "reason" in missing.json()["errors"]
    assert api.post("colleague", f"{path}/cancel", {"reason": "Snow"}).status_code == 403
    assert api.post("readonly", f"{path}/cancel", {"reason": "Snow"}).status_code == 403
    assert api.post("outsider", f"{path}/cancel", {"reason": "Snow"}).status_code == 404
    cancelled = api.post("owner", f"{path}/cancel", {"reason": "Snow"})
    assert cancelled.status_code == 200, cancelled.json()
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("cancelled", "Snow")
    assert api.post("owner", f"{path}/cancel", {"reason": "Snow"}).status_code == 409


def test_a_session_moves_to_another_time(api: Any, group: Any) -> None:
    thursday = session_on(group.series, THURSDAY)
    moved = api.post(
        "director",
        f"/sessions/{thursday.public_id}/move",
        {"starts_at": "2026-11-06T13:00:00-05:00", "minutes": 120},
    )
    assert moved.status_code == 200, moved.json()
    body = moved.json()
    assert body["starts_local"] == "2026-11-06T13:00:00-05:00"
    assert body["ends_local"] == "2026-11-06T15:00:00-05:00"
    assert body["occurrence_on"] == "2026-11-05" and body["moved_from"] == "2026-11-05T23:00:00Z"
    naive = api.post(
        "director", f"/sessions/{thursday.public_id}/move", {"starts_at": "2026-11-06T13:00:00"}
    )
    assert naive.status_code == 422 and "starts_at" in naive.json()["errors"]


def test_a_move_onto_a_busy_facilitator_or_patient_is_a_conflict(api: Any, group: Any) -> None:
    cast = group.cast
    other = iop_series(
        cast, program=cast.iop_east, rule="FREQ=WEEKLY;BYDAY=TU", room_name="Group room B"
    )
    tuesday = session_on(other, date(2026, 11, 3))
    busy_owner = api.post(
        "director",
        f"/sessions/{tuesday.public_id}/move",
        {"starts_at": "2026-11-04T19:00:00-05:00"},
    )
    assert busy_owner.status_code == 409
    assert busy_owner.json()["detail"].startswith("Owner is already booked")
    # Ana has an appointment on Friday evening; her group cannot move onto it.
    cast.new_member("counselor", "therapist")
    booked = api.post(
        "owner",
        f"/patients/{group.ana.public_id}/appointments",
        {
            "session_type": str(session_type(cast, "individual_therapy").public_id),
            "facilitator": member(cast, "therapist"),
            "starts_at": "2026-11-06T19:00:00-05:00",
        },
    )
    assert booked.status_code == 201, booked.json()
    busy_patient = api.post(
        "director",
        f"/sessions/{session_on(group.series, date(2026, 11, 9)).public_id}/move",
        {"starts_at": "2026-11-06T18:30:00-05:00"},
    )
    assert busy_patient.status_code == 409
    assert "Ana Rivera is already in" in busy_patient.json()["detail"]


# --- Attendance ---------------------------------------------------------------------


def attendance(api: Any, who: str, session: Session, marks: list[dict[str, Any]]) -> Any:
    with time_machine.travel(session.starts_at + timedelta(hours=2)):
        return api.post(who, f"/sessions/{session.public_id}/attendance", {"marks": marks})


def test_the_facilitator_marks_the_whole_group_at_once(api: Any, group: Any) -> None:
    marks: list[dict[str, Any]] = [
        {"patient": str(group.ana.public_id), "status": "present"},
        {"patient": str(group.ben.public_id), "status": "late", "minutes": 150},
    ]
    taken = attendance(api, "owner", group.monday, marks)
    assert taken.status_code == 200, taken.json()
    body = taken.json()
    assert [(r["name"], r["status"], r["minutes_attended"]) for r in body["roster"]] == [
        ("Ben Ortiz", "late", 150),
        ("Ana Rivera", "present", 180),
    ]
    assert (body["taken"], body["attended"]) == (2, 2)
    assert {r.patient_public_id for r in audit_rows(object_type="attendance")} == {
        group.ana.public_id,
        group.ben.public_id,
    }


def test_an_unknown_status_names_the_member_and_the_allowed_values(api: Any, group: Any) -> None:
    marks = [
        {"patient": str(group.ana.public_id), "status": "present"},
        {"patient": str(group.ben.public_id), "status": "maybe"},
    ]
    refused = attendance(api, "owner", group.monday, marks)
    assert refused.status_code == 422
    message = refused.json()["errors"][f"status_{group.ben.public_id}"]
    assert "present (Present)" in message and "absent_unexcused" in message
    assert not Attendance.objects.exclude(status="expected").exists()  # nothing saved


@pytest.mark.parametrize(
    ("marks", "field"),
    [
        ([], "marks"),
        ([{"patient": "ANA", "status": "late"}], "marks.0.patient"),
        ([{"patient": "ANA", "status": "late"}], "minutes_ANA"),
        ([{"patient": "ANA", "status": "present"}] * 2, "patient_ANA"),
        ([{"patient": "ANA", "status": "present", "note": "x"}], "marks.0.note"),
    ],
)
def test_marks_are_refused_by_field(
    api: Any, group: Any, marks: list[dict[str, Any]], field: str
) -> None:
    ana = str(group.ana.public_id)
    if field == "marks.0.patient":
        marks = [{"patient": "not-a-patient", "status": "present"}]
    else:
        marks = [{**m, "patient": ana} for m in marks]
    refused = attendance(api, "owner", group.monday, marks)
    assert refused.status_code == 422, refused.json()
    assert field.replace("ANA", ana) in refused.json()["errors"]


def test_attendance_waits_for_the_session_and_a_cancelled_one_takes_none(
    api: Any, group: Any
) -> None:
    mark = [{"patient": str(group.ana.public_id), "status": "present"}]
    early = api.post("owner", f"/sessions/{group.monday.public_id}/attendance", {"marks": mark})
    assert early.status_code == 422 and "session" in early.json()["errors"]
    wednesday = session_on(group.series, WEDNESDAY)
    api.post("owner", f"/sessions/{wednesday.public_id}/cancel", {"reason": "Snow"})
    assert attendance(api, "owner", wednesday, mark).status_code == 409


def test_only_those_who_run_the_session_take_attendance(api: Any, group: Any) -> None:
    mark = [{"patient": str(group.ana.public_id), "status": "present"}]
    assert attendance(api, "colleague", group.monday, mark).status_code == 403  # a nurse
    assert attendance(api, "readonly", group.monday, mark).status_code == 403
    assert attendance(api, "outsider", group.monday, mark).status_code == 404
    assert not Attendance.objects.exclude(status="expected").exists()
    assert attendance(api, "director", group.monday, mark).status_code == 200


# --- Weekly hours and a patient's schedule ------------------------------------------


def test_the_programs_weekly_hours_against_the_minimum(api: Any, group: Any) -> None:
    path = f"/programs/{group.cast.iop.public_id}/intensity"
    response = api.get("owner", path, week="2026-11-05")
    assert response.status_code == 200, response.json()
    board = response.json()
    assert (board["week_start"], board["level"], board["minimum_hours"]) == ("2026-11-02", "2.1", 9)
    rows = {row["name"]: row for row in board["patients"]}
    assert set(rows) == {"Ana Rivera", "Ben Ortiz"}
    ana = rows["Ana Rivera"]
    assert (ana["scheduled_hours"], ana["attended_hours"], ana["remaining_hours"]) == (9, 0, 9)
    assert ana["status"] == "on_track" and board["short"] == 0
    assert audit_rows(object_type="program_dashboard")[-1].actor_username == "owner"


def test_weekly_hours_name_only_patients_the_reader_may_see(api: Any, group: Any) -> None:
    path = f"/programs/{group.cast.iop.public_id}/intensity"
    # A nurse who is not on the program's staff nor anyone's care team sees no one.
    theirs = api.get("colleague", path)
    assert theirs.status_code == 200 and theirs.json()["patients"] == []
    assert "Rivera" not in theirs.content.decode()
    assert api.get("readonly", path).status_code == 403
    assert api.get("outsider", path).status_code == 404


def test_a_patients_schedule(api: Any, group: Any) -> None:
    path = f"/patients/{group.ana.public_id}/schedule"
    response = api.get("owner", path)
    assert response.status_code == 200, response.json()
    schedule = response.json()
    assert schedule["stay"]["program"]["name"] == "Evening IOP"
    first = schedule["upcoming"][0]
    assert (first["session"], first["attendance"]) == (str(group.monday.public_id), "expected")
    assert first["starts_local"] == "2026-11-02T18:00:00-05:00"
    assert [e["kind"] for e in schedule["enrollments"]] == ["core"]
    assert len(schedule["weeks"]) == 5 and schedule["weeks"][-1]["week_start"] == "2026-11-02"
    assert schedule["weeks"][-1]["minimum_hours"] == 9
    assert audit_rows(object_type="patient_schedule")[-1].patient_public_id == group.ana.public_id
    assert api.get("readonly", path).status_code == 200  # the privacy officer reads charts
    assert api.get("colleague", path).status_code == 403  # not on the care team
    assert api.get("outsider", path).status_code == 404


def test_a_patients_schedule_runs_the_same_queries_however_full(api: Any, group: Any) -> None:
    cast = group.cast
    path = f"/patients/{group.ana.public_id}/schedule"

    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("owner", path).status_code == 200
        return len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"].upper()])

    api.get("owner", path)  # the token's first use records last_used_at
    one = statements()
    for day, hour in (("SA", 10), ("SU", 11)):
        optional = iop_series(
            cast,
            rule=f"FREQ=WEEKLY;BYDAY={day}",
            start=time(hour),
            minutes=60,
            is_core=False,
            code="support_group",
            title=f"{day} support",
            room_name=None,
        )
        assert (
            api.post(
                "owner",
                f"/patients/{group.ana.public_id}/enrollments",
                {"series": str(optional.public_id)},
            ).status_code
            == 201
        )
    assert statements() == one


# --- Enrollment and appointments -----------------------------------------------------


@pytest.fixture
def saturday(group: Any) -> SessionSeries:
    return iop_series(
        group.cast,
        rule="FREQ=WEEKLY;BYDAY=SA",
        start=time(10),
        minutes=60,
        is_core=False,
        code="support_group",
        title="Saturday support",
        room_name="Group room B",
    )


def test_an_optional_series_is_chosen_and_left(api: Any, group: Any, saturday: Any) -> None:
    path = f"/patients/{group.ana.public_id}/enrollments"
    made = api.post("owner", path, {"series": str(saturday.public_id)})
    assert made.status_code == 201, made.json()
    enrollment = made.json()
    assert (enrollment["kind"], enrollment["series"]["title"]) == ("optional", "Saturday support")
    assert Attendance.objects.filter(patient=group.ana, session__series=saturday).exists()
    assert api.post("owner", path, {"series": str(saturday.public_id)}).status_code == 409

    end = f"/enrollments/{enrollment['id']}/end"
    assert api.post("owner", end, {"reason": ""}).status_code == 422
    assert api.post("colleague", end, {"reason": "x"}).status_code == 403
    assert api.post("readonly", end, {"reason": "x"}).status_code == 403
    assert api.post("outsider", end, {"reason": "x"}).status_code == 404
    ended = api.post("owner", end, {"reason": "Prefers Sunday"})
    assert ended.status_code == 200, ended.json()
    assert ended.json()["ended_at"] and ended.json()["end_reason"] == "Prefers Sunday"
    assert not Attendance.objects.filter(patient=group.ana, session__series=saturday).exists()
    assert api.post("owner", end, {"reason": "again"}).status_code == 409


def test_enrollment_is_refused_at_a_busy_time_or_for_a_core_series(api: Any, group: Any) -> None:
    path = f"/patients/{group.ana.public_id}/enrollments"
    clash = iop_series(
        group.cast,
        rule="FREQ=WEEKLY;BYDAY=TH",
        start=time(19),
        minutes=60,
        is_core=False,
        facilitator="director",
        room_name="Group room B",
        title="Thursday relapse prevention",
    )
    busy = api.post("owner", path, {"series": str(clash.public_id)})
    assert busy.status_code == 409
    assert busy.json()["detail"].startswith('Ana Rivera is already in "Evening IOP group"')
    core = api.post("owner", path, {"series": str(group.series.public_id)})
    assert core.status_code == 422 and "series" in core.json()["errors"]
    unknown = api.post("owner", path, {"series": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 422 and "series" in unknown.json()["errors"]
    core_enrollment = Enrollment.objects.get(patient=group.ana, series=group.series)
    ended = api.post("owner", f"/enrollments/{core_enrollment.public_id}/end", {"reason": "x"})
    assert ended.status_code == 409


def test_enrollment_is_for_the_care_team_of_the_organization(api: Any, group: Any, saturday: Any):
    path = f"/patients/{group.ana.public_id}/enrollments"
    body = {"series": str(saturday.public_id)}
    assert api.post("colleague", path, body).status_code == 403
    assert api.post("readonly", path, body).status_code == 403
    assert api.post("outsider", path, body).status_code == 404
    assert not Enrollment.objects.filter(series=saturday).exists()


def test_an_appointment_is_booked_after_the_group_not_during_it(api: Any, group: Any) -> None:
    cast = group.cast
    cast.new_member("counselor", "therapist")
    path = f"/patients/{group.ana.public_id}/appointments"
    body = {
        "session_type": str(session_type(cast, "individual_therapy").public_id),
        "facilitator": member(cast, "therapist"),
        "starts_at": "2026-11-05T20:00:00-05:00",
    }
    busy = api.post("owner", path, body)
    assert busy.status_code == 409 and "Ana Rivera is already in" in busy.json()["detail"]
    booked = api.post("owner", path, {**body, "starts_at": "2026-11-05T21:00:00-05:00"})
    assert booked.status_code == 201, booked.json()
    session = booked.json()
    assert (session["minutes"], session["series"], session["seats"]) == (50, None, 1)
    assert session["program"]["name"] == "Evening IOP"  # the current stay's program
    assert session["facilitator"]["username"] == "therapist"
    assert session["starts_local"] == "2026-11-05T21:00:00-05:00"
    # The therapist now runs it and sees the patient's name; the booker does not.
    assert api.get("therapist", f"/sessions/{session['id']}").json()["roster"][0]["name"] == (
        "Ana Rivera"
    )


def test_an_appointment_is_refused_by_field(api: Any, group: Any) -> None:
    cast = group.cast
    individual = str(session_type(cast, "individual_therapy").public_id)
    path = f"/patients/{group.ana.public_id}/appointments"
    body = {
        "session_type": individual,
        "facilitator": member(cast, "owner"),
        "starts_at": "2026-11-06T12:00:00-05:00",
    }
    group_type = api.post(
        "owner", path, {**body, "session_type": str(session_type(cast).public_id)}
    )
    assert group_type.status_code == 422 and "session_type" in group_type.json()["errors"]
    naive = api.post("owner", path, {**body, "starts_at": "2026-11-06T12:00:00"})
    assert naive.status_code == 422 and "starts_at" in naive.json()["errors"]
    # Someone in no program: the program must be named.
    sam = cast.new_patient("RR-3")
    nowhere = api.post("owner", f"/patients/{sam.public_id}/appointments", body)
    assert nowhere.status_code == 422 and "program" in nowhere.json()["errors"]
    assert api.post("colleague", path, body).status_code == 403
    assert api.post("readonly", path, body).status_code == 403
    assert api.post("outsider", path, body).status_code == 404


# --- Outreach ---------------------------------------------------------------------------


def test_two_absences_raise_outreach_and_the_attempt_answers_it(api: Any, group: Any) -> None:
    absent = [{"patient": str(group.ana.public_id), "status": "absent_unexcused"}]
    assert attendance(api, "owner", group.monday, absent).status_code == 200
    wednesday = session_on(group.series, WEDNESDAY)
    assert attendance(api, "owner", wednesday, absent).status_code == 200
    task = Task.objects.get(kind="outreach", patient=group.ana)
    path = f"/patients/{group.ana.public_id}/outreach-attempts"
    body = {
        "method": "phone",
        "outcome": "no_answer",
        "note": "Rang twice",
        "task": str(task.public_id),
    }
    with time_machine.travel(at(THURSDAY, 10)):
        made = api.post("owner", path, body)
    assert made.status_code == 201, made.json()
    assert (made.json()["task"], made.json()["by"]) == (str(task.public_id), "owner")


def test_an_outreach_attempt_is_refused_by_field(api: Any, group: Any) -> None:
    path = f"/patients/{group.ana.public_id}/outreach-attempts"
    refused = api.post("owner", path, {"method": "pigeon", "outcome": "no_answer"})
    assert refused.status_code == 422
    assert "phone (Phone call)" in refused.json()["errors"]["method"]
    future = api.post(
        "owner", path, {"method": "phone", "outcome": "reached", "at": "2026-11-20T10:00:00Z"}
    )
    assert future.status_code == 422 and "at" in future.json()["errors"]
    unknown = api.post(
        "owner",
        path,
        {"method": "phone", "outcome": "reached", "task": "00000000-0000-0000-0000-000000000000"},
    )
    assert unknown.status_code == 422 and "task" in unknown.json()["errors"]
    body = {"method": "phone", "outcome": "reached"}
    assert api.post("colleague", path, body).status_code == 403
    assert api.post("readonly", path, body).status_code == 403
    assert api.post("outsider", path, body).status_code == 404
    assert api.post("owner", path, body).status_code == 201


# --- No server error, whatever the request ----------------------------------------------


def test_the_schedule_never_answers_with_a_server_error(api: Any, group: Any, saturday: Any):
    """Schemathesis over the schedule's operations, as the owner (facilitator, care team,
    schedule manager) after the Monday group, with the real records in the paths, so
    the services behind them run on valid and invalid requests alike."""
    import schemathesis
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.result import Ok

    from stepwise.api.tests.test_schema_fuzz import SCHEMA_URL, cases

    cast = group.cast
    enrollment = Enrollment.objects.get(patient=group.ana, series=group.series)
    real_ids = {
        "patient_id": str(group.ana.public_id),
        "program_id": str(cast.iop.public_id),
        "facility_id": str(cast.facility.public_id),
        "series_id": str(saturday.public_id),
        "session_id": str(group.monday.public_id),
        "enrollment_id": str(enrollment.public_id),
    }
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with time_machine.travel(at(MONDAY, 21)):
            token = api.token("owner")
            schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, WSGIHandler()).include(
                tag="scheduling"
            )
            results = list(schema.get_all_operations())
            operations = [r.ok() for r in results if isinstance(r, Ok)]
            assert len(operations) == len(results) >= 20
            for operation in operations:

                @given(case=cases(operation, real_ids))
                @settings(
                    max_examples=15,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                )
                def no_server_error(case: Any) -> None:
                    case.call_and_validate(
                        headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
                    )

                no_server_error()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
