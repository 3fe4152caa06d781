"""The demo schedule: rooms, the programs' recurring sessions from three weeks ago,
Thanksgiving closed, attendance taken for the sessions held (a few late, excused and
unexcused), the latest evening group not taken yet, and the outreach that missed
sessions set off."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.selectors import actors_by_role
from stepwise.care.models import Program, ProgramStaff
from stepwise.care.roster import program_staff_add
from stepwise.core.actor import Actor
from stepwise.core.models import Facility, Organization
from stepwise.core.roles import Role
from stepwise.scheduling import rules
from stepwise.scheduling.models import (
    Attendance,
    Closure,
    Room,
    Session,
    SessionSeries,
    SessionType,
)
from stepwise.scheduling.services.attendance import Mark, attendance_record
from stepwise.scheduling.services.outreach import outreach_sweep
from stepwise.scheduling.services.series import SeriesPlan, closure_add, series_create

DEMO_SLUG = "riverside"
ROOMS = {
    "Riverside Outpatient Clinic": [("Group room 1", 16), ("Group room 2", 16), ("Office 3", 3)],
    "Riverside Recovery Center": [("Day room", 24)],
}
WEEKDAYS = "MO,TU,WE,TH,FR"


@dataclass(frozen=True)
class SeriesSpec:
    program: str  # program name in the demo
    code: str  # session type
    title: str
    rule: str
    start: time
    minutes: int
    room: str
    role: Role  # who facilitates
    is_core: bool = True


SERIES = [
    # Evening IOP: Monday, Wednesday, Thursday 18:00-21:00, 9 hours a week.
    SeriesSpec(
        "Evening IOP",
        "group_therapy",
        "IOP process group",
        "FREQ=WEEKLY;BYDAY=MO,WE,TH",
        time(18),
        90,
        "Group room 1",
        Role.COUNSELOR,
    ),
    SeriesSpec(
        "Evening IOP",
        "relapse_prevention",
        "IOP relapse prevention",
        "FREQ=WEEKLY;BYDAY=MO,WE,TH",
        time(19, 30),
        90,
        "Group room 1",
        Role.COUNSELOR,
    ),
    SeriesSpec(
        "Evening IOP",
        "drug_education",
        "Tuesday drug education",
        "FREQ=WEEKLY;BYDAY=TU",
        time(18),
        60,
        "Group room 2",
        Role.CASE_MANAGER,
        is_core=False,
    ),
    # Day program: weekdays, 4.5 clinical hours a day.
    SeriesSpec(
        "Day program (PHP)",
        "group_therapy",
        "Morning group",
        f"FREQ=WEEKLY;BYDAY={WEEKDAYS}",
        time(9),
        90,
        "Group room 2",
        Role.COUNSELOR,
    ),
    SeriesSpec(
        "Day program (PHP)",
        "drug_education",
        "Drug education",
        f"FREQ=WEEKLY;BYDAY={WEEKDAYS}",
        time(10, 45),
        60,
        "Group room 2",
        Role.CASE_MANAGER,
    ),
    SeriesSpec(
        "Day program (PHP)",
        "life_skills",
        "Life skills",
        f"FREQ=WEEKLY;BYDAY={WEEKDAYS}",
        time(13),
        60,
        "Group room 2",
        Role.CASE_MANAGER,
    ),
    SeriesSpec(
        "Day program (PHP)",
        "social_skills",
        "Social skills",
        f"FREQ=WEEKLY;BYDAY={WEEKDAYS}",
        time(14, 15),
        60,
        "Group room 2",
        Role.COUNSELOR,
    ),
    # Outpatient: one group a week.
    SeriesSpec(
        "Outpatient",
        "group_therapy",
        "Outpatient group",
        "FREQ=WEEKLY;BYDAY=TU",
        time(16),
        90,
        "Group room 1",
        Role.COUNSELOR,
    ),
    # Residential: an afternoon group on weekdays.
    SeriesSpec(
        "Residential treatment",
        "group_therapy",
        "Residential afternoon group",
        f"FREQ=WEEKLY;BYDAY={WEEKDAYS}",
        time(16),
        90,
        "Day room",
        Role.PHYSICIAN,
    ),
]
# How the demo's members came to sessions held: mostly present.
MARKS = [
    ("present", 86),
    ("late", 5),
    ("left_early", 3),
    ("absent_excused", 3),
    ("absent_unexcused", 3),
]


def _thanksgiving(year: int) -> date:
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(weeks=3)


class Command(BaseCommand):
    help = "Add the demo schedule and attendance. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=DEMO_SLUG).first()
        if org is None or SessionSeries.objects.filter(organization=org).exists():
            return
        self.rng = random.Random(options["seed"])  # noqa: S311  # nosec B311 # seeded demo data
        actors = actors_by_role(org.pk)
        programs = {p.name: p for p in Program.objects.filter(organization=org)}
        facilities = {f.name: f for f in Facility.objects.filter(organization=org)}
        zone = ZoneInfo(next(iter(facilities.values())).time_zone)
        now = timezone.now()
        today = now.astimezone(zone).date()
        first_day = rules.week_start(today) - timedelta(weeks=3)
        with transaction.atomic():
            rooms = self._rooms(org, facilities)
            self._staff(actors, programs)
            holiday = _thanksgiving(today.year)
            if not Closure.objects.filter(organization=org, on=holiday).exists():
                for facility in facilities.values():
                    closure_add(actors[Role.DIRECTOR], facility, on=holiday, name="Thanksgiving")
            for spec in SERIES:
                series_create(
                    actors[Role.DIRECTOR],
                    SeriesPlan(
                        program=programs[spec.program],
                        session_type=SessionType.objects.get(organization=org, code=spec.code),
                        facilitator_id=actors[spec.role].user_id,
                        rule=spec.rule,
                        start_time=spec.start,
                        minutes=spec.minutes,
                        first_day=first_day,
                        room=rooms[spec.room],
                        title=spec.title,
                        is_core=spec.is_core,
                    ),
                    today=today,
                )
        taken = self._attendance(org, actors, now)
        raised = outreach_sweep(org.pk, now)
        self.stdout.write(
            f"Demo schedule: {len(SERIES)} recurring sessions, attendance taken for "
            f"{taken} sessions, {raised} outreach tasks from the sweep."
        )

    def _rooms(self, org: Organization, facilities: dict[str, Facility]) -> dict[str, Room]:
        rooms = {}
        for facility_name, specs in ROOMS.items():
            for name, seats in specs:
                rooms[name], _ = Room.objects.get_or_create(
                    organization=org,
                    facility=facilities[facility_name],
                    name=name,
                    defaults={"seats": seats},
                )
        return rooms

    def _staff(self, actors: dict[Role, Actor], programs: dict[str, Program]) -> None:
        """The counselor and the case manager work the ambulatory programs (so they are on
        their patients' care teams and see the outreach)."""
        for name in ("Evening IOP", "Day program (PHP)", "Outpatient"):
            for role in (Role.COUNSELOR, Role.CASE_MANAGER):
                program = programs[name]
                if not ProgramStaff.objects.filter(
                    program=program, user_id=actors[role].user_id
                ).exists():
                    program_staff_add(actors[Role.DIRECTOR], program, actors[role].user_id)

    def _attendance(self, org: Organization, actors: dict[Role, Actor], now: Any) -> int:
        """Take attendance for every session held, as its facilitator, except the latest
        evening IOP group (left for the demo's counselor to take)."""
        by_user = {actor.user_id: actor for actor in actors.values()}
        held = list(
            Session.objects.filter(organization=org, status="scheduled", ends_at__lte=now)
            .select_related("program")
            .order_by("starts_at")
        )
        latest_iop = max(
            (s for s in held if s.program.name == "Evening IOP" and s.title == "IOP process group"),
            key=lambda s: s.starts_at,
            default=None,
        )
        seats: dict[int, list[Attendance]] = {}
        for row in Attendance.objects.filter(session__in=held).select_related("patient"):
            seats.setdefault(row.session_id, []).append(row)
        # One IOP member stops coming in the last week: the outreach the sweep finds.
        iop_members = sorted(
            {
                row.patient_id
                for s in held
                if s.program.name == "Evening IOP"
                for row in seats.get(s.pk, [])
            }
        )
        drifting = iop_members[0] if iop_members else None
        week_ago = now - timedelta(days=8)
        taken = 0
        for session in held:
            rows = seats.get(session.pk, [])
            if not rows or session == latest_iop:
                continue
            marks = []
            for row in rows:
                if row.patient_id == drifting and session.starts_at >= week_ago:
                    status = "absent_unexcused"
                else:
                    status = self.rng.choices([m for m, _ in MARKS], [w for _, w in MARKS])[0]
                minutes = None
                if status == "late":
                    minutes = max(5, session.minutes - self.rng.choice([10, 15, 20, 30]))
                elif status == "left_early":
                    minutes = max(5, session.minutes - self.rng.choice([20, 30, 45]))
                marks.append(Mark(row.patient.public_id, status, minutes))
            attendance_record(by_user[session.facilitator_id], session, marks, now=session.ends_at)
            taken += 1
        return taken
