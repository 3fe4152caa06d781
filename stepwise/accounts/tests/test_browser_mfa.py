"""Two-factor sign-in in a real Chromium against the live server, as a person with an
authenticator app does it: set it up from the settings page by typing the key shown,
keep the recovery codes (shown once), then sign in again with a code from the app, and
once with a recovery code, which does not work a second time. No page may log a
console error (a CSP violation is one)."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.oath import totp
from playwright.sync_api import Browser, Page, expect

from conftest import PASSWORD, Cast
from stepwise.care.tests.browser import CHROMIUM, MISSING_CHROMIUM
from stepwise.privacy.tests.browser_support import Person, person_at

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]

STEP = 30  # seconds per code, as the key's authenticator app counts


class AuthenticatorApp:
    """The phone: the key typed in from the enrolment page, and the codes it shows.

    The server takes a code once per time step, as a person waiting for the next one
    would see; instead of waiting, the app shows the next step's code, which the
    server accepts as the clock drifting by one step."""

    def __init__(self, typed_key: str) -> None:
        self.key = base64.b32decode("".join(typed_key.split()))
        self.last_step = -1

    def code(self) -> str:
        now = int(time.time()) // STEP
        drift = max(0, self.last_step + 1 - now)
        self.last_step = now + drift
        return f"{totp(self.key, step=STEP, drift=drift):06d}"


@pytest.fixture
def staff(
    chromium: Browser, live_server: Any, live_db: None, django_user_model: Any
) -> Iterator[Person]:
    Cast(django_user_model)  # no one in the cast has set up two-factor sign-in
    with person_at(chromium, live_server.url) as person:
        yield person


def password_step(person: Person, username: str = "owner") -> None:
    page = person.page
    page.goto(person.url("/"))
    expect(page.get_by_role("heading", name="Stepwise")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def code_step(person: Person, code: str) -> None:
    page = person.page
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.get_by_role("textbox", name="Code").fill(code)
    page.get_by_role("button", name="Verify").click()


def enrol(page: Page) -> tuple[AuthenticatorApp, list[str]]:
    """On the enrolment page: type the key into the app, confirm with its first code,
    and write down the recovery codes."""
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(
        page.get_by_role("img", name="QR code to add Stepwise to your authenticator app")
    ).to_be_visible()
    shown = page.locator("#totp-key").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{1,4})+", shown), shown
    app = AuthenticatorApp(shown)
    page.get_by_role("textbox", name="Code").fill(app.code())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    expect(page.get_by_text("Save these codes now: they will not be shown again.")).to_be_visible()
    listed = page.locator("#recovery-codes code")
    expect(listed).to_have_count(10)
    codes = listed.all_inner_texts()
    assert len(set(codes)) == 10
    return app, codes


def test_set_up_from_settings_then_sign_in_with_the_app_and_a_recovery_code(
    staff: Person, settings: Any
) -> None:
    # The organization offers two-factor sign-in without requiring it yet.
    settings.REQUIRE_MFA = False
    page = staff.page
    password_step(staff)
    page.wait_for_url(staff.url("/"))
    expect(page.get_by_role("region", name="Two-factor sign-in")).to_contain_text(
        "Protect your account"
    )

    page.get_by_role("banner").get_by_role("link", name="Owner").click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    sign_in_card = page.locator("#sign-in")
    expect(sign_in_card.locator(".badge")).to_have_text("off")
    sign_in_card.get_by_role("link", name="Set up two-factor sign-in").click()
    app, codes = enrol(page)

    page.get_by_role("link", name="I have saved them: continue").click()
    page.get_by_role("banner").get_by_role("link", name="Owner").click()
    expect(sign_in_card.locator(".badge")).to_have_text("on")
    expect(sign_in_card).to_contain_text("You have 10 unused recovery codes.")
    # Shown once: not on the settings page, and the enrolment page is closed now.
    for shown in codes:
        expect(page.locator("body")).not_to_contain_text(shown)
    page.goto(staff.url("/settings/two-factor/"))
    expect(page).to_have_url(staff.url("/settings/"))
    expect(page.get_by_role("status")).to_contain_text("Two-factor sign-in is already set up.")
    expect(page.locator("#recovery-codes")).to_have_count(0)

    # Next time the password is only the first step.
    sign_out(page)
    password_step(staff)
    page.wait_for_url("**/login/verify/**")
    page.goto(staff.url("/patients/"))
    expect(page).to_have_url(re.compile(r"/login/verify/"))
    code_step(staff, app.code())
    expect(page).to_have_url(staff.url("/patients/"))
    expect(page.get_by_role("heading", name="Patients", exact=True)).to_be_visible()

    # Without the phone: a recovery code, typed as shown, works once.
    sign_out(page)
    password_step(staff)
    code_step(staff, codes[0])
    expect(page).to_have_url(staff.url("/"))
    expect(page.get_by_role("status")).to_contain_text("You used a recovery code; 9 left.")
    expect(page.get_by_role("heading", name="Today's census")).to_be_visible()

    sign_out(page)
    password_step(staff)
    code_step(staff, codes[0])
    field = page.get_by_role("textbox", name="Code")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(
        re.compile("That code is not right, or was already used.")
    )
    page.goto(staff.url("/"))
    expect(page).to_have_url(re.compile(r"/login/verify/"))
    # Another recovery code, or the app, still signs in.
    code_step(staff, app.code())
    expect(page).to_have_url(staff.url("/"))
    expect(page.get_by_role("heading", name="Today's census")).to_be_visible()
    # The refused recovery code's 422.
    staff.watch.assert_clean(error_statuses=1)


def test_an_organization_that_requires_it_sends_the_first_sign_in_to_set_it_up(
    staff: Person, settings: Any
) -> None:
    settings.REQUIRE_MFA = True
    page = staff.page
    password_step(staff, "director")
    page.wait_for_url("**/settings/two-factor/**")
    expect(page.get_by_text("Your organization requires a second step")).to_be_visible()
    # Nothing else opens until it is set up.
    page.goto(staff.url("/patients/"))
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    enrol(page)
    # Then on to the page asked for.
    page.get_by_role("link", name="I have saved them: continue").click()
    expect(page).to_have_url(staff.url("/patients/"))
    expect(page.get_by_role("heading", name="Patients", exact=True)).to_be_visible()
    staff.watch.assert_clean()
