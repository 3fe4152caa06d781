"""Houses for men, women or anyone against the sex recorded on the patient: a move-in
or a move to another bed in a house for the other sex is refused on the bed, naming
by house only the houses that fit with a vacant bed, unless staff give a reason (kept
in the audit row); a patient whose sex is not recorded is not checked. The pages list
the beds that fit, or every vacant bed with the reason field; the API takes the same
reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.api.tests.support import Api
from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.patients import teds
from stepwise.patients.models import Patient
from stepwise.residences.models import Residency
from stepwise.residences.services.house_for import LISTED
from stepwise.residences.services.residency import residency_move_bed, residency_move_in
from stepwise.residences.services.setup import (
    HouseData,
    bed_create,
    bed_retire,
    house_create,
    house_retire,
)
from stepwise.residences.tests.support import move_in, sober_living


def recorded(patient: Patient, sex: str) -> Patient:
    Patient.objects.filter(pk=patient.pk).update(sex=sex)
    patient.refresh_from_db()
    return patient


def test_a_woman_is_not_moved_into_a_house_for_men(cast: Any) -> None:
    s = sober_living(cast)
    ana = recorded(cast.patient, "2")
    audited = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        move_in(cast, ana, s.oak_beds[0])
    assert refused.value.errors == {
        "bed": "Oak House Riv is a house for men; choose a bed in a house for women or "
        "anyone: Riverside Sober Living · Elm House Riv (women). To place the resident here, "
        "give the reason.",
        "house_for_reason": "Give the reason for placing the resident in a house for men "
        "(up to 500 characters).",
    }
    assert not Residency.objects.exists() and AuditEvent.objects.count() == audited
    assert move_in(cast, ana, s.elm_beds[0]).bed == s.elm_beds[0]


def test_the_refusal_names_houses_only_never_the_patients_sex(cast: Any) -> None:
    """Moving a resident to another bed needs only RESIDENCE_MANAGE, not the chart."""
    s = sober_living(cast)
    ana = recorded(cast.patient, "2")
    residency = move_in(cast, ana, s.elm_beds[0])
    cast.new_member("case_manager", "cm")  # manages residences, not on Ana's care team
    with pytest.raises(ValidationFailed) as refused:
        residency_move_bed(cast.actors["cm"], residency, s.oak_beds[0])
    text = " ".join(refused.value.errors.values())
    assert "sex" not in text and "Female" not in text and "Rivera" not in text
    assert text.startswith("Oak House Riv is a house for men; choose a bed in a house for")


def test_a_man_is_offered_the_houses_for_men_and_for_anyone_with_a_vacant_bed(
    cast: Any,
) -> None:
    s = sober_living(cast)
    director = cast.actors["director"]
    ash = house_create(director, s.residence, HouseData(name="Ash House", house_for="any"))
    bed_create(director, ash, label="Bed 1")
    house_create(director, s.residence, HouseData(name="Bare House", house_for="any"))  # no bed
    full = house_create(director, s.residence, HouseData(name="Full House", house_for="men"))
    move_in(cast, cast.new_patient("RR-7", "Cy", "Full"), bed_create(director, full, label="B1"))
    closed = house_create(director, s.residence, HouseData(name="Shut House", house_for="men"))
    bed_retire(director, bed_create(director, closed, label="B1"))
    retired = house_create(director, s.residence, HouseData(name="Birch House", house_for="men"))
    bed_create(director, retired, label="B1")
    house_retire(director, retired)
    ben = recorded(cast.new_patient("RR-2", "Ben", "Ortiz"), "1")
    with pytest.raises(ValidationFailed) as refused:
        move_in(cast, ben, s.elm_beds[0])
    assert refused.value.errors["bed"] == (
        "Elm House Riv is a house for women; choose a bed in a house for men or anyone: "
        "Riverside Sober Living · Ash House (anyone), Riverside Sober Living · Oak House Riv "
        "(men). To place the resident here, give the reason."
    )


def test_a_long_list_of_houses_is_capped(cast: Any) -> None:
    s = sober_living(cast)
    director = cast.actors["director"]
    for n in range(LISTED + 2):
        house = house_create(director, s.residence, HouseData(name=f"Any {n}", house_for="any"))
        bed_create(director, house, label="Bed 1")
    ana = recorded(cast.patient, "2")
    with pytest.raises(ValidationFailed) as refused:
        move_in(cast, ana, s.oak_beds[0])
    message = refused.value.errors["bed"]
    # Any 0..6 and Elm House: eight houses fit, five are named.
    assert "Any 4 (anyone) and 3 more." in message
    assert "Any 5" not in message and "Elm House" not in message


def test_no_house_fits_says_so(cast: Any) -> None:
    s = sober_living(cast)
    house_retire(cast.actors["director"], s.oak)
    ben = recorded(cast.new_patient("RR-2", "Ben", "Ortiz"), "1")
    with pytest.raises(ValidationFailed) as refused:
        move_in(cast, ben, s.elm_beds[0])
    assert refused.value.errors["bed"] == (
        "Elm House Riv is a house for women; no house for men or anyone in use has a vacant "
        "bed. To place the resident here, give the reason."
    )


# --- The override with a reason --------------------------------------------------------


def last_residency_audit() -> AuditEvent:
    return AuditEvent.objects.filter(object_type="residency", action="create").latest("id")


def test_with_a_reason_staff_place_the_resident_and_the_audit_row_keeps_it(cast: Any) -> None:
    s = sober_living(cast)
    ana = recorded(cast.patient, "2")
    owner = cast.actors["owner"]
    for blank in ("", "   ", None):
        with pytest.raises(ValidationFailed) as refused:
            residency_move_in(owner, ana, s.oak_beds[0], rules_version=1, house_for_reason=blank)
        assert set(refused.value.errors) == {"bed", "house_for_reason"}
    with pytest.raises(ValidationFailed) as refused:
        residency_move_in(owner, ana, s.oak_beds[0], rules_version=1, house_for_reason="x" * 501)
    assert refused.value.errors == {"house_for_reason": "Reason: up to 500 characters."}
    assert not Residency.objects.exists()
    placed = residency_move_in(
        owner, ana, s.oak_beds[0], rules_version=1, house_for_reason="  Lives as a man.  "
    )
    assert placed.bed == s.oak_beds[0]
    row = last_residency_audit()
    assert row.object_id == str(placed.public_id) and row.patient_public_id == ana.public_id
    assert row.detail["house_for_override"] == "men"
    assert row.detail["house_for_reason"] == "Lives as a man."


def test_a_reason_is_not_kept_when_the_house_fits(cast: Any) -> None:
    s = sober_living(cast)
    ana = recorded(cast.patient, "2")
    residency_move_in(
        cast.actors["owner"], ana, s.elm_beds[0], rules_version=1, house_for_reason="Not needed"
    )
    detail = last_residency_audit().detail
    assert "house_for_override" not in detail and "house_for_reason" not in detail


def test_a_move_to_another_bed_is_checked_too(cast: Any) -> None:
    s = sober_living(cast)
    ana = recorded(cast.patient, "2")
    residency = move_in(cast, ana, s.elm_beds[0])
    with pytest.raises(ValidationFailed) as refused:
        residency_move_bed(cast.actors["owner"], residency, s.oak_beds[0])
    assert "Oak House Riv is a house for men" in refused.value.errors["bed"]
    assert "house_for_reason" in refused.value.errors
    residency.refresh_from_db()
    assert residency.is_open
    moved = residency_move_bed(
        cast.actors["owner"], residency, s.oak_beds[0], house_for_reason="Housed by identity"
    )
    assert moved.bed == s.oak_beds[0] and moved.is_open
    detail = last_residency_audit().detail
    assert detail["moved_from"] == str(residency.public_id)
    assert (detail["house_for_override"], detail["house_for_reason"]) == (
        "men",
        "Housed by identity",
    )
    back = residency_move_bed(cast.actors["owner"], moved, s.elm_beds[1])
    assert back.bed == s.elm_beds[1] and "house_for_override" not in last_residency_audit().detail


@pytest.mark.parametrize("sex", [teds.MISSING])
def test_a_patient_whose_sex_is_not_recorded_is_not_checked(cast: Any, sex: str) -> None:
    s = sober_living(cast)
    ana = recorded(cast.patient, sex)
    assert move_in(cast, ana, s.oak_beds[0]).bed == s.oak_beds[0]
    ben = recorded(cast.new_patient("RR-2", "Ben", "Ortiz"), sex)
    assert move_in(cast, ben, s.elm_beds[0]).bed == s.elm_beds[0]


def test_the_move_in_page_offers_only_beds_in_houses_that_fit(cast: Any) -> None:
    s = sober_living(cast)
    client = cast.client_for("owner")
    ana = recorded(cast.patient, "2")
    html = client.get(f"/residences/move-in/?patient={ana.public_id}").content.decode()
    assert str(s.elm_beds[0].public_id) in html
    assert str(s.oak_beds[0].public_id) not in html
    # Not recorded: every vacant bed.
    ben = recorded(cast.new_patient("RR-2", "Ben", "Ortiz"), teds.MISSING)
    html = client.get(f"/residences/move-in/?patient={ben.public_id}").content.decode()
    assert str(s.elm_beds[0].public_id) in html and str(s.oak_beds[0].public_id) in html
    # A move to another bed offers the same.
    residency = move_in(cast, ana, s.elm_beds[0])
    html = client.get(f"/residences/residencies/{residency.public_id}/move/").content.decode()
    assert str(s.elm_beds[1].public_id) in html
    assert str(s.oak_beds[0].public_id) not in html


def test_the_move_in_page_refuses_a_bed_it_did_not_offer_and_keeps_what_was_typed(
    cast: Any,
) -> None:
    s = sober_living(cast)
    ana = recorded(cast.patient, "2")
    expected = (timezone.now() + timedelta(days=60)).date().isoformat()
    page = cast.client_for("owner").post(
        f"/residences/move-in/?patient={ana.public_id}",
        {
            "bed": str(s.oak_beds[0].public_id),
            "moved_in_at": "",
            "expected_move_out_on": expected,
            "rules_accepted": "on",
            "rules_seen": f"{s.residence.public_id}:1",
        },
    )
    assert page.status_code == 422
    html = page.content.decode()
    assert 'id="id_bed_error"' in html
    assert "Choose a vacant bed from the list." in html
    assert f'value="{expected}"' in html
    assert not Residency.objects.exists()


def test_every_vacant_bed_is_one_tap_away_and_then_a_reason_is_asked(cast: Any) -> None:
    s = sober_living(cast)
    client = cast.client_for("owner")
    ana = recorded(cast.patient, "2")
    url = f"/residences/move-in/?patient={ana.public_id}"
    html = client.get(url).content.decode()
    assert f'href="?patient={ana.public_id}&amp;all_beds=1">Show every vacant bed' in html
    assert 'name="house_for_reason"' not in html
    every = url + "&all_beds=1"
    html = client.get(every).content.decode()
    assert str(s.oak_beds[0].public_id) in html and str(s.elm_beds[0].public_id) in html
    assert 'name="house_for_reason"' in html
    assert f'href="?patient={ana.public_id}">Only beds in houses that fit' in html
    expected = (timezone.now() + timedelta(days=60)).date().isoformat()
    form = {
        "bed": str(s.oak_beds[0].public_id),
        "expected_move_out_on": expected,
        "rules_accepted": "on",
        "rules_seen": f"{s.residence.public_id}:1",
    }
    # No reason: refused on the reason field, and what was typed is kept.
    refused = client.post(every, form)
    assert refused.status_code == 422
    html = refused.content.decode()
    assert 'id="id_house_for_reason_error"' in html
    assert "Give the reason for placing the resident in a house for men" in html
    assert "Oak House Riv is a house for men; choose a bed in a house for women" in html
    assert f'value="{s.oak_beds[0].public_id}" selected' in html
    assert f'value="{expected}"' in html
    # A reason typed, another field refused: the reason is kept too.
    refused = client.post(
        every, {**form, "rules_accepted": "", "house_for_reason": "Lives as a man"}
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert "must accept the house rules" in html and "\nLives as a man</textarea>" in html
    assert not Residency.objects.exists()
    done = client.post(every, {**form, "house_for_reason": "Lives as a man"})
    assert done.status_code == 302
    assert Residency.objects.get(patient=ana).bed == s.oak_beds[0]
    assert last_residency_audit().detail["house_for_reason"] == "Lives as a man"


def test_a_bed_asked_for_in_a_house_for_the_other_sex_lists_every_vacant_bed(cast: Any) -> None:
    """From the house page's "Move someone in" on a bed of a house for men."""
    s = sober_living(cast)
    ana = recorded(cast.patient, "2")
    bed = s.oak_beds[1].public_id
    html = (
        cast.client_for("owner")
        .get(f"/residences/move-in/?patient={ana.public_id}&bed={bed}")
        .content.decode()
    )
    assert f'value="{bed}" selected' in html and 'name="house_for_reason"' in html
    assert "Only beds in houses that fit" in html


