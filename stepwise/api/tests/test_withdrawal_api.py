"""Withdrawal management through the JSON API: the unit board, vital signs and the
flowsheet, the eMAR with its safety rules and overrides, the discharge bundle; the
same walls, audit rows and 422s as the pages, over real HTTP with bearer tokens."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.api.tests.support import BASE, audit_rows
from stepwise.care.models import Program, Stay
from stepwise.care.services import episode_admit
from stepwise.core.models import AuditOutcome
from stepwise.patients.models import Alert, CareTeamMember
from stepwise.withdrawal.models import (
    Administration,
    BundleItem,
    MedicationOrder,
    SafetyOverride,
    VitalSigns,
)
from stepwise.withdrawal.services.discharge import bundle_item_record
from stepwise.withdrawal.services.medications import (
    OrderInput,
    administration_record,
    order_create,
)
from stepwise.withdrawal.tests.support import admit_to_detox, cows, heroin_admission, staff

BUP = {
    "drug": "buprenorphine",
    "dose_mg": "4",
    "route": "sublingual",
    "frequency": "q2h_prn",
    "prn_indication": "COWS 8 or more",
    "max_daily_mg": 12,
    "bup_start": "standard",
}
CLONIDINE = OrderInput(
    drug="clonidine",
    dose_mg=Decimal("0.1"),
    route="oral",
    frequency="q6h_prn",
    prn_indication="Sweating, restlessness",
)


@pytest.fixture
def unit(cast: Any) -> SimpleNamespace:
    """The patient in detox since 20 h ago, last heroin 14 h ago; a nurse and a
    physician on the care team."""
    nurse, physician = staff(cast)
    admit_to_detox(cast, hours_ago=20)
    now = timezone.now()
    heroin_admission(nurse, cast.patient, now - timedelta(hours=14))
    return SimpleNamespace(
        cast=cast,
        nurse=nurse,
        physician=physician,
        now=now,
        patient=f"/patients/{cast.patient.public_id}",
        board=f"/units/{cast.detox.public_id}/board",
    )


def put(api: Any, who: str | None, path: str, body: Any) -> Any:
    return api.client.put(
        BASE + path, json.dumps(body), content_type="application/json", **api.headers(who)
    )


def harbor_order(cast: Any) -> MedicationOrder:
    """An order of the other organization: its detox, its physician, its patient."""
    detox = Program.objects.create(
        organization=cast.other_org,
        facility=cast.other_facility,
        name="Harbor Detox",
        asam_level="3.7-WM",
        teds_service=2,
        is_24_hour=True,
        bed_capacity=4,
    )
    doctor = cast.new_member("physician", "harbor_doctor", other_org=True)
    CareTeamMember.objects.create(
        organization=cast.other_org,
        patient=cast.other_patient,
        user=cast.users["harbor_doctor"],
        team_role="prescriber",
    )
    episode_admit(
        cast.actors["outsider"],
        cast.other_patient,
        detox,
        at=timezone.now() - timedelta(hours=5),
    )
    return order_create(doctor, cast.other_patient, CLONIDINE)


# --- Units and the board ----------------------------------------------------


def test_the_units_are_the_withdrawal_management_programs(api: Any, unit: Any) -> None:
    response = api.get("nurse", "/units")
    assert response.status_code == 200
    assert response.json() == [
        {
            "id": str(unit.cast.detox.public_id),
            "name": "Detox",
            "level": "3.7-WM",
            "facility": "Main",
            "bed_capacity": 2,
        }
    ]
    assert api.get("director", "/units").status_code == 200
    assert api.get("outsider", "/units").json() == []  # Harbor has no detox
    for who in ("owner", "admin", "readonly"):  # counselor, admin, privacy officer
        assert api.get(who, "/units").status_code == 403


def test_the_board_as_json_with_its_audit_row(api: Any, unit: Any) -> None:
    cast = unit.cast
    cows(unit.nurse, cast.patient, 14, unit.now - timedelta(minutes=30))
    order = order_create(
        unit.physician,
        cast.patient,
        OrderInput(
            drug="clonidine",
            dose_mg=Decimal("0.1"),
            route="oral",
            frequency="q6h",
            starts_at=unit.now - timedelta(hours=19),
        ),
    )
    response = api.get("nurse", unit.board)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["program"]["id"] == str(cast.detox.public_id)
    assert body["generated_at"].endswith("Z")
    assert body["counts"]["occupied"] == 1 and body["counts"]["overdue"] >= 1
    assert [(b["bed"], b["occupied"], b["visible"]) for b in body["beds"]] == [
        (1, True, True),
        (2, False, True),
    ]
    assert body["beds"][1]["patient"] is None
    patient = body["beds"][0]["patient"]
    assert (patient["id"], patient["name"], patient["mrn"]) == (
        str(cast.patient.public_id),
        "Ana Rivera",
        "RR-1",
    )
    assert 19.5 < patient["hours_admitted"] < 20.5 and 13.5 < patient["hours_since_use"] < 14.5
    assert patient["last_cows"]["total"] == 14 and patient["last_cows"]["band"] == "moderate"
    assert patient["vitals_due"]["state"] == "overdue"  # never taken: due on arrival
    assert patient["next_reassessment"] == patient["vitals_due"]
    assert patient["induction"] is False
    assert {a["kind"] for a in patient["alerts"]} == {"withdrawal_moderate"}
    assert patient["doses_due"] and {d["order"] for d in patient["doses_due"]} == {
        str(order.public_id)
    }
    assert patient["doses_due"][0]["dose_mg"] == "0.100"  # decimals are strings
    assert (patient["bundle_done"], patient["bundle_total"]) == (0, 4)
    event = audit_rows(object_type="unit_board")[-1]
    assert event.action == "read" and event.object_id == str(cast.detox.public_id)
    assert event.detail == {"patients": [str(cast.patient.public_id)]}


def test_the_board_hides_patients_outside_the_nurses_care_team(api: Any, unit: Any) -> None:
    cast = unit.cast
    stranger = cast.new_patient("RR-SECRET", "Quinn", "Hidden")
    episode_admit(cast.actors["owner"], stranger, cast.detox, at=unit.now - timedelta(hours=2))
    body = api.get("nurse", unit.board).json()
    hidden = [b for b in body["beds"] if b["occupied"] and not b["visible"]]
    assert len(hidden) == 1 and hidden[0]["patient"] is None
    assert body["counts"]["occupied"] == 2
    response = api.get("nurse", unit.board)
    for secret in ("RR-SECRET", "Quinn", "Hidden", str(stranger.public_id)):
        assert secret not in response.content.decode()
    assert audit_rows(object_type="unit_board")[-1].detail == {
        "patients": [str(cast.patient.public_id)]
    }
    # The director oversees the whole unit.
    director = api.get("director", unit.board).json()
    assert all(b["visible"] for b in director["beds"])


def test_who_may_open_a_board_and_which_boards_exist(api: Any, unit: Any) -> None:
    cast = unit.cast
    assert api.get("physician", unit.board).status_code == 200
    assert api.get("owner", unit.board).status_code == 403  # counselor
    assert api.get("outsider", unit.board).status_code == 404  # another organization
    assert api.get(None, unit.board).status_code == 401
    assert api.get("director", f"/units/{cast.iop.public_id}/board").status_code == 404
    assert api.get("director", "/units/not-a-uuid/board").status_code == 404
    harbor_order(cast)
    harbor = Program.objects.get(name="Harbor Detox")
    assert api.get("director", f"/units/{harbor.public_id}/board").status_code == 404


def fill_unit(cast: Any, beds: int) -> None:
    """`beds` patients in detox, each with every kind of row the board reads: a
    medical admission, a COWS (an alert from 13), an order with doses due, an
    as-needed dose awaiting its check, a bundle item."""
    nurse, physician = staff(cast)
    cast.detox.bed_capacity = beds
    cast.detox.save()
    now = timezone.now()
    for n in range(beds):
        patient = cast.patient if n == 0 else cast.new_patient(f"B-{n}")
        episode_admit(cast.actors["owner"], patient, cast.detox, at=now - timedelta(hours=10))
        for name, role in (("nurse", "nurse"), ("physician", "prescriber")):
            CareTeamMember.objects.get_or_create(
                organization=cast.org, patient=patient, user=cast.users[name], team_role=role
            )
        heroin_admission(nurse, patient, now - timedelta(hours=20))
        cows(nurse, patient, 6 + n % 10, now - timedelta(hours=n % 6))
        started = {**CLONIDINE.__dict__, "starts_at": now - timedelta(hours=9)}
        order_create(
            physician,
            patient,
            OrderInput(**{**started, "frequency": "q6h", "prn_indication": ""}),
        )
        prn = order_create(physician, patient, OrderInput(**started))
        administration_record(nurse, prn, outcome="given", at=now - timedelta(hours=2))
        bundle_item_record(nurse, patient, item="naloxone_kit", state="done")


def _board_queries(api: Any, cast: Any) -> tuple[int, dict[str, Any]]:
    path = f"/units/{cast.detox.public_id}/board"
    api.get("nurse", path)  # warm up: the token's first use records last_used_at
    with CaptureQueriesContext(connection) as captured:
        response = api.get("nurse", path)
    assert response.status_code == 200
    return len(captured), response.json()


def test_the_board_runs_the_same_queries_for_one_bed_or_ten(api: Any, cast: Any) -> None:
    fill_unit(cast, 10)
    many, full = _board_queries(api, cast)
    assert full["counts"]["occupied"] == 10
    beds = [b["patient"] for b in full["beds"]]
    assert all(p["alerts"] for p in beds[7:]) and all(p["doses_due"] for p in beds)
    assert all(p["followups_due"] and p["bundle_done"] == 1 for p in beds)

    Stay.objects.filter(program=cast.detox).exclude(episode__patient=cast.patient).update(
        ended_at=timezone.now(), bed_number=None
    )
    cast.detox.bed_capacity = 1
    cast.detox.save()
    one, single = _board_queries(api, cast)
    assert [b["bed"] for b in single["beds"]] == [1] and single["counts"]["occupied"] == 1
    assert many == one
    # Token, membership, program; unit settings, stays, care-team filter; nine reads
    # of the unit's facts; the audit row (7 with its savepoints).
    assert many == 22


# --- Vital signs, the flowsheet, the naloxone challenge ----------------------


def test_record_vitals_read_the_flowsheet_and_mark_an_entry_in_error(api: Any, unit: Any) -> None:
    cast = unit.cast
    cows(unit.nurse, cast.patient, 9, unit.now - timedelta(hours=1))
    observed = (unit.now - timedelta(minutes=10)).isoformat()
    created = api.post(
        "nurse",
        f"{unit.patient}/vitals",
        {
            "pulse": 88,
            "systolic": 130,
            "diastolic": 85,
            "respiratory_rate": 8,
            "spo2": 95,
            "temperature_c": "37.2",
            "responsiveness": "voice",
            "observed_at": observed,
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["sedation_signs"] == ["respiratory rate 8 (under 10)"]
    assert (body["temperature_c"], body["observed_by"], body["status"]) == (
        "37.2",
        "nurse",
        "final",
    )
    assert Alert.objects.get(patient=cast.patient, kind="over_sedation").severity == "critical"
    assert audit_rows(object_type="vital_signs", action="create")[-1].object_id == body["id"]

    sheet = api.get("owner", f"{unit.patient}/flowsheet")  # the counselor reads it
    assert sheet.status_code == 200
    flow = sheet.json()
    assert [r["kind"] for r in flow["rows"]] == ["vitals", "cows"]
    assert flow["rows"][0]["vitals"]["respiratory_rate"] == 8
    assert flow["rows"][1]["score"] == {"total": 9, "band": "mild", "band_label": "Mild"}
    assert flow["open"] is True and flow["stay"]["program"] == str(cast.detox.public_id)
    assert {d["what"] for d in flow["due"]} == {"COWS", "Vital signs"}
    assert flow["last_opioid_use_at"] is not None
    assert "over_sedation" in {a["kind"] for a in flow["alerts"]}
    read = audit_rows(object_type="flowsheet")[-1]
    assert read.action == "read" and read.actor_username == "owner"

    path = f"{unit.patient}/vitals/{body['id']}/entered-in-error"
    marked = api.post("nurse", path, {"reason": "Wrong patient"})
    assert marked.status_code == 200
    assert (marked.json()["status"], marked.json()["error_reason"]) == (
        "entered_in_error",
        "Wrong patient",
    )
    assert audit_rows(object_type="vital_signs", action="update")
    assert api.post("nurse", path, {"reason": "again"}).status_code == 409
    assert api.post("nurse", path, {"reason": " "}).status_code == 422
    rows = api.get("nurse", f"{unit.patient}/flowsheet").json()["rows"]
    assert rows[0]["in_error"] is True and rows[0]["error_reason"] == "Wrong patient"
    unknown = f"{unit.patient}/vitals/{cast.patient.public_id}/entered-in-error"
    assert api.post("nurse", unknown, {"reason": "x"}).status_code == 404


def test_vitals_422_names_each_field_and_what_is_allowed(api: Any, unit: Any) -> None:
    path = f"{unit.patient}/vitals"
    response = api.post("nurse", path, {"spo2": 140, "systolic": 120, "responsiveness": "dozy"})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"spo2", "diastolic", "responsiveness"}
    assert "50 to 100" in errors["spo2"]
    assert errors["responsiveness"] == "Allowed values: alert, voice, pain, unresponsive"
    assert "at least one" in api.post("nurse", path, {}).json()["errors"]["__all__"]
    naive = api.post("nurse", path, {"pulse": 80, "observed_at": "2026-01-01T10:00:00"})
    assert naive.status_code == 422
    assert naive.json()["errors"] == {"observed_at": "Give the time with its time zone."}
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    ahead = api.post("nurse", path, {"pulse": 80, "observed_at": future})
    assert "future" in ahead.json()["errors"]["observed_at"]
    too_hot = api.post("nurse", path, {"temperature_c": "36.55"})
    assert set(too_hot.json()["errors"]) == {"temperature_c"}
    assert not VitalSigns.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 403),  # the counselor on the care team
        ("readonly", 403),
        ("colleague", 403),  # a nurse not on the care team
        ("admin", 403),
        ("outsider", 403),  # a director elsewhere: the role is refused first
        ("harbor_nurse", 404),  # a nurse elsewhere: no such patient
    ],
)
def test_only_the_nurse_and_physician_on_the_team_record_vitals(
    api: Any, unit: Any, who: str, status: int
) -> None:
    unit.cast.new_member("nurse", "harbor_nurse", other_org=True)
    response = api.post(who, f"{unit.patient}/vitals", {"pulse": 80})
    assert response.status_code == status
    assert "Rivera" not in response.content.decode()
    assert api.post(who, f"{unit.patient}/naloxone-challenges", {}).status_code == status
    assert not VitalSigns.objects.exists()


def test_another_organizations_patient_is_404(api: Any, unit: Any) -> None:
    other = f"/patients/{unit.cast.other_patient.public_id}"
    assert api.post("nurse", f"{other}/vitals", {"pulse": 80}).status_code == 404
    assert api.post("physician", f"{other}/medication-orders", BUP).status_code == 404
    for read in ("flowsheet", "medication-orders", "administrations", "discharge-bundle"):
        response = api.get("director", f"{other}/{read}")
        assert response.status_code == 404, read
        assert "Other" not in response.content.decode()


def test_a_naloxone_challenge_is_recorded(api: Any, unit: Any) -> None:
    path = f"{unit.patient}/naloxone-challenges"
    created = api.post("physician", path, {"result": "negative", "note": "No signs at 20 min"})
    assert created.status_code == 201
    assert (created.json()["result"], created.json()["performed_by"]) == ("negative", "physician")
    assert audit_rows(object_type="naloxone_challenge")[-1].detail == {"result": "negative"}
    wrong = api.post("nurse", path, {"result": "maybe"})
    assert wrong.json()["errors"] == {"result": "Allowed values: negative, positive."}


# --- The medical admission -------------------------------------------------


def test_the_medical_admission_gives_the_rules_the_time_of_last_use(api: Any, cast: Any) -> None:
    staff(cast)
    admit_to_detox(cast, hours_ago=5)
    path = f"/patients/{cast.patient.public_id}/medical-admissions"
    last_use = (timezone.now() - timedelta(hours=16)).isoformat()
    body = {
        "substances": [{"substance": "fentanyl", "routes": ["smoked"], "last_use_at": last_use}],
        "tests": {"hiv": "negative", "hcv": "positive"},
        "no_known_allergies": True,
    }
    created = api.post("nurse", path, body)
    assert created.status_code == 201, created.json()
    found = created.json()
    assert found["last_opioid_use_at"] is not None and found["replaces"] is None
    assert "Hepatitis C infection" in found["findings"]["problems"]
    assert audit_rows(object_type="medical_admission", action="create")
    again = api.post("physician", path, body).json()
    assert again["replaces"] == found["id"]

    bad = api.post(
        "nurse",
        path,
        {"substances": [{"substance": "kratom", "routes": ["iv"]}], "tests": {"hiv": "x"}},
    )
    errors = bad.json()["errors"]
    assert "heroin" in errors["substances[0].substance"]
    assert "not_offered" in errors["tests.hiv"] and "allergies" in errors
    naive = api.post(
        "nurse",
        path,
        {
            "substances": [
                {"substance": "heroin", "routes": ["iv"], "last_use_at": "2026-01-01T08:00"}
            ]
        },
    )
    assert naive.status_code == 422
    assert naive.json()["errors"] == {
        "substances.0.last_use_at": "Give the time with its time zone."
    }
    assert api.post("owner", path, body).status_code == 403  # a counselor


# --- Orders, the first-dose rules and overrides ----------------------------


def test_physicians_order_nurses_read_and_physicians_stop(api: Any, unit: Any) -> None:
    path = f"{unit.patient}/medication-orders"
    assert api.post("nurse", path, BUP).status_code == 403
    assert api.post("owner", path, BUP).status_code == 403
    created = api.post("physician", path, BUP)
    assert created.status_code == 201, created.json()
    order = created.json()
    assert (order["drug"], order["dose_mg"], order["max_daily_mg"], order["status"]) == (
        "buprenorphine",
        "4.000",
        "12.000",
        "active",
    )
    assert order["as_needed"] is True and order["ordered_by"] == "physician"
    assert audit_rows(action="order", object_id=order["id"])

    listed = api.get("nurse", path)
    assert listed.status_code == 200 and [o["id"] for o in listed.json()] == [order["id"]]
    assert audit_rows(object_type="medication_orders", action="read")
    assert api.get("colleague", path).status_code == 403  # a nurse not on the team

    stop = f"/medication-orders/{order['id']}/stop"
    assert api.post("nurse", stop, {"reason": "x"}).status_code == 403
    assert api.post("colleague", stop, {}).status_code == 403  # refused before the body
    stopped = api.post("physician", stop, {"reason": "Patient declined MOUD"})
    assert stopped.status_code == 200
    assert (stopped.json()["status"], stopped.json()["stopped_by"]) == ("stopped", "physician")
    assert audit_rows(action="order_stop", object_id=order["id"])
    assert api.post("physician", stop, {"reason": "again"}).status_code == 409
    assert [o["status"] for o in api.get("physician", path).json()] == ["stopped"]


def test_a_taper_and_the_comfort_set(api: Any, unit: Any) -> None:
    path = f"{unit.patient}/medication-orders"
    taper = api.post(
        "physician",
        path,
        {
            "drug": "clonidine",
            "dose_mg": "0.1",
            "route": "oral",
            "frequency": "qid",
            "taper": [
                {"days": 2, "dose_mg": "0.1"},
                {"days": 2, "dose_mg": "0.1", "frequency": "tid"},
                {"days": 1, "dose_mg": 0.05, "frequency": "bid"},
            ],
        },
    )
    assert taper.status_code == 201, taper.json()
    body = taper.json()
    assert [(s["days"], s["dose_mg"], s["frequency"]) for s in body["taper"]] == [
        (2, "0.100", ""),
        (2, "0.100", "tid"),
        (1, "0.050", "bid"),
    ]
    assert body["ends_at"] is not None
    comfort = api.post("physician", f"{path}/order-sets/comfort", {})
    assert comfort.status_code == 201
    # The clonidine taper above stands: the set leaves its clonidine line out.
    assert comfort.json()["skipped"] == ["Clonidine: already ordered in this stay"]
    assert [o["drug"] for o in comfort.json()["orders"]] == [
        "loperamide",
        "ondansetron",
        "ibuprofen",
        "hydroxyzine",
        "trazodone",
    ]
    assert {o["order_set"] for o in comfort.json()["orders"]} == {"Opioid-withdrawal comfort set"}
    assert api.post("nurse", f"{path}/order-sets/comfort", {}).status_code == 403
    # The same set again leaves out what the stay already has: nothing is left.
    again = api.post("physician", f"{path}/order-sets/comfort", {})
    assert again.status_code == 409
    assert "Clonidine: already ordered in this stay" in again.json()["detail"]
    # The older path places the default set too, answering with the orders alone.
    assert api.post("nurse", f"{path}/comfort-set", {}).status_code == 403
    assert api.post("physician", f"{path}/comfort-set", {}).status_code == 409


def test_an_invalid_order_names_each_field_and_its_allowed_values(api: Any, unit: Any) -> None:
    path = f"{unit.patient}/medication-orders"
    response = api.post(
        "physician",
        path,
        {"drug": "oxycodone", "dose_mg": 0, "route": "oral", "frequency": "hourly"},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"drug", "dose_mg", "frequency"}
    assert "buprenorphine" in errors["drug"] and "q6h_prn" in errors["frequency"]
    route = api.post("physician", path, {**BUP, "route": "oral"}).json()["errors"]
    assert route == {"route": "Buprenorphine is given: sublingual."}
    induction = api.post("physician", path, {**BUP, "bup_start": ""}).json()["errors"]
    assert "standard, low_dose, continuation" in induction["bup_start"]
    naive = api.post("physician", path, {**BUP, "starts_at": "2026-01-01T09:00:00"})
    assert naive.json()["errors"] == {"starts_at": "Give the time with its time zone."}
    digits = api.post("physician", path, {**BUP, "dose_mg": "0.0001", "max_daily_mg": "1e9"})
    assert set(digits.json()["errors"]) == {"dose_mg", "max_daily_mg"}
    rule = api.post("physician", path, {**BUP, "overrides": {"R-XYZ": "because"}}).json()
    assert "R-BUP-1, R-MTD-1, R-NTX-1" in rule["errors"]["overrides"]
    assert not MedicationOrder.objects.exists()


def test_methadone_outside_an_opioid_treatment_program_is_blocked_until_overridden(
    api: Any, unit: Any
) -> None:
    path = f"{unit.patient}/medication-orders"
    methadone = {"drug": "methadone", "dose_mg": 20, "route": "oral", "frequency": "daily"}
    blocked = api.post("physician", path, methadone)
    assert blocked.status_code == 409
    body = blocked.json()
    assert [r["rule"] for r in body["blocked_by"]] == ["R-MTD-1"]
    assert "not a certified opioid treatment program" in " ".join(body["blocked_by"][0]["saw"])
    assert audit_rows(action="order", outcome=AuditOutcome.DENIED)[-1].detail == {
        "blocked_by": ["R-MTD-1"]
    }
    assert not MedicationOrder.objects.exists()
    reason = "Three-day bridge while the OTP admits him"
    created = api.post("physician", path, {**methadone, "overrides": {"R-MTD-1": reason}})
    assert created.status_code == 201, created.json()
    overrides = created.json()["overrides"]
    assert [(o["rule"], o["reason"], o["overridden_by"]) for o in overrides] == [
        ("R-MTD-1", reason, "physician")
    ]


def test_a_first_buprenorphine_dose_without_a_cows_is_409_naming_the_rule(
    api: Any, unit: Any
) -> None:
    order = api.post("physician", f"{unit.patient}/medication-orders", BUP).json()
    give = f"/medication-orders/{order['id']}/administrations"
    assert api.post("physician", give, {"outcome": "given"}).status_code == 403
    assert api.post("colleague", give, {"outcome": "given"}).status_code == 403  # not on team

    blocked = api.post("nurse", give, {"outcome": "given"})
    assert blocked.status_code == 409
    body = blocked.json()
    assert body["detail"].startswith("Blocked by a safety rule.")
    assert len(body["blocked_by"]) == 1
    rule = body["blocked_by"][0]
    assert set(rule) == {"rule", "title", "saw", "needs", "cautions"}
    assert rule["rule"] == "R-BUP-1" and "First buprenorphine dose" in rule["title"]
    assert any("No COWS scored" in line for line in rule["saw"])
    assert any(line.startswith("Score COWS") for line in rule["needs"])
    assert rule["cautions"] == []
    refused = audit_rows(action="administer", outcome=AuditOutcome.DENIED)[-1]
    assert refused.detail == {"blocked_by": ["R-BUP-1"]} and refused.object_id == order["id"]
    assert not Administration.objects.exists()

    # A physician overrides the rule; the nurse may then give the dose.
    overrides = f"/medication-orders/{order['id']}/overrides"
    assert api.post("nurse", overrides, {"rule": "R-BUP-1", "reason": "x"}).status_code == 403
    missing = api.post("physician", overrides, {"rule": "R-BUP-1", "reason": " "})
    assert set(missing.json()["errors"]) == {"reason"}
    reason = "Objective withdrawal on exam; COWS delayed by transfer"
    made = api.post("physician", overrides, {"rule": "R-BUP-1", "reason": reason})
    assert made.status_code == 201, made.json()
    override = made.json()
    assert override["saw"] and override["needs"] and override["order"] == order["id"]
    assert audit_rows(action="safety_override", object_id=override["id"])
    assert (
        api.post("physician", overrides, {"rule": "R-BUP-1", "reason": reason}).status_code == 409
    )

    given = api.post("nurse", give, {"outcome": "given"})
    assert given.status_code == 201, given.json()
    dose = given.json()
    assert (dose["dose_mg"], dose["given_by"], dose["override"]) == (
        "4.000",
        "nurse",
        override["id"],
    )
    assert dose["safety"]["R-BUP-1"]["override"] == override["id"]
    assert dose["safety"]["R-BUP-1"]["allowed"] is False
    assert (
        audit_rows(action="administer", object_type="administration")[-1].detail["override"]
        == (override["id"])
    )


def test_a_cows_of_eight_lets_the_dose_through_and_the_followup_is_charted(
    api: Any, unit: Any
) -> None:
    cast = unit.cast
    order = api.post("physician", f"{unit.patient}/medication-orders", BUP).json()
    cows(unit.nurse, cast.patient, 9, timezone.now() - timedelta(minutes=5))
    give = f"/medication-orders/{order['id']}/administrations"
    given = api.post("nurse", give, {"outcome": "given"})
    assert given.status_code == 201, given.json()
    dose = given.json()
    assert dose["safety"]["R-BUP-1"]["allowed"] is True and dose["override"] is None
    assert dose["followup_due_at"] is not None

    too_soon = api.post("nurse", give, {"outcome": "given"})
    assert too_soon.status_code == 422 and "at" in too_soon.json()["errors"]
    held = api.post("nurse", give, {"outcome": "held"})
    assert held.json()["errors"] == {"reason": "Say why the dose was held."}
    outcome = api.post("nurse", give, {"outcome": "skipped"}).json()["errors"]
    assert outcome == {"outcome": "Allowed values: given, held, refused."}
    scheduled = api.post(
        "nurse", give, {"outcome": "given", "scheduled_for": timezone.now().isoformat()}
    )
    assert "scheduled_for" in scheduled.json()["errors"]

    listed = api.get("owner", f"{unit.patient}/administrations")
    assert listed.status_code == 200 and [a["id"] for a in listed.json()] == [dose["id"]]
    assert audit_rows(object_type="administration_list", action="read")

    check = f"/administrations/{dose['id']}/followup"
    assert api.post("owner", check, {"result": "effective"}).status_code == 403
    bad = api.post("nurse", check, {"result": "great"}).json()["errors"]
    assert bad == {"result": "Allowed values: effective, partly, not_effective."}
    done = api.post("nurse", check, {"result": "partly", "note": "Still restless"})
    assert done.status_code == 200
    assert (done.json()["followup_result"], done.json()["followup_by"]) == ("partly", "nurse")
    assert audit_rows(object_type="administration", action="update")[-1].detail == {
        "followup": "partly"
    }
    assert api.post("nurse", check, {"result": "partly"}).status_code == 409

    wrong = f"/administrations/{dose['id']}/entered-in-error"
    assert api.post("physician", wrong, {"reason": "x"}).status_code == 403
    marked = api.post("nurse", wrong, {"reason": "Charted on the wrong order"})
    assert marked.status_code == 200 and marked.json()["status"] == "entered_in_error"


def test_another_organizations_order_and_dose_are_404(api: Any, unit: Any) -> None:
    order = harbor_order(unit.cast)
    for who, path, body in [
        ("physician", f"/medication-orders/{order.public_id}/stop", {"reason": "x"}),
        ("physician", f"/medication-orders/{order.public_id}/overrides", {"rule": "R-BUP-1"}),
        ("nurse", f"/medication-orders/{order.public_id}/administrations", {"outcome": "given"}),
        ("nurse", f"/administrations/{order.public_id}/followup", {"result": "effective"}),
        ("nurse", "/medication-orders/not-an-id/administrations", {"outcome": "given"}),
    ]:
        response = api.post(who, path, body)
        assert response.status_code == 404, (path, response.json())
    order.refresh_from_db()
    assert order.status == "active" and not SafetyOverride.objects.exists()
    assert not Administration.objects.exists()


# --- The discharge bundle --------------------------------------------------


def test_the_discharge_bundle_items_and_what_stands_in_the_way(api: Any, unit: Any) -> None:
    path = f"{unit.patient}/discharge-bundle"
    empty = api.get("nurse", path)
    assert empty.status_code == 200
    body = empty.json()
    assert body["withdrawal_management"] is True
    assert [(i["item"], i["state"]) for i in body["items"]] == [
        ("naloxone_kit", "pending"),
        ("overdose_education", "pending"),
        ("moud_offer", "pending"),
        ("next_care", "pending"),
    ]
    assert (len(body["gaps"]["transition"]), len(body["gaps"]["discharge"])) == (3, 4)
    assert audit_rows(object_type="discharge_bundle", action="read")

    kit = put(api, "nurse", f"{path}/naloxone_kit", {"state": "done"})
    assert kit.status_code == 200, kit.json()
    assert kit.json()["state"] == "done"
    assert audit_rows(object_type="discharge_bundle_item")[-1].detail == {
        "item": "naloxone_kit",
        "state": "done",
    }
    # The counselor on the care team records too (care.write).
    teaching = api.post("owner", f"{path}/overdose_education", {"state": "done"})
    assert teaching.status_code == 200
    moud = api.post("nurse", f"{path}/moud_offer", {"state": "done"})
    assert moud.json()["errors"] == {
        "moud_answer": "Record the patient's answer: accepted or declined."
    }
    assert api.post("nurse", f"{path}/moud_offer", {"state": "done", "moud_answer": "accepted"})
    declined = put(api, "nurse", f"{path}/next_care", {"state": "declined"})
    assert set(declined.json()["errors"]) == {"reason"}
    appointment = (timezone.now() + timedelta(days=3)).isoformat()
    booked = put(
        api,
        "nurse",
        f"{path}/next_care",
        {"state": "done", "appointment_at": appointment, "appointment_with": "Harbor OTP"},
    )
    assert booked.status_code == 200 and booked.json()["appointment_with"] == "Harbor OTP"

    after = api.get("nurse", path).json()
    assert after["gaps"] == {"transition": [], "discharge": []}
    assert after["items"][2]["moud_answer"] == "accepted"

    unknown = put(api, "nurse", f"{path}/coffee", {"state": "pending"})
    assert unknown.status_code == 422
    errors = unknown.json()["errors"]
    assert "naloxone_kit, overdose_education, moud_offer, next_care" in errors["item"]
    assert errors["state"] == "Allowed values: done, declined."
    naive = put(
        api, "nurse", f"{path}/next_care", {"state": "done", "appointment_at": "2030-01-01T09:00"}
    )
    assert naive.json()["errors"] == {"appointment_at": "Give the time with its time zone."}
    assert put(api, "admin", f"{path}/naloxone_kit", {"state": "done"}).status_code == 403
    assert put(api, "colleague", f"{path}/naloxone_kit", {}).status_code == 403
    assert BundleItem.objects.count() == 4


def test_outside_withdrawal_management_there_is_no_bundle(api: Any, cast: Any) -> None:
    staff(cast)
    episode_admit(cast.actors["owner"], cast.patient, cast.residential)
    path = f"/patients/{cast.patient.public_id}/discharge-bundle"
    body = api.get("owner", path).json()
    assert body["withdrawal_management"] is False and body["items"] == []
    response = api.post("owner", f"{path}/naloxone_kit", {"state": "done"})
    assert response.status_code == 422 and "patient" in response.json()["errors"]
    # And the medication reads of a patient outside detox are empty, not errors.
    assert api.get("owner", f"/patients/{cast.patient.public_id}/medication-orders").json() == []
    assert api.get("owner", f"/patients/{cast.patient.public_id}/administrations").json() == []
