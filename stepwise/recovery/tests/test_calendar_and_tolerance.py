"""Days are the facility's calendar days, whatever the server's clock says; opioid
tolerance is kept only by opioid use; and the fixes around them (a relapse of another
patient never settles or starts anything, proposals are audited, a mistaken event's
flag ends, typed results are never dropped)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.urls import reverse

from stepwise.care.services import episode_admit
from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.patients.models import RiskFlag
from stepwise.plans.services.drafts import plan_start
from stepwise.plans.services.versions import review_start, version_sign
from stepwise.plans.tests.support import full_content
from stepwise.recovery.models import DrugScreen, RelapseEvent
from stepwise.recovery.selectors import recovery_read
from stepwise.recovery.services.relapse import (
    UseDetails,
    relapse_mark_in_error,
    relapse_propose,
    relapse_record,
)

pytestmark = pytest.mark.django_db


def _fentanyl(on: date, **more: Any) -> UseDetails:
    return UseDetails(used_on=on, kind="relapse", substances=[7], route=2, **more)


def test_a_tokyo_evening_is_already_tomorrow_and_the_chart_still_reads(cast: Any) -> None:
    cast.facility.time_zone = "Asia/Tokyo"
    cast.facility.save()
    owner = cast.actors["owner"]
    # 23:00 UTC on 2 Nov is 08:00 on 3 Nov in Tokyo.
    with time_machine.travel(datetime(2026, 11, 2, 23, 0, tzinfo=UTC), tick=False):
        episode_admit(owner, cast.patient, cast.iop, at=datetime(2026, 9, 1, tzinfo=UTC))
        relapse_record(owner, cast.patient, _fentanyl(date(2026, 11, 3)))
        found = recovery_read(owner, cast.patient.public_id, datetime.now(UTC))
        assert found.time.days_since_last_use == 0
        assert found.time.last_use == date(2026, 11, 3)
        assert (
            cast.client_for("owner").get(f"/patients/{cast.patient.public_id}/").status_code == 200
        )


def test_a_new_york_evening_is_still_today(cast: Any) -> None:
    owner = cast.actors["owner"]
    # 02:00 UTC on 3 Nov is 21:00 on 2 Nov in New York (the cast's facility).
    with time_machine.travel(datetime(2026, 11, 3, 2, 0, tzinfo=UTC), tick=False):
        episode_admit(owner, cast.patient, cast.iop, at=datetime(2026, 9, 1, tzinfo=UTC))
        with pytest.raises(ValidationFailed) as refused:
            relapse_record(owner, cast.patient, _fentanyl(date(2026, 11, 3)))
        assert "after today" in refused.value.errors["used_on"]
        relapse_record(owner, cast.patient, _fentanyl(date(2026, 11, 2)))
        found = recovery_read(owner, cast.patient.public_id, datetime.now(UTC))
        assert found.time.days_since_last_use == 0


def test_a_use_on_the_local_day_of_admission_is_accepted(cast: Any) -> None:
    owner = cast.actors["owner"]
    # Admitted at 22:00 in New York on 1 Sep (02:00 UTC on 2 Sep).
    episode_admit(owner, cast.patient, cast.iop, at=datetime(2026, 9, 2, 2, 0, tzinfo=UTC))
    event = relapse_record(owner, cast.patient, _fentanyl(date(2026, 9, 1)))
    assert event.abstinent_days == 0


def test_a_cannabis_lapse_does_not_hide_lost_opioid_tolerance(cast: Any) -> None:
    owner = cast.actors["owner"]
    with time_machine.travel(datetime(2026, 11, 2, 15, 0, tzinfo=UTC), tick=False):
        episode_admit(owner, cast.patient, cast.iop, at=datetime(2026, 9, 3, 15, tzinfo=UTC))
        cannabis = relapse_record(
            owner,
            cast.patient,
            UseDetails(used_on=date(2026, 10, 30), kind="lapse", substances=[4], route=2),
        )
        assert cannabis.flag_until is None  # no opioid: no opioid tolerance lost
        fentanyl = relapse_record(owner, cast.patient, _fentanyl(date(2026, 11, 2)))
    assert fentanyl.abstinent_days == 60  # since admission: the cannabis lapse does not count
    assert fentanyl.flag_until is not None
    assert RiskFlag.objects.filter(source_id=fentanyl.public_id).exists()


def test_an_unknown_substance_counts_as_an_opioid(cast: Any) -> None:
    owner = cast.actors["owner"]
    with time_machine.travel(datetime(2026, 11, 2, 15, 0, tzinfo=UTC), tick=False):
        episode_admit(owner, cast.patient, cast.iop, at=datetime(2026, 10, 1, 15, tzinfo=UTC))
        event = relapse_record(
            owner,
            cast.patient,
            UseDetails(used_on=date(2026, 11, 1), kind="lapse", substances=[-9], route=-9),
        )
    assert event.flag_until is not None


def test_a_mistaken_event_ends_its_flag(cast: Any) -> None:
    owner = cast.actors["owner"]
    episode_admit(owner, cast.patient, cast.iop, at=datetime(2026, 9, 3, 15, tzinfo=UTC))
    event = relapse_record(owner, cast.patient, _fentanyl(date(2026, 11, 2) - timedelta(days=1)))
    relapse_mark_in_error(owner, event, reason="Recorded on the wrong patient")
    flag = RiskFlag.objects.get(source_id=event.public_id)
    event.refresh_from_db()
    assert flag.ends_at == event.closed_at


def test_a_proposal_has_its_own_audit_row(cast: Any) -> None:
    episode_admit(cast.actors["owner"], cast.patient, cast.iop)
    source = uuid.uuid4()
    event = relapse_propose(
        None, cast.patient, source="overdose", source_type="crisis_call", source_id=source
    )
    row = AuditEvent.objects.get(object_type="relapse_event", object_id=str(event.public_id))
    assert row.detail["status"] == "proposed" and row.detail["source"] == "overdose"


def test_a_plan_review_cannot_name_another_patients_relapse(cast: Any) -> None:
    owner = cast.actors["owner"]
    other = cast.new_patient("RR-7", "Bo", "Berg")
    for patient in (cast.patient, other):
        episode_admit(owner, patient, cast.iop, at=datetime(2026, 9, 3, 15, tzinfo=UTC))
    theirs = relapse_record(owner, other, _fentanyl(date(2026, 10, 20)))
    draft = plan_start(owner, cast.patient)
    from stepwise.plans.services.drafts import draft_save

    signed = version_sign(owner, draft_save(owner, draft, full_content()))
    with pytest.raises(ValidationFailed) as refused:
        review_start(
            owner, signed.plan, trigger="relapse", why="Their relapse", source_id=theirs.public_id
        )
    assert "source_id" in refused.value.errors
    assert theirs.items.get(item="plan_review").is_open


def test_typed_results_are_recorded_even_without_the_box(cast: Any) -> None:
    episode_admit(cast.actors["owner"], cast.patient, cast.iop)
    client = cast.client_for("owner")
    url = reverse("recovery:screen_new", args=[cast.patient.public_id])
    assert client.post(url, {"validity": "valid", "result_fentanyl": "positive"}).status_code == 302
    screen = DrugScreen.objects.get()
    assert screen.status == "resulted" and RelapseEvent.objects.get().status == "proposed"
    refused = client.post(url, {"validity": "valid", "results_now": "on"})
    assert refused.status_code == 422
    assert "untick this box" in refused.content.decode()
    assert DrugScreen.objects.count() == 1


def test_a_change_to_the_expectations_is_in_the_audit_row(cast: Any) -> None:
    client = cast.client_for("director")
    data = {"outreach_hours": "24", "tolerance_days": "7", "flag_days": "30"}
    expects = {"expects_buprenorphine": ["buprenorphine"], "expects_methadone": ["methadone"]}
    assert client.post(reverse("recovery:settings"), {**data, **expects}).status_code == 302
    row = AuditEvent.objects.filter(object_type="recovery_settings").latest("id")
    before, after = row.detail["expectations"]
    assert before["prescribed_opioid"] == ["opiates", "oxycodone"]
    assert after["prescribed_opioid"] == []
