"""The admissions line benchmark's shape (not its timings): a small year of calls built
through the services, its nine pages measured (each answered 200, past the second
factor), the plan fixed by the seed, and its tables in the report."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from stepwise.bench import intake
from stepwise.bench.report import (
    BEGIN,
    END,
    ENGINE_BEGIN,
    INTAKE_BEGIN,
    INTAKE_END,
    UNIT_BEGIN,
    UNIT_END,
    intake_section,
    render,
    write_engine_docs,
    write_intake_docs,
    write_unit_docs,
)
from stepwise.bench.run import parse_args
from stepwise.bench.unit import UnitData
from stepwise.care.models import BedReservation, Episode
from stepwise.core.models import AuditEvent
from stepwise.intake.models import Inquiry, WaitlistEntry

PAGES = [
    "Desk",
    "Bed board",
    "Bed board fragment",
    "Waitlist",
    "Metrics, 30 days",
    "Metrics, 365 days",
    "Call",
    "JSON beds",
    "JSON waitlist",
]
NOW = datetime(2026, 3, 9, 15, 30, tzinfo=UTC)


def unit_data() -> UnitData:
    return UnitData(30, 30, 25.0, 95.0, 400, 400, 210, 600, 300, 8, 2000)


@pytest.mark.django_db
def test_a_small_line_is_built_and_its_pages_measured():
    result = intake.run(calls=60, seed=2026, repeat=2)
    data = result.data
    assert (result.calls, result.seed) == (60, 2026)
    assert result.database in ("SQLite", "PostgreSQL")
    assert (data.facilities, data.programs, data.calls) == (2, 10, 60)
    assert data.first_call_days_ago < 366
    # The shares asked for: 60% screened, one in five admitted, every admission found
    # a place; the discharges went through care.
    assert data.screened_calls == 36 and data.screenings == 36
    assert data.admitted == 12 and data.no_capacity == 0
    assert data.episodes_open + data.episodes_discharged == data.admitted
    assert data.episodes_discharged > 0
    assert data.waiting >= 3 and data.waitlist_left >= 1 and data.held >= 1
    assert data.crisis_calls >= 1 and data.lead_queue >= 1
    assert data.audit_rows > 4 * data.calls
    assert [page.page for page in result.pages] == PAGES
    for page in result.pages:
        assert page.requests == 2
        assert 0 < page.median_ms <= page.p95_ms <= page.max_ms
        assert 0 < page.queries_min == page.queries_max
    metrics = {p.page: p.queries_min for p in result.pages if p.page.startswith("Metrics")}
    assert len(set(metrics.values())) == 1
    # Every read wrote its audit row, through the web and the API alike.
    desk_reads = AuditEvent.objects.filter(object_type="call_desk").count()
    assert desk_reads == 5 + 3 + 2
    assert AuditEvent.objects.filter(object_type="waitlist").count() == 2 * (5 + 3 + 2)


@pytest.mark.django_db
def test_the_services_left_a_consistent_year():
    line = intake.build(calls=40, seed=7)
    calls = Inquiry.objects.filter(organization=line.organization)
    assert calls.count() == 40
    for call in calls.filter(outcome="admitted").select_related("episode"):
        assert call.episode is not None and call.episode.admitted_at >= call.received_at
    for episode in Episode.objects.filter(status="discharged"):
        assert episode.discharged_at is not None and episode.discharged_at > episode.admitted_at
    assert not WaitlistEntry.objects.filter(left_at__isnull=True).exclude(
        inquiry__outcome__in=["waitlisted", "scheduled"]
    )
    held = BedReservation.objects.filter(status="held")
    assert held and all(r.program.capacity for r in held)
    # The call measured is waiting, with what the call page shows.
    assert line.call.waitlist.filter(left_at__isnull=True).exists()
    assert line.call.screenings.exists() and line.call.substances.exists()


def test_the_plan_is_fixed_by_the_seed_and_spread_over_the_year():
    zone = ZoneInfo(intake.TIME_ZONE)
    plans = intake._Planner(3000, 2026, NOW, zone).plans()
    again = intake._Planner(3000, 2026, NOW, zone).plans()
    assert [(p.received_at, p.fate, p.program) for p in plans] == [
        (p.received_at, p.fate, p.program) for p in again
    ]
    assert all(NOW - timedelta(days=366) < p.received_at < NOW for p in plans)
    fates = Counter(p.fate for p in plans)
    assert sum(p.screened for p in plans) == 1800
    assert fates["admit"] + fates["wait_admit"] == 600
    assert (fates["wait"], fates["hold"]) == (80, 10)
    assert {p.program for p in plans if p.fate == "wait"} == set(intake.WAITLIST_WEIGHTS)
    for plan in plans:
        if plan.fate == "admit":
            assert plan.admit_at is not None and plan.received_at < plan.admit_at < NOW
    # More calls on a Monday than a Sunday, by day than at 4 in the morning.
    local = [p.received_at.astimezone(zone) for p in plans]
    weekdays, hours = Counter(t.weekday() for t in local), Counter(t.hour for t in local)
    assert weekdays[0] > weekdays[6] and hours[10] > 4 * hours[4]


def test_the_tables_list_every_page_and_replace_only_themselves(tmp_path):
    page = {
        "page": "Desk",
        "example": "/admissions/",
        "requests": 20,
        "median_ms": 41.2,
        "p95_ms": 45.0,
        "min_ms": 40.0,
        "max_ms": 50.0,
        "queries_min": 16,
        "queries_max": 16,
        "note": "open calls",
    }
    metrics = [
        {**page, "page": "Metrics, 30 days", "queries_min": 19, "queries_max": 19},
        {**page, "page": "Metrics, 365 days", "queries_min": 19, "queries_max": 19},
    ]
    data = asdict(
        intake.IntakeData(
            facilities=2,
            programs=10,
            calls=3000,
            calls_30_days=250,
            first_call_days_ago=364,
            screened_calls=1800,
            screenings=1800,
            crisis_calls=90,
            lead_queue=3,
            open_calls=210,
            follow_ups_due=40,
            admitted=600,
            episodes_open=120,
            episodes_discharged=480,
            referred_out=700,
            no_capacity=0,
            waiting=80,
            waitlist_programs=3,
            waitlist_left=20,
            held=10,
            audit_rows=15000,
        )
    )
    measured = [
        {
            "database": name,
            "version": "1",
            "seed": 2026,
            "calls": 3000,
            "migrate_s": 2.0,
            "build_s": 60.0,
            "data": data,
            "pages": [page, *metrics],
        }
        for name in ("SQLite", "PostgreSQL")
    ]
    section = intake_section(measured)
    assert section.startswith(INTAKE_BEGIN) and section.endswith(INTAKE_END)
    assert "| SQLite | Desk | 41.2 | 45.0 | 16 | 20 | open calls |" in section
    assert "| PostgreSQL | 10 in 2 facilities | 3,000 over 365 days | 1,800 | 90 (3) | 600 |" in (
        section
    )
    assert "runs 19 queries for 30 days and 19 for 365 days (the same)" in section
    grown = [{**measured[0], "pages": [metrics[0], {**metrics[1], "queries_min": 20}]}]
    assert "it grows with the period" in intake_section(grown)
    # A full run puts it after the detox unit and before the engine.
    unit = {"data": {**asdict(unit_data()), "beds": 30}, "seed": 2026, "pages": [page]}
    full = render(
        [],
        None,
        {"Date": "today"},
        "make bench",
        {"seed": 2026, "repeat": 50},
        {"sample": 1, "seed": 2026, "warmup": 1, "rows": []},
        [{**measured[0], **unit, "migrate_s": 1, "build_s": 1}],
        measured,
    )
    assert full.index(UNIT_END) < full.index(INTAKE_BEGIN) < full.index(ENGINE_BEGIN)

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n{BEGIN}\n## Results\n\nPages table\n\n{END}\n\n## Findings\n")
    write_engine_docs(doc, f"{ENGINE_BEGIN}\nEngine table\n<!-- bench:engine:end -->")
    write_unit_docs(doc, f"{UNIT_BEGIN}\nUnit table\n{UNIT_END}")
    alone = intake_section(
        measured,
        command="python -m stepwise.bench --only intake",
        facts={
            "Date": "today",
            "Python": "3.11",
            "Django": "5.2",
            "CPUs": "2",
            "CPU model": "x",
            "Memory": "1 GiB",
            "SQLite": "3.40",
        },
    )
    write_intake_docs(doc, alone)
    write_intake_docs(doc, alone)  # a second run replaces the tables, not adds them
    text = doc.read_text()
    assert text.count(INTAKE_BEGIN) == 1 and "Measured on its own by" in text
    # Where a full run puts it: after the detox unit, before the engine.
    assert text.index(UNIT_END) < text.index(INTAKE_BEGIN) < text.index(ENGINE_BEGIN)
    assert "Unit table" in text and text.endswith("## Findings\n")


def test_only_intake_is_an_option():
    args = parse_args(["--only", "intake", "--intake-calls", "200", "--intake-repeat", "5"])
    assert (args.only, args.intake_calls, args.intake_repeat) == ("intake", 200, 5)
    assert parse_args([]).intake_calls == 3000
