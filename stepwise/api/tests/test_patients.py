"""Registering, listing, searching and reading patients through the API."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from stepwise.api.tests.support import audit_rows
from stepwise.care.services import episode_admit
from stepwise.patients.models import Patient

NEW = {
    "mrn": "RR-100",
    "given_name": "Lee",
    "family_name": "Park",
    "preferred_name": "Lee-Lee",
    "date_of_birth": "1985-03-09",
    "sex": "2",
    "race": "5",
    "ethnicity": "4",
    "education": "3",
    "employment": "1",
    "living_arrangement": "3",
    "phone": "555-0100",
    "email": "lee@example.org",
}


# --- POST /patients -----------------------------------------------------------------------


def test_create_patient_returns_201_with_the_record_and_audits(api, cast):
    response = api.post("owner", "/patients", NEW)
    assert response.status_code == 201
    body = response.json()
    patient = Patient.objects.get(mrn="RR-100")
    assert body["id"] == str(patient.public_id)
    assert {k: body[k] for k in NEW} == NEW
    assert patient.organization == cast.org and patient.search_name
    (event,) = audit_rows(
        action="create", patient_public_id=patient.public_id, category="demographics"
    )
    assert event.actor_username == "owner"
    assert event.organization_id == cast.org.pk and event.outcome == "success"


def test_create_patient_defaults_coded_fields_to_unknown(api):
    body = api.post(
        "owner",
        "/patients",
        {"mrn": "RR-101", "given_name": "Al", "family_name": "Ng", "date_of_birth": "1970-01-01"},
    ).json()
    assert body["sex"] == body["race"] == body["living_arrangement"] == "-9"
    assert body["preferred_name"] == "" and body["email"] == ""


def test_create_patient_strips_surrounding_spaces(api):
    body = api.post("owner", "/patients", {**NEW, "mrn": " RR-102 ", "given_name": "  Lee "}).json()
    assert body["mrn"] == "RR-102" and body["given_name"] == "Lee"


def test_a_bad_sex_code_is_422_naming_the_field_and_its_allowed_values(api):
    response = api.post("owner", "/patients", {**NEW, "sex": "M"})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "Invalid request."
    assert list(body["errors"]) == ["sex"]
    assert "1 (Male)" in body["errors"]["sex"] and "2 (Female)" in body["errors"]["sex"]
    assert "-9 (Unknown)" in body["errors"]["sex"]
    assert not Patient.objects.filter(mrn="RR-100").exists()


def test_a_missing_given_name_is_422_on_given_name(api):
    payload = {k: v for k, v in NEW.items() if k != "given_name"}
    response = api.post("owner", "/patients", payload)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["given_name"]


def test_a_blank_given_name_is_422_on_given_name(api):
    response = api.post("owner", "/patients", {**NEW, "given_name": "   "})
    assert response.status_code == 422
    assert response.json()["errors"] == {"given_name": "This field is required."}


@pytest.mark.parametrize("bad", ["1985-13-01", "09/03/1985", "yesterday", "", 1985])
def test_a_bad_date_of_birth_is_422_on_date_of_birth(api, bad):
    response = api.post("owner", "/patients", {**NEW, "date_of_birth": bad})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["date_of_birth"]


def test_a_future_or_too_old_date_of_birth_is_422(api):
    tomorrow = (timezone.localdate() + timedelta(days=2)).isoformat()
    future = api.post("owner", "/patients", {**NEW, "date_of_birth": tomorrow}).json()
    assert "future" in future["errors"]["date_of_birth"]
    old = api.post("owner", "/patients", {**NEW, "date_of_birth": "1850-01-01"}).json()
    assert "1900" in old["errors"]["date_of_birth"]


def test_every_invalid_field_gets_its_own_message_in_one_response(api):
    """A client fixes everything in one round: type errors and code errors come together."""
    payload = {**NEW, "date_of_birth": "1985-02-30", "sex": "x", "race": "42", "mrn": "A" * 40}
    del payload["given_name"]
    response = api.post("owner", "/patients", payload)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"mrn", "given_name", "date_of_birth", "sex", "race"}
    assert "allowed values" in errors["sex"] and "5 (White)" in errors["race"]
    assert all(isinstance(message, str) and message for message in errors.values())


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.org", "a b@example.org"])
def test_a_malformed_email_is_422_on_email(api, email):
    """The registration form refuses these; so does the API."""
    response = api.post("owner", "/patients", {**NEW, "email": email})
    assert response.status_code == 422
    assert response.json()["errors"] == {"email": "Enter a valid email address."}
    assert not Patient.objects.filter(mrn="RR-100").exists()


def test_service_rules_report_every_field_too(api):
    payload = {**NEW, "family_name": " ", "date_of_birth": "2999-01-01", "employment": "9"}
    errors = api.post("owner", "/patients", payload).json()["errors"]
    assert set(errors) == {"family_name", "date_of_birth", "employment"}


def test_a_duplicate_mrn_is_422_on_mrn(api, cast):
    response = api.post("owner", "/patients", {**NEW, "mrn": "RR-1"})
    assert response.status_code == 422
    assert response.json()["errors"] == {"mrn": "Record number RR-1 is already in use."}
    assert Patient.objects.filter(organization=cast.org, mrn="RR-1").count() == 1


def test_the_same_mrn_is_free_in_another_organization(api, cast):
    assert api.post("outsider", "/patients", {**NEW, "mrn": "RR-1"}).status_code == 201
    assert api.post("outsider", "/patients", {**NEW, "mrn": "HL-1"}).status_code == 422


def test_a_body_that_is_not_json_is_refused_with_a_json_detail(api):
    response = api.client.post(
        "/api/v1/patients",
        "{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token('owner')}",
    )
    assert response.status_code in (400, 422)
    assert "detail" in response.json()


@pytest.mark.parametrize("who", ["readonly", "admin"])
def test_roles_without_patient_write_get_403_and_an_audit_row(api, who):
    response = api.post(who, "/patients", NEW)
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role does not allow this action."}
    assert not Patient.objects.filter(mrn="RR-100").exists()
    (denied,) = audit_rows(action="access_denied", actor_username=who)
    assert denied.outcome == "denied" and denied.detail["permission"] == "patient.create"


# --- GET /patients --------------------------------------------------------------------------


def test_list_patients_pages_in_name_order_with_the_current_program(api, cast):
    owner = cast.actors["owner"]
    bea = cast.new_patient("RR-2", "Bea", "Adams")
    cal = cast.new_patient("RR-3", "Cal", "Young")
    episode_admit(owner, bea, cast.detox)
    body = api.get("director", "/patients").json()
    assert body["count"] == 3 and body["page"] == 1 and body["pages"] == 1
    assert [row["family_name"] for row in body["results"]] == ["Adams", "Rivera", "Young"]
    first, _, last = body["results"]
    assert first == {
        "id": str(bea.public_id),
        "mrn": "RR-2",
        "given_name": "Bea",
        "family_name": "Adams",
        "date_of_birth": "1990-05-17",
        "current_program": "Detox",
        "current_level": "3.7-WM",
    }
    assert last["id"] == str(cal.public_id)
    assert last["current_program"] is None and last["current_level"] is None


def test_list_patients_never_shows_another_organization(api, cast):
    riverside = api.get("owner", "/patients").json()
    assert [row["mrn"] for row in riverside["results"]] == ["RR-1"]
    harbor = api.get("outsider", "/patients").json()
    assert [row["mrn"] for row in harbor["results"]] == ["HL-1"]
    assert api.get("outsider", "/patients", q="Rivera").json()["count"] == 0


@override_settings(PATIENTS_PER_PAGE=2)
def test_list_patients_pagination_fields(api, cast):
    for n in range(2, 6):
        cast.new_patient(f"RR-{n}", f"P{n}", f"Zed{n}")
    first = api.get("owner", "/patients").json()
    assert (first["count"], first["page"], first["pages"]) == (5, 1, 3)
    assert len(first["results"]) == 2
    last = api.get("owner", "/patients", page=3).json()
    assert last["page"] == 3 and [r["family_name"] for r in last["results"]] == ["Zed5"]
    seen = {
        r["id"] for p in (1, 2, 3) for r in api.get("owner", "/patients", page=p).json()["results"]
    }
    assert len(seen) == 5
    # Past the end, the last page; a bad page number is a 422 naming the parameter.
    assert api.get("owner", "/patients", page=99).json()["page"] == 3
    bad = api.get("owner", "/patients", page="two")
    assert bad.status_code == 422 and list(bad.json()["errors"]) == ["page"]


def test_search_by_name_date_of_birth_and_mrn_prefix(api, cast):
    cast.new_patient("RR-20", "Riva", "Stone", born=date(1988, 4, 2))
    cast.new_patient("XQ-77", "Tom", "Banks", born=date(1975, 11, 30))

    def found(q: str) -> list[str]:
        body = api.get("owner", "/patients", q=q).json()
        assert body["count"] == len(body["results"])
        return sorted(row["mrn"] for row in body["results"])

    assert found("riv") == ["RR-1", "RR-20"]  # Rivera, Riva
    assert found("ana riv") == ["RR-1"]
    assert found("Stone") == ["RR-20"]
    assert found("1988-04-02") == ["RR-20"]
    assert found("1975-11-30") == ["XQ-77"]
    assert found("2001-01-01") == []
    assert found("RR-2") == ["RR-20"]
    assert found("xq") == ["XQ-77"]
    assert found("nobody") == []
    assert found("  ") == ["RR-1", "RR-20", "XQ-77"]


def test_list_and_search_are_audited_without_patient_ids(api, cast):
    api.get("owner", "/patients")
    api.get("owner", "/patients", q="riv")
    listed, searched = audit_rows(category="patient_list")
    assert listed.action == "read" and searched.action == "search"
    assert searched.detail["query"] == "riv" and searched.detail["shown"] == 1
    assert listed.patient_public_id is None


def test_the_admin_role_cannot_list_patients(api):
    response = api.get("admin", "/patients")
    assert response.status_code == 403
    assert "Rivera" not in response.content.decode()
    assert audit_rows(action="access_denied", actor_username="admin")


# --- GET /patients/{id} ---------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "readonly", "director"])
def test_read_patient_is_allowed_to_the_care_team_and_facility_wide_roles(api, cast, who):
    response = api.get(who, f"/patients/{cast.patient.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(cast.patient.public_id)
    assert (body["mrn"], body["given_name"], body["family_name"]) == ("RR-1", "Ana", "Rivera")
    assert body["date_of_birth"] == "1990-05-17"
    assert "search_name" not in body and "organization" not in body
    (event,) = audit_rows(action="read", patient_public_id=cast.patient.public_id)
    assert event.actor_username == who and event.object_id == str(cast.patient.public_id)
    assert event.outcome == "success"


def test_each_read_writes_its_own_audit_row(api, cast):
    for _ in range(3):
        assert api.get("owner", f"/patients/{cast.patient.public_id}").status_code == 200
    assert len(audit_rows(action="read", patient_public_id=cast.patient.public_id)) == 3


def test_the_admin_role_gets_403_and_nothing_of_the_record(api, cast):
    response = api.get("admin", f"/patients/{cast.patient.public_id}")
    assert response.status_code == 403
    text = response.content.decode()
    assert "Ana" not in text and "Rivera" not in text and "RR-1" not in text
    (denied,) = audit_rows(action="access_denied")
    assert denied.actor_username == "admin" and denied.outcome == "denied"
    assert denied.patient_public_id == cast.patient.public_id
    assert not audit_rows(action="read")


def test_the_outsider_gets_404_as_if_the_patient_did_not_exist(api, cast):
    response = api.get("outsider", f"/patients/{cast.patient.public_id}")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found."
    text = response.content.decode()
    assert "Ana" not in text and "Rivera" not in text and "RR-1" not in text
    unknown = api.get("outsider", f"/patients/{uuid.uuid4()}")
    assert unknown.content == response.content  # nothing tells the two apart
    denied = audit_rows(action="access_denied", actor_username="outsider")
    assert len(denied) == 2 and denied[0].object_id == str(cast.patient.public_id)
    assert denied[0].organization_id == cast.other_org.pk
    assert not audit_rows(action="read")


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "1", "RR-1", "%20", "'; DROP TABLE x;--"])
def test_a_malformed_or_unknown_id_is_404(api, bad_id):
    response = api.get("owner", f"/patients/{bad_id}")
    assert response.status_code == 404
    assert response.json()["detail"] == "Not found."
    assert audit_rows(action="access_denied", actor_username="owner")


def test_a_random_uuid_is_404_and_audited(api):
    missing = uuid.uuid4()
    response = api.get("owner", f"/patients/{missing}")
    assert response.status_code == 404
    (denied,) = audit_rows(action="access_denied")
    assert denied.object_id == str(missing)


def test_nul_characters_are_a_422_on_the_field_and_harmless_in_a_search(api):
    response = api.post("owner", "/patients", {**NEW, "given_name": "An\x00a"})
    assert response.status_code == 422
    assert "NUL" in response.json()["errors"]["given_name"]
    assert api.get("owner", "/patients", q="Riv\x00era").status_code == 200
