"""End to end in a real Chromium against the live server: a COWS at the bedside on a
tablet (taps) and at a desk (keyboard alone) with its live htmx total, the trend
chart, an ASAM placement that moves the patient to detox, and resolving the
withdrawal alert from the worklist. Every page must load only from Stepwise itself
and log no console error (a CSP violation is one)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from conftest import PASSWORD, Cast
from stepwise.aftercare.services.plans import plan_start as aftercare_start
from stepwise.care.models import Stay
from stepwise.care.services import episode_admit
from stepwise.care.tests.browser import CHROMIUM, MISSING_CHROMIUM, Browse, Watch
from stepwise.instruments.definitions.asam import DIMENSIONS
from stepwise.instruments.definitions.cows import COWS
from stepwise.instruments.models import Assessment, PlacementDecision
from stepwise.instruments.services import assessment_record
from stepwise.patients.models import Alert, AlertStatus

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]

COWS_NAME = "Clinical Opiate Withdrawal Scale (COWS)"
ASAM_NAME = "ASAM Criteria, 3rd edition: dimensional risk ratings"
DETOX = "Detox — ASAM 3.7-WM · Main · 2 beds"
# One anchor per COWS item, in the form's order: 4 + 4 + 5 = 13, moderate withdrawal.
COWS_13 = {"pulse": 4, "tremor": 4, "gooseflesh": 5}
COWS_ITEMS = [item.id for item in COWS.items]
# The UI must need no waiting: the whole entry, as fast as a script goes, is far
# below what a nurse at the bedside would spend.
ENTRY_BUDGET_SECONDS = 20.0
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def cows_answers(**values: int) -> dict[str, int]:
    return {item: values.get(item, 0) for item in COWS_ITEMS}


def running_totals(values: dict[str, int]) -> list[tuple[str, int, int]]:
    """(item, its value, the total so far) for each item in the form's order."""
    steps, total = [], 0
    for item in COWS_ITEMS:
        total += values.get(item, 0)
        steps.append((item, values.get(item, 0), total))
    return steps


@pytest.fixture
def live_cast(live_db: None, django_user_model: Any) -> Cast:
    return Cast(django_user_model)


@contextmanager
def _browse(chromium: Browser, live_server: Any, **options: Any) -> Iterator[Browse]:
    """A fresh browser profile (no cookies) with these context options."""
    context = chromium.new_context(**options)
    context.set_default_timeout(5_000)
    page = context.new_page()
    watch = Watch(origin=live_server.url)
    watch.attach(page)
    try:
        yield Browse(page=page, watch=watch, base_url=live_server.url)
    finally:
        context.close()


@pytest.fixture
def tablet(chromium: Browser, live_server: Any, live_cast: Cast) -> Iterator[Browse]:
    """An iPad-sized touch screen, held upright."""
    options = {
        "viewport": {"width": 820, "height": 1180},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    }
    with _browse(chromium, live_server, **options) as browse:
        yield browse


@pytest.fixture
def desk(chromium: Browser, live_server: Any, live_cast: Cast) -> Iterator[Browse]:
    with _browse(chromium, live_server, viewport={"width": 1280, "height": 900}) as browse:
        yield browse


def chart_path(cast: Cast) -> str:
    return f"/patients/{cast.patient.public_id}/"


def assessments_row(page: Page, instrument_name: str) -> Locator:
    panel = page.get_by_role("region", name="Assessments")
    return panel.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name=instrument_name, exact=True)
    )


def anchor(page: Page, item: str, value: int) -> Locator:
    """The tap target of one answer: the whole labelled box, not the small radio."""
    return page.locator(f"#item-{item} label.anchor").filter(
        has=page.locator(f"input[value='{value}']")
    )


def radio(page: Page, item: str, value: int) -> Locator:
    return page.locator(f"#item-{item} input[type=radio][value='{value}']")


def expect_live(page: Page, total: int, answered: int) -> None:
    live = page.locator("#live-score")
    expect(live.locator(".live-total strong")).to_have_text(str(total))
    expect(live).to_contain_text(f"{answered} of {len(COWS_ITEMS)} answered")


def expect_moderate_with_signal(page: Page) -> None:
    live = page.locator("#live-score")
    expect(live.locator(".band")).to_have_text("Moderate")
    act = live.get_by_role("alert")
    expect(act).to_have_count(1)
    expect(act).to_contain_text("Act:")
    expect(act).to_contain_text("COWS 13: moderate or worse withdrawal")


