"""Encrypted fields: the database holds only ciphertext, keys rotate without losing a
value, and a missing key is reported plainly instead of returning garbage."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import CommandError, call_command
from django.db import connection

from stepwise.core.checks import check_field_keys, check_secrets
from stepwise.core.crypto import (
    EncryptedTextField,
    FieldKeyError,
    decrypt_text,
    encrypt_text,
    encrypted_fields,
)
from stepwise.core.models import AuditAction, AuditEvent
from stepwise.patients.models import Patient
from stepwise.patients.services import PatientData, patient_create

SSN = "123456789"
MEMBER = "XKQ-4417-0093"
OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def raw_row(patient: Patient) -> tuple[str, str]:
    table = Patient._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ssn, payer_member_id FROM {table} WHERE id = %s", [patient.pk])
        row = cursor.fetchone()
    return row[0], row[1]


@pytest.fixture
def old_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]


@pytest.fixture
def registered(cast, old_key) -> list[Patient]:
    return [
        patient_create(
            cast.actors["owner"],
            PatientData(
                mrn=f"ENC-{n}",
                given_name="Kim",
                family_name="Vale",
                date_of_birth=date(1988, 2, 3),
                ssn=f"123-45-{6780 + n}",
                payer_member_id=f"{MEMBER}-{n}",
            ),
        )
        for n in range(5)
    ]


def test_the_database_row_holds_no_readable_value(registered):
    patient = registered[0]
    stored_ssn, stored_member = raw_row(patient)
    assert "123456780" not in stored_ssn and "6780" not in stored_ssn
    assert MEMBER not in stored_member
    assert stored_ssn.startswith("gAAAAA")  # a Fernet token
    fresh = Patient.objects.get(pk=patient.pk)
    assert fresh.ssn == "123456780" and fresh.payer_member_id == f"{MEMBER}-0"
    assert fresh.ssn_masked == "***-**-6780"
    assert fresh.payer_member_id_masked == "****93-0"


def test_each_encryption_differs_and_empty_stays_empty(cast, old_key):
    assert encrypt_text(SSN) != encrypt_text(SSN)
    patient = cast.new_patient("ENC-EMPTY")
    assert raw_row(patient) == ("", "")
    fresh = Patient.objects.get(pk=patient.pk)
    assert fresh.ssn == "" and fresh.ssn_masked == "" and fresh.payer_member_id_masked == ""


def test_encrypted_columns_cannot_be_searched(registered):
    with pytest.raises(FieldError, match="Unsupported lookup"):
        list(Patient.objects.filter(ssn=SSN))
    with pytest.raises(FieldError):
        list(Patient.objects.filter(ssn__startswith="123"))
    assert Patient.objects.filter(ssn__isnull=False).count() >= 5


def test_rotation_re_encrypts_with_the_first_key_and_the_old_key_can_go(registered, settings):
    before = {p.pk: raw_row(p) for p in registered}
    updated_at = {p.pk: Patient.objects.get(pk=p.pk).updated_at for p in registered}

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    # Readable at once with the new key first: the old one still decrypts.
    assert Patient.objects.get(pk=registered[1].pk).ssn == "123456781"
    out = StringIO()
    call_command("rotate_field_keys", "--batch-size", "2", stdout=out)
    report = out.getvalue()
    assert "patients.Patient.ssn: 5 re-encrypted, 0 already on the first key" in report
    assert "patients.Patient.payer_member_id: 5 re-encrypted" in report
    for patient in registered:
        assert raw_row(patient) != before[patient.pk]
        # Re-encryption is not a clinical change.
        assert Patient.objects.get(pk=patient.pk).updated_at == updated_at[patient.pk]
    event = AuditEvent.objects.get(action=AuditAction.KEY_ROTATE)
    assert event.data_class == "system"
    # Every encrypted column is rotated, the screenings' payer numbers too (none here).
    assert event.detail == {
        "patients.Patient.ssn": 5,
        "patients.Patient.payer_member_id": 5,
        "intake.Screening.payer_member_id": 0,
    }

    # A second run has nothing left to do.
    out = StringIO()
    call_command("rotate_field_keys", stdout=out)
    assert "patients.Patient.ssn: 0 re-encrypted, 5 already on the first key" in out.getvalue()

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    for n, patient in enumerate(registered):
        fresh = Patient.objects.get(pk=patient.pk)
        assert fresh.ssn == f"12345678{n}"
        assert fresh.payer_member_id == f"{MEMBER}-{n}"


def test_a_value_no_key_opens_is_a_clear_error(registered, settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key removed too early
    with pytest.raises(FieldKeyError, match=r"Cannot decrypt patients\.Patient\.ssn") as caught:
        Patient.objects.get(pk=registered[0].pk)
    assert "STEPWISE_FIELD_KEYS" in str(caught.value)
    assert "rotate_field_keys" in str(caught.value)
    # The value itself never appears in the message.
    assert "6780" not in str(caught.value)
    with pytest.raises(FieldKeyError):
        decrypt_text("not-a-token")


def test_rotation_stops_on_a_value_no_key_opens(registered, settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(CommandError, match=r"Cannot decrypt patients\.Patient\.\w+ of row \d+"):
        call_command("rotate_field_keys", stdout=StringIO())


def test_a_malformed_key_is_named_by_position(settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, "not-a-key"]
    (error,) = check_field_keys(None)
    assert error.id == "stepwise.E005" and "key #2" in error.msg
    with pytest.raises(FieldKeyError, match="key #2"):
        encrypt_text(SSN)
    settings.FIELD_ENCRYPTION_KEYS = []
    assert "empty" in check_field_keys(None)[0].msg


def test_the_development_key_is_refused_for_deployment(settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, settings.DEV_FIELD_KEY]
    assert "stepwise.E004" in {e.id for e in check_secrets(None)}
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert "stepwise.E004" not in {e.id for e in check_secrets(None)}


def test_a_new_key_can_be_generated():
    out = StringIO()
    call_command("rotate_field_keys", "--generate-key", stdout=out)
    Fernet(out.getvalue().strip())  # a valid key


def test_rotation_finds_every_encrypted_column():
    found = {f"{model._meta.label}.{field.name}" for model, field in encrypted_fields()}
    assert {"patients.Patient.ssn", "patients.Patient.payer_member_id"} <= found
    assert all(isinstance(field, EncryptedTextField) for _, field in encrypted_fields())
