"""The demo's sober living: one certified residence with a men's and a women's house,
residents from the day program and the evening IOP who moved in over the last weeks,
five nights of curfew check-ins (one late, one missed, one excused) and a drug test
collected at the house."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.selectors import actors_by_role
from stepwise.care.models import Stay
from stepwise.core.actor import Actor
from stepwise.core.models import Organization
from stepwise.core.roles import Role
from stepwise.patients.access import care_basis
from stepwise.patients.models import CareTeamRole, Patient
from stepwise.patients.services import care_team_add
from stepwise.recovery.selectors import last_screen_medications, prescribed_medications
from stepwise.recovery.services.screens import ScreenInput, screen_record
from stepwise.residences.models import Bed, HouseFor, Residence, Residency
from stepwise.residences.services.curfew import curfew_record, night_curfew, tonight
from stepwise.residences.services.residency import residency_move_in
from stepwise.residences.services.setup import (
    HouseData,
    ResidenceData,
    bed_create,
    house_create,
    residence_create,
)

DEMO_SLUG = "riverside"
PROGRAMS = ("Day program (PHP)", "Evening IOP")
RULES = """1. No alcohol, drugs or drug paraphernalia on the property. Prescribed medication is kept in the locked cabinet.
2. Random drug and alcohol tests: a refusal counts as a positive.
3. Curfew: 22:00 Sunday to Thursday nights, 23:00 Friday and Saturday nights. Sign in with house staff on arrival.
4. Attend your treatment program and at least three recovery meetings a week.
5. Chores as posted; keep your room ready for inspection.
6. No overnight guests. Visitors in the common areas only, 10:00 to 20:00.
7. No violence, threats or stealing: these end the residency the same day.
8. Pay your share of the rent on time, or talk to the house manager first."""
HOUSES = [
    ("Oak Street House (men)", "14 Oak Street", HouseFor.MEN, 6, "1"),
    ("Willow House (women)", "27 Willow Lane", HouseFor.WOMEN, 4, "2"),
]
PANEL = ("fentanyl", "opiates", "buprenorphine", "methadone", "cocaine", "benzodiazepines")
NIGHTS = 5
# Residents by TEDS sex code: four men, two women.
RESIDENTS = {"1": 4, "2": 2}


class Command(BaseCommand):
    help = "Add a sober living residence with residents and curfews to the demo. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=DEMO_SLUG).first()
        if org is None or Residence.objects.filter(organization=org).exists():
            return
        self.rng = random.Random(options["seed"])  # noqa: S311  # nosec B311 # seeded demo data
        actors = actors_by_role(org.pk)
        manager = actors[Role.CASE_MANAGER]
        now = timezone.now()
        with transaction.atomic():
            beds = self._residence(actors[Role.DIRECTOR])
            residents = self._move_in(actors, manager, org, beds, now)
            marks = self._curfews(manager, residents, now)
            # Tested at the house: a resident on no medication, so all negative is expected.
            tested = next(
                (
                    r
                    for r in reversed(residents)
                    if not prescribed_medications(r.patient)
                    and not last_screen_medications(r.patient)
                ),
                None,
            )
            if tested is not None:
                self._screen(actors[Role.COUNSELOR], tested, now)
        self.stdout.write(
            f"Demo sober living: {len(residents)} residents, {marks} curfew check-ins, "
            "a drug test at the house."
        )

    def _residence(self, director: Actor) -> dict[str, list[Bed]]:
        residence = residence_create(
            director,
            ResidenceData(
                name="Riverside Sober Living",
                operator_name="Riverside Recovery Housing, Inc.",
                address="14 Oak Street",
                phone="555-0142",
                certification="NARR level II",
                time_zone="America/New_York",
            ),
            rules_text=RULES,
        )
        beds: dict[str, list[Bed]] = {}
        for name, address, house_for, count, sex in HOUSES:
            house = house_create(
                director,
                residence,
                HouseData(
                    name=name,
                    address=address,
                    house_for=house_for,
                    curfew_weekday=time(22, 0),
                    curfew_weekend=time(23, 0),
                ),
            )
            beds[sex] = [bed_create(director, house, label=f"Bed {n}") for n in range(1, count + 1)]
        return beds

    def _move_in(
        self,
        actors: dict[Role, Actor],
        manager: Actor,
        org: Organization,
        beds: dict[str, list[Bed]],
        now: datetime,
    ) -> list[Residency]:
        """Four men and two women from the day program and the evening IOP."""
        stays = list(
            Stay.objects.filter(organization=org, program__name__in=PROGRAMS, ended_at__isnull=True)
            .select_related("episode__patient", "program")
            .order_by("started_at", "id")
        )
        # Two from the day program first, then the evening IOP.
        self.rng.shuffle(stays)
        day = [s for s in stays if s.program.name == PROGRAMS[0]][:2]
        stays = day + [s for s in stays if s not in day]
        wanted = dict(RESIDENTS)
        residents: list[Residency] = []
        for stay in stays:
            patient = stay.episode.patient
            sex = patient.sex if patient.sex in RESIDENTS else "1"
            if wanted.get(sex, 0) == 0:
                continue
            self._on_team(actors[Role.DIRECTOR], manager, patient, now)
            days = min(self.rng.randint(1, 20), max(1, (now - stay.started_at).days))
            at = now - timedelta(days=days, hours=self.rng.randint(1, 6))
            at = max(at, stay.started_at + timedelta(hours=2))  # while in the program
            bed = beds[sex][RESIDENTS[sex] - wanted[sex]]
            residency = residency_move_in(
                manager, patient, bed, rules_version=bed.house.residence.rules_version, at=at
            )
            residency.patient = patient
            residents.append(residency)
            wanted[sex] -= 1
            if not any(wanted.values()):
                break
        return residents

    def _on_team(self, director: Actor, manager: Actor, patient: Patient, now: datetime) -> None:
        """The case manager places the patient: they belong on the care team."""
        if care_basis(manager, patient, now) is None:
            care_team_add(
                director, patient, user_id=manager.user_id, team_role=CareTeamRole.CASE_MANAGER
            )

    def _curfews(self, actor: Actor, residents: list[Residency], now: datetime) -> int:
        """The last nights: mostly back on time; one late, one missed, one excused."""
        if not residents:
            return 0
        house = Bed.objects.select_related("house__residence").get(pk=residents[0].bed_id).house
        last = tonight(house, now) - timedelta(days=1)
        nights = [last - timedelta(days=n) for n in range(NIGHTS - 1, -1, -1)]
        # Out of the ordinary, each on a night the resident lived there.
        special = {"late": (0, last), "missed": (1, last - timedelta(days=1))}
        special["excused"] = (2 % len(residents), last - timedelta(days=2))
        count = 0
        for index, residency in enumerate(residents):
            bed = Bed.objects.select_related("house__residence").get(pk=residency.bed_id)
            for night in nights:
                window = night_curfew(bed.house, night)
                if residency.moved_in_at >= window.curfew_at:
                    continue  # moved in after that night's curfew
                mark = next(
                    (m for m, (who, on) in special.items() if who == index and on == night),
                    "on_time",
                )
                self._mark(actor, residency, mark, night, window.curfew_at)
                count += 1
        return count

    def _mark(
        self, actor: Actor, residency: Residency, mark: str, night: date, curfew: datetime
    ) -> None:
        if mark == "missed":
            curfew_record(actor, residency, mark="missed", night=night)
        elif mark == "excused":
            curfew_record(
                actor,
                residency,
                mark="excused",
                night=night,
                reason="Night shift at the warehouse; the employer's schedule is on file.",
            )
        elif mark == "late":
            curfew_record(
                actor,
                residency,
                mark="arrived",
                night=night,
                arrived_at=curfew + timedelta(minutes=self.rng.randint(20, 45)),
            )
        else:
            curfew_record(
                actor,
                residency,
                mark="arrived",
                night=night,
                arrived_at=curfew - timedelta(minutes=self.rng.randint(5, 120)),
            )

    def _screen(self, actor: Actor, residency: Residency, now: datetime) -> None:
        """A random test at the house this morning: all negative."""
        screen_record(
            actor,
            residency.patient,
            ScreenInput(
                collected_at=now - timedelta(hours=self.rng.randint(2, 8)),
                observed=True,
                results=dict.fromkeys(PANEL, "negative"),
                setting="residency",
                setting_id=residency.public_id,
                note="Random test at the house.",
            ),
        )
