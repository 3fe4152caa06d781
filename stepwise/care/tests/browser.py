"""Helpers of the end-to-end browser tests (Playwright's sync API, Debian's Chromium).

Playwright's own browser download cannot work here, so the tests drive the system
Chromium; without it they are skipped (`apt-get install chromium`, as .ci/run does).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    expect,
    sync_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING_CHROMIUM = (
    f"{CHROMIUM} is missing: run `apt-get install chromium` (as .ci/run does) "
    "to enable the browser tests"
)


@contextmanager
def chromium_browser() -> Iterator[Browser]:
    """Debian's Chromium, headless. Playwright's sync API keeps an event loop running
    in this thread and Django refuses ORM calls beside one; the tests' own ORM work
    is synchronous, so it is allowed while (and only while) the browser runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
            )
            yield browser
            browser.close()


# Set to a directory to keep full-page screenshots of the pages the tests visit.
SHOTS_DIR = os.environ.get("STEPWISE_BROWSER_SHOTS", "")
# Chromium reports a document served with an error status (404, 422) on the console;
# that is the page doing its job, not a fault of the page.
_ERROR_STATUS = "Failed to load resource: the server responded with a status of"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Watch:
    """Everything a page did that a strict, self-hosted app must never do: load
    from another host, log a console error (CSP violations are console errors),
    or throw an uncaught script error."""

    origin: str
    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    error_statuses: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("request", self._on_request)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _on_request(self, request: Request) -> None:
        scheme = urlsplit(request.url).scheme
        if scheme in {"data", "blob", "about"}:
            return
        if _origin(request.url) != self.origin:
            self.foreign_requests.append(request.url)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if message.text.startswith(_ERROR_STATUS):
            url = message.location.get("url", "")
            self.error_statuses.append(f"{message.text}: {url}")
        else:
            self.console_errors.append(message.text)

    def assert_clean(self, *, error_statuses: int = 0) -> None:
        assert self.foreign_requests == [], "loaded from another host"
        assert self.console_errors == [], "console errors (CSP violations?)"
        assert self.page_errors == [], "uncaught script errors"
        assert len(self.error_statuses) == error_statuses, self.error_statuses


@dataclass
class Browse:
    page: Page
    watch: Watch
    base_url: str

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def sign_in(self, username: str, password: str) -> None:
        """Sign in through the login form, from the census's redirect to it, then pass
        the second step with the code an authenticator app would show for the user's
        device (given one here if they have none)."""
        from django.contrib.auth import get_user_model
        from django_otp.oath import TOTP
        from django_otp.plugins.otp_totp.models import TOTPDevice

        user = get_user_model().objects.get(username=username)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="browser", confirmed=True)
        page = self.page
        page.goto(self.url("/"))
        expect(page.get_by_role("heading", name="Stepwise")).to_be_visible()
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/login/verify/**")
        device.refresh_from_db()
        # A code is accepted once per time step: after a sign-in in this step, the next one.
        now = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        later = max(0, device.last_t + 1 - now.t())
        code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift + later)
        page.get_by_label("Code").fill(f"{code.token():0{device.digits}d}")
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url(self.url("/"))

    def shot(self, name: str) -> None:
        if SHOTS_DIR:
            Path(SHOTS_DIR).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(SHOTS_DIR) / f"{name}.png"), full_page=True)

    def scroll_width(self) -> int:
        """The document's width: more than the viewport's means a sideways scroll."""
        width: int = self.page.evaluate("document.documentElement.scrollWidth")
        return width


# A phone held upright, and what a page must do on it.
TAP_TARGET_PX = 44  # the smallest comfortable thumb target


@contextmanager
def phone(chromium: Browser, live_server: Any) -> Iterator[Browse]:
    """A phone held upright (an iPhone 13/14-sized screen), a fresh profile."""
    context = chromium.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(6_000)
    page = context.new_page()
    watch = Watch(origin=live_server.url)
    watch.attach(page)
    try:
        yield Browse(page=page, watch=watch, base_url=live_server.url)
    finally:
        context.close()


def status(page: Page) -> Any:
    return expect(page.get_by_role("status"))


def assert_fits_the_screen(browse: Browse, where: str) -> None:
    inner: int = browse.page.evaluate("window.innerWidth")
    assert browse.scroll_width() <= inner, f"{where} scrolls sideways on a phone"


def assert_tap_targets(targets: Locator, what: str) -> None:
    count = targets.count()
    assert count, f"no {what}"
    for index in range(count):
        box = targets.nth(index).bounding_box()
        assert box is not None, f"{what} {index} is not shown"
        assert box["height"] >= TAP_TARGET_PX, f"{what} {index}: {box['height']:.0f}px tall"
