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


def _screen_at_the_house(cast: Any, resident: Any) -> DrugScreen:
    return screen_record(
        cast.actors["owner"],
        cast.patient,
        ScreenInput(
            medications=["buprenorphine"],
            results={"fentanyl": "positive", "buprenorphine": "negative"},
            setting=RESIDENCY_SETTING,
            setting_id=resident.public_id,
        ),
    )


def test_drug_tests_show_only_to_residence_staff_who_may_read_the_chart(
    cast: Any, resident: Any
) -> None:
    """Residence staff off the care team manage the bed but see no drug test (nor that
    one was taken); the care team and the director do."""
    _screen_at_the_house(cast, resident)
    url = reverse("residences:residency", args=[resident.public_id])
    recovery = reverse("recovery:patient", args=[cast.patient.public_id])
    cast.new_member("case_manager", "manager")
    cast.new_member("counselor", "counselor")
    for who in ("manager", "counselor"):
        client = cast.client_for(who)
        assert client.get(recovery).status_code == 403
        page = client.get(url)
        assert page.status_code == 200, who
        html = page.content.decode()
        assert "Bed 1" in html  # the residency itself is theirs to manage
        for hidden in (
            "Drug tests at the residence",
            "Fentanyl",
            "Buprenorphine",
            "No drug test recorded",
            "Record a residence drug test",
            reverse("recovery:screen_new", args=[cast.patient.public_id]),
        ):
            assert hidden not in html, (who, hidden)
    for who in ("owner", "director"):
        html = cast.client_for(who).get(url).content.decode()
        assert "Fentanyl: Unexpected positive" in html, who
        assert "Buprenorphine: Expected but absent" in html, who
        assert "Record a residence drug test" in html, who


def test_the_record_button_goes_with_the_right_to_record(cast: Any, resident: Any) -> None:
    """A chart reader without the recovery write sees the tests but no button; those
    without the chart get no section at all."""
    from stepwise.residences.screens import screens_section

    _screen_at_the_house(cast, resident)
    resident.refresh_from_db()
    shown = screens_section(cast.actors["owner"], resident)
    assert shown is not None and shown.context["can_record"] is True
    # The privacy officer reads every chart but records nothing.
    officer = screens_section(cast.actors["readonly"], resident)
    assert officer is not None and officer.context["can_record"] is False
    assert screens_section(cast.actors["colleague"], resident) is None
    assert screens_section(cast.actors["admin"], resident) is None


def test_under_emergency_access_the_residency_page_shows_no_drug_tests(
    cast: Any, resident: Any
) -> None:
    """An emergency access is for the chart, where its reads are marked as such; the
    residency page's read is not, so it leaves the tests out."""
    from stepwise.patients.break_glass import break_glass_open

    _screen_at_the_house(cast, resident)
    counselor = cast.new_member("counselor", "counselor")
    break_glass_open(
        counselor,
        cast.patient,
        reason="Found unresponsive at the house, paramedics on the way",
        password_confirmed=True,
        now=timezone.now(),
    )
    html = cast.client_for("counselor").get(
        reverse("residences:residency", args=[resident.public_id])
    )
    assert html.status_code == 200
    assert "Drug tests at the residence" not in html.content.decode()
