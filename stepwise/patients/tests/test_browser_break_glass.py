"""Emergency access in a real Chromium against the live server: a nurse outside the
care team is refused the chart without learning whose it is, opens it in an
emergency with a reason and her password, and the privacy officer reviews it. No
page may log a console error (a CSP violation is one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from conftest import PASSWORD, Cast
from stepwise.care.tests.browser import CHROMIUM, MISSING_CHROMIUM
from stepwise.patients.models import BreakGlassAccess
from stepwise.privacy.tests.browser_support import (
    Person,
    assert_refused,
    assert_shows_nothing_of,
    person_at,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]

EMERGENCY = "Found unresponsive in the lobby; need her medications and last doses now."


@pytest.fixture
def live_cast(live_db: None, django_user_model: Any) -> Cast:
    return Cast(django_user_model)


@pytest.fixture
def nurse(chromium: Browser, live_server: Any, live_cast: Cast) -> Iterator[Person]:
    with person_at(chromium, live_server.url) as person:
        yield person


@pytest.fixture
def privacy_officer(chromium: Browser, live_server: Any, live_cast: Cast) -> Iterator[Person]:
    with person_at(chromium, live_server.url) as person:
        yield person


def test_a_nurse_breaks_the_glass_and_the_privacy_officer_reviews_it(
    nurse: Person, privacy_officer: Person, live_cast: Cast
) -> None:
    patient = live_cast.patient
    chart = f"/patients/{patient.public_id}/"
    page = nurse.page
    nurse.sign_in("colleague", PASSWORD)

    # The patient list shows only the patients she cares for: none.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page.locator("#results")).to_contain_text("0 patients.")
    assert_shows_nothing_of(page, patient)

    # By the chart's address (a colleague's link, a wristband): refused, nameless.
    refused = page.goto(nurse.url(chart))
    assert_refused(refused, 403, page, patient)
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "Only this patient's care team has access to this record."
    )
    page.get_by_role("link", name="Emergency access…").click()
    expect(page).to_have_url(nurse.url(f"{chart}emergency-access/"))
    expect(page.get_by_role("heading", name="Emergency access to a chart")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Access lasts 60 minutes")
    assert_shows_nothing_of(page, patient)

    # No reason: refused at the field, and the chart stays closed.
    reason = page.get_by_role("textbox", name="The emergency")
    password = page.get_by_role("textbox", name="Your password")
    password.fill("not-my-password")
    page.get_by_role("button", name="Open the chart in an emergency").click()
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_accessible_description(re.compile("This field is required."))
    assert_shows_nothing_of(page, patient)

    # A reason, but the wrong password: refused at the password, the reason kept.
    reason.fill(EMERGENCY)
    password.fill("not-my-password")
    page.get_by_role("button", name="Open the chart in an emergency").click()
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile("The password is not correct."))
    expect(password).to_have_value("")
    expect(reason).to_have_value(EMERGENCY)
    expect(reason).not_to_have_attribute("aria-invalid", "true")
    assert_shows_nothing_of(page, patient)
    assert not BreakGlassAccess.objects.exists()

    password.fill(PASSWORD)
    page.get_by_role("button", name="Open the chart in an emergency").click()
    expect(page).to_have_url(nurse.url(chart))
    expect(page.get_by_role("heading", name="Ana Rivera", level=1)).to_be_visible()
    warning = page.get_by_role("status").locator(".msg-warning")
    expect(warning).to_contain_text(
        re.compile(r"^Emergency access (for 60 minutes|until \d\d:\d\d)\. ")
    )
    expect(warning).to_contain_text(
        "Every page you open is recorded and reviewed by the privacy officer."
    )
    # The access lasts: the chart opens again without asking.
    response = page.reload()
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", name="Ana Rivera", level=1)).to_be_visible()
    # The 403 and the two refused forms.
    nurse.watch.assert_clean(error_statuses=3)
    access = BreakGlassAccess.objects.get()
    assert access.user == live_cast.users["colleague"] and access.reason == EMERGENCY

    officer = privacy_officer.page
    privacy_officer.sign_in("readonly", PASSWORD)
    officer.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Emergency access"
    ).click()
    expect(officer.get_by_role("heading", name="Emergency access review")).to_be_visible()
    expect(officer.get_by_role("heading", name="Awaiting review (1)")).to_be_visible()
    pending = officer.get_by_role("table", name="Emergency accesses awaiting review")
    row = pending.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Colleague")
    expect(row).to_contain_text("Ana Rivera (RR-1)")
    expect(row).to_contain_text(EMERGENCY)
    expect(row.locator(".badge")).to_have_text("active")
    row.get_by_role("textbox", name="Review note").fill("Justified: rapid response in the lobby.")
    row.get_by_role("button", name="Mark reviewed").click()

    expect(officer.get_by_role("status")).to_contain_text("The emergency access is reviewed.")
    expect(officer.get_by_role("heading", name="Awaiting review (0)")).to_be_visible()
    expect(officer.get_by_text("Nothing awaits review.")).to_be_visible()
    done = officer.get_by_role("table", name="Reviewed emergency accesses").locator("tbody tr")
    expect(done).to_have_count(1)
    expect(done).to_contain_text("Colleague")
    expect(done).to_contain_text("by Readonly")
    expect(done).to_contain_text("Justified: rapid response in the lobby.")
    privacy_officer.watch.assert_clean()
    access.refresh_from_db()
    assert access.reviewed_by == live_cast.users["readonly"]
    assert access.review_note == "Justified: rapid response in the lobby."


def test_another_organizations_patient_is_not_found_even_for_emergency_access(
    nurse: Person, live_cast: Cast
) -> None:
    other = live_cast.other_patient
    page = nurse.page
    nurse.sign_in("colleague", PASSWORD)
    for path in (f"/patients/{other.public_id}/", f"/patients/{other.public_id}/emergency-access/"):
        refused = page.goto(nurse.url(path))
        assert_refused(refused, 404, page, other)
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        expect(page.get_by_role("link", name="Emergency access…")).to_have_count(0)
    nurse.watch.assert_clean(error_statuses=2)
    assert not BreakGlassAccess.objects.exists()
