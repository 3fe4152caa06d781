"""The demo's sober living: a residence with a men's and a women's house, residents
from the day program and the evening IOP, five nights of curfews and a drug test
collected at the house; loaded once."""

from __future__ import annotations

import io
from typing import Any

from django.core.management import call_command

from stepwise.core.audit import audit_verify
from stepwise.recovery.models import DrugScreen, ScreenResult
from stepwise.residences.models import Bed, CurfewCheckIn, Residence, Residency


def test_the_demo_residence_is_lived_in_and_loads_once(db: Any) -> None:
    call_command("demo_load", stdout=io.StringIO())
    residence = Residence.objects.get(organization__slug="riverside")
    assert (residence.name, residence.certification) == ("Riverside Sober Living", "NARR level II")
    beds = sorted(
        (h.house_for, Bed.objects.filter(house=h).count()) for h in residence.houses.all()
    )
    assert beds == [("men", 6), ("women", 4)]
    living = Residency.objects.filter(bed__house__residence=residence, moved_out_at__isnull=True)
    assert living.count() == 6
    assert all(r.stay is not None for r in living.select_related("stay"))
    statuses = list(CurfewCheckIn.objects.values_list("status", flat=True))
    assert statuses.count("late") == statuses.count("missed") == statuses.count("excused") == 1
    assert statuses.count("on_time") > 10
    screen = DrugScreen.objects.get(setting="residency")
    assert screen.setting_id in {r.public_id for r in living}
    findings = set(ScreenResult.objects.filter(screen=screen).values_list("result", flat=True))
    assert findings == {"negative"}

    counts = (Residency.objects.count(), CurfewCheckIn.objects.count(), DrugScreen.objects.count())
    call_command("demo_residences", stdout=io.StringIO())
    assert (
        Residency.objects.count(),
        CurfewCheckIn.objects.count(),
        DrugScreen.objects.count(),
    ) == counts
    assert audit_verify() == []
