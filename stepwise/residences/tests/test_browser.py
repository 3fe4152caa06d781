"""End to end in Chromium on a phone: a case manager opens the residences, the house,
and tonight's curfew list, and marks residents in with a tap or excused with a reason.
Every tap target is at least 44 px tall, no page scrolls sideways, nothing loads from
another host and no console error is logged (the strict CSP holds)."""

from __future__ import annotations

import re
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
from stepwise.residences.models import CurfewCheckIn
from stepwise.residences.tests.support import Sober, move_in, sober_living

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]


@pytest.fixture
def house(live_db: None, django_user_model: Any) -> tuple[Cast, Sober]:
    cast = Cast(django_user_model)
    s = sober_living(cast)
    move_in(cast, cast.patient, s.oak_beds[0])
    move_in(cast, cast.new_patient("RR-2", "Ben", "Ortiz"), s.oak_beds[1])
    move_in(cast, cast.new_patient("RR-3", "Carl", "Lind"), s.oak_beds[2])
    return cast, s


def test_tonights_curfew_on_a_phone(chromium: Browser, live_server: Any, house: Any) -> None:
    cast, s = house
    with phone(chromium, live_server) as manager:
        page = manager.page
        manager.sign_in("owner", PASSWORD)

        page.goto(manager.url("/residences/"))
        expect(page.get_by_role("heading", name="Sober living", level=1)).to_be_visible()
        assert_fits_the_screen(manager, "the residences list")
        page.get_by_role("link", name=s.oak.name).first.tap()
        expect(page.get_by_role("heading", name=s.oak.name, level=1)).to_be_visible()
        expect(page.locator("ul.beds > li")).to_have_count(4)
        assert_fits_the_screen(manager, "the house page")

        page.get_by_role("link", name="Tonight's curfew").tap()
        expect(page.get_by_role("heading", name=re.compile(r"^Curfew tonight"))).to_be_visible()
        assert_fits_the_screen(manager, "tonight's curfew")
        rows = page.locator("ol.residents > li")
        expect(rows).to_have_count(3)
        assert_tap_targets(page.locator(".quick button"), "quick marks")
        assert_tap_targets(page.locator(".curfew-more summary"), "the arrival-or-excused toggle")

        ana = rows.filter(has=page.get_by_role("link", name="Ana Rivera", exact=True))
        ana.get_by_role("button", name="In now").tap()
        status(page).to_contain_text("Ana Rivera: ")
        assert CurfewCheckIn.objects.get(patient=cast.patient).status in ("on_time", "late")

        ben = page.locator("ol.residents > li").filter(
            has=page.get_by_role("link", name="Ben Ortiz", exact=True)
        )
        ben.locator("summary").tap()
        assert_tap_targets(
            ben.locator(".curfew-more input:not([type=hidden]), .curfew-more button"),
            "arrival and excuse fields",
        )
        ben.get_by_label("Reason").fill("Night shift")
        ben.get_by_role("button", name="Excused").tap()
        status(page).to_contain_text("Ben Ortiz: Excused.")
        expect(
            page.locator("ol.residents > li").filter(has_text="Ben Ortiz").locator(".mark-excused")
        ).to_contain_text("Night shift")
        manager.watch.assert_clean()
