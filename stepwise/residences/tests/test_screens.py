"""Residence drug tests: a screen recorded from the residency page is collected at the
house, shows there and on the screen's own page, and reads like any other screen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from stepwise.care.services import episode_admit
from stepwise.core.errors import ValidationFailed
from stepwise.recovery.models import DrugScreen, RelapseEvent
from stepwise.recovery.services.screens import RESIDENCY_SETTING, ScreenInput, screen_record
from stepwise.residences.tests.support import move_in, sober_living

pytestmark = pytest.mark.django_db


@pytest.fixture
def resident(cast: Any) -> Any:
    episode_admit(
        cast.actors["owner"], cast.patient, cast.iop, at=timezone.now() - timedelta(days=20)
    )
    return move_in(cast, cast.patient, sober_living(cast).oak_beds[0])


def test_a_drug_test_at_the_house_is_recorded_from_the_residency_page(
    cast: Any, resident: Any
) -> None:
    client = cast.client_for("owner")
    page = client.get(reverse("residences:residency", args=[resident.public_id]))
    text = page.content.decode()
    assert "No drug test recorded at the residence." in text
    link = f"setting=residency&amp;setting_id={resident.public_id}"
    assert link in text
    form_url = reverse("recovery:screen_new", args=[cast.patient.public_id])
    query = f"?setting=residency&setting_id={resident.public_id}"
    form = client.get(form_url + query)
    assert "Collected at <strong>Riverside Sober Living, Oak House Riv, bed Bed 1</strong>" in (
        form.content.decode()
    )
    response = client.post(
        form_url + query,
        {"validity": "valid", "observed": "on", "results_now": "on", "result_cocaine": "positive"},
    )
    assert response.status_code == 302
    screen = DrugScreen.objects.get()
    assert (screen.setting, screen.setting_id) == (RESIDENCY_SETTING, resident.public_id)
    assert RelapseEvent.objects.get().source == "screen"
    again = client.get(reverse("residences:residency", args=[resident.public_id])).content.decode()
    assert "Cocaine: Unexpected positive" in again
    detail = client.get(reverse("recovery:screen", args=[cast.patient.public_id, screen.public_id]))
    assert "Riverside Sober Living, Oak House Riv, bed Bed 1" in detail.content.decode()


def test_another_patients_residency_is_not_a_place_of_collection(cast: Any, resident: Any) -> None:
    other = cast.new_patient("RR-2", "Bea", "Lund")
    query = f"?setting=residency&setting_id={resident.public_id}"
    url = reverse("recovery:screen_new", args=[other.public_id]) + query
    assert cast.client_for("owner").get(url).status_code == 404
    with pytest.raises(ValidationFailed) as refused:
        screen_record(
            cast.actors["owner"],
            other,
            ScreenInput(setting=RESIDENCY_SETTING, setting_id=resident.public_id),
        )
    assert "setting" in refused.value.errors
    assert not DrugScreen.objects.exists()