def test_the_page_with_no_bed_that_fits_offers_every_vacant_bed(cast: Any) -> None:
    s = sober_living(cast, elm_beds=0)
    ana = recorded(cast.patient, "2")
    html = (
        cast.client_for("owner")
        .get(f"/residences/move-in/?patient={ana.public_id}")
        .content.decode()
    )
    assert "There is no vacant bed in a house that fits the resident's record." in html
    assert "Show every vacant bed" in html and str(s.oak_beds[0].public_id) not in html


def test_the_move_bed_page_offers_every_vacant_bed_with_the_reason(cast: Any) -> None:
    s = sober_living(cast)
    ana = recorded(cast.patient, "2")
    residency = move_in(cast, ana, s.elm_beds[0])
    client = cast.client_for("owner")
    url = f"/residences/residencies/{residency.public_id}/move/"
    html = client.get(url).content.decode()
    assert 'href="?all_beds=1">Show every vacant bed' in html
    assert 'name="house_for_reason"' not in html
    every = url + "?all_beds=1"
    refused = client.post(
        every, {"bed": str(s.oak_beds[2].public_id), "moved_at": "", "house_for_reason": " "}
    )
    assert refused.status_code == 422
    html = refused.content.decode()
    assert 'id="id_house_for_reason_error"' in html
    assert f'value="{s.oak_beds[2].public_id}" selected' in html
    residency.refresh_from_db()
    assert residency.is_open
    done = client.post(
        every, {"bed": str(s.oak_beds[2].public_id), "house_for_reason": "Housed by identity"}
    )
    assert done.status_code == 302
    moved = Residency.objects.get(patient=ana, moved_out_at__isnull=True)
    assert moved.bed == s.oak_beds[2]
    detail = last_residency_audit().detail
    assert (detail["house_for_override"], detail["house_for_reason"]) == (
        "men",
        "Housed by identity",
    )


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_the_move_pages_cost_the_same_queries_for_few_or_many_beds(cast: Any) -> None:
    s = sober_living(cast)
    ana = recorded(cast.patient, "2")
    residency = move_in(cast, ana, s.elm_beds[0])
    ben = recorded(cast.new_patient("RR-2", "Ben", "Ortiz"), "1")
    client = cast.client_for("owner")
    pages = [
        f"/residences/move-in/?patient={ben.public_id}",
        f"/residences/move-in/?patient={ben.public_id}&all_beds=1",
        f"/residences/move-in/?patient={ben.public_id}&bed={s.elm_beds[1].public_id}",
        f"/residences/residencies/{residency.public_id}/move/",
        f"/residences/residencies/{residency.public_id}/move/?all_beds=1",
    ]
    for url in pages:
        client.get(url)  # warm the session
    small = [_queries(client, url) for url in pages]
    sober_living(cast, name="Second Wind", oak_beds=6, elm_beds=5)
    sober_living(cast, name="Third Step")
    large = [_queries(client, url) for url in pages]
    assert large == small


