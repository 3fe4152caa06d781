"""The unit board and the flowsheet through real HTTP: what a nurse sees, what is
overdue, who may look, and a fixed number of queries however many beds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from stepwise.care.services import episode_admit
from stepwise.core.models import AuditEvent
from stepwise.patients.models import Alert, CareTeamMember
from stepwise.withdrawal.services.medications import OrderInput, order_create
from stepwise.withdrawal.tests.support import cows, heroin_admission, staff

pytestmark = pytest.mark.django_db


def board_url(cast: Any) -> str:
    return reverse("withdrawal:board", kwargs={"program_id": cast.detox.public_id})


def fill_unit(cast: Any, beds: int) -> list[Any]:
    """`beds` patients in detox, each with a medical admission, a COWS, an order."""
    nurse, physician = staff(cast)
    cast.detox.bed_capacity = beds
    cast.detox.save()
    patients = []
    now = timezone.now()
    for n in range(beds):
        patient = cast.patient if n == 0 else cast.new_patient(f"B-{n}")
        episode_admit(
            cast.actors["owner"], patient, cast.detox, at=now - timedelta(hours=10 + n % 5)
        )
        for name, role in (("nurse", "nurse"), ("physician", "prescriber")):
            CareTeamMember.objects.get_or_create(
                organization=cast.org, patient=patient, user=cast.users[name], team_role=role
            )
        heroin_admission(nurse, patient, now - timedelta(hours=20))
        cows(nurse, patient, 6 + n % 10, now - timedelta(hours=n % 6))
        order_create(
            physician,
            patient,
            OrderInput(
                drug="clonidine",
                dose_mg=Decimal("0.1"),
                route="oral",
                frequency="q6h",
                starts_at=now - timedelta(hours=9),
            ),
        )
        patients.append(patient)
    return patients


def test_the_board_shows_every_bed_and_what_is_overdue(cast):
    fill_unit(cast, 2)
    cast.detox.bed_capacity = 3
    cast.detox.save()
    response = cast.client_for("nurse").get(board_url(cast))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<li class="bed') == 3 and "Empty" in html
    assert "Ana Rivera" in html or "Rivera" in html
    assert "overdue" in html  # vital signs never taken: due on arrival, hours ago
    assert 'hx-trigger="every 60s"' in html
    event = AuditEvent.objects.filter(object_type="unit_board").latest("seq")
    assert str(cast.patient.public_id) in event.detail["patients"]


def test_beds_of_patients_outside_the_care_team_show_no_identity(cast):
    fill_unit(cast, 2)
    CareTeamMember.objects.filter(user=cast.users["nurse"]).exclude(patient=cast.patient).delete()
    html = cast.client_for("nurse").get(board_url(cast)).content.decode()
    assert "not on your care team" in html
    assert "B-1" not in html


def test_who_may_open_the_board(cast):
    staff(cast)
    assert cast.client_for("owner").get(board_url(cast)).status_code == 403  # counselor
    assert cast.client_for("director").get(board_url(cast)).status_code == 200
    outsider = cast.client_for("outsider").get(board_url(cast))
    assert outsider.status_code == 404
    iop = reverse("withdrawal:board", kwargs={"program_id": cast.iop.public_id})
    assert cast.client_for("director").get(iop).status_code == 404


def test_the_board_costs_the_same_queries_for_one_bed_or_thirty(cast):
    fill_unit(cast, 30)
    client = cast.client_for("nurse")
    client.get(board_url(cast))
    with CaptureQueriesContext(connection) as many:
        assert client.get(board_url(cast) + "?fragment=1").status_code == 200
    # Empty most of the unit: the count stays.
    from stepwise.care.models import Stay

    Stay.objects.filter(program=cast.detox).exclude(episode__patient=cast.patient).update(
        ended_at=timezone.now()
    )
    with CaptureQueriesContext(connection) as one:
        assert client.get(board_url(cast) + "?fragment=1").status_code == 200
    assert len(many) == len(one)
    # Sign-in and membership (4), program, unit settings, stays, care-team filter, nine
    # reads of the unit's facts, and the audit row (7 with its savepoints).
    assert len(many) == 24


def test_vitals_with_signs_of_over_sedation_raise_a_critical_alert(cast):
    staff(cast)
    episode_admit(
        cast.actors["owner"], cast.patient, cast.detox, at=timezone.now() - timedelta(hours=3)
    )
    url = reverse("withdrawal:vitals_new", kwargs={"public_id": cast.patient.public_id})
    response = cast.client_for("nurse").post(
        url, {"respiratory_rate": "8", "spo2": "95", "pulse": "60"}
    )
    assert response.status_code == 302
    alert = Alert.objects.get(patient=cast.patient, kind="over_sedation")
    assert alert.severity == "critical" and "naloxone" in alert.message
    sheet = cast.client_for("nurse").get(
        reverse("withdrawal:flowsheet", kwargs={"public_id": cast.patient.public_id})
    )
    html = sheet.content.decode()
    assert "over-sedation" in html and "respiratory rate 8" in html


def test_vitals_out_of_range_name_the_field_and_the_range(cast):
    staff(cast)
    episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    url = reverse("withdrawal:vitals_new", kwargs={"public_id": cast.patient.public_id})
    response = cast.client_for("nurse").post(url, {"spo2": "140", "systolic": "120"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "less than or equal to 100" in html


def test_a_counselor_reads_the_flowsheet_but_records_no_vitals(cast):
    staff(cast)
    episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    flow = reverse("withdrawal:flowsheet", kwargs={"public_id": cast.patient.public_id})
    owner = cast.client_for("owner")
    assert owner.get(flow).status_code == 200
    url = reverse("withdrawal:vitals_new", kwargs={"public_id": cast.patient.public_id})
    assert owner.post(url, {"pulse": "80"}).status_code == 403


def test_a_critical_alarm_shows_even_on_a_bed_outside_the_care_team(cast):
    from stepwise.withdrawal.rules.vitals import Vitals
    from stepwise.withdrawal.services.observations import vitals_record

    patients = fill_unit(cast, 2)
    vitals_record(cast.actors["nurse"], patients[1], Vitals(respiratory_rate=7, spo2=88))
    CareTeamMember.objects.filter(user=cast.users["nurse"], patient=patients[1]).delete()
    html = cast.client_for("nurse").get(board_url(cast)).content.decode()
    assert "Critical alert in this bed" in html and "open emergency access" in html
    assert "B-1" not in html and "respiratory rate 7" not in html
    assert "<strong>1</strong> with a critical alert" in html
