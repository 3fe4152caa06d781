"""In a real Chromium, under the strict CSP (no console error): the idle warning
appears from its data, counts down, and "Stay signed in" keeps the session; an
administrator gives a colleague a temporary password, which the colleague must
replace before anything else opens."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from conftest import PASSWORD, Cast
from stepwise.accounts.models import AccountState
from stepwise.care.tests.browser import CHROMIUM, MISSING_CHROMIUM, Browse, Watch
from stepwise.core.models import AuditEvent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]


@pytest.fixture
def desk(
    chromium: Browser, live_server: Any, live_db: None, django_user_model: Any
) -> Iterator[Browse]:
    Cast(django_user_model)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5_000)
    page = context.new_page()
    watch = Watch(origin=live_server.url)
    watch.attach(page)
    try:
        yield Browse(page=page, watch=watch, base_url=live_server.url)
    finally:
        context.close()


def test_the_idle_warning_offers_to_stay_signed_in(desk: Browse, settings: Any) -> None:
    # The warning window covers the whole idle time, so it shows at once.
    settings.IDLE_WARNING_SECONDS = settings.IDLE_MINUTES * 60
    desk.sign_in("owner", PASSWORD)
    page = desk.page
    warning = page.get_by_role("alertdialog")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("signed out in")
    with page.expect_response("**/session/keep-alive/") as kept:
        warning.get_by_role("button", name="Stay signed in").click()
    assert kept.value.status == 200 and kept.value.json()["idle_seconds"] >= 15 * 60 - 2
    expect(warning.locator("[data-countdown]").first).to_have_text(re.compile(r"^1[45]:[0-5]\d$"))
    desk.watch.assert_clean()
    assert AuditEvent.objects.filter(action="login", actor_username="owner").exists()


def _code(username: str) -> str:
    """The authenticator app's next code for the user's device."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    later = max(0, device.last_t + 1 - now.t())
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift + later)
    return f"{code.token():0{device.digits}d}"


def test_a_temporary_password_is_replaced_before_anything_else(
    desk: Browse, chromium: Browser
) -> None:
    temporary, own = "quiet harbor lanterns", "silver birch at dawn"
    desk.sign_in("colleague", PASSWORD)  # gives the colleague an authenticator app
    desk.page.get_by_role("button", name="Sign out").first.click()
    desk.sign_in("admin", PASSWORD)
    page = desk.page
    page.goto(desk.url("/staff/"))
    page.get_by_role("link", name="Reset password of colleague").click()
    page.get_by_label("Temporary password").fill(temporary)
    page.get_by_role("button", name="Set temporary password").click()
    page.wait_for_url(desk.url("/staff/"))
    expect(page.get_by_text("colleague has a temporary password")).to_be_visible()
    desk.watch.assert_clean()

    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5_000)
    colleague = context.new_page()
    watch = Watch(origin=desk.base_url)
    watch.attach(colleague)
    try:
        colleague.goto(desk.url("/patients/"))
        colleague.get_by_label("Username").fill("colleague")
        colleague.get_by_label("Password").fill(temporary)
        colleague.get_by_role("button", name="Sign in").click()
        colleague.wait_for_url("**/login/verify/**")
        colleague.get_by_label("Code").fill(_code("colleague"))
        colleague.get_by_role("button", name="Verify").click()
        colleague.wait_for_url("**/settings/password/?next=%2Fpatients%2F")
        expect(colleague.get_by_role("heading", name="Choose your password")).to_be_visible()
        colleague.get_by_label("Temporary password").fill(temporary)
        colleague.get_by_label(re.compile(r"^New password(?! confirmation)")).fill(own)
        colleague.get_by_label("New password confirmation").fill(own)
        colleague.get_by_role("button", name="Save my password").click()
        colleague.wait_for_url(desk.url("/patients/"))
        expect(colleague.get_by_text("Your password is changed.")).to_be_visible()
        watch.assert_clean()
    finally:
        context.close()
    assert not AccountState.objects.get(user__username="colleague").must_change_password
