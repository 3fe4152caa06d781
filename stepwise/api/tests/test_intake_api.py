"""The admissions line through the JSON API: a night call from crisis triage to a
bed, the call desk and the waitlist, the bed board; the same walls, audit rows and
422s as the pages, over real HTTP with bearer tokens."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.api.permissions import api_operations
from stepwise.api.tests.support import audit_rows
from stepwise.api.urls import api as ninja_api
from stepwise.care.models import BedReservation, Episode, ReservationStatus
from stepwise.intake.models import Inquiry, Screening, WaitlistEntry

MEMBER_NUMBER = "XZ99887766"
NIGHT_DETAILS = {
    "caller_kind": "family",
    "caller_name": "Rosa Vance",
    "caller_relationship": "Mother",
    "caller_phone": "555-0142",
    "callback_ok": True,
    "given_name": "Jordan",
    "family_name": "Vance",
    "date_of_birth": "1994-03-02",
    "substances": [
        {"substance": 7, "route": 4, "frequency": "daily"},
        {"substance": 13, "route": 1, "frequency": "3_6_week"},
    ],
    "prior_treatment": 1,
    "pregnancy": "no",
    "situation_note": "Revived with naloxone at home tonight; wants detox.",
    "referral_source": 1,
}
DETOX_SCREEN = {
    "withdrawal_estimate": "moderate",
    "ratings": [3, 1, 1, 2, 3, 3],
    "medical_flags": ["infection"],
    "psychiatric_flags": [],
    "payer_type": "medicaid",
    "payer_name": "State Medicaid",
    "payer_member_id": MEMBER_NUMBER,
    "authorization": "not_required",
}


@pytest.fixture
def line(cast: Any) -> SimpleNamespace:
    """The admissions coordinator on the night shift, beside the fixed cast."""
    cast.new_member("admissions")
    return SimpleNamespace(cast=cast, detox=str(cast.detox.public_id))


def start(api: Any, who: str = "admissions", **body: Any) -> dict[str, Any]:
    response = api.post(who, "/inquiries", {"signs": [], **body})
    assert response.status_code == 201, response.json()
    found: dict[str, Any] = response.json()
    return found


def later(hours: float) -> str:
    return (timezone.now() + timedelta(hours=hours)).isoformat()


def beds_of(api: Any, who: str, program: str) -> dict[str, Any]:
    response = api.get(who, "/beds")
    assert response.status_code == 200
    row: dict[str, Any] = next(r for r in response.json() if r["program"] == program)
    return row


# --- The night call ----------------------------------------------------------


def test_a_night_call_from_crisis_triage_to_a_detox_bed(api: Any, line: Any) -> None:
    cast = line.cast
    # 02:40: a mother calls; her son is not breathing. The danger questions come first.
    call = start(api, signs=["not_breathing", "blue_lips"])
    assert call["lead_flagged"] is True
    assert call["crisis_signs"] == ["not_breathing", "blue_lips"]
    steps = call["crisis_steps"]
    assert [s["advice"] for s in steps] == [
        "call_911",
        "naloxone",
        "rescue_breathing",
        "stay_and_watch",
        "stay_on_line",
    ]
    assert steps[0]["title"] == "Call 911 now"
    assert all(s["how"] for s in steps)
    assert call["is_open"] and call["outcome"] == ""
    path = f"/inquiries/{call['id']}"

    note = api.post("admissions", f"{path}/crisis-note", {"note": "911 called; naloxone given"})
    assert note.status_code == 200
    assert "naloxone given" in note.json()["crisis_note"]

    # He breathes again; the details of the call.
    details = api.post("admissions", f"{path}/details", NIGHT_DETAILS)
    assert details.status_code == 200, details.json()
    body = details.json()
    assert body["person_name"] == "Jordan Vance"
    assert [(s["rank"], s["substance"], s["route"]) for s in body["substances"]] == [
        (1, 7, 4),
        (2, 13, 1),
    ]
    assert body["substances"][0]["frequency_label"] == "Daily"

    # The clinical lead reviews the crisis (a physician or director, not the nurse).
    assert api.post("colleague", f"{path}/lead-review", {"note": "Seen in ED?"}).status_code == 403
    review = api.post("director", f"{path}/lead-review", {"note": "Detox tonight; ED cleared."})
    assert review.status_code == 200
    assert review.json()["lead_reviewed_by"] == "director"

    # The screen suggests withdrawal management, and the detox unit with its place.
    screen = api.post("admissions", f"{path}/screening", DETOX_SCREEN)
    assert screen.status_code == 201, screen.json()
    screening = screen.json()
    assert screening["withdrawal_level"] == "3.7-WM"
    assert screening["recommended_level"]
    assert screening["rationale"] and screening["suggestion_reasons"]
    assert screening["suggested_program"] == {"id": line.detox, "name": "Detox"}
    assert screening["ratings"] == [3, 1, 1, 2, 3, 3]
    assert screening["payer_member_id"] == "****7766"
    assert MEMBER_NUMBER not in screen.content.decode()
    stored = Screening.objects.get(public_id=screening["id"])
    assert stored.payer_member_id == MEMBER_NUMBER

    # Hold a detox bed for his arrival: the bed board counts it at once.
    before = beds_of(api, "admissions", line.detox)
    assert (before["occupied"], before["reserved"], before["available_now"]) == (0, 0, 2)
    held = api.post("admissions", f"{path}/hold", {"program": line.detox, "expected_at": later(1)})
    assert held.status_code == 200, held.json()
    assert held.json()["outcome"] == "scheduled"
    assert held.json()["held_place"]["program"]["name"] == "Detox"
    assert held.json()["held_place"]["holds_place"] is True
    board = beds_of(api, "admissions", line.detox)
    assert (board["reserved"], board["available_now"]) == (1, 1)

    # No one else is Jordan Vance born that day: admit as a new patient.
    assert api.get("admissions", f"{path}/matches").json() == []
    admitted = api.post("admissions", f"{path}/admit", {"program": line.detox})
    assert admitted.status_code == 201, admitted.json()
    result = admitted.json()
    assert result["created_patient"] is True
    episode = Episode.objects.select_related("patient").get(public_id=result["episode"])
    assert str(episode.patient.public_id) == result["patient"]
    assert episode.patient.mrn == result["mrn"]
    assert episode.patient.payer_member_id == MEMBER_NUMBER  # carried over from the screen
    assert list(episode.substances.values_list("substance", flat=True)) == [7, 13]
    board = beds_of(api, "admissions", line.detox)
    assert (board["occupied"], board["reserved"], board["available_now"]) == (1, 0, 1)

    final = api.get("admissions", path).json()
    assert final["outcome"] == "admitted" and final["is_open"] is False
    assert final["patient"] == result["patient"] and final["episode"] == result["episode"]
    assert final["held_place"] is None
    assert final["latest_screening"]["payer_member_id"] == "****7766"
    assert cast.detox.reservations.get().status == ReservationStatus.ADMITTED
    again = api.post("admissions", f"{path}/admit", {"program": line.detox})
    assert again.status_code == 409


def test_a_screen_beyond_every_program_here_suggests_none(api: Any, line: Any) -> None:
    call = start(api)
    severe = {**DETOX_SCREEN, "withdrawal_estimate": "severe", "ratings": [4, 1, 1, 2, 3, 3]}
    response = api.post("admissions", f"/inquiries/{call['id']}/screening", severe)
    assert response.status_code == 201
    body = response.json()
    assert (body["recommended_level"], body["withdrawal_level"]) == ("4", "4-WM")
    assert body["suggested_program"] is None
    assert "refer elsewhere" in body["suggestion_reasons"][0]
    assert body["cautions"]


def test_a_call_without_danger_signs_gets_no_steps_and_no_flag(api: Any, line: Any) -> None:
    call = start(api, channel="walk_in")
    assert call["crisis_steps"] == [] and call["lead_flagged"] is False
    assert call["channel"] == "walk_in"
    suicidal = start(api, signs=["suicidal"])
    assert [s["advice"] for s in suicidal["crisis_steps"]] == ["call_988", "stay_on_line"]
    # A call not flagged is not the lead's to review.
    path = f"/inquiries/{call['id']}/lead-review"
    assert api.post("director", path, {"note": "x"}).status_code == 409


def test_an_existing_patient_is_matched_and_confirmed(api: Any, line: Any) -> None:
    cast = line.cast
    call = start(api)
    path = f"/inquiries/{call['id']}"
    person = {"given_name": "Ana", "family_name": "Rivera", "date_of_birth": "1990-05-17"}
    assert api.post("admissions", f"{path}/details", person).status_code == 200
    matches = api.get("admissions", f"{path}/matches")
    assert matches.status_code == 200
    assert matches.json() == [
        {
            "id": str(cast.patient.public_id),
            "given_name": "Ana",
            "family_name": "Rivera",
            "preferred_name": "",
            "date_of_birth": "1990-05-17",
            "mrn": "RR-1",
        }
    ]
    read = audit_rows(object_type="patient_matches")[-1]
    assert read.action == "read" and read.category == "intake"
    assert read.detail["patients"] == [str(cast.patient.public_id)]
    # Only a match may be confirmed: another patient of the organization is refused.
    other = cast.new_patient("RR-2", "Ben", "Other")
    refused = api.post(
        "admissions", f"{path}/admit", {"program": line.detox, "patient": str(other.public_id)}
    )
    assert refused.status_code == 422
    assert "patient" in refused.json()["errors"]
    # With a match and no choice, nothing is created: the worker must confirm one, or
    # say the caller is someone new.
    unconfirmed = api.post("admissions", f"{path}/admit", {"program": line.detox})
    assert unconfirmed.status_code == 409
    assert str(cast.patient.public_id) in unconfirmed.json()["detail"]
    assert not Episode.objects.exists()
    admitted = api.post(
        "admissions",
        f"{path}/admit",
        {"program": line.detox, "patient": str(cast.patient.public_id)},
    )
    assert admitted.status_code == 201, admitted.json()
    assert admitted.json()["patient"] == str(cast.patient.public_id)
    assert admitted.json()["created_patient"] is False
    assert admitted.json()["mrn"] == "RR-1"


def test_a_place_given_back_frees_the_bed(api: Any, line: Any) -> None:
    call = start(api)
    path = f"/inquiries/{call['id']}"
    hold = {"program": line.detox, "expected_at": later(2)}
    assert api.post("admissions", f"{path}/hold", hold).status_code == 200
    assert api.post("admissions", f"{path}/hold", hold).status_code == 409  # one place a call
    assert beds_of(api, "admissions", line.detox)["reserved"] == 1
    back = api.post("admissions", f"{path}/give-back", {"reason": "Going to his sister's"})
    assert back.status_code == 200
    assert back.json()["held_place"] is None and back.json()["outcome"] == ""
    assert beds_of(api, "admissions", line.detox)["reserved"] == 0
    assert api.post("admissions", f"{path}/give-back", {"reason": "again"}).status_code == 409


def test_conclude_and_follow_up(api: Any, line: Any) -> None:
    call = start(api)
    path = f"/inquiries/{call['id']}"
    due = later(20)
    follow = api.post(
        "admissions", f"{path}/follow-up", {"due_at": due, "note": "Call back after work"}
    )
    assert follow.status_code == 200
    assert follow.json()["follow_up_note"] == "Call back after work"
    cleared = api.post("admissions", f"{path}/follow-up", {"due_at": None})
    assert cleared.json()["follow_up_due_at"] is None
    done = api.post(
        "admissions",
        f"{path}/conclude",
        {
            "outcome": "referred_out",
            "referred_to": "Harbor Women's Program",
            "referral_out_reason": "preference",
        },
    )
    assert done.status_code == 200, done.json()
    assert done.json()["outcome"] == "referred_out" and done.json()["is_open"] is False
    assert done.json()["referred_to"] == "Harbor Women's Program"


# --- The call desk, the waitlist, the bed board ------------------------------------


def test_the_call_desk_lists_open_calls_and_the_leads_queue(api: Any, line: Any) -> None:
    crisis = start(api, signs=["unresponsive"])
    quiet = start(api)
    closed = start(api)
    api.post("admissions", f"/inquiries/{closed['id']}/conclude", {"outcome": "information"})
    desk = api.get("admissions", "/inquiries")
    assert desk.status_code == 200
    body = desk.json()
    assert [c["id"] for c in body["open_calls"]] == [quiet["id"], crisis["id"]]  # newest first
    assert [c["id"] for c in body["lead_queue"]] == [crisis["id"]]
    assert [c["id"] for c in body["recent_closed"]] == [closed["id"]]
    assert body["open_calls"][1]["crisis_signs"] == ["unresponsive"]
    read = audit_rows(object_type="call_desk", action="read")[-1]
    assert read.category == "intake" and read.actor_username == "admissions"
    assert set(read.detail["inquiries"]) == {crisis["id"], quiet["id"], closed["id"]}
    # The privacy officer reads the desk, and writes nothing.
    assert api.get("readonly", "/inquiries").status_code == 200
    assert api.post("readonly", "/inquiries", {"signs": []}).status_code == 403


def test_the_waitlist_is_ordered_by_priority_then_days_waiting(api: Any, line: Any) -> None:
    cast = line.cast
    residential = str(cast.residential.public_id)
    first = start(api)
    pregnant = start(api)
    api.post(
        "admissions",
        f"/inquiries/{pregnant['id']}/details",
        {"given_name": "Mia", "family_name": "Cole", "pregnancy": "yes"},
    )
    for call in (first, pregnant):
        added = api.post("admissions", "/waitlist", {"inquiry": call["id"], "program": residential})
        assert added.status_code == 201, added.json()
        assert added.json()["program"] == {"id": residential, "name": "Residential"}
    again = api.post("admissions", "/waitlist", {"inquiry": first["id"], "program": residential})
    assert again.status_code == 409
    waiting = api.get("admissions", "/waitlist")
    assert waiting.status_code == 200
    rows = waiting.json()
    assert [r["inquiry"] for r in rows] == [pregnant["id"], first["id"]]
    assert [r["priority_label"] for r in rows] == ["Pregnant", "Other"]
    assert rows[0]["person_name"] == "Mia Cole" and rows[0]["days_waiting"] == 0
    assert rows[0]["facility"] == "Main"
    read = audit_rows(object_type="waitlist", action="read")[-1]
    assert set(read.detail["inquiries"]) == {first["id"], pregnant["id"]}

    entry = rows[1]["id"]
    left = api.post(
        "admissions",
        f"/waitlist/{entry}/leave",
        {"exit": "lost_contact", "reason": "Three calls unanswered"},
    )
    assert left.status_code == 200, left.json()
    assert left.json()["exit"] == "lost_contact" and left.json()["left_at"]
    assert Inquiry.objects.get(public_id=first["id"]).outcome == "no_further_contact"
    assert [r["inquiry"] for r in api.get("admissions", "/waitlist").json()] == [pregnant["id"]]
    gone = api.post(
        "admissions", f"/waitlist/{entry}/leave", {"exit": "lost_contact", "reason": "again"}
    )
    assert gone.status_code == 409


def test_the_bed_board_counts_places_and_names_no_one(api: Any, line: Any) -> None:
    cast = line.cast
    response = api.get("admin", "/beds")  # census: every member, the administrator too
    assert response.status_code == 200
    rows = {r["name"]: r for r in response.json()}
    assert set(rows) == {"Detox", "Residential", "Evening IOP", "Evening IOP East"}
    assert rows["Detox"] == {
        "program": line.detox,
        "name": "Detox",
        "facility": "Main",
        "level": "3.7-WM",
        "withdrawal_management": True,
        "is_24_hour": True,
        "capacity": 2,
        "occupied": 0,
        "reserved": 0,
        "available_now": 2,
        "expected_tomorrow": 2,
        "over_capacity": False,
    }
    assert rows["Evening IOP"]["capacity"] is None
    assert rows["Evening IOP"]["available_now"] is None
    assert cast.patient.family_name not in response.content.decode()
    assert [r["name"] for r in api.get("outsider", "/beds").json()] == ["Harbor OP"]


# --- Validation ---------------------------------------------------------------------


def test_unknown_signs_and_channels_are_named_with_the_allowed_values(api: Any, line: Any) -> None:
    response = api.post("admissions", "/inquiries", {"signs": ["sleepy"], "channel": "pigeon"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert "sleepy" in errors["signs"] and "not_breathing" in errors["signs"]
    assert "phone" in errors["channel"] and "walk_in" in errors["channel"]
    naive = api.post("admissions", "/inquiries", {"signs": [], "received_at": "2026-01-01T02:00"})
    assert naive.status_code == 422
    assert naive.json()["errors"] == {"received_at": "Give the time with its time zone."}
    missing = api.post("admissions", "/inquiries", {})
    assert missing.status_code == 422 and "signs" in missing.json()["errors"]
    assert Inquiry.objects.count() == 0


def test_call_details_name_each_field_at_fault(api: Any, line: Any) -> None:
    path = f"/inquiries/{start(api)['id']}/details"
    response = api.post(
        "admissions",
        path,
        {
            "caller_kind": "neighbour",
            "pregnancy": "maybe",
            "referral_source": 42,
            "date_of_birth": "2999-01-01",
            "substances": [{"substance": 99, "route": 9, "frequency": "often"}],
        },
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"caller_kind", "pregnancy", "referral_source", "date_of_birth"} <= set(errors)
    assert {"substance_1", "route_1", "frequency_1"} <= set(errors)
    assert "family" in errors["caller_kind"] and "Heroin" in errors["substance_1"]
    shape = api.post("admissions", path, {"substances": [{"route": "x"}], "caller_name": "x" * 201})
    assert shape.status_code == 422
    assert {"substances.0.substance", "substances.0.route", "caller_name"} <= set(
        shape.json()["errors"]
    )


def test_a_screen_names_each_answer_at_fault(api: Any, line: Any) -> None:
    path = f"/inquiries/{start(api)['id']}/screening"
    response = api.post(
        "admissions",
        path,
        {
            **DETOX_SCREEN,
            "withdrawal_estimate": "awful",
            "payer_type": "barter",
            "medical_flags": ["gout"],
            "ratings": [1, 2, 3],
        },
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {"withdrawal_estimate", "payer_type", "medical_flags", "ratings"} <= set(errors)
    assert "severe" in errors["withdrawal_estimate"] and "medicaid" in errors["payer_type"]
    out_of_range = api.post("admissions", path, {**DETOX_SCREEN, "ratings": [9, 1, 1, 1, 1, 1]})
    assert out_of_range.status_code == 422
    assert "d1" in out_of_range.json()["errors"]
    assert Screening.objects.count() == 0


def test_places_waitlists_and_endings_name_their_fields(api: Any, line: Any) -> None:
    cast = line.cast
    call = start(api)
    path = f"/inquiries/{call['id']}"
    naive = api.post(
        "admissions", f"{path}/hold", {"program": line.detox, "expected_at": "2026-01-01T02:00"}
    )
    assert naive.status_code == 422 and "expected_at" in naive.json()["errors"]
    foreign = str(cast.other_program.public_id)
    for body in (
        {"program": foreign, "expected_at": later(1)},
        {"program": str(uuid.uuid4()), "expected_at": later(1)},
    ):
        unknown = api.post("admissions", f"{path}/hold", body)
        assert unknown.status_code == 422
        assert unknown.json()["errors"] == {
            "program": "No program with this id in your organization."
        }
    ending = api.post("admissions", f"{path}/conclude", {"outcome": "referred_out"})
    assert ending.status_code == 422
    assert {"referred_to", "referral_out_reason"} <= set(ending.json()["errors"])
    bad_outcome = api.post("admissions", f"{path}/conclude", {"outcome": "admitted"})
    assert "information" in bad_outcome.json()["errors"]["outcome"]
    waitlist = api.post(
        "admissions", "/waitlist", {"inquiry": str(uuid.uuid4()), "program": foreign}
    )
    assert waitlist.status_code == 422
    assert set(waitlist.json()["errors"]) == {"inquiry"}
    entry = api.post(
        "admissions", "/waitlist", {"inquiry": call["id"], "program": line.detox}
    ).json()
    leave = api.post(
        "admissions", f"/waitlist/{entry['id']}/leave", {"exit": "admitted", "reason": ""}
    )
    assert leave.status_code == 422
    errors = leave.json()["errors"]
    assert {"exit", "reason"} <= set(errors) and "lost_contact" in errors["exit"]
    referred = api.post(
        "admissions", f"/waitlist/{entry['id']}/leave", {"exit": "referred", "reason": "Full"}
    )
    assert referred.status_code == 422 and "referred_to" in referred.json()["errors"]
    assert WaitlistEntry.objects.get(public_id=entry["id"]).is_open
    incomplete = api.post("admissions", f"{path}/admit", {"program": line.detox})
    assert incomplete.status_code == 422
    assert {"given_name", "family_name", "date_of_birth"} <= set(incomplete.json()["errors"])


# --- Walls --------------------------------------------------------------------------

ID_PATH = re.compile(r"\{(inquiry_id|entry_id)\}")


def _id_operations() -> list[tuple[str, str]]:
    return [
        (method, path)
        for path, operation in api_operations(ninja_api)
        if ID_PATH.search(path)
        for method in operation.methods
    ]


def _call_with_everything(api: Any, line: Any) -> tuple[dict[str, str], str]:
    """A Riverside call with a person, a screen and a waitlist entry."""
    call = start(api, signs=["suicidal"])
    path = f"/inquiries/{call['id']}"
    assert api.post("admissions", f"{path}/details", NIGHT_DETAILS).status_code == 200
    assert api.post("admissions", f"{path}/screening", DETOX_SCREEN).status_code == 201
    entry = api.post(
        "admissions",
        "/waitlist",
        {"inquiry": call["id"], "program": str(line.cast.residential.public_id)},
    ).json()
    return {"inquiry_id": call["id"], "entry_id": entry["id"]}, path


def test_another_organization_gets_404_on_every_call_and_entry(api: Any, line: Any) -> None:
    ids, _ = _call_with_everything(api, line)
    operations = _id_operations()
    assert len(operations) >= 12
    for method, path in operations:
        url = ID_PATH.sub(lambda m: ids[m[1]], path)
        if method == "GET":
            response = api.get("outsider", url)
        else:
            body = {"note": "x", "reason": "x", "outcome": "information", "exit": "referred"}
            response = api.post("outsider", url, body)
        assert response.status_code == 404, (method, path, response.status_code)
        text = response.content.decode()
        assert "Vance" not in text and "Jordan" not in text, (method, path)
        assert response.json() == {"detail": "Not found."}
        # An unknown id and a malformed one look the same to the organization itself.
        for missing in (str(uuid.uuid4()), "not-a-uuid"):
            url = ID_PATH.sub(missing, path)
            answer = api.get("director", url) if method == "GET" else api.post("director", url, {})
            assert answer.status_code == 404, (method, path, missing)
    assert api.get("outsider", "/inquiries").json()["open_calls"] == []
    assert api.get("outsider", "/waitlist").json() == []


def test_the_administrator_sees_no_call_and_the_nurse_reviews_none(api: Any, line: Any) -> None:
    ids, path = _call_with_everything(api, line)
    for method, route in [
        ("GET", "/inquiries"),
        ("POST", "/inquiries"),
        ("GET", "/waitlist"),
        ("POST", "/waitlist"),
        *_id_operations(),
    ]:
        url = ID_PATH.sub(lambda m: ids[m[1]], route)
        response = api.get("admin", url) if method == "GET" else api.post("admin", url, {})
        assert response.status_code == 403, (method, route)
        assert "Vance" not in response.content.decode()
    assert api.post("colleague", f"{path}/lead-review", {"note": "x"}).status_code == 403
    assert api.post("owner", f"{path}/lead-review", {"note": "x"}).status_code == 403
    # The nurse answers the line at night: she reads and writes calls.
    assert api.get("colleague", path).status_code == 200
    assert (
        api.post("colleague", f"{path}/crisis-note", {"note": "988 connected"}).status_code == 200
    )
    refused = audit_rows(action="access_denied", actor_username="admin")
    assert refused and all(r.detail.get("permission", "").startswith("intake") for r in refused)


def test_without_a_token_every_operation_is_401(api: Any, line: Any) -> None:
    for path, operation in api_operations(ninja_api):
        if operation.view_func.__module__ != "stepwise.api.intake":
            continue
        url = ID_PATH.sub(str(uuid.uuid4()), path)
        for method in operation.methods:
            response = api.get(None, url) if method == "GET" else api.post(None, url, {})
            assert response.status_code == 401, (method, path)


# --- Audit and the schema -------------------------------------------------------------


def test_reads_and_writes_of_a_call_are_audited(api: Any, line: Any) -> None:
    call = start(api, signs=["medical_emergency"])
    created = audit_rows(object_type="inquiry", action="create")[-1]
    assert created.category == "intake" and created.object_id == call["id"]
    assert created.detail["crisis_signs"] == ["medical_emergency"]
    path = f"/inquiries/{call['id']}"
    api.post("admissions", f"{path}/details", NIGHT_DETAILS)
    updated = audit_rows(object_type="inquiry", action="update")[-1]
    assert "given_name" in updated.detail["fields"] and "substances" in updated.detail["fields"]
    assert "Jordan" not in str(updated.detail)  # field names only, never the values
    api.post("admissions", f"{path}/screening", DETOX_SCREEN)
    screened = audit_rows(object_type="screening", action="create")[-1]
    assert screened.detail["inquiry"] == call["id"]
    assert MEMBER_NUMBER not in str(screened.detail)

    before = len(audit_rows(object_type="inquiry", action="read"))
    assert api.get("readonly", path).status_code == 200
    reads = audit_rows(object_type="inquiry", action="read")
    assert len(reads) == before + 1
    read = reads[-1]
    assert (read.category, read.object_id, read.actor_username) == (
        "intake",
        call["id"],
        "readonly",
    )
    api.post("director", f"{path}/lead-review", {"note": "Seen"})
    assert audit_rows(object_type="inquiry", action="review")[-1].actor_username == "director"
    hold = {"program": line.detox, "expected_at": later(1)}
    api.post("admissions", f"{path}/hold", hold)
    assert audit_rows(object_type="bed_reservation", action="create")
    admitted = api.post("admissions", f"{path}/admit", {"program": line.detox}).json()
    row = audit_rows(object_type="inquiry", action="admit")[-1]
    assert str(row.patient_public_id) == admitted["patient"]
    assert row.detail["episode"] == admitted["episode"]
    assert not BedReservation.objects.filter(status=ReservationStatus.HELD).exists()


def test_the_openapi_schema_lists_the_admissions_line(api: Any) -> None:
    schema = api.get(None, "/openapi.json").json()
    paths = schema["paths"]
    expected = {
        "/api/v1/inquiries": {"get", "post"},
        "/api/v1/inquiries/{inquiry_id}": {"get"},
        "/api/v1/inquiries/{inquiry_id}/details": {"post"},
        "/api/v1/inquiries/{inquiry_id}/crisis-note": {"post"},
        "/api/v1/inquiries/{inquiry_id}/lead-review": {"post"},
        "/api/v1/inquiries/{inquiry_id}/conclude": {"post"},
        "/api/v1/inquiries/{inquiry_id}/follow-up": {"post"},
        "/api/v1/inquiries/{inquiry_id}/screening": {"post"},
        "/api/v1/inquiries/{inquiry_id}/hold": {"post"},
        "/api/v1/inquiries/{inquiry_id}/give-back": {"post"},
        "/api/v1/inquiries/{inquiry_id}/matches": {"get"},
        "/api/v1/inquiries/{inquiry_id}/admit": {"post"},
        "/api/v1/waitlist": {"get", "post"},
        "/api/v1/waitlist/{entry_id}/leave": {"post"},
        "/api/v1/beds": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert set(paths[path]) == methods, path
        for method in methods:
            operation = paths[path][method]
            assert operation["tags"] == ["admissions"], (path, method)
            assert operation["security"], (path, method)
    start_body = paths["/api/v1/inquiries"]["post"]["requestBody"]
    assert start_body["content"]["application/json"]["schema"]


def test_ratings_and_days_are_plain_values(api: Any, line: Any) -> None:
    """Guards the shapes: a date of birth is a date, ratings are numbers."""
    call = start(api)
    path = f"/inquiries/{call['id']}"
    response = api.post(
        "admissions", f"{path}/details", {"given_name": "A", "date_of_birth": "not a date"}
    )
    assert response.status_code == 422 and "date_of_birth" in response.json()["errors"]
    ok = api.post("admissions", f"{path}/details", {"date_of_birth": str(date(1990, 1, 2))})
    assert ok.json()["date_of_birth"] == "1990-01-02"
    screen = api.post("admissions", f"{path}/screening", {**DETOX_SCREEN, "ratings": ["x"] * 6})
    assert screen.status_code == 422 and "ratings.0" in screen.json()["errors"]


def test_the_desk_and_the_waitlist_cost_the_same_whatever_their_length(api: Any, line: Any) -> None:
    residential = str(line.cast.residential.public_id)

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as seen:
            assert api.get("admissions", path).status_code == 200
        return len(seen)

    def add_calls(n: int) -> None:
        for _ in range(n):
            call = start(api, signs=["suicidal"])
            hold = {"program": line.detox, "expected_at": later(1)}
            api.post("admissions", f"/inquiries/{call['id']}/hold", hold)
            api.post("admissions", "/waitlist", {"inquiry": call["id"], "program": residential})

    add_calls(1)
    one = (queries("/inquiries"), queries("/waitlist"))
    add_calls(1)  # the detox has two beds: the second call holds the last one
    assert (queries("/inquiries"), queries("/waitlist")) == one


def test_a_referral_off_the_waitlist_names_its_reason(api: Any, line: Any) -> None:
    call = start(api)
    details = {"given_name": "Wes", "family_name": "Kent"}
    api.post("admissions", f"/inquiries/{call['id']}/details", details)
    entry = api.post(
        "admissions", "/waitlist", {"inquiry": call["id"], "program": line.detox}
    ).json()
    leave = f"/waitlist/{entry['id']}/leave"
    body = {"exit": "referred", "reason": "Closer to home", "referred_to": "Harbor"}
    refused = api.post("admissions", leave, body)
    assert refused.status_code == 422
    assert "referral_out_reason" in refused.json()["errors"]
    done = api.post("admissions", leave, {**body, "referral_out_reason": "preference"})
    assert done.status_code == 200
