"""The demo's recovery: screens for the evening IOP, a proposal waiting, a flagged
absence of buprenorphine, a relapse response half done; loaded once."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command

from stepwise.recovery.models import DrugScreen, RelapseEvent, ScreenResult


def test_the_demo_has_screens_a_proposal_and_an_open_response(db: Any) -> None:
    call_command("demo_load", stdout=io.StringIO())
    screens = DrugScreen.objects.filter(organization__slug="riverside").count()
    assert screens > 20
    assert ScreenResult.objects.filter(finding="expected_positive").exists()
    assert ScreenResult.objects.filter(finding="missing_expected").count() == 1
    proposed = RelapseEvent.objects.get(status="proposed", source="screen")
    assert proposed.substances == [7] and not proposed.items.exists()
    # A check-in in the aftercare demo reporting use proposes one too.
    assert RelapseEvent.objects.filter(status="proposed", source="checkin").count() == 1
    confirmed = RelapseEvent.objects.get(status="confirmed")
    assert sorted(confirmed.items.values_list("state", flat=True)) == [
        "done",
        "done",
        "open",
        "open",
        "open",
    ]
    call_command("demo_recovery", stdout=io.StringIO())
    assert DrugScreen.objects.filter(organization__slug="riverside").count() == screens
