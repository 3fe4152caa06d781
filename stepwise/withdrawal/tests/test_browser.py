"""End to end in Chromium: a patient arrives in withdrawal, is scored, is inducted on
buprenorphine once the rule allows it, and steps down to the day program with the
safe-discharge bundle complete, carrying the overdose-risk flag. Every page loads only
from Stepwise and logs no console error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from conftest import PASSWORD, Cast
from stepwise.aftercare.services.plans import plan_start
from stepwise.care.models import Program
from stepwise.care.services import episode_admit
from stepwise.care.tests.browser import CHROMIUM, MISSING_CHROMIUM, Browse, Watch
from stepwise.instruments.definitions.cows import COWS
from stepwise.patients.models import CareTeamMember, RiskFlag
from stepwise.withdrawal.models import Administration, BundleClosure, MedicationOrder
from stepwise.withdrawal.tests.support import heroin_admission

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]

COWS_ITEMS = [item.id for item in COWS.items]


@pytest.fixture
def arrived(live_db: None, django_user_model: Any) -> Cast:
    """A patient in withdrawal admitted an hour ago to detox, 14 hours after heroin."""
    cast = Cast(django_user_model)
    cast.new_member("nurse")
    cast.new_member("physician")
    cast.php = Program.objects.create(  # type: ignore[attr-defined]
        organization=cast.org,
        facility=cast.facility,
        name="Day program",
        asam_level="2.5",
        teds_service=6,
    )
    for name, role in (("nurse", "nurse"), ("physician", "prescriber")):
        CareTeamMember.objects.create(
            organization=cast.org, patient=cast.patient, user=cast.users[name], team_role=role
        )
    now = timezone.now()
    episode_admit(cast.actors["owner"], cast.patient, cast.detox, at=now - timedelta(hours=1))
    heroin_admission(cast.actors["nurse"], cast.patient, now - timedelta(hours=14))
    # The counselor has started the aftercare plan, which the step down needs.
    plan_start(cast.actors["owner"], cast.patient)
    return cast


@contextmanager
def signed_in(chromium: Browser, live_server: Any, who: str) -> Iterator[Browse]:
    context = chromium.new_context(viewport={"width": 1180, "height": 900})
    context.set_default_timeout(6_000)
    page = context.new_page()
    watch = Watch(origin=live_server.url)
    watch.attach(page)
    browse = Browse(page=page, watch=watch, base_url=live_server.url)
    try:
        browse.sign_in(who, PASSWORD)
        yield browse
    finally:
        context.close()


def score_cows(browse: Browse, values: dict[str, int]) -> None:
    page = browse.page
    page.get_by_role("link", name="Score COWS").click()
    for item in COWS_ITEMS:
        page.locator(f"#item-{item} label.anchor").filter(
            has=page.locator(f"input[value='{values.get(item, 0)}']")
        ).click()
    page.get_by_role("button", name="Record").click()
    total = sum(values.values())
    expect(page.get_by_role("status")).to_contain_text(f"COWS {total}")


def status(page: Page) -> Any:
    return expect(page.get_by_role("status"))


def test_arrival_scoring_induction_and_a_safe_step_down(
    chromium: Browser, live_server: Any, arrived: Cast
) -> None:
    cast = arrived
    flowsheet = f"/patients/{cast.patient.public_id}/flowsheet/"
    medications = f"/patients/{cast.patient.public_id}/medications/"
    watches: list[Watch] = []

    def sessions(who: str) -> Any:
        return signed_in(chromium, live_server, who)

    # The nurse finds the new patient on the unit board: vital signs are due on arrival.
    with sessions("nurse") as nurse:
        watches.append(nurse.watch)
        page = nurse.page
        page.get_by_role("link", name="Detox unit").click()
        bed = page.locator("li.bed").filter(has_text="Rivera")
        expect(bed).to_contain_text("overdue")
        bed.get_by_role("link", name="Ana Rivera").click()
        expect(page).to_have_url(nurse.url(flowsheet))
        page.get_by_label("Pulse").fill("104")
        page.get_by_label("Systolic").fill("142")
        page.get_by_label("Diastolic").fill("88")
        page.get_by_label("Respiratory rate").fill("18")
        page.get_by_label("SpO2").fill("98")
        page.get_by_role("button", name="Record vital signs").click()
        status(page).to_contain_text("Vital signs recorded.")
        page.goto(nurse.url(flowsheet))
        # Mild withdrawal: 2 + 1 + 1 + 1 + 1 = 6, below the threshold of 8.
        score_cows(nurse, {"pulse": 2, "sweating": 1, "restlessness": 1, "pupils": 1, "yawning": 1})
        nurse.shot("withdrawal-flowsheet")

    # The physician orders a standard buprenorphine induction.
    with sessions("physician") as physician:
        watches.append(physician.watch)
        page = physician.page
        page.goto(physician.url(medications))
        page.get_by_role("link", name="New order").click()
        page.get_by_label("Drug").select_option("buprenorphine")
        page.get_by_label("Dose (mg)").fill("4")
        page.get_by_label("Route").select_option("sublingual")
        page.get_by_label("Frequency").select_option("q2h_prn")
        page.get_by_label("As-needed indication").fill("COWS 8 or more")
        page.get_by_label("Maximum in 24 hours (mg)").fill("12")
        page.get_by_label("Buprenorphine induction").select_option("standard")
        page.get_by_role("button", name="Order").click()
        status(page).to_contain_text("Ordered: Buprenorphine 4 mg")
        expect(page.locator(".verdict").first).to_contain_text("blocked")

    with sessions("nurse") as nurse:
        watches.append(nurse.watch)
        page = nurse.page
        # Too early: the rule names what it saw and what would let the dose go ahead.
        page.goto(nurse.url(medications))
        page.get_by_role("link", name="Give as needed").click()
        check = page.locator(".verdict")
        expect(check).to_contain_text("R-BUP-1")
        expect(check).to_contain_text("COWS 6")
        expect(check).to_contain_text("COWS must be 8 or more")
        page.get_by_role("button", name="Chart").click()
        expect(page.get_by_role("heading", name="Blocked by a safety rule")).to_be_visible()
        assert not Administration.objects.exists()

        # An hour later withdrawal is objective: COWS 11, and the first dose is given.
        page.goto(nurse.url(flowsheet))
        score_cows(
            nurse,
            {
                "pulse": 2,
                "sweating": 2,
                "restlessness": 3,
                "pupils": 2,
                "gi_upset": 1,
                "yawning": 1,
            },
        )
        page.goto(nurse.url(medications))
        page.get_by_role("link", name="Give as needed").click()
        expect(page.locator(".verdict")).to_contain_text("allowed now")
        page.get_by_role("button", name="Chart").click()
        status(page).to_contain_text("Buprenorphine: given.")
        expect(page.get_by_role("region", name="Effectiveness checks due")).to_contain_text(
            "Buprenorphine"
        )

        # The step down waits for the discharge bundle.
        page.goto(nurse.url(f"/patients/{cast.patient.public_id}/discharge-bundle/"))
        expect(page.locator(".card-warn")).to_contain_text("Not ready to move")
        for item, extra in (
            ("naloxone_kit", None),
            ("overdose_education", None),
            ("moud_offer", "accepted"),
        ):
            form = page.locator(f"#item-{item} form")
            form.get_by_label("Done").check()
            if extra:
                form.get_by_label("Patient's answer").select_option(extra)
            form.get_by_role("button", name="Save").click()
            status(page).to_contain_text(": done.")
        expect(page.get_by_text("Ready to move to the next level of care.")).to_be_visible()
        nurse.shot("withdrawal-bundle")

    # The counselor moves the patient to the day program; the flag follows them.
    with sessions("owner") as counselor:
        watches.append(counselor.watch)
        page = counselor.page
        page.goto(counselor.url(f"/patients/{cast.patient.public_id}/"))
        page.get_by_role("link", name="Move to another program").click()
        page.get_by_label("Move to program").select_option(label="Day program — ASAM 2.5 · Main")
        page.get_by_label("Reason").fill("Induction complete, withdrawal settled")
        page.get_by_role("button", name="Move").click()
        expect(page.locator(".flag")).to_contain_text("Overdose risk: lost tolerance")
        counselor.shot("withdrawal-flag")

    assert MedicationOrder.objects.get().drug == "buprenorphine"
    given = Administration.objects.get()
    assert given.safety["R-BUP-1"]["allowed"] is True
    assert BundleClosure.objects.get().policy == "required"
    flag = RiskFlag.objects.get(patient=cast.patient)
    assert flag.ends_at - flag.starts_at == timedelta(days=30)
    # The refused dose was answered 409, which Chromium logs; nothing else erred.
    for number, watch in enumerate(watches):
        watch.assert_clean(error_statuses=1 if number == 2 else 0)