def expect_cows_13_detail(browse: Browse, cast: Cast) -> None:
    page = browse.page
    detail = re.compile(rf"/patients/{cast.patient.public_id}/assessments/{UUID}/$")
    expect(page).to_have_url(detail)
    expect(page.get_by_role("status")).to_contain_text("COWS 13 (Moderate) recorded.")
    article = page.locator("article.assessment")
    expect(article.get_by_role("heading", name=COWS_NAME)).to_be_visible()
    expect(article.locator(".live-total strong")).to_have_text("13")
    expect(article.locator(".live-total .band")).to_have_text("Moderate")
    expect(article.locator(".signal")).to_contain_text("moderate or worse withdrawal")


def expect_withdrawal_alert_on_chart(page: Page) -> None:
    alert = page.locator(".alerts .alert-warning")
    expect(alert).to_have_count(1)
    expect(alert).to_have_attribute("role", "alert")
    expect(alert).to_contain_text("Act soon: COWS 13: moderate or worse withdrawal.")
    row = assessments_row(page, COWS_NAME)
    expect(row.get_by_role("link", name="13")).to_be_visible()
    expect(row.locator(".band")).to_have_text("Moderate")
    expect(row.locator(".badge-full")).to_have_text("needs action")


def back_to_chart(page: Page) -> None:
    """From an assessment's page: the patient header links nowhere, so the way back
    to the chart goes through the assessments list."""
    page.get_by_role("link", name="Assessments", exact=True).click()
    page.get_by_role("link", name="Back to the chart").click()


def test_bedside_cows_on_a_tablet_then_the_trend(tablet: Browse, live_cast: Cast) -> None:
    page = tablet.page
    tablet.sign_in("owner", PASSWORD)
    page.goto(tablet.url(chart_path(live_cast)))
    expect(page.get_by_role("heading", name="Ana Rivera", level=1)).to_be_visible()
    expect(page.locator(".alerts")).to_have_count(0)

    started = time.perf_counter()
    assessments_row(page, COWS_NAME).get_by_role("link", name="New").tap()
    expect(page.get_by_role("heading", name=COWS_NAME, level=2)).to_be_visible()
    expect(page.locator("#live-score")).to_contain_text(f"0 of {len(COWS_ITEMS)} answered")
    # The totals arrive by htmx into the same page: no page load between the taps.
    page.evaluate("window.stepwiseSamePage = true")
    for answered, (item, value, total) in enumerate(running_totals(COWS_13), 1):
        anchor(page, item, value).tap()
        expect(radio(page, item, value)).to_be_checked()
        expect_live(page, total, answered)
    expect_moderate_with_signal(page)
    assert page.evaluate("window.stepwiseSamePage") is True
    tablet.shot("cows-tablet-filled")

    page.get_by_role("button", name="Record").tap()
    expect_cows_13_detail(tablet, live_cast)
    elapsed = time.perf_counter() - started
    print(f"\nCOWS on a tablet (taps), form opened to detail shown: {elapsed:.2f} s")
    assert elapsed < ENTRY_BUDGET_SECONDS

    back_to_chart(page)
    expect(page).to_have_url(tablet.url(chart_path(live_cast)))
    expect_withdrawal_alert_on_chart(page)
    tablet.shot("cows-tablet-chart")
    tablet.watch.assert_clean()

    # The trend: two earlier readings of a withdrawal that grew, entered late through
    # the service. Calmer readings observed before the alert clear nothing.
    owner = live_cast.actors["owner"]
    now = timezone.now()
    for days_ago, answers in [
        (2, cows_answers(pulse=1, sweating=1, yawning=2, anxiety_irritability=2)),
        (1, cows_answers(pulse=2, restlessness=3, tremor=2, yawning=2)),
    ]:
        assessment_record(
            owner, live_cast.patient, "cows", answers, observed_at=now - timedelta(days=days_ago)
        )
    still = Alert.objects.get(patient=live_cast.patient, status=AlertStatus.OPEN)
    assert still.message.startswith("COWS 13:")

    page.reload()
    row = assessments_row(page, COWS_NAME)
    expect(row).to_contain_text("3 · trend")
    row.get_by_role("link", name="trend").tap()
    expect(page.get_by_role("heading", name=f"{COWS_NAME} over time")).to_be_visible()
    svg = page.locator("svg.trend-chart")
    expect(svg).to_have_attribute("role", "img")
    expect(page.get_by_role("img", name=re.compile("COWS"))).to_be_visible()
    expect(svg.locator("circle.trend-point")).to_have_count(3)
    expect(svg.locator("rect.trend-band")).to_have_count(len(COWS.bands))
    expect(svg.locator(".trend-latest")).to_have_text("13")
    table = page.locator("details.trend-table")
    expect(table.locator("table")).to_be_hidden()
    table.get_by_text("Show the readings as a table").tap()
    expect(table).to_have_attribute("open", "")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.locator("td.num")).to_have_text(["6", "9", "13"])
    tablet.shot("cows-trend-tablet")
    assert tablet.scroll_width() <= 820 + 1, "the trend page scrolls sideways on a tablet"
    tablet.watch.assert_clean()


