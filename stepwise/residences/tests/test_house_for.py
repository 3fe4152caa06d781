"""Houses for men, women or anyone against the sex recorded on the patient: a move-in
or a move to another bed in a house for the other sex is refused on the bed, naming
the houses that fit; a patient whose sex is not recorded is not checked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.patients import teds
from stepwise.patients.models import Patient
from stepwise.residences.models import Residency
from stepwise.residences.services.residency import residency_move_bed
from stepwise.residences.services.setup import HouseData, house_create, house_retire
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
        "bed": "Oak House Riv is a house for men; the patient's recorded sex is Female. "
        "Choose a bed in a house for women or anyone: Riverside Sober Living · Elm House Riv "
        "(women)."
    }
    assert not Residency.objects.exists() and AuditEvent.objects.count() == audited
    assert move_in(cast, ana, s.elm_beds[0]).bed == s.elm_beds[0]


def test_a_man_is_offered_the_houses_for_men_and_for_anyone_in_use(cast: Any) -> None:
    s = sober_living(cast)
    director = cast.actors["director"]
    house_create(director, s.residence, HouseData(name="Ash House", house_for="any"))
    retired = house_create(director, s.residence, HouseData(name="Birch House", house_for="men"))
    house_retire(director, retired)
    ben = recorded(cast.new_patient("RR-2", "Ben", "Ortiz"), "1")
    with pytest.raises(ValidationFailed) as refused:
        move_in(cast, ben, s.elm_beds[0])
    message = refused.value.errors["bed"]
    assert message.startswith(
        "Elm House Riv is a house for women; the patient's recorded sex is Male."
    )
    assert message.endswith(
        "Choose a bed in a house for men or anyone: Riverside Sober Living · Ash House "
        "(anyone), Riverside Sober Living · Oak House Riv (men)."
    )
    assert "Birch" not in message


def test_no_house_fits_says_so(cast: Any) -> None:
    s = sober_living(cast)
    house_retire(cast.actors["director"], s.oak)
    ben = recorded(cast.new_patient("RR-2", "Ben", "Ortiz"), "1")
    with pytest.raises(ValidationFailed) as refused:
        move_in(cast, ben, s.elm_beds[0])
    assert refused.value.errors["bed"].endswith("There is no house in use for men or anyone.")


@pytest.mark.parametrize("sex", [teds.MISSING])
def test_a_patient_whose_sex_is_not_recorded_is_not_checked(cast: Any, sex: str) -> None:
    s = sober_living(cast)
    ana = recorded(cast.patient, sex)
    assert move_in(cast, ana, s.oak_beds[0]).bed == s.oak_beds[0]
    ben = recorded(cast.new_patient("RR-2", "Ben", "Ortiz"), sex)
    assert move_in(cast, ben, s.elm_beds[0]).bed == s.elm_beds[0]


def test_a_move_to_another_bed_is_checked_too(cast: Any) -> None:
    s = sober_living(cast)
    ana = recorded(cast.patient, "2")
    residency = move_in(cast, ana, s.elm_beds[0])
    with pytest.raises(ValidationFailed) as refused:
        residency_move_bed(cast.actors["owner"], residency, s.oak_beds[0])
    assert "Oak House Riv is a house for men" in refused.value.errors["bed"]
    residency.refresh_from_db()
    assert residency.is_open
    assert residency_move_bed(cast.actors["owner"], residency, s.elm_beds[1]).is_open


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


def test_the_rules_speak_the_codes_of_the_models() -> None:
    from stepwise.residences import rules
    from stepwise.residences.models import HouseFor

    codes = dict(teds.SEX)
    assert {codes[sex] for sex in rules.HOUSE_FOR_BY_SEX} == {"Male", "Female"}
    kinds = set(rules.HOUSE_FOR_BY_SEX.values()) | {rules.HOUSE_FOR_ANYONE}
    assert kinds == set(HouseFor.values)
