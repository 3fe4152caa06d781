"""The organization's withdrawal settings: only the clinical director changes them,
only inside the published ranges, and every change is audited with old and new."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from stepwise.care.models import Program
from stepwise.core.errors import AccessDenied, NotFound, ValidationFailed
from stepwise.core.models import AuditAction, AuditEvent, AuditOutcome
from stepwise.withdrawal.models import SafetySettings, UnitSettings
from stepwise.withdrawal.rules.thresholds import SETTINGS, UNIT_SETTINGS
from stepwise.withdrawal.selectors import thresholds_for, unit_schedule_for
from stepwise.withdrawal.services.configuration import (
    safety_settings_update,
    unit_settings_update,
)

pytestmark = pytest.mark.django_db

URL = reverse("withdrawal:settings")


def safety(**changes: int) -> dict[str, Any]:
    values: dict[str, Any] = {s.name: s.default for s in SETTINGS} | changes
    return {"section": "safety", **values}


def rhythm(program: Program, **changes: int) -> dict[str, Any]:
    values = {s.name: s.default for s in UNIT_SETTINGS} | changes
    prefix = f"unit-{program.public_id}"
    return {"section": str(program.public_id)} | {f"{prefix}-{k}": v for k, v in values.items()}


def changes(object_type: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=AuditAction.SETTINGS_CHANGE, object_type=object_type)
    )


def test_the_director_sets_the_cows_threshold_and_it_is_stored_and_audited(cast):
    client = cast.client_for("director")
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    # Each threshold shows its label, unit, range and source, with a bounded number input.
    assert "COWS before a first buprenorphine dose (points)" in html
    assert "Allowed 8 to 13 points; default 8." in html
    assert "Protocols use 8 or more; older office protocols 12-13 (domain §1.3)." in html
    assert 'type="number" name="bup_cows_threshold" value="8" min="8" max="13"' in html
    response = client.post(URL, safety(bup_cows_threshold=10), follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "COWS before a first buprenorphine dose 8 → 10 points" in response.content.decode()
    row = SafetySettings.objects.get(organization=cast.org)
    assert row.bup_cows_threshold == 10 and row.changed_by == cast.users["director"]
    assert thresholds_for(cast.org.pk).bup_cows_threshold == 10
    [event] = changes("safety_settings")
    assert event.category == "system" and event.data_class == "system"
    assert event.detail == {"bup_cows_threshold": [8, 10]}
    assert event.actor_id == cast.users["director"].pk
    assert event.object_id == str(cast.org.public_id)
    # The page now shows the stored value; saving it unchanged writes no audit row.
    assert 'name="bup_cows_threshold" value="10"' in client.get(URL).content.decode()
    again = client.post(URL, safety(bup_cows_threshold=10), follow=True)
    assert "Safety thresholds: nothing changed." in again.content.decode()
    assert len(changes("safety_settings")) == 1


@pytest.mark.parametrize("value", [7, 14])
def test_a_threshold_outside_its_range_is_refused_naming_the_range(cast, value):
    response = cast.client_for("director").post(URL, safety(bup_cows_threshold=value))
    assert response.status_code == 422
    html = response.content.decode()
    assert "COWS before a first buprenorphine dose: allowed 8 to 13 points." in html
    assert f'name="bup_cows_threshold" value="{value}"' in html  # what was typed stays
    assert not SafetySettings.objects.exists()
    assert changes("safety_settings") == []


def test_nine_is_inside_the_published_range(cast):
    """Domain §1.3 allows 8-13 (the rules' SETTINGS say the same), so 9 is accepted."""
    response = cast.client_for("director").post(URL, safety(bup_cows_threshold=9))
    assert response.status_code == 302
    assert SafetySettings.objects.get().bup_cows_threshold == 9


def test_several_thresholds_at_once_and_an_empty_one(cast):
    client = cast.client_for("director")
    values = safety(bup_hours_short_acting=24, methadone_first_day_cap_mg=30)
    assert client.post(URL, values).status_code == 302
    [event] = changes("safety_settings")
    assert event.detail == {
        "bup_hours_short_acting": [12, 24],
        "methadone_first_day_cap_mg": [50, 30],
    }
    response = client.post(URL, safety() | {"bup_hours_methadone": ""})
    assert response.status_code == 422
    assert "Give a value. Allowed 36 to 72 hours; default 36." in response.content.decode()


def test_a_nurse_may_not_see_or_change_the_settings(cast):
    cast.new_member("nurse")
    client = cast.client_for("nurse")
    assert client.get(URL).status_code == 403
    assert client.post(URL, safety(bup_cows_threshold=10)).status_code == 403
    assert not SafetySettings.objects.exists()
    refused = AuditEvent.objects.filter(
        action=AuditAction.ACCESS_DENIED, actor_id=cast.users["nurse"].pk
    )
    assert refused.exists()
    for who in ("owner", "readonly", "admin"):
        assert cast.client_for(who).get(URL).status_code == 403, who


def test_the_rhythm_changes_per_program(cast):
    second = Program.objects.create(
        organization=cast.org,
        facility=cast.facility,
        name="Social detox",
        asam_level="3.2-WM",
        teds_service=2,
        is_24_hour=True,
        bed_capacity=6,
    )
    client = cast.client_for("director")
    html = client.get(URL).content.decode()
    assert "Detox" in html and "Social detox" in html and "Evening IOP" not in html
    assert f'name="unit-{cast.detox.public_id}-reassess_hours" value="4" min="1" max="8"' in html
    response = client.post(URL, rhythm(cast.detox, reassess_hours=2, prn_followup_minutes=30))
    assert response.status_code == 302
    assert unit_schedule_for(cast.detox).reassess_hours == 2
    assert unit_schedule_for(cast.detox).prn_followup_minutes == 30
    assert unit_schedule_for(second).reassess_hours == 4  # the other unit keeps its own
    [event] = changes("unit_settings")
    assert event.object_id == str(cast.detox.public_id)
    assert event.detail == {"reassess_hours": [4, 2], "prn_followup_minutes": [60, 30]}
    assert client.post(URL, rhythm(second, reassess_hours=6)).status_code == 302
    assert unit_schedule_for(second).reassess_hours == 6
    assert unit_schedule_for(cast.detox).reassess_hours == 2
    # Out of range: refused with the range; a program that is not a unit: not found.
    refused = client.post(URL, rhythm(second, induction_reassess_hours=3))
    assert refused.status_code == 422
    assert (
        "Reassessment interval during buprenorphine induction: allowed 1 to 2 hours."
        in refused.content.decode()
    )
    assert UnitSettings.objects.get(program=second).induction_reassess_hours == 1
    assert client.post(URL, rhythm(cast.iop, reassess_hours=2)).status_code == 404
    assert client.post(URL, rhythm(cast.other_program, reassess_hours=2)).status_code == 404


def test_the_services_check_the_role_the_range_and_the_program(cast):
    director = cast.actors["director"]
    with pytest.raises(AccessDenied):
        safety_settings_update(cast.actors["colleague"], {"bup_cows_threshold": 10})
    denied = AuditEvent.objects.get(action=AuditAction.ACCESS_DENIED)
    assert denied.outcome == AuditOutcome.DENIED and denied.category == "system"
    with pytest.raises(ValidationFailed) as bad:
        safety_settings_update(director, {"bup_cows_threshhold": 10, "bup_hours_methadone": 80})
    assert bad.value.errors == {
        "bup_cows_threshhold": "Unknown setting.",
        "bup_hours_methadone": "Hours since last methadone: allowed 36 to 72 hours.",
    }
    with pytest.raises(ValidationFailed) as not_a_number:
        safety_settings_update(director, {"bup_cows_threshold": True})
    assert not_a_number.value.errors == {"bup_cows_threshold": "Give a whole number."}
    with pytest.raises(ValidationFailed):
        unit_settings_update(director, cast.detox, {"reassess_hours": 9})
    with pytest.raises(NotFound):
        unit_settings_update(director, cast.iop, {"reassess_hours": 2})
    with pytest.raises(NotFound):
        unit_settings_update(cast.actors["outsider"], cast.detox, {"reassess_hours": 2})
    with pytest.raises(AccessDenied):
        unit_settings_update(cast.actors["owner"], cast.detox, {"reassess_hours": 2})
    assert not SafetySettings.objects.exists() and not UnitSettings.objects.exists()
    # Only what is given changes; the others keep their values.
    safety_settings_update(director, {"naltrexone_opioid_free_days": 10})
    assert thresholds_for(cast.org.pk).naltrexone_opioid_free_days == 10
    assert thresholds_for(cast.org.pk).bup_cows_threshold == 8
    # Another organization's thresholds are its own.
    assert thresholds_for(cast.other_org.pk).naltrexone_opioid_free_days == 7


def test_the_account_settings_page_links_here_for_the_director_only(cast):
    assert URL in cast.client_for("director").get(reverse("accounts:settings")).content.decode()
    assert URL not in cast.client_for("owner").get(reverse("accounts:settings")).content.decode()
