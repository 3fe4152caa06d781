"""The detox unit benchmark's shape (not its timings): a small unit built through the
services, its five pages measured (each answered 200, past the second factor), the
data fixed by the seed, and its tables in the report."""

from __future__ import annotations

import random
from dataclasses import asdict

import pytest

from stepwise.bench import unit
from stepwise.bench.report import (
    BEGIN,
    END,
    ENGINE_BEGIN,
    ENGINE_END,
    UNIT_BEGIN,
    UNIT_END,
    unit_section,
    write_engine_docs,
    write_unit_docs,
)
from stepwise.bench.run import parse_args
from stepwise.care.models import Stay
from stepwise.core.models import AuditEvent
from stepwise.instruments.registry import INSTRUMENTS
from stepwise.patients.models import CareTeamMember
from stepwise.withdrawal.models import Administration

PAGES = ["Unit board", "Board fragment", "JSON board", "eMAR", "Flowsheet"]


@pytest.mark.django_db
def test_a_small_unit_is_built_and_its_pages_measured():
    result = unit.run(beds=3, seed=2026, repeat=2)
    data = result.data
    assert (result.beds, result.seed) == (3, 2026)
    assert result.database in ("SQLite", "PostgreSQL")
    assert (data.beds, data.patients) == (3, 3)
    assert 24 <= data.hours_min <= data.hours_max <= 96
    # About every 4 hours over one to four days, COWS and vital signs together.
    assert data.cows == data.vitals >= 3 * 5
    assert data.orders == 3 * 7  # the comfort set's six lines and a scheduled order
    assert data.doses > data.followups > 0
    assert Administration.objects.filter(scheduled_for__isnull=False).exists()
    assert data.audit_rows > data.cows + data.vitals
    assert [page.page for page in result.pages] == PAGES
    for page in result.pages:
        assert page.requests == 2
        assert 0 < page.median_ms <= page.p95_ms <= page.max_ms
        assert 0 < page.queries_min <= page.queries_max
    # Every board read wrote its audit row, through the web and the API alike.
    assert AuditEvent.objects.filter(object_type="unit_board").count() >= 3 * (5 + 3 + 2)


@pytest.mark.django_db
def test_the_nurse_cares_for_every_bed_and_reads_the_longest_stay():
    built = unit.build(beds=2, seed=7)
    stays = Stay.objects.filter(program=built.program).select_related("episode__patient")
    assert sorted(s.episode.patient.mrn for s in stays) == ["U-001", "U-002"]
    longest = min(stays, key=lambda s: s.started_at)
    assert (built.patient, built.bed) == (longest.episode.patient, longest.bed_number)
    # On the program's staff, so on each care team: the board shows every identity.
    for stay in stays:
        assert CareTeamMember.objects.filter(
            patient=stay.episode.patient, user_id=built.nurse.user_id
        ).exists()


def test_cows_answers_add_up_to_the_total_asked_for():
    cows = INSTRUMENTS["cows"]
    rng = random.Random(2026)
    for total in range(31):
        answers = unit.cows_answers(total, rng)
        scored = cows.score(answers, {})
        assert scored.complete and scored.total == total


def test_the_tables_list_every_page_and_replace_only_themselves(tmp_path):
    page = {
        "page": "Unit board",
        "example": "/units/x/",
        "requests": 30,
        "median_ms": 71.7,
        "p95_ms": 80.5,
        "min_ms": 60.0,
        "max_ms": 90.0,
        "queries_min": 24,
        "queries_max": 24,
        "note": "30 beds",
    }
    data = asdict(
        unit.UnitData(
            beds=30,
            patients=30,
            hours_min=25.0,
            hours_max=95.7,
            cows=437,
            vitals=437,
            orders=210,
            doses=621,
            followups=332,
            open_alerts=8,
            audit_rows=2209,
        )
    )
    measured = [
        {
            "database": name,
            "version": "1",
            "seed": 2026,
            "migrate_s": 2.0,
            "build_s": 18.0,
            "data": data,
            "pages": [page],
        }
        for name in ("SQLite", "PostgreSQL")
    ]
    section = unit_section(measured)
    assert section.startswith(UNIT_BEGIN) and section.endswith(UNIT_END)
    assert "| SQLite | Unit board | 71.7 | 80.5 | 24 | 30 | 30 beds |" in section
    assert (
        "| PostgreSQL | 30 | 30 | 25 to 96 | 437 | 437 | 210 | 621 | 332 | 8 | 2,209 |" in section
    )

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n{BEGIN}\n## Results\n\nPages table\n\n{END}\n\n## Findings\n")
    write_engine_docs(doc, f"{ENGINE_BEGIN}\nEngine table\n{ENGINE_END}")
    alone = unit_section(
        measured,
        command="python -m stepwise.bench --only unit",
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
    write_unit_docs(doc, alone)
    write_unit_docs(doc, alone)  # a second run replaces the tables, not adds them
    text = doc.read_text()
    assert (
        text.count(UNIT_BEGIN) == 1 and "Measured on its own by" in text and "SQLite 3.40" in text
    )
    # Where a full run puts it: after the pages, before the engine.
    assert text.index("Pages table") < text.index(UNIT_BEGIN) < text.index(ENGINE_BEGIN)
    assert text.index(ENGINE_END) < text.index(END) and text.endswith("## Findings\n")


def test_only_unit_is_an_option():
    args = parse_args(["--only", "unit", "--unit-beds", "12", "--unit-repeat", "5"])
    assert (args.only, args.unit_beds, args.unit_repeat) == ("unit", 12, 5)
    assert parse_args([]).unit_beds == 30
