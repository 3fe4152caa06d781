"""End to end in a real Chromium against the live server: sign in, find a patient,
admit, move and discharge; form errors; another organization's 404; a phone-sized
screen with the keyboard. Every page must load only from Stepwise itself and log
no console error (a CSP violation is one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from conftest import PASSWORD, Cast
from stepwise.care.exits import prepare_exit
from stepwise.care.models import Episode, EpisodeStatus, Stay
from stepwise.care.services import episode_admit, stay_transition
from stepwise.care.tests.browser import CHROMIUM, MISSING_CHROMIUM, Browse, Watch

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]

RESIDENTIAL = "Residential — ASAM 3.5 · Main · 10 beds"
EVENING_IOP = "Evening IOP — ASAM 2.1 · Main"


@pytest.fixture
def live_cast(live_db: None, django_user_model: Any) -> Cast:
    cast = Cast(django_user_model)
    cast.new_patient("RR-2", "Sam", "Doe")
    cast.new_patient("RR-3", "Lee", "Park", born=cast.patient.date_of_birth)
    return cast


@contextmanager
def _browse(chromium: Browser, live_server: Any, width: int, height: int) -> Iterator[Browse]:
    """A fresh browser profile (no cookies) with a screen of this size."""
    context = chromium.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(5_000)
    page = context.new_page()
    watch = Watch(origin=live_server.url)
    watch.attach(page)
    try:
        yield Browse(page=page, watch=watch, base_url=live_server.url)
    finally:
        context.close()


@pytest.fixture
def desk(chromium: Browser, live_server: Any, live_cast: Cast) -> Iterator[Browse]:
    with _browse(chromium, live_server, 1280, 900) as browse:
        yield browse


@pytest.fixture(params=[360, 1280], ids=["phone", "desktop"])
def screen(
    request: pytest.FixtureRequest, chromium: Browser, live_server: Any, live_cast: Cast
) -> Iterator[Browse]:
    with _browse(chromium, live_server, request.param, 740) as browse:
        yield browse


def chart_path(cast: Cast) -> str:
    return f"/patients/{cast.patient.public_id}/"


def test_clinician_finds_admits_moves_and_discharges(desk: Browse, live_cast: Cast) -> None:
    page = desk.page
    desk.sign_in("owner", PASSWORD)
    expect(page.get_by_role("heading", name="Today's census")).to_be_visible()
    census = page.locator("table.census")
    for program in ("Detox", "Residential", "Evening IOP", "Evening IOP East"):
        expect(census.get_by_role("rowheader", name=program, exact=True)).to_be_visible()
    expect(census).not_to_contain_text("Harbor OP")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    expect(page.get_by_role("heading", name="Patients", exact=True)).to_be_visible()
    results = page.locator("#results")
    expect(results).to_contain_text("3 patients.")
    # The search box swaps the results in place (htmx), without a page load.
    page.evaluate("window.stepwiseSamePage = true")
    page.get_by_role("searchbox", name="Search by name").fill("Rivera")
    expect(results).to_contain_text("1 patient matching “Rivera”.")
    expect(results).not_to_contain_text("Doe")
    expect(results).not_to_contain_text("Park")
    assert page.evaluate("window.stepwiseSamePage") is True
    expect(page).to_have_url(re.compile(r"/patients/\?q=Rivera$"))

    results.get_by_role("link", name="Rivera, Ana").click()
    expect(page).to_have_url(desk.url(chart_path(live_cast)))
    expect(page.get_by_role("heading", name="Ana Rivera", level=1)).to_be_visible()
    expect(page.locator("section.now")).to_contain_text("Not in care.")

    page.get_by_role("link", name="Admit to a program").click()
    page.get_by_role("combobox", name="Program", exact=True).select_option(label=RESIDENTIAL)
    page.get_by_role("button", name="Admit").click()
    expect(page).to_have_url(desk.url(chart_path(live_cast)))
    expect(page.get_by_role("status")).to_contain_text("Ana Rivera is admitted to Residential.")
    episode = page.locator("article.episode.open")
    expect(episode).to_have_count(1)
    expect(episode.locator(".badge-active")).to_have_text("open")
    expect(episode.locator(".ev-admission .ev-title")).to_have_text(
        "Admitted to Residential · ASAM 3.5 · Main"
    )
    expect(page.locator("section.now")).to_contain_text("In Residential")
    # The aftercare plan every leaving needs, written and gone through with the patient
    # (its own pages are walked in aftercare's tests).
    admitted = Episode.objects.get(patient=live_cast.patient)
    prepare_exit(
        live_cast.actors["owner"],
        admitted,
        live_cast.residential,
        timezone.now(),
        ends_episode=True,
    )

    reason = "Withdrawal complete and stable for a week; ready for evening groups."
    page.get_by_role("link", name="Move to another program").click()
    page.get_by_label("Move to program").select_option(label=EVENING_IOP)
    expect(page.get_by_label("Work it out from the levels")).to_be_checked()
    page.get_by_role("textbox", name="Reason", exact=True).fill(reason)
    page.get_by_role("button", name="Move").click()
    expect(page).to_have_url(desk.url(chart_path(live_cast)))
    expect(page.get_by_role("status")).to_contain_text(
        "Step down: Ana Rivera moved to Evening IOP."
    )
    move = episode.locator(".ev-transition")
    expect(move.locator(".ev-title")).to_have_text(
        "Step down: Residential (3.5) → Evening IOP (2.1)"
    )
    expect(move.locator(".ev-detail")).to_have_text(reason)

    page.get_by_role("link", name="Discharge").click()
    page.get_by_label("Reason for discharge (TEDS)").select_option(label="Treatment completed")
    page.get_by_role("button", name="Discharge").click()
    expect(page).to_have_url(desk.url(chart_path(live_cast)))
    expect(page.get_by_role("status")).to_contain_text("Ana Rivera is discharged.")
    expect(page.locator("article.episode.open")).to_have_count(0)
    closed = page.locator("article.episode")
    expect(closed.locator(".ev-discharge .ev-title")).to_have_text(
        "Discharged: Treatment completed (TEDS reason 1)"
    )
    expect(closed.locator(".ev")).to_have_count(3)
    expect(page.get_by_role("link", name="Readmit to a program")).to_be_visible()
    desk.watch.assert_clean()

    stored = Episode.objects.get(patient=live_cast.patient)
    assert stored.status == EpisodeStatus.DISCHARGED
    assert stored.discharge_reason == 1
    assert [s.program.name for s in stored.stays.order_by("sequence")] == [
        "Residential",
        "Evening IOP",
    ]


def test_form_errors_are_shown_at_their_fields_and_change_nothing(
    desk: Browse, live_cast: Cast
) -> None:
    page = desk.page
    desk.sign_in("owner", PASSWORD)
    page.goto(desk.url(chart_path(live_cast)))

    page.get_by_role("link", name="Admit to a program").click()
    page.get_by_role("button", name="Admit").click()
    program = page.get_by_role("combobox", name="Program", exact=True)
    field = page.locator(".field.has-error")
    expect(field).to_have_count(1)
    expect(field.locator("select")).to_have_id("id_program")
    expect(field.locator(".error")).to_have_text("This field is required.")
    expect(program).to_have_attribute("aria-invalid", "true")
    expect(program).to_have_accessible_description(re.compile("This field is required."))
    # Help texts are tied to their fields as well.
    expect(page.get_by_label("Admitted at")).to_have_accessible_description(
        "Leave empty for now. Local time of the program's facility."
    )
    assert not Episode.objects.filter(patient=live_cast.patient).exists()

    program.select_option(label=RESIDENTIAL)
    page.get_by_role("button", name="Admit").click()
    expect(page.get_by_role("status")).to_contain_text("admitted to Residential")

    page.get_by_role("link", name="Move to another program").click()
    page.get_by_label("Move to program").select_option(label=EVENING_IOP)
    page.get_by_role("button", name="Move").click()
    reason = page.get_by_role("textbox", name="Reason", exact=True)
    field = page.locator(".field.has-error")
    expect(field).to_have_count(1)
    expect(field.locator("textarea")).to_have_id("id_reason")
    expect(field.locator(".error")).to_have_text("This field is required.")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_have_accessible_description(re.compile("This field is required."))
    desk.shot("transition-error-1280")
    # What was chosen stays chosen, and nothing moved.
    expect(page.get_by_label("Move to program")).to_have_value(str(live_cast.iop.public_id))
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("section.now")).to_contain_text("In Residential")
    expect(page.locator(".ev-transition")).to_have_count(0)
    # The 422 answers of the two refused forms.
    desk.watch.assert_clean(error_statuses=2)
    assert Stay.objects.filter(episode__patient=live_cast.patient).count() == 1


def test_another_organization_gets_not_found(desk: Browse, live_cast: Cast) -> None:
    page = desk.page
    desk.sign_in("outsider", PASSWORD)
    response = page.goto(desk.url(chart_path(live_cast)))
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Rivera")
    desk.watch.assert_clean(error_statuses=1)


def test_small_screens_and_the_keyboard(screen: Browse, live_cast: Cast) -> None:
    owner = live_cast.actors["owner"]
    now = timezone.now()
    episode = episode_admit(
        owner, live_cast.patient, live_cast.residential, at=now - timedelta(days=20)
    )
    prepare_exit(owner, episode, live_cast.residential, now - timedelta(days=2), ends_episode=False)
    stay_transition(
        owner,
        episode,
        live_cast.iop,
        kind="step_down",
        reason="Stable for two weeks; returning to work, so evening groups suit better.",
        at=now - timedelta(days=2),
    )
    page = screen.page
    width = page.viewport_size["width"] if page.viewport_size else 0
    screen.sign_in("owner", PASSWORD)
    for name, path in [
        ("census", "/"),
        ("patients", "/patients/"),
        ("chart", chart_path(live_cast)),
    ]:
        page.goto(screen.url(path))
        nav = page.get_by_role("navigation", name="Main")
        for link in ("Census", "Patients", "New patient"):
            expect(nav.get_by_role("link", name=link)).to_be_in_viewport()

        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Skip to content")
        expect(skip).to_be_focused()
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()

        if name == "chart":
            page.get_by_text("Stays", exact=True).click()
            expect(page.locator("details table")).to_be_visible()
        # Wide tables scroll inside their .table-wrap; the page itself never sideways.
        assert screen.scroll_width() <= width + 1, f"the {name} page scrolls sideways"
        screen.shot(f"{name}-{width}")
    screen.watch.assert_clean()


def test_the_watch_sees_what_it_must_refuse(desk: Browse) -> None:
    """The checks above mean something only if a violation would be seen."""
    page = desk.page
    desk.sign_in("owner", PASSWORD)
    desk.watch.assert_clean()
    elsewhere = "http://elsewhere.invalid/pixel.png"
    with (
        page.expect_request(elsewhere),
        page.expect_console_message(lambda m: "style-src" in m.text),
    ):
        page.evaluate(
            """(elsewhere) => {
                const p = document.createElement("p");
                p.setAttribute("style", "color: red");
                const img = document.createElement("img");
                img.src = elsewhere;
                document.querySelector("main").append(p, img);
            }""",
            elsewhere,
        )
    assert desk.watch.foreign_requests == [elsewhere]
    assert any("Content Security Policy" in e for e in desk.watch.console_errors)
    with pytest.raises(AssertionError):
        desk.watch.assert_clean()
