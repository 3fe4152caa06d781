"""In a real Chromium: the idle warning appears from its data, counts down, and
"Stay signed in" keeps the session, all under the strict CSP (no console error)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from conftest import PASSWORD, Cast
from stepwise.care.tests.browser import CHROMIUM, LAUNCH_ARGS, MISSING_CHROMIUM, Browse, Watch
from stepwise.core.models import AuditEvent

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            yield browser
            browser.close()


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
