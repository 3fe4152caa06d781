"""The medical admission pages through real HTTP: the nurse's form on arrival, what it
creates (problems, tasks, the audit row), messages that name the field and what is
allowed, the form filled from the current assessment, who may see and write, the
physician's review, and a fixed number of queries for the assessment page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from stepwise.core.models import AuditAction, AuditEvent
from stepwise.instruments.definitions.mood import GAD7, PHQ9
from stepwise.instruments.services import assessment_record
from stepwise.patients.models import Problem, Task
from stepwise.withdrawal.models import MedicalAdmission
from stepwise.withdrawal.tests.support import admit_to_detox, heroin_admission, staff

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")  # the cast's facility


def url(cast: Any, name: str) -> str:
    return reverse(f"withdrawal:{name}", kwargs={"public_id": cast.patient.public_id})


def local(at: datetime) -> str:
    """A time as a nurse types it into a datetime-local input at the facility."""
    return at.astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M")


def rows(*substances: dict[str, Any], total: int = 3, initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        "substances-TOTAL_FORMS": str(total),
        "substances-INITIAL_FORMS": str(initial),
        "substances-MIN_NUM_FORMS": "0",
        "substances-MAX_NUM_FORMS": "20",
    }
    for n, row in enumerate(substances):
        data.update({f"substances-{n}-{k}": v for k, v in row.items()})
    return data


def answers(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "past_overdoses": "2",
        "fentanyl_exposure": "yes",
        "complications": ["abscess"],
        "test_hiv": "negative",
        "test_hbv": "negative",
        "test_hcv": "positive",
        "hbv_vaccinated": "no",
        "pregnancy": "not_applicable",
        "no_known_allergies": "on",
        "current_medications": "",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def heroin_row(last_use: datetime | None, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "substance": "heroin",
        "routes": ["iv", "smoked"],
        "drug_form": "powder",
        "amount": "1 g",
        "frequency": "daily",
        "last_use_at": local(last_use) if last_use else "",
    }
    row.update(changes)
    return row


@pytest.fixture
def unit(cast: Any) -> Any:
    """The patient in detox, a nurse and a physician on the care team."""
    staff(cast)
    admit_to_detox(cast)
    return cast


def test_the_nurse_records_the_admission_and_its_problems_and_tasks_are_opened(unit):
    last_use = timezone.now() - timedelta(hours=10)
    data = rows(heroin_row(last_use), {"substance": "cannabis", "routes": ["smoked"]})
    client = unit.client_for("nurse")
    response = client.post(url(unit, "admission_new"), data | answers())
    assert response.status_code == 302
    assert response["Location"] == url(unit, "admission")
    row = MedicalAdmission.objects.get()
    assert [s["substance"] for s in row.data["substances"]] == ["heroin", "cannabis"]
    # The time typed in the facility's zone is stored as that moment.
    assert row.last_opioid_use_at == last_use.replace(second=0, microsecond=0)
    assert row.recorded_by == unit.users["nurse"]
    problems = set(Problem.objects.filter(patient=unit.patient).values_list("key", flat=True))
    assert problems == {"injection_use", "abscess", "overdose_history", "hcv_positive"}
    assert set(Problem.objects.values_list("asam_dimension", flat=True)) == {2}
    tasks = set(Task.objects.filter(patient=unit.patient).values_list("kind", flat=True))
    assert tasks == {"harm_reduction", "hcv_treatment", "hbv_vaccination"}
    event = AuditEvent.objects.filter(object_type="medical_admission").latest("id")
    assert event.action == AuditAction.CREATE and event.object_id == str(row.public_id)
    assert event.patient_public_id == unit.patient.public_id
    assert event.detail == {"problems_noted": 4, "follow_ups_found": 3}
    page = client.get(response["Location"]).content.decode()
    assert "4 problems added to the problem list, 3 follow-up tasks opened." in page


def test_a_heroin_row_without_its_time_of_last_use_is_refused_naming_it(unit):
    data = rows(heroin_row(None)) | answers()
    response = unit.client_for("nurse").post(url(unit, "admission_new"), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Substance 1 (Heroin), time of last use" in html
    assert "Give the time of last use of each opioid" in html
    assert 'href="#id_substances-0-last_use_at"' in html
    # What was typed is kept; nothing is stored.
    assert 'value="1 g"' in html
    assert not MedicalAdmission.objects.exists() and not Problem.objects.exists()


def test_messages_name_the_field_and_the_allowed_values(unit):
    last_use = timezone.now() - timedelta(hours=10)
    data = rows(heroin_row(last_use, routes=[]), {"amount": "3 pills"})
    data |= answers(test_hiv="maybe", no_known_allergies=None, past_overdoses="150")
    response = unit.client_for("nurse").post(url(unit, "admission_new"), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "HIV status</a>: Allowed values: Not offered, Offered, declined," in html
    assert "Past overdoses</a>: Allowed 0 to 99." in html
    # A row with something typed but no substance names the substances allowed.
    assert "Substance 2, substance</a>: Choose the substance, or clear this row." in html
    assert "Allowed values: Heroin, Fentanyl (illicit)," in html
    # The rules' messages come in the same round: routes and allergies.
    assert "Substance 1 (Heroin), routes</a>: Give one or more of: iv, im, sc," in html
    assert "Allergies</a>: List allergies, or mark no known allergies." in html
    assert html.count('class="error"') == 5
    assert "Record at least one substance" not in html


def test_no_substance_at_all_is_refused(unit):
    response = unit.client_for("nurse").post(url(unit, "admission_new"), rows() | answers())
    assert response.status_code == 422
    assert "Record at least one substance" in response.content.decode()


def test_a_patient_not_in_a_program_cannot_be_assessed(cast):
    staff(cast)
    client = cast.client_for("nurse")
    assert "not in a program now" in client.get(url(cast, "admission_new")).content.decode()
    last_use = timezone.now() - timedelta(hours=10)
    response = client.post(url(cast, "admission_new"), rows(heroin_row(last_use)) | answers())
    assert response.status_code == 422
    assert "admit them before charting this" in response.content.decode()


def test_the_form_is_filled_from_the_current_assessment_and_a_new_entry_replaces_it(unit):
    nurse = unit.actors["nurse"]
    last_use = (timezone.now() - timedelta(hours=12)).replace(second=0, microsecond=0)
    heroin_admission(nurse, unit.patient, last_use, current_medications="Sertraline 50 mg")
    first = MedicalAdmission.objects.get()
    client = unit.client_for("nurse")
    response = client.get(url(unit, "admission_new"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Filled in from the assessment recorded" in html
    assert '<option value="heroin" selected>' in html
    assert f'value="{local(last_use)}"' in html  # in the facility's zone
    assert 'value="1 g"' in html and "Sertraline 50 mg" in html
    assert 'name="substances-0-DELETE"' in html  # a filled row can be removed
    assert 'name="substances-3-substance"' in html  # and three blank rows follow
    assert 'name="substances-4-substance"' not in html
    read = AuditEvent.objects.filter(object_type="medical_admission").latest("id")
    assert read.action == AuditAction.READ and read.object_id == str(first.public_id)
    # Saved again with one more substance: a new assessment that replaces the first.
    data = rows(
        heroin_row(last_use, routes=["iv"]),
        {"substance": "xylazine", "routes": ["iv"]},
        total=4,
        initial=1,
    ) | answers(test_hiv="negative", test_hbv="negative", test_hcv="pending", hbv_vaccinated="yes")
    response = client.post(url(unit, "admission_new"), data)
    assert response.status_code == 302
    second = MedicalAdmission.objects.latest("id")
    assert second.replaces == first
    assert len(second.data["substances"]) == 2
    page = client.get(url(unit, "admission")).content.decode()
    # Injection use was already on the list and its task already open.
    assert "2 problems added to the problem list, no new follow-up tasks opened." in page
    assert "It replaces the assessment of" in page


def test_a_filled_row_marked_for_removal_is_left_out(unit):
    last_use = timezone.now() - timedelta(hours=12)
    heroin_admission(unit.actors["nurse"], unit.patient, last_use)
    data = (
        rows(
            heroin_row(last_use, DELETE="on"),
            {"substance": "alcohol", "routes": ["oral"]},
            total=4,
            initial=1,
        )
        | answers()
    )
    response = unit.client_for("nurse").post(url(unit, "admission_new"), data)
    assert response.status_code == 302
    latest = MedicalAdmission.objects.latest("id")
    assert [s["substance"] for s in latest.data["substances"]] == ["alcohol"]
    assert latest.last_opioid_use_at is None
    # A row being removed is not checked: half cleared, it still goes.
    data = (
        rows(
            {"substance": "alcohol", "routes": ["oral"]},
            heroin_row(last_use, substance="", DELETE="on"),
            total=5,
            initial=2,
        )
        | answers()
    )
    form = unit.client_for("nurse").get(url(unit, "admission_new")).content.decode()
    assert "Remove this substance" in form
    response = unit.client_for("nurse").post(url(unit, "admission_new"), data)
    assert response.status_code == 302


def test_who_may_see_and_write(unit):
    heroin_admission(unit.actors["nurse"], unit.patient, timezone.now() - timedelta(hours=12))
    counselor = unit.client_for("owner")  # on the care team
    assert counselor.get(url(unit, "admission")).status_code == 200
    assert counselor.get(url(unit, "admission_new")).status_code == 403
    last_use = timezone.now() - timedelta(hours=10)
    refused = counselor.post(url(unit, "admission_new"), rows(heroin_row(last_use)) | answers())
    assert refused.status_code == 403
    assert MedicalAdmission.objects.count() == 1
    assert "Record a new assessment" not in counselor.get(url(unit, "admission")).content.decode()
    outsider = unit.client_for("outsider")
    assert outsider.get(url(unit, "admission")).status_code == 404
    assert outsider.get(url(unit, "admission_new")).status_code == 403  # a director: no role
    # A nurse of the organization who is not on the care team.
    assert unit.client_for("colleague").get(url(unit, "admission")).status_code == 403
    assert unit.client_for("colleague").get(url(unit, "admission_new")).status_code == 403
    assert unit.client_for("director").get(url(unit, "admission")).status_code == 200


def test_only_a_physician_reviews(unit):
    heroin_admission(unit.actors["nurse"], unit.patient, timezone.now() - timedelta(hours=12))
    row = MedicalAdmission.objects.get()
    review = {"admission": str(row.public_id), "note": "Seen; start comfort meds."}
    nurse = unit.client_for("nurse")
    assert "Physician's review" not in nurse.get(url(unit, "admission")).content.decode()
    refused = nurse.post(url(unit, "admission_review"), review)
    assert refused.status_code == 403
    assert unit.client_for("owner").post(url(unit, "admission_review"), review).status_code == 403
    row.refresh_from_db()
    assert row.reviewed_at is None
    physician = unit.client_for("physician")
    assert "Physician's review" in physician.get(url(unit, "admission")).content.decode()
    done = physician.post(url(unit, "admission_review"), review)
    assert done.status_code == 302 and done["Location"] == url(unit, "admission")
    row.refresh_from_db()
    assert row.reviewed_by == unit.users["physician"]
    assert row.review_note == "Seen; start comfort meds."
    event = AuditEvent.objects.filter(action=AuditAction.REVIEW).latest("id")
    assert event.object_id == str(row.public_id)
    page = physician.get(url(unit, "admission")).content.decode()
    assert "Seen; start comfort meds." in page and "Physician's review" not in page
    again = physician.post(url(unit, "admission_review"), review, follow=True)
    assert "already reviewed" in again.content.decode()


def test_a_review_of_an_assessment_replaced_meanwhile_is_refused(unit):
    nurse = unit.actors["nurse"]
    heroin_admission(nurse, unit.patient, timezone.now() - timedelta(hours=12))
    stale = MedicalAdmission.objects.get()
    heroin_admission(nurse, unit.patient, timezone.now() - timedelta(hours=11))
    response = unit.client_for("physician").post(
        url(unit, "admission_review"), {"admission": str(stale.public_id)}, follow=True
    )
    assert "A newer assessment was recorded" in response.content.decode()
    assert not MedicalAdmission.objects.filter(reviewed_at__isnull=False).exists()


def test_the_page_shows_answers_findings_and_the_screens(unit):
    nurse = unit.actors["nurse"]
    last_use = timezone.now() - timedelta(hours=12)
    heroin_admission(
        nurse,
        unit.patient,
        last_use,
        pregnancy="positive",
        complications=("endocarditis_signs",),
        liver_concern="Jaundice",
    )
    assessment_record(nurse, unit.patient, "phq9", {i.id: 1 for i in PHQ9.items})
    response = unit.client_for("nurse").get(url(unit, "admission"))
    assert response.status_code == 200
    html = response.content.decode()
    # Urgent findings first, highlighted.
    assert '<div class="alert alert-critical" role="alert">' in html
    assert "<li>Signs of endocarditis</li>" in html and "<li>Pregnancy</li>" in html
    assert "Pregnant: medically supervised withdrawal is not advised; offer MOUD." in html
    assert "Suspected endocarditis" in html and "Liver concern: Jaundice" in html
    assert (
        "Refer for prenatal care and offer MOUD" in html
        and "Follow up the Hepatitis C result" in html
    )
    # Every answer by its label.
    assert "Injection into a vein" in html and "Powder" in html and "Daily" in html
    assert f"{local(last_use).replace('T', ' ')}" in html
    assert "<dt>Hepatitis C status</dt><dd>Sent, result pending</dd>" in html
    assert "<dt>Allergies</dt><dd>No known allergies</dd>" in html
    assert (
        "<dt>Injection complications</dt><dd>Signs of endocarditis (fever, new murmur, emboli)</dd>"
        in html
    )
    assert "by Nurse" in html and "awaiting review" in html
    # The mental-health screens: PHQ-9 scored, GAD-7 not yet; links to score them.
    assert ">9 (Mild)</a>" in html
    assert reverse("instruments:new", args=[unit.patient.public_id, "phq9"]) in html
    assert reverse("instruments:new", args=[unit.patient.public_id, "gad7"]) in html
    assert GAD7.name in html and "not scored yet" in html
    event = AuditEvent.objects.filter(object_type="medical_admission").latest("id")
    assert event.action == AuditAction.READ and event.detail == {"screens": "phq9"}
    assert event.category == "withdrawal"


def test_without_an_assessment_the_page_says_so_and_offers_the_form(unit):
    html = unit.client_for("nurse").get(url(unit, "admission")).content.decode()
    assert "No medical admission assessment has been recorded for this stay." in html
    assert url(unit, "admission_new") in html
    html = unit.client_for("owner").get(url(unit, "admission")).content.decode()
    assert "No medical admission assessment" in html and url(unit, "admission_new") not in html
    event = AuditEvent.objects.filter(object_type="medical_admission").latest("id")
    assert event.object_id == str(unit.patient.public_id)


def test_the_page_costs_the_same_queries_however_long_the_record(unit):
    nurse = unit.actors["nurse"]
    heroin_admission(nurse, unit.patient, timezone.now() - timedelta(hours=12))
    assessment_record(nurse, unit.patient, "phq9", {i.id: 0 for i in PHQ9.items})
    client = unit.client_for("nurse")
    client.get(url(unit, "admission"))
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(unit, "admission")).status_code == 200
    # More assessments, more tasks, more screens: the count stays.
    heroin_admission(
        nurse,
        unit.patient,
        timezone.now() - timedelta(hours=11),
        pregnancy="pending",
        complications=("abscess", "cellulitis"),
    )
    for _ in range(3):
        assessment_record(nurse, unit.patient, "phq9", {i.id: 1 for i in PHQ9.items})
        assessment_record(nurse, unit.patient, "gad7", {i.id: 2 for i in GAD7.items})
    with CaptureQueriesContext(connection) as many:
        assert client.get(url(unit, "admission")).status_code == 200
    assert len(few) == len(many)
    # Sign-in and membership (4), patient, care-team check, stay, assessment, tasks,
    # the two screen reads, and the audit row (6 with its savepoints).
    assert len(many) == 18, [q["sql"][:60] for q in many.captured_queries]


def test_a_time_that_cannot_be_read_is_named_once_beside_the_rules_messages(unit):
    data = rows(
        heroin_row(None, last_use_at="yesterday"),
        {"substance": "fentanyl", "routes": ["smoked"]},
    ) | answers(test_hcv="maybe")
    response = unit.client_for("nurse").post(url(unit, "admission_new"), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Substance 1 (Heroin), time of last use</a>: Give a date and time" in html
    assert "Substance 2 (Fentanyl (illicit)), time of last use</a>: Give the time" in html
    assert html.count("Give the time of last use of each opioid") == 2  # summary, and beside it


def test_the_admission_findings_stand_beside_the_asam_biomedical_rating(unit):
    heroin_admission(
        unit.actors["nurse"],
        unit.patient,
        timezone.now() - timedelta(hours=12),
        complications=("abscess",),
    )
    page = unit.client_for("owner").get(
        reverse("instruments:new", kwargs={"public_id": unit.patient.public_id, "code": "asam3"})
    )
    html = page.content.decode()
    d2 = html[html.index('id="item-d2_biomedical"') :]
    d2 = d2[: d2.index("</fieldset>")]
    assert "On the problem list for this dimension" in d2 and "Abscess" in d2
    assert "Injection drug use" in d2
