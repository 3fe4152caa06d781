"""End to end in Chromium on a phone: an evening IOP patient's point-of-care screen
shows fentanyl on buprenorphine. The counselor confirms the return to use with the
patient, works its response (naloxone, an ASAM reassessment whose placement steps the
patient up to the day program when the counselor confirms it, medication, a plan
review, outreach) and revises the treatment plan. Nothing moves the patient before
that confirmation; every page loads only from Stepwise and logs no console error."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Locator, Page, expect

from conftest import PASSWORD, Cast
from stepwise.aftercare.services.plans import plan_start as aftercare_start
from stepwise.care.models import Program, Stay
from stepwise.care.services import episode_admit
from stepwise.care.tests.browser import (
    CHROMIUM,
    MISSING_CHROMIUM,
    assert_fits_the_screen,
    phone,
    status,
)
from stepwise.instruments.definitions.asam import DIMENSIONS
from stepwise.patients.models import RiskFlag
from stepwise.plans.models import PlanVersion, VersionStatus
from stepwise.plans.rules.content import Content, Goal, Intervention, Objective, Problem
from stepwise.plans.services.drafts import draft_save, plan_start
from stepwise.plans.services.versions import version_sign
from stepwise.recovery.models import RelapseEvent, RelapseStatus

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]

# Ratings that place the patient at 2.5 (day program) without withdrawal management:
# relapse potential significant, readiness and environment moderate.
RATINGS = dict(zip(DIMENSIONS, (0, 0, 1, 2, 3, 2), strict=True))
DAY_PROGRAM = "Day program — ASAM 2.5 · Main"


@pytest.fixture
def iop_patient(live_db: None, django_user_model: Any) -> Cast:
    """In the evening IOP for twelve days, with a signed treatment plan and an
    aftercare plan begun."""
    cast = Cast(django_user_model)
    Program.objects.create(
        organization=cast.org,
        facility=cast.facility,
        name="Day program",
        asam_level="2.5",
        teds_service=6,
    )
    owner = cast.actors["owner"]
    episode_admit(owner, cast.patient, cast.iop, at=timezone.now() - timedelta(days=12))
    today = timezone.localdate()
    content = Content(
        problems=(
            Problem(
                dimension=5,
                statement="Cravings after work lead to use most evenings",
                goals=(
                    Goal(
                        "Stay abstinent from opioids",
                        objectives=(
                            Objective("Attends 3 meetings a week", today + timedelta(days=30)),
                        ),
                        interventions=(
                            Intervention(
                                kind="session",
                                session_type="group_therapy",
                                sessions_per_week=3,
                                responsible_role="counselor",
                            ),
                        ),
                    ),
                ),
            ),
        ),
        patient_words="I want to keep my job and see my kids.",
    )
    version_sign(owner, draft_save(owner, plan_start(owner, cast.patient), content))
    # Started with the patient in the first week: a move needs an aftercare plan.
    aftercare_start(owner, cast.patient)
    return cast


def _item(page: Page, label: str) -> Locator:
    return page.locator("ol.bundle-items > li").filter(has_text=label)


def _record(page: Page, label: str, state: str, note: str, moud: str = "") -> None:
    item = _item(page, label)
    item.get_by_label(state, exact=True).check()
    if moud:
        item.get_by_label("Medication for OUD").select_option(label=moud)
    item.get_by_label("Note").fill(note)
    item.get_by_role("button", name="Record").tap()
    status(page).to_contain_text(f"{label}: recorded as")


def test_a_positive_screen_becomes_a_relapse_a_step_up_and_a_revised_plan(
    chromium: Browser, live_server: Any, iop_patient: Cast
) -> None:
    cast = iop_patient
    chart = f"/patients/{cast.patient.public_id}/"
    with phone(chromium, live_server) as counselor:
        page = counselor.page
        counselor.sign_in("owner", PASSWORD)
        page.goto(counselor.url(chart))
        recovery = page.get_by_role("region", name="Recovery")
        expect(recovery).to_contain_text("since the record began")
        recovery.get_by_role("link", name="Record a drug screen").tap()

        # The cup: buprenorphine is prescribed; fentanyl is not.
        page.get_by_label("Buprenorphine (any form)").check()
        page.get_by_label("Collection observed").check()
        page.get_by_label("Results are known now (a point-of-care cup)").check()
        for analyte in ("Fentanyl", "Buprenorphine"):
            page.get_by_role("group", name=analyte, exact=True).get_by_label("Positive").check()
        page.get_by_role("group", name="Cocaine", exact=True).get_by_label("Negative").check()
        assert_fits_the_screen(counselor, "the drug screen form")
        page.get_by_role("button", name="Record the screen").tap()
        status(page).to_contain_text("An unexpected positive proposes a return to use")
        expect(page.get_by_role("row", name=re.compile("Fentanyl"))).to_contain_text(
            "Unexpected positive"
        )
        expect(page.get_by_role("row", name=re.compile("Buprenorphine"))).to_contain_text(
            "Expected (prescribed)"
        )
        assert not Stay.objects.filter(program__name="Day program").exists()

        # The counselor confirms it with the patient.
        page.get_by_role("link", name="confirm or dismiss the possible return to use").tap()
        expect(
            page.get_by_role("heading", name=re.compile("Possible return to use"))
        ).to_be_visible()
        page.get_by_label("Relapse (a return to a pattern of use)").check()
        page.get_by_label("Route").select_option(label="Smoking")
        page.get_by_label("Context").fill("Smoked fentanyl with a friend after a double shift.")
        page.get_by_label("Triggers").fill("Exhaustion, payday, the old crowd.")
        page.get_by_role("button", name="Confirm and start the response").tap()
        status(page).to_contain_text("The overdose-risk flag is raised.")
        relapse_url = page.url
        assert_fits_the_screen(counselor, "the relapse response")
        _record(page, "Naloxone kit and overdose education", "Done", "Kit given; taught its use.")

        # Reassessment: the placement recommends the day program; the move is the
        # counselor's decision on the placement page.
        page.get_by_role("link", name="Record an ASAM reassessment").tap()
        for item, rating in RATINGS.items():
            page.locator(f"#item-{item} label.anchor").filter(
                has=page.locator(f"input[value='{rating}']")
            ).tap()
        page.get_by_role("button", name="Record").tap()
        page.get_by_role("link", name="See the placement recommendation").tap()
        expect(page.locator("#recommendation .live-total")).to_have_text("Recommended level 2.5")
        assert Stay.objects.get(ended_at__isnull=True).program == cast.iop
        page.get_by_role("group", name="Your decision").get_by_label(
            "Confirm the recommendation"
        ).check()
        page.get_by_label("Move the patient now to").select_option(label=DAY_PROGRAM)
        page.get_by_role("button", name="Record the decision").tap()
        status(page).to_contain_text("moved to Day program")

        page.goto(relapse_url)
        _record(page, "ASAM reassessment and placement", "Done", "Stepped up to the day program.")

        # The plan review, started from the relapse.
        _item(page, "Treatment plan review").get_by_role("link", name="Start the plan review").tap()
        expect(page.get_by_label("What led to the review")).to_have_value("relapse")
        page.get_by_label("Why the plan is revised").fill(
            "Returned to fentanyl after a double shift; stepped up to the day program."
        )
        page.get_by_role("button", name="Start the review").tap()
        page.get_by_role("link", name="Add an objective").tap()
        page.get_by_role("textbox", name="Objective").fill(
            "Names three warning signs and a plan for each, reviewed weekly"
        )
        page.get_by_label("Target date").fill(
            (timezone.localdate() + timedelta(days=14)).isoformat()
        )
        page.get_by_role("button", name="Save").tap()
        status(page).to_contain_text("Objective added.")
        page.get_by_role("link", name="Review and sign").tap()
        page.get_by_role("button", name="Sign version 2").tap()
        status(page).to_contain_text("Version 2 signed")

        page.goto(relapse_url)
        expect(_item(page, "Treatment plan review")).to_contain_text("Done")
        _record(
            page,
            "Medication for OUD offered, or its dose reviewed",
            "Done",
            "Buprenorphine dose raised with the prescriber.",
            moud="On MOUD: dose reviewed",
        )
        _record(page, "Outreach to the patient", "Done", "Called the next morning; came in.")
        expect(page.get_by_role("heading", name=re.compile("Response"))).to_contain_text("complete")
        counselor.shot("recovery-response-complete")

        page.goto(counselor.url(chart))
        expect(page.get_by_role("region", name="Recovery")).to_contain_text("since the last use")
        counselor.watch.assert_clean()

    event = RelapseEvent.objects.get()
    assert event.status == RelapseStatus.CONFIRMED and event.source == "screen"
    assert not event.items.filter(state="open").exists()
    assert RiskFlag.objects.filter(source_id=event.public_id).exists()
    stays = list(Stay.objects.order_by("sequence"))
    assert [s.program.name for s in stays] == ["Evening IOP", "Day program"]
    assert stays[1].entry_kind == "step_up" and stays[0].ended_at is not None
    revised = PlanVersion.objects.get(status=VersionStatus.ACTIVE)
    assert (revised.number, revised.trigger, revised.source_id) == (2, "relapse", event.public_id)
