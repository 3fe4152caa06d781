"""End to end in Chromium on a phone: a counselor starts the plan from the chart,
writes a problem, a goal, an objective and an intervention one item at a time, the
patient's words, signs, and reads the plan in force. Every button is a thumb-sized
tap target, no page scrolls sideways, nothing loads from another host and no console
error is logged (the strict CSP holds)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from conftest import PASSWORD, Cast
from stepwise.care.tests.browser import (
    CHROMIUM,
    MISSING_CHROMIUM,
    assert_fits_the_screen,
    assert_tap_targets,
    phone,
    status,
)
from stepwise.plans.models import PlanVersion, VersionStatus
from stepwise.plans.tests.support import TODAY, WORDS, admitted

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]


@pytest.fixture
def ward(live_db: None, django_user_model: Any) -> Cast:
    cast = Cast(django_user_model)
    admitted(cast)
    return cast


def test_a_plan_written_and_signed_on_a_phone(
    chromium: Browser, live_server: Any, ward: Cast
) -> None:
    cast = ward
    with phone(chromium, live_server) as counselor:
        page = counselor.page
        counselor.sign_in("owner", PASSWORD)
        page.goto(counselor.url(f"/patients/{cast.patient.public_id}/"))
        page.locator("#plan-h + *").first.wait_for()
        page.get_by_role("link", name="Treatment plan", exact=True).tap()
        page.get_by_role("button", name="Start the treatment plan").tap()
        expect(page.get_by_role("heading", name="Draft version 1")).to_be_visible()
        assert_fits_the_screen(counselor, "the empty draft")

        page.get_by_role("link", name="Add a problem").tap()
        expect(page.get_by_role("heading", name="Add a problem")).to_be_visible()
        assert_tap_targets(page.locator(".choice-list label"), "the dimensions")
        page.get_by_label("5. Relapse, Continued Use, or Continued Problem Potential").check()
        page.get_by_role("textbox", name="Problem").fill(
            "Cravings after work lead to use most evenings"
        )
        page.get_by_role("button", name="Save").tap()
        status(page).to_contain_text("Problem added.")

        page.get_by_role("link", name="Add a goal").tap()
        page.get_by_role("textbox", name="Goal").fill("Stay abstinent from opioids")
        page.get_by_role("button", name="Save").tap()
        page.get_by_role("link", name="Add an objective").tap()
        page.get_by_role("textbox", name="Objective").fill("Attends 3 mutual-help meetings a week")
        page.get_by_label("Target date").fill((TODAY + timedelta(days=30)).isoformat())
        page.get_by_role("button", name="Save").tap()
        status(page).to_contain_text("Objective added.")

        page.get_by_role("link", name="Add an intervention").last.tap()
        expect(page.get_by_role("heading", name="Add an intervention")).to_be_visible()
        page.get_by_label("Sessions", exact=True).check()
        expect(page.get_by_label("Which medication")).to_be_hidden()  # only the kind's fields
        page.get_by_label("Session type").select_option("group_therapy")
        page.get_by_label("Sessions a week").fill("3")
        page.get_by_label("Who is responsible").select_option("counselor")
        page.get_by_role("button", name="Save").tap()
        status(page).to_contain_text("Intervention added.")
        assert_fits_the_screen(counselor, "the draft editor")
        assert_tap_targets(page.locator(".edit-actions .button"), "the editor's buttons")
        counselor.shot("plans-draft")

        page.get_by_role("link", name="Edit the patient's words").tap()
        page.get_by_label("The patient's own words").fill(WORDS)
        page.get_by_role("button", name="Save").tap()
        page.get_by_role("link", name="Review and sign").tap()
        expect(page.get_by_text("First version of the plan: 1 problem")).to_be_visible()
        assert_fits_the_screen(counselor, "the signing page")
        page.get_by_role("button", name="Sign version 1").tap()
        status(page).to_contain_text("Version 1 signed")
        expect(page.get_by_text("Group therapy, 3 times a week (Counselor)")).to_be_visible()
        assert_fits_the_screen(counselor, "the plan page")
        counselor.shot("plans-plan-page")
        counselor.watch.assert_clean()
    assert PlanVersion.objects.get().status == VersionStatus.ACTIVE
