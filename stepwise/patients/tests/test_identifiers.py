"""Social security and payer member numbers: entered on the new-patient form or through
the API, stored encrypted, and shown masked everywhere after."""

from __future__ import annotations

from datetime import date

import pytest

from stepwise.api.tests.support import Api
from stepwise.core.errors import ValidationFailed
from stepwise.patients.models import Patient
from stepwise.patients.services import PatientData, patient_create, validate_patient_data

FORM = {
    "mrn": "RR-50",
    "given_name": "Ben",
    "family_name": "Stone",
    "date_of_birth": "1985-02-03",
    "sex": "1",
    "race": "5",
    "ethnicity": "4",
    "education": "3",
    "employment": "3",
    "living_arrangement": "3",
}


def data(ssn: str = "", payer_member_id: str = "") -> PatientData:
    return PatientData(
        mrn="RR-60",
        given_name="Jo",
        family_name="Lin",
        date_of_birth=date(1990, 1, 1),
        ssn=ssn,
        payer_member_id=payer_member_id,
    )


@pytest.mark.parametrize("typed", ["123-45-6789", "123456789", " 123 45 6789 "])
def test_a_social_security_number_is_kept_as_its_nine_digits(cast, typed):
    patient = patient_create(cast.actors["owner"], data(ssn=typed))
    fresh = Patient.objects.get(pk=patient.pk)
    assert fresh.ssn == "123456789" and fresh.ssn_masked == "***-**-6789"


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "123-45-678x", "١٢٣٤٥٦٧٨٩"])
def test_anything_but_nine_digits_is_refused_on_ssn(bad):
    errors = validate_patient_data(data(ssn=bad), date(2025, 1, 1))
    assert list(errors) == ["ssn"] and "9 digits" in errors["ssn"]


def test_a_too_long_payer_member_number_is_refused_on_its_field(cast):
    with pytest.raises(ValidationFailed) as caught:
        patient_create(cast.actors["owner"], data(payer_member_id="X" * 41))
    assert list(caught.value.errors) == ["payer_member_id"]


def test_both_are_optional(cast):
    patient = patient_create(cast.actors["owner"], data())
    assert Patient.objects.get(pk=patient.pk).ssn == ""


def test_the_new_patient_form_takes_them_and_names_a_bad_one(cast):
    client = cast.client_for("owner")
    response = client.post("/patients/new/", {**FORM, "ssn": "123-45-67"})
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_ssn_error"' in html and "9 digits" in html
    response = client.post(
        "/patients/new/", {**FORM, "ssn": "123-45-6789", "payer_member_id": "MCD 0042 7781"}
    )
    assert response.status_code == 302
    patient = Patient.objects.get(mrn="RR-50")
    assert patient.ssn == "123456789" and patient.payer_member_id == "MCD 0042 7781"


def test_the_api_takes_them_and_answers_masked(cast):
    api = Api(cast)
    body = {**FORM, "ssn": "123-45-6789", "payer_member_id": "MCD00427781"}
    response = api.post("owner", "/patients", body)
    assert response.status_code == 201
    created = response.json()
    assert created["ssn"] == "***-**-6789" and created["payer_member_id"] == "****7781"
    read = api.get("owner", f"/patients/{created['id']}").json()
    assert read["ssn"] == "***-**-6789" and read["payer_member_id"] == "****7781"
    assert "123456789" not in str(read) and "MCD00427781" not in str(read)


def test_the_api_names_each_bad_identifier(cast):
    api = Api(cast)
    response = api.post("owner", "/patients", {**FORM, "ssn": "12-34", "payer_member_id": "9" * 41})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"ssn", "payer_member_id"}
    assert "9 digits" in errors["ssn"] and "40 characters" in errors["payer_member_id"]
    assert not Patient.objects.filter(mrn="RR-50").exists()
