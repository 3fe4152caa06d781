"""The schedule benchmark's shape (not its timings): a few weeks of a small
organization's groups built through the services, its pages measured (each answered
200, past the second factor, the POSTs with their redirect), the plan fixed by the seed,
and its tables in the report."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from stepwise.bench import schedule
from stepwise.bench.report import (
    BEGIN,
    END,
    ENGINE_BEGIN,
    INTAKE_BEGIN,
    INTAKE_END,
    SCHEDULE_BEGIN,
    SCHEDULE_END,
    render,
    schedule_section,
    write_engine_docs,
    write_intake_docs,
    write_schedule_docs,
)
from stepwise.bench.run import parse_args, schedule_errors
from stepwise.care.models import Episode, Stay
from stepwise.core.models import AuditEvent
from stepwise.scheduling.models import Attendance, Enrollment, Session

PAGES = [
    "Program week",
    "JSON program week",
    "Facilitator's day",
    "Program dashboard",
    "Patient schedule",
    "Worklist",
    "Attendance screen",
    "Take attendance (POST)",
    "Same marks again (POST)",
]
NOW = datetime(2026, 3, 9, 15, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_a_small_schedule_is_built_and_its_pages_measured():
    result = schedule.run(iop=4, php=3, op=3, weeks=2, seed=2026, repeat=2)
    data = result.data
    assert (result.iop, result.php, result.op, result.weeks, result.seed) == (4, 3, 3, 2, 2026)
    assert result.database in ("SQLite", "PostgreSQL")
    assert (data.programs, data.series, data.weeks) == (4, 9, 2)
    # Each program holds its census now; the others were discharged through care.
    assert data.census == {"php": 3, "iop_a": 4, "iop_b": 4, "op": 3}
    assert data.admitted == data.discharged + 14
    # Every session held with members was taken but the one measured.
    assert 0 < data.sessions_taken < data.sessions_held and data.sessions_ahead > 0
    assert data.attended <= data.marks < data.seats
    # One patient in eight of each IOP (at least one) next week, and last week if admitted.
    assert 2 <= data.appointments <= 2 * 2 and data.measured_roster == 4
    assert data.audit_rows > data.marks
    assert [page.page for page in result.pages] == PAGES
    for page in result.pages:
        assert page.requests == 2
        assert 0 < page.median_ms <= page.p95_ms <= page.max_ms
        assert page.queries_min > 0
        if "POST" not in page.page:
            assert page.queries_min == page.queries_max
    # Each attendance POST changed and audited every member's mark (the first one the
    # real first take), the unchanged ones none: 5 warm-up, 3 counted, 2 timed.
    pages = {page.page: page for page in result.pages}
    assert (
        pages["Take attendance (POST)"].queries_min > pages["Same marks again (POST)"].queries_max
    )
    measured = Session.objects.get(public_id=pages["Attendance screen"].example.split("/")[-2])
    marks = AuditEvent.objects.filter(
        object_type="attendance", detail__session=str(measured.public_id)
    )
    assert marks.count() == 4 * (5 + 3 + 2)
    # Every roster read wrote its audit row: the GETs and the POSTs alike.
    rosters = AuditEvent.objects.filter(object_type="session_roster", object_id=measured.public_id)
    assert rosters.count() == 3 * (5 + 3 + 2)


@pytest.mark.django_db
def test_the_services_left_a_consistent_schedule():
    built = schedule.build(iop=3, php=2, op=2, weeks=3, seed=7)
    org = built.organization
    zone = ZoneInfo(schedule.TIME_ZONE)
    now = datetime.now(UTC)
    assert built.session.series is not None
    first_day = built.session.series.first_day
    # Admissions over the weeks built; discharges ended the enrollments and freed the
    # seats ahead, leaving the ones taken.
    for episode in Episode.objects.filter(organization=org):
        assert episode.admitted_at.astimezone(zone).date() >= first_day
        if episode.discharged_at is not None:
            assert not Enrollment.objects.filter(
                patient=episode.patient, ended_at__isnull=True
            ).exists()
            assert not Attendance.objects.filter(
                patient=episode.patient, session__starts_at__gte=episode.discharged_at
            ).exists()
    # Every session held was taken, but the measured one: its whole census, untaken.
    held = Attendance.objects.filter(organization=org, session__ends_at__lte=now)
    assert set(held.filter(status="expected").values_list("session_id", flat=True)) == {
        built.session.pk
    }
    roster = Attendance.objects.filter(session=built.session)
    in_care = Stay.objects.filter(program=built.programs["iop_a"], ended_at__isnull=True)
    assert sorted(roster.values_list("patient_id", flat=True)) == sorted(
        in_care.values_list("episode__patient_id", flat=True)
    )
    # The patient measured is the first IOP's longest stay in care.
    longest = in_care.order_by("started_at").first()
    assert longest is not None and built.patient == longest.episode.patient
    # Individual appointments with the IOP's counselor: last week's taken.
    appointments = Session.objects.filter(organization=org, series__isnull=True)
    assert 2 <= appointments.count() <= 2 * 2
    assert {a.facilitator_id for a in appointments} == {
        s.facilitator_id
        for s in Session.objects.filter(
            program__in=[built.programs["iop_a"], built.programs["iop_b"]]
        )
    }
    for appointment in appointments:
        seat = appointment.attendance.get()
        assert (seat.status == "expected") == (appointment.ends_at > now)


def test_the_plan_is_fixed_by_the_seed_and_fills_each_program():
    zone = ZoneInfo(schedule.TIME_ZONE)
    first, last = date(2025, 12, 8), date(2026, 3, 6)
    closed = schedule.holidays(first, last)
    assert closed == {
        date(2025, 12, 25): "Christmas Day",
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 19): "Martin Luther King Jr. Day",
    }
    spec = schedule.PROGRAMS[1]

    def plans(seed: int) -> list[schedule.StayPlan]:
        return schedule._Planner(seed, zone, closed).program(spec, 40, first, last, NOW)

    drawn = plans(2026)
    assert [(p.admitted_at, p.discharged_at, p.reason) for p in drawn] == [
        (p.admitted_at, p.discharged_at, p.reason) for p in plans(2026)
    ]
    in_care = [p for p in drawn if p.discharged_at is None]
    assert len(in_care) == 40 and len(drawn) > 50
    for plan in drawn:
        admitted = plan.admitted_at.astimezone(zone)
        assert first <= admitted.date() <= last and admitted.weekday() < 5
        assert admitted.date() not in closed and admitted.hour == 8
        if plan.discharged_at is not None:
            assert plan.admitted_at < plan.discharged_at
            assert plan.discharged_at.astimezone(zone).date() <= last
            assert plan.discharged_at.astimezone(zone).hour == 15
    # Drop-outs stop coming before they are discharged.
    assert all(
        p.absent_from is not None and p.discharged_at is not None for p in drawn if p.reason == 2
    )


def _page(name: str, median: float, queries: int) -> dict[str, object]:
    return {
        "page": name,
        "example": "/schedule/",
        "requests": 20,
        "median_ms": median,
        "p95_ms": median + 2,
        "min_ms": median - 1,
        "max_ms": median + 5,
        "queries_min": queries,
        "queries_max": queries,
        "note": "a sample",
    }


def test_the_tables_list_every_page_and_replace_only_themselves(tmp_path):
    data = asdict(
        schedule.ScheduleData(
            programs=4,
            series=9,
            weeks=12,
            census={"php": 25, "iop_a": 40, "iop_b": 40, "op": 40},
            admitted=300,
            discharged=155,
            sessions_held=400,
            sessions_taken=390,
            sessions_ahead=450,
            sessions_closed=20,
            seats=30000,
            marks=9000,
            attended=8500,
            unexcused=400,
            appointments=20,
            outreach_open=12,
            outreach_swept=3,
            measured_roster=40,
            audit_rows=20000,
        )
    )
    measured = [
        {
            "database": name,
            "version": "1",
            "seed": 2026,
            "iop": 40,
            "php": 25,
            "op": 40,
            "weeks": 12,
            "migrate_s": 2.0,
            "build_s": 90.0,
            "data": data,
            "pages": [
                _page("Program week", 30.5, 9),
                _page("Take attendance (POST)", 140.0, 256),
                _page("Same marks again (POST)", 20.0, 16),
            ],
        }
        for name in ("SQLite", "PostgreSQL")
    ]
    section = schedule_section(measured)
    assert section.startswith(SCHEDULE_BEGIN) and section.endswith(SCHEDULE_END)
    assert "| SQLite | Program week | 30.5 | 32.5 | 9 | 20 | a sample |" in section
    assert "| PostgreSQL | 12 | 25 / 40 / 40 / 40 | 300 | 155 | 400 (390) | 450 | 20 |" in section
    assert "taking 40 marks runs 256 queries and 140 ms" in section
    assert "about 3.00 ms per changed mark" in section
    # A full run puts it after the admissions line and before the engine.
    full = render(
        [],
        None,
        {"Date": "today"},
        "make bench",
        {"seed": 2026, "repeat": 50},
        {"sample": 1, "seed": 2026, "warmup": 1, "rows": []},
        None,
        None,
        measured,
    )
    assert full.index(SCHEDULE_BEGIN) < full.index(ENGINE_BEGIN)

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n{BEGIN}\n## Results\n\nPages table\n\n{END}\n\n## Findings\n")
    write_engine_docs(doc, f"{ENGINE_BEGIN}\nEngine table\n<!-- bench:engine:end -->")
    write_intake_docs(doc, f"{INTAKE_BEGIN}\nIntake table\n{INTAKE_END}")
    alone = schedule_section(
        measured,
        command="python -m stepwise.bench --only schedule",
        facts={
            "Date": "today",
            "Python": "3.11",
            "Django": "5.2",
            "CPUs": "2",
            "CPU model": "x",
            "Memory": "1 GiB",
            "SQLite": "3.40",
            "PostgreSQL": "15",
        },
    )
    write_schedule_docs(doc, alone)
    write_schedule_docs(doc, alone)  # a second run replaces the tables, not adds them
    text = doc.read_text()
    assert text.count(SCHEDULE_BEGIN) == 1 and "Measured on its own by" in text
    assert "`python -m stepwise.bench --only schedule`" in text
    # Where a full run puts it: after the admissions line, before the engine.
    assert text.index(INTAKE_END) < text.index(SCHEDULE_BEGIN) < text.index(ENGINE_BEGIN)
    assert "Intake table" in text and text.endswith("## Findings\n")


def test_only_schedule_is_an_option():
    args = parse_args(
        [
            "--only",
            "schedule",
            "--schedule-iop",
            "10",
            "--schedule-weeks",
            "4",
            "--schedule-repeat",
            "5",
        ]
    )
    assert (args.only, args.schedule_iop, args.schedule_weeks, args.schedule_repeat) == (
        "schedule",
        10,
        4,
        5,
    )
    defaults = parse_args([])
    assert (defaults.schedule_iop, defaults.schedule_php, defaults.schedule_op) == (40, 25, 40)
    assert defaults.schedule_weeks == 12 and not schedule_errors(defaults)
    assert schedule_errors(parse_args(["--schedule-weeks", "1"]))
    assert schedule_errors(parse_args(["--schedule-php", "0"]))


def test_the_holidays_fall_on_their_days():
    found = schedule.holidays(date(2026, 1, 1), date(2026, 12, 31))
    assert found[date(2026, 5, 25)] == "Memorial Day"
    assert found[date(2026, 9, 7)] == "Labor Day"
    assert found[date(2026, 11, 26)] == "Thanksgiving"
    # On a weekend there is nothing to close (no sessions then).
    assert date(2026, 7, 4) not in found and len(found) == 6
    assert all(day.weekday() < 5 for day in found)
    assert schedule.open_days(date(2026, 11, 23), date(2026, 11, 29), found) == [
        date(2026, 11, 23) + timedelta(days=n) for n in (0, 1, 2, 4)
    ]
