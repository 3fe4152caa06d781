"""On a phone, in a real Chromium: the case manager starts the plan with the patient,
writes a trigger and a support, records the review, and later records a check-in.
Every page fits the screen, its buttons are thumb-sized, and nothing loads from
elsewhere or breaks the content-security policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from conftest import PASSWORD, Cast
from stepwise.aftercare.models import AftercarePlan, Checkin
from stepwise.care.services import episode_admit
from stepwise.care.tests.browser import (
    CHROMIUM,
    MISSING_CHROMIUM,
    assert_fits_the_screen,
    assert_tap_targets,
    phone,
    status,
)
from stepwise.patients.models import CareTeamMember

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]


@pytest.fixture
def in_care(live_db: None, django_user_model: Any) -> Cast:
    cast = Cast(django_user_model)
    cast.new_member("case_manager")
    CareTeamMember.objects.create(
        organization=cast.org,
        patient=cast.patient,
        user=cast.users["case_manager"],
        team_role="case_manager",
    )
    episode_admit(
        cast.actors["owner"], cast.patient, cast.iop, at=timezone.now() - timedelta(days=30)
    )
    return cast


def test_a_plan_written_and_a_check_in_recorded_on_a_phone(
    chromium: Browser, live_server: Any, in_care: Cast
) -> None:
    plan_url = f"/aftercare/patients/{in_care.patient.public_id}/"
    with phone(chromium, live_server) as browse:
        page = browse.page
        browse.sign_in("case_manager", PASSWORD)
        page.goto(browse.url(f"/patients/{in_care.patient.public_id}/"))
        page.get_by_role("link", name="Aftercare plan", exact=True).click()
        page.get_by_role("button", name="Start the aftercare plan").click()
        status(page).to_contain_text("Plan started as a draft")
        expect(page.locator(".crisis-note")).to_contain_text("988")
        assert_fits_the_screen(browse, "the plan")
        assert_tap_targets(page.locator("main .actions .button"), "plan buttons")

        page.get_by_role("link", name="Edit triggers to avoid").click()
        page.get_by_label("Triggers to avoid").fill("Payday\nThe Elm Street corner")
        page.get_by_role("button", name="Save").click()
        status(page).to_contain_text("Triggers to avoid saved.")

        page.get_by_role("link", name="Edit supports").click()
        assert_fits_the_screen(browse, "the supports editor")
        browse.shot("aftercare-supports-390")
        first = page.locator("fieldset").first
        first.get_by_label("Kind").select_option("support_group")
        first.get_by_label("Which group").select_option("na")
        first.get_by_label("Name").fill("NA Tuesday night")
        first.get_by_label("When and how often").fill("Tuesdays 19:00, weekly")
        page.get_by_role("button", name="Save").click()
        status(page).to_contain_text("Supports saved.")
        expect(page.get_by_role("region", name="Supports")).to_contain_text("Tuesdays 19:00")

        page.get_by_role("link", name="Reviewed with the patient").click()
        page.get_by_label("Who took part (optional)").fill("With Ana; she has her copy")
        page.get_by_role("button", name="Record the review").click()
        status(page).to_contain_text("the plan is active")
        status(page).to_contain_text("Check-ins start when the patient leaves care.")
        browse.shot("aftercare-plan-390")

        # She has left care (the review's check-ins would start then); one is due today.
        plan = AftercarePlan.objects.get(patient=in_care.patient)
        Checkin.objects.create(
            organization=in_care.org,
            plan=plan,
            patient=in_care.patient,
            due_on=timezone.now().date(),
            time_zone="UTC",
            method="phone",
        )
        AftercarePlan.objects.filter(pk=plan.pk).update(time_zone="UTC")
        page.goto(browse.url(plan_url + "checkins/record/"))
        assert_fits_the_screen(browse, "the check-in form")
        page.get_by_label("Phone call", exact=True).check()
        page.get_by_label("Doing well", exact=True).check()
        page.get_by_label("3", exact=True).check()
        # What was used, and when, is asked once use is reported.
        heroin = page.get_by_label("Heroin", exact=True)
        expect(heroin).to_be_hidden()
        page.get_by_label("Yes", exact=True).check()
        expect(heroin).to_be_visible()
        page.get_by_label("No", exact=True).check()
        expect(heroin).to_be_hidden()
        assert_tap_targets(page.locator(".screen-form fieldset label:visible"), "answers")
        browse.shot("aftercare-checkin-390")
        page.get_by_role("button", name="Record").click()
        status(page).to_contain_text("Check-in recorded.")
        assert_fits_the_screen(browse, "the check-ins")
        browse.watch.assert_clean()
    done = Checkin.objects.get(plan=plan)
    assert (done.status, done.wellbeing, done.craving, done.used) == ("done", 4, 3, False)