# --- The API ----------------------------------------------------------------------------


def test_the_api_takes_the_same_reason(cast: Any) -> None:
    s = sober_living(cast)
    api = Api(cast)
    ana = recorded(cast.patient, "2")
    body = {"patient": str(ana.public_id), "bed": str(s.oak_beds[0].public_id), "rules_version": 1}
    for extra in ({}, {"house_for_reason": None}, {"house_for_reason": "  "}):
        refused = api.post("owner", "/residencies", {**body, **extra})
        assert refused.status_code == 422
        errors = refused.json()["errors"]
        assert set(errors) == {"bed", "house_for_reason"}
        assert errors["bed"].startswith("Oak House Riv is a house for men; choose a bed")
        assert "sex" not in errors["bed"]
    too_long = api.post("owner", "/residencies", {**body, "house_for_reason": "x" * 501})
    assert too_long.status_code == 422
    assert too_long.json()["errors"] == {"house_for_reason": "Reason: up to 500 characters."}
    assert not Residency.objects.exists()
    made = api.post("owner", "/residencies", {**body, "house_for_reason": "Lives as a man"})
    assert made.status_code == 201, made.json()
    assert made.json()["bed"]["id"] == str(s.oak_beds[0].public_id)
    detail = last_residency_audit().detail
    assert (detail["house_for_override"], detail["house_for_reason"]) == ("men", "Lives as a man")
    # A move to another bed: a bed in a house for women, back where the record fits.
    path = f"/residencies/{made.json()['id']}/move"
    moved = api.post("owner", path, {"bed": str(s.elm_beds[0].public_id)})
    assert moved.status_code == 201 and "house_for_override" not in last_residency_audit().detail
    # And to a house for men again: refused without the reason, moved with it.
    path = f"/residencies/{moved.json()['id']}/move"
    refused = api.post("owner", path, {"bed": str(s.oak_beds[1].public_id)})
    assert refused.status_code == 422 and "house_for_reason" in refused.json()["errors"]
    again = api.post(
        "owner", path, {"bed": str(s.oak_beds[1].public_id), "house_for_reason": "Lives as a man"}
    )
    assert again.status_code == 201
    assert last_residency_audit().detail["house_for_reason"] == "Lives as a man"
    # Not residence staff: refused before anything is read.
    nurse = api.post("colleague", path, {"bed": str(s.oak_beds[2].public_id)})
    assert nurse.status_code == 403


def test_the_rules_speak_the_codes_of_the_models() -> None:
    from stepwise.residences import rules
    from stepwise.residences.models import HouseFor

    codes = dict(teds.SEX)
    assert {codes[sex] for sex in rules.HOUSE_FOR_BY_SEX} == {"Male", "Female"}
    kinds = set(rules.HOUSE_FOR_BY_SEX.values()) | {rules.HOUSE_FOR_ANYONE}
    assert kinds == set(HouseFor.values)
