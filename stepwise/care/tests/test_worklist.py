"""The worklist page: open safety alerts of the patients the member looks after (the
whole organization for the roles that oversee it), audited, in a fixed number of
queries whatever the number of alerts."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from stepwise.core.models import AuditEvent
from stepwise.core.roles import Permission, role_can, sees_all_patients
from stepwise.instruments.services import assessment_record
from stepwise.instruments.tests.test_services import COWS_13, PHQ9_ITEMS
from stepwise.patients.models import Alert, Patient
from stepwise.patients.services import PatientData, patient_create

URL = "/worklist/"
SUICIDE_RISK = dict.fromkeys(PHQ9_ITEMS, 0) | {"thoughts_of_death_or_self_harm": 1}


def withdrawal_alert(cast: Any, patient: Patient | None = None) -> Alert:
    patient = patient or cast.patient
    assessment_record(cast.actors["owner"], patient, "cows", COWS_13)
    return Alert.objects.get(patient=patient, kind="withdrawal_moderate")


def page(cast: Any, who: str) -> str:
    response = cast.client_for(who).get(URL)
    assert response.status_code == 200, who
    return response.content.decode()


def rows(html: str) -> list[str]:
    return re.findall(r'<tr class="alert-row[^"]*">(.*?)</tr>', html, re.S)


def queries_for(client: Client) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == 200
    return len(captured.captured_queries)


def test_the_care_team_sees_the_alert_with_links_to_the_chart_and_its_source(cast):
    alert = withdrawal_alert(cast)
    html = page(cast, "owner")
    (row,) = rows(html)
    assert f'<a href="/patients/{cast.patient.public_id}/">Ana Rivera</a>' in row
    assert "RR-1" in row and "COWS 13: moderate or worse withdrawal" in row
    assert "<strong>Act soon:</strong>" in row
    source = f"/patients/{cast.patient.public_id}/assessments/{alert.source_id}/"
    assert f'<a href="{source}">What raised it</a>' in row
    assert "the patients whose care team you are on" in html


def test_a_nurse_off_the_care_team_sees_nothing(cast):
    withdrawal_alert(cast)
    html = page(cast, "colleague")
    assert rows(html) == [] and "Nothing needs you right now." in html
    assert "Rivera" not in html


def test_the_director_sees_every_patient_of_the_organization(cast):
    withdrawal_alert(cast)
    director = cast.actors["director"]
    # A patient the owner does not care for: the director registered them.
    other = patient_create(
        director,
        PatientData(
            mrn="RR-9", given_name="Bo", family_name="Marsh", date_of_birth=date(1985, 3, 4)
        ),
    )
    assessment_record(director, other, "phq9", SUICIDE_RISK)
    html = page(cast, "director")
    found = rows(html)
    assert len(found) == 2 and "every patient of the organization" in html
    # Critical first.
    assert "Bo Marsh" in found[0] and "<strong>Act now:</strong>" in found[0]
    assert "Ana Rivera" in found[1]
    owners = rows(page(cast, "owner"))
    assert len(owners) == 1 and "Marsh" not in owners[0]


def test_the_administrator_is_refused(cast):
    withdrawal_alert(cast)
    response = cast.client_for("admin").get(URL)
    assert response.status_code == 403
    assert b"Rivera" not in response.content


def test_the_privacy_officer_sees_what_the_role_table_grants(cast):
    # The privacy officer reads charts (CHART_READ) across the organization, so the
    # worklist shows every patient's alerts to them, as to the director.
    assert role_can("privacy_officer", Permission.CHART_READ)
    assert sees_all_patients("privacy_officer")
    withdrawal_alert(cast)
    html = page(cast, "readonly")
    assert len(rows(html)) == 1 and "Ana Rivera" in html
    assert "/resolve/" not in html


def test_the_outsider_sees_nothing_of_another_organization(cast):
    withdrawal_alert(cast)
    html = page(cast, "outsider")
    assert rows(html) == [] and "Rivera" not in html and "RR-1" not in html


def test_a_resolved_alert_leaves_the_worklist(cast):
    alert = withdrawal_alert(cast)
    client = cast.client_for("owner")
    resolve = f"/patients/{cast.patient.public_id}/alerts/{alert.public_id}/resolve/"
    response = client.post(resolve, {"note": "Comfort medication given.", "next": URL})
    assert response.status_code == 302 and response["Location"] == URL
    assert rows(client.get(URL).content.decode()) == []


def test_the_worklist_read_is_one_audit_row(cast):
    withdrawal_alert(cast)
    client = cast.client_for("owner")
    before = AuditEvent.objects.count()
    assert client.get(URL).status_code == 200
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.category, event.object_type, event.actor_username) == (
        "read",
        "patient_list",
        "worklist",
        "owner",
    )
    assert event.detail == {"shown": 1}


# Session, user, second-factor device and membership (4), the open alerts, open tasks
# and running risk flags of the patients the actor cares for, each with the patient
# joined (3), and the audit row
# (2 savepoints, chain head, insert, head update, 2 releases: 7). The director's
# menu also counts what waits for privacy review (1).
# Includes the organization's time zone, in which the worklist shows its times.
# And the open stays the weekly-hours section looks at (one more per facility zone
# when any patient there has a level with a weekly minimum).
# And the returns to use to confirm or with a response open (1), the treatment plans
# whose review is due (1), and the aftercare check-ins due or missed (1).
WORKLIST_QUERIES = {"owner": 19, "director": 20}


@pytest.mark.parametrize("who", ["owner", "director"])
def test_the_worklist_costs_the_same_for_1_or_10_patients_with_alerts(cast, who):
    client = cast.client_for(who)
    withdrawal_alert(cast)
    small = queries_for(client)
    for n in range(9):
        patient = cast.new_patient(f"W{n}")
        withdrawal_alert(cast, patient)
        if n % 3 == 0:
            assessment_record(cast.actors["owner"], patient, "phq9", SUICIDE_RISK)
    assert Alert.objects.filter(status="open").count() == 13
    assert len(rows(client.get(URL).content.decode())) == 13
    assert queries_for(client) == small
    assert small == WORKLIST_QUERIES[who]
