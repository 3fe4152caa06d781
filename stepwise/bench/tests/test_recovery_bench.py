"""The recovery benchmark's shape (not its timings): a small schedule with plans,
weekly screens, returns to use and a residence built through the services, its pages
measured (each answered 200 past the second factor, the POST with its redirect)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from stepwise.bench import recovery
from stepwise.bench.report import (
    BEGIN,
    END,
    ENGINE_BEGIN,
    ENGINE_END,
    RECOVERY_BEGIN,
    RECOVERY_END,
    SCHEDULE_BEGIN,
    SCHEDULE_END,
    recovery_section,
    write_recovery_docs,
)
from stepwise.bench.run import parse_args
from stepwise.plans.models import PlanVersion
from stepwise.recovery.models import DrugScreen, RelapseEvent, ResponseItem

PAGES = [
    "Chart",
    "Recovery",
    "Treatment plan",
    "Aftercare plan",
    "House",
    "Worklist",
    "JSON recovery",
    "Record a drug screen (POST)",
]


@pytest.mark.django_db
def test_a_small_recovery_is_built_and_its_pages_measured(tmp_path: Path) -> None:
    result = recovery.run(iop=4, php=3, op=3, weeks=3, seed=2026, repeat=2)
    data = result.data
    assert result.schedule.census == {"php": 3, "iop_a": 4, "iop_b": 4, "op": 3}
    # A signed plan for every patient in care.
    assert data.plans == 14 and data.plan_versions >= 14
    # Weekly cups for the day program and the IOPs; the measured patient's two positives
    # confirmed, the first response finished and the second left open.
    assert data.screens >= 11 and data.measured_screens >= 2
    assert data.measured_relapses == 2
    assert data.relapses_confirmed + data.relapses_dismissed == data.screens_positive
    pages = {page.page: page for page in result.pages}
    measured = pages["Recovery"].example.split("/")[-2]
    first, second = RelapseEvent.objects.filter(
        patient__public_id=measured, status="confirmed"
    ).order_by("used_on", "id")
    assert not first.items.filter(state="open").exists()
    assert second.items.filter(state="open").count() == 5
    assert data.items_done == ResponseItem.objects.filter(state="done").count() > 0
    assert data.responses_open >= 1
    # Three quarters of the beds taken, curfews marked, a third of residents tested.
    assert data.beds == recovery.MEN_BEDS + recovery.WOMEN_BEDS
    assert 0 < data.residents <= round(data.beds * recovery.OCCUPIED_SHARE)
    assert data.curfew_marks > 0 and data.house_tests >= 1
    assert data.aftercare_plans >= 1
    assert [page.page for page in result.pages] == PAGES
    for page in result.pages:
        assert page.requests == 2
        assert 0 < page.median_ms <= page.p95_ms <= page.max_ms
        assert page.queries_min > 0
        if "POST" not in page.page:
            assert page.queries_min == page.queries_max
    # Each POST recorded a screen (5 warm-up, 3 counted, 2 timed) and proposed nothing.
    assert DrugScreen.objects.count() == data.screens + 10
    assert RelapseEvent.objects.count() == data.screens_positive
    assert PlanVersion.objects.filter(status="active").count() == data.plans

    # Its tables, between their own markers, replace only themselves in the document.
    section = recovery_section(
        [asdict(result)], command="python -m stepwise.bench --only recovery", facts=None
    )
    assert section.startswith(RECOVERY_BEGIN) and section.endswith(RECOVERY_END)
    for name in PAGES:
        assert f"| {name} |" in section
    doc = tmp_path / "benchmarks.md"
    schedule_block = f"{SCHEDULE_BEGIN}\nSchedule table\n{SCHEDULE_END}"
    engine_block = f"{ENGINE_BEGIN}\nEngine table\n{ENGINE_END}"
    doc.write_text(f"{BEGIN}\n{schedule_block}\n\n{engine_block}\n{END}\n")
    write_recovery_docs(doc, section)
    write_recovery_docs(doc, section)
    text = doc.read_text()
    assert text.count(RECOVERY_BEGIN) == 1 and "Schedule table" in text
    assert text.index(SCHEDULE_END) < text.index(RECOVERY_BEGIN) < text.index(ENGINE_BEGIN)


def test_the_recovery_part_is_chosen_alone_or_skipped():
    assert parse_args(["--only", "recovery"]).only == "recovery"
    assert parse_args(["--recovery-repeat", "0"]).recovery_repeat == 0