def tab_to(page: Page, target: Locator, limit: int = 60) -> int:
    """Press Tab until the target has the focus; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            return presses
    raise AssertionError(f"{target} not reached with {limit} presses of Tab")


def test_cows_with_the_keyboard_alone(desk: Browse, live_cast: Cast) -> None:
    page = desk.page
    desk.sign_in("owner", PASSWORD)
    page.goto(desk.url(chart_path(live_cast)))

    new_cows = assessments_row(page, COWS_NAME).get_by_role("link", name="New")
    to_new = tab_to(page, new_cows)
    started = time.perf_counter()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=COWS_NAME, level=2)).to_be_visible()

    page.evaluate("window.stepwiseSamePage = true")
    # Tab enters a radio group on its first anchor; Space picks it, the arrow keys
    # move through the group and pick as they go; Tab leaves for the next item.
    to_first = tab_to(page, radio(page, COWS_ITEMS[0], 0))
    for answered, (item, value, total) in enumerate(running_totals(COWS_13), 1):
        if answered > 1:
            page.keyboard.press("Tab")
        first = radio(page, item, 0)
        expect(first).to_be_focused()
        if value == 0:
            page.keyboard.press("Space")
        else:
            values = [a.value for a in next(i for i in COWS.items if i.id == item).anchors]
            for _ in range(values.index(value)):
                page.keyboard.press("ArrowDown")
        expect(radio(page, item, value)).to_be_checked()
        expect(radio(page, item, value)).to_be_focused()
        expect_live(page, total, answered)
    expect_moderate_with_signal(page)
    assert page.evaluate("window.stepwiseSamePage") is True

    to_record = tab_to(page, page.get_by_role("button", name="Record"))
    desk.shot("cows-keyboard-filled")
    page.keyboard.press("Enter")
    expect_cows_13_detail(desk, live_cast)
    elapsed = time.perf_counter() - started
    print(
        f"\nCOWS with the keyboard, form opened to detail shown: {elapsed:.2f} s "
        f"(Tab presses: {to_new} chart to New, {to_first} to the first item, "
        f"{to_record} last item to Record)"
    )
    assert elapsed < ENTRY_BUDGET_SECONDS

    page.goto(desk.url(chart_path(live_cast)))
    expect_withdrawal_alert_on_chart(page)
    desk.watch.assert_clean()
    assert Assessment.objects.get(patient=live_cast.patient).answers == cows_answers(**COWS_13)


def test_asam_placement_moves_the_patient_to_detox(desk: Browse, live_cast: Cast) -> None:
    owner = live_cast.actors["owner"]
    episode_admit(
        owner, live_cast.patient, live_cast.residential, at=timezone.now() - timedelta(days=3)
    )
    aftercare_start(owner, live_cast.patient)  # a move between programs asks for one
    page = desk.page
    desk.sign_in("owner", PASSWORD)
    page.goto(desk.url(chart_path(live_cast)))
    expect(page.locator("section.now")).to_contain_text("In Residential")

    assessments_row(page, ASAM_NAME).get_by_role("link", name="New").click()
    expect(page.get_by_role("heading", name=ASAM_NAME, level=2)).to_be_visible()
    for number, item in enumerate(DIMENSIONS, 1):
        rating = 3 if number == 1 else 1
        anchor(page, item, rating).click()
        expect(radio(page, item, rating)).to_be_checked()
        expect(page.locator("#live-score")).to_contain_text(
            f"{number} of {len(DIMENSIONS)} answered"
        )
    page.get_by_role("button", name="Record").click()
    expect(page).to_have_url(re.compile(rf"/assessments/{UUID}/$"))
    expect(page.get_by_role("status")).to_contain_text("recorded.")
    detail_url = page.url

    page.get_by_role("link", name="See the placement recommendation").click()
    expect(page.get_by_role("heading", name="Placement recommendation")).to_be_visible()
    recommendation = page.locator("#recommendation")
    level = recommendation.locator(".live-total")
    expect(level).to_have_text("Recommended level 3.7 with withdrawal management 3.7-WM")
    lines = recommendation.locator("ol.rationale li")
    expect(lines.locator("code")).to_contain_text([f"D{n}-" for n in range(1, 7)])
    expect(lines.filter(has_text="D1 rated 3 (significant)")).to_have_count(1)
    for number in range(2, 7):
        expect(lines.filter(has_text=f"D{number} rated 1 (mild)")).to_have_count(1)
    expect(lines.last).to_contain_text("Recommended level 3.7")

    # The facts change the recommendation in place (htmx), without a page load.
    page.evaluate("window.stepwiseSamePage = true")
    danger = page.get_by_label("Imminent danger to self or others")
    danger.check()
    expect(level).to_have_text("Recommended level 4 with withdrawal management 3.7-WM")
    expect(lines.filter(has_text="Imminent danger to self or others")).to_have_count(1)
    expect(recommendation.locator(".signal").first).to_contain_text("emergency evaluation")
    desk.shot("placement-danger")
    danger.uncheck()
    expect(level).to_have_text("Recommended level 3.7 with withdrawal management 3.7-WM")
    expect(recommendation.locator(".signal")).to_have_count(0)
    assert page.evaluate("window.stepwiseSamePage") is True

    decision = page.get_by_role("group", name="Your decision")
    decision.get_by_label("Confirm the recommendation").check()
    page.get_by_label("Move the patient now to").select_option(label=DETOX)
    page.get_by_role("button", name="Record the decision").click()
    expect(page).to_have_url(detail_url)
    expect(page.get_by_role("status")).to_contain_text(
        "Placement at level 3.7 recorded. Ana Rivera moved to Detox."
    )
    summary = page.get_by_role("region", name="Placement")
    expect(summary).to_contain_text(
        "Recommended 3.7 with withdrawal management 3.7-WM. Confirmed by Owner"
    )
    expect(summary).to_contain_text("The patient moved to Detox on")
    expect(page.get_by_role("link", name="See the placement recommendation")).to_have_count(0)
    desk.shot("placement-decided")

    back_to_chart(page)
    expect(page.locator("section.now")).to_contain_text("In Detox (")
    desk.watch.assert_clean()

    decided = PlacementDecision.objects.get(assessment__patient=live_cast.patient)
    assert (decided.recommended_level, decided.chosen_level) == ("3.7", "3.7")
    assert decided.facts["imminent_danger"] is False
    current = Stay.objects.get(episode__patient=live_cast.patient, ended_at__isnull=True)
    assert current.program == live_cast.detox


def test_resolving_the_withdrawal_alert_from_the_worklist(desk: Browse, live_cast: Cast) -> None:
    assessment_record(live_cast.actors["owner"], live_cast.patient, "cows", cows_answers(**COWS_13))
    page = desk.page
    desk.sign_in("owner", PASSWORD)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Worklist").click()
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    row = page.locator("table.worklist tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Act soon: COWS 13: moderate or worse withdrawal.")
    # The worklist only lists; resolving happens on the chart.
    row.get_by_role("link", name="Ana Rivera").click()
    expect(page).to_have_url(desk.url(chart_path(live_cast)))

    alert = page.locator(".alerts .alert-warning")
    note = "Clonidine and loperamide given; induction planned for the morning."
    alert.locator("summary", has_text="Resolve").click()
    alert.get_by_label("What was done").fill(note)
    alert.get_by_role("button", name="Resolve").click()
    expect(page).to_have_url(desk.url(chart_path(live_cast)))
    expect(page.get_by_role("status")).to_contain_text("Alert resolved; your note is kept with it.")
    expect(page.locator(".alerts")).to_have_count(0)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Worklist").click()
    expect(page.get_by_text("Nothing needs you right now.")).to_be_visible()
    expect(page.locator("table.worklist")).to_have_count(0)
    desk.watch.assert_clean()

    resolved = Alert.objects.get(patient=live_cast.patient)
    assert resolved.status == AlertStatus.RESOLVED
    assert resolved.resolution_note == note
    assert resolved.resolved_by == live_cast.users["owner"]
