"""The eMAR pages through real HTTP: ordering, the safety check a nurse sees, the
physician's override, charting scheduled and as-needed doses."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from stepwise.core.models import AuditEvent
from stepwise.withdrawal.models import Administration, MedicationOrder, SafetyOverride
from stepwise.withdrawal.services.medications import OrderInput, order_create
from stepwise.withdrawal.tests.support import admit_to_detox, cows, heroin_admission, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(cast: Any) -> Any:
    staff(cast)
    admit_to_detox(cast, hours_ago=20)
    heroin_admission(cast.actors["nurse"], cast.patient, timezone.now() - timedelta(hours=14))
    return cast


def url(cast: Any, name: str, **kwargs: Any) -> str:
    return reverse(f"medications:{name}", kwargs={"public_id": cast.patient.public_id, **kwargs})


def bup_order(cast: Any) -> MedicationOrder:
    return order_create(
        cast.actors["physician"],
        cast.patient,
        OrderInput(
            drug="buprenorphine",
            dose_mg=Decimal(4),
            route="sublingual",
            frequency="q2h_prn",
            prn_indication="COWS 8 or more",
            bup_start="standard",
            starts_at=timezone.now() - timedelta(hours=1),
        ),
    )


def test_a_physician_orders_from_the_form(unit):
    client = unit.client_for("physician")
    assert client.get(url(unit, "order_new")).status_code == 200
    response = client.post(
        url(unit, "order_new"),
        {
            "drug": "clonidine",
            "dose_mg": "0.1",
            "route": "oral",
            "frequency": "qid",
            "taper": "2 0.1\n2 0.1 tid\n1 0.1 bid",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    order = MedicationOrder.objects.get()
    assert [s.frequency for s in order.taper_steps] == ["", "tid", "bid"]
    assert order.ends_at is not None


def test_the_order_form_names_bad_fields(unit):
    response = unit.client_for("physician").post(
        url(unit, "order_new"),
        {"drug": "clonidine", "dose_mg": "0.1", "route": "intravenous", "frequency": "q6h_prn"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Clonidine is given: oral" in html and "needs its indication" in html


def test_methadone_outside_a_certified_program_needs_the_override_reason(unit):
    client = unit.client_for("physician")
    form = {"drug": "methadone", "dose_mg": "20", "route": "oral", "frequency": "daily"}
    blocked = client.post(url(unit, "order_new"), form)
    assert blocked.status_code == 409
    assert (
        "R-MTD-1" in blocked.content.decode()
        and "certified opioid treatment program" in blocked.content.decode()
    )
    done = client.post(
        url(unit, "order_new"), {**form, "override_reason": "Three-day emergency bridge"}
    )
    assert done.status_code == 302
    assert SafetyOverride.objects.get().rule == "R-MTD-1"


def test_the_nurse_sees_why_a_first_buprenorphine_dose_is_blocked(unit):
    order = bup_order(unit)
    nurse = unit.client_for("nurse")
    record = nurse.get(url(unit, "record")).content.decode()
    assert "R-BUP-1" in record and "blocked" in record
    give_url = url(unit, "give", order_id=order.public_id)
    page = nurse.get(give_url).content.decode()
    assert "No COWS scored in the 60 minutes before the dose" in page
    refused = nurse.post(give_url, {"outcome": "given"})
    assert refused.status_code == 409
    assert "Blocked by a safety rule" in refused.content.decode()
    assert not Administration.objects.exists()
    assert AuditEvent.objects.filter(action="administer", outcome="denied").exists()


def test_a_physician_overrides_and_the_nurse_gives(unit):
    order = bup_order(unit)
    physician = unit.client_for("physician")
    assert "Override R-BUP-1" in physician.get(url(unit, "record")).content.decode()
    response = physician.post(
        url(unit, "override", order_id=order.public_id),
        {"rule": "R-BUP-1", "reason": "Objective withdrawal on exam; pupils dilated"},
    )
    assert response.status_code == 302
    assert (
        unit.client_for("nurse")
        .post(url(unit, "give", order_id=order.public_id), {"outcome": "given"})
        .status_code
        == 302
    )
    given = Administration.objects.get()
    assert given.override is not None and given.followup_due_at is not None
    # The nurse may not override, the physician may not give.
    assert (
        unit.client_for("nurse")
        .post(url(unit, "override", order_id=order.public_id), {"rule": "R-BUP-1", "reason": "x"})
        .status_code
        == 403
    )
    assert (
        physician.post(
            url(unit, "give", order_id=order.public_id), {"outcome": "given"}
        ).status_code
        == 403
    )


def test_the_dose_goes_through_once_withdrawal_is_objective(unit):
    order = bup_order(unit)
    cows(unit.actors["nurse"], unit.patient, 10, timezone.now() - timedelta(minutes=5))
    nurse = unit.client_for("nurse")
    assert "allowed now" in nurse.get(url(unit, "give", order_id=order.public_id)).content.decode()
    assert (
        nurse.post(url(unit, "give", order_id=order.public_id), {"outcome": "given"}).status_code
        == 302
    )
    followup = Administration.objects.get()
    response = nurse.post(
        url(unit, "followup", administration_id=followup.public_id),
        {"result": "partly", "note": "COWS 6 an hour later"},
    )
    assert response.status_code == 302
    followup.refresh_from_db()
    assert followup.followup_result == "partly"


def test_a_scheduled_dose_is_chosen_from_todays_doses(unit):
    order = order_create(
        unit.actors["physician"],
        unit.patient,
        OrderInput(
            drug="clonidine",
            dose_mg=Decimal("0.1"),
            route="oral",
            frequency="q4h",
            starts_at=timezone.now() - timedelta(hours=9),
        ),
    )
    nurse = unit.client_for("nurse")
    give_url = url(unit, "give", order_id=order.public_id)
    page = nurse.get(give_url)
    form = page.context["form"]
    choices = [value for value, _ in form.fields["scheduled_for"].choices]
    assert choices
    assert nurse.post(give_url, {"outcome": "held", "scheduled_for": choices[0]}).status_code == 422
    response = nurse.post(
        give_url, {"outcome": "held", "reason": "BP 86/50", "scheduled_for": choices[0]}
    )
    assert response.status_code == 302
    again = nurse.get(give_url).context["form"]
    assert choices[0] not in [v for v, _ in again.fields["scheduled_for"].choices]


def test_the_comfort_set_is_one_click(unit):
    response = unit.client_for("physician").post(url(unit, "order_set"), {"order_set": "comfort"})
    assert response.status_code == 302
    assert MedicationOrder.objects.count() == 6


NALTREXONE = OrderInput(drug="naltrexone", dose_mg=Decimal(50), route="oral", frequency="daily")


def test_the_medication_record_costs_the_same_queries_for_one_order_or_many(unit):
    physician = unit.actors["physician"]
    bup_order(unit)
    order_create(physician, unit.patient, NALTREXONE)
    client = unit.client_for("nurse")
    with CaptureQueriesContext(connection) as one:
        assert client.get(url(unit, "record")).status_code == 200
    unit.client_for("physician").post(url(unit, "order_set"), {"order_set": "comfort"})
    order_create(
        physician,
        unit.patient,
        OrderInput(drug="clonidine", dose_mg=Decimal("0.1"), route="oral", frequency="q6h"),
    )
    # More orders the safety rules check read nothing more: the reads are shared.
    bup_order(unit)
    order_create(physician, unit.patient, NALTREXONE)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url(unit, "record")).status_code == 200
    # The safety rules read the record once for every order they check (by rule, not
    # by order): settings, admission, last-use reports, the doses given, COWS, the
    # naloxone challenge.
    assert len(one) == len(many) == 29


def test_an_override_shows_as_such_instead_of_a_second_offer(unit):
    order = bup_order(unit)
    physician = unit.client_for("physician")
    physician.post(
        url(unit, "override", order_id=order.public_id),
        {"rule": "R-BUP-1", "reason": "Objective withdrawal on exam"},
    )
    record = physician.get(url(unit, "record")).content.decode()
    assert "overridden</strong> by Physician" in record
    assert "Override R-BUP-1 (physician)" not in record
    give = unit.client_for("nurse").get(url(unit, "give", order_id=order.public_id))
    assert "overridden</strong>" in give.content.decode()
