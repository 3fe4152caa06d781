"""Load the demo organizations. Idempotent: a second run adds nothing."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.models import Membership
from stepwise.accounts.selectors import actor_from_membership
from stepwise.care.exits import prepare_exit
from stepwise.care.models import Program
from stepwise.care.rules import transition_kind_between
from stepwise.care.services import episode_admit, episode_discharge, stay_transition
from stepwise.core.actor import Actor
from stepwise.core.models import Facility, Organization
from stepwise.core.roles import Role
from stepwise.patients.models import CareTeamMember, CareTeamRole, Patient
from stepwise.patients.services import PatientData, contact_add, patient_create

DEMO_PASSWORD = "stepwise-demo"  # nosec B105 # the published demo login, printed by make run
OTHER_USERNAME = "other_admin"

STAFF_NAMES = {
    Role.ADMISSIONS: ("Alex", "Moreno"),
    Role.NURSE: ("Priya", "Shah"),
    Role.PHYSICIAN: ("Daniel", "Okafor"),
    Role.COUNSELOR: ("Maya", "Lindqvist"),
    Role.CASE_MANAGER: ("Jordan", "Reyes"),
    Role.DIRECTOR: ("Helen", "Brooks"),
    Role.PRIVACY_OFFICER: ("Samuel", "Park"),
    Role.ADMIN: ("Chris", "Novak"),
}

GIVEN = [
    "James",
    "Maria",
    "Robert",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Ashley",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Kevin",
    "Amanda",
    "Brian",
    "Nicole",
    "Tyler",
    "Megan",
    "Jason",
    "Brittany",
    "Luis",
    "Ana",
    "Andre",
    "Keisha",
    "Cody",
    "Heather",
    "Ryan",
    "Samantha",
    "Dustin",
    "Crystal",
]
FAMILY = [
    "Rivera",
    "Johnson",
    "Nguyen",
    "Williams",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Martinez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
]


# TEDS reasons where the patient is gone before anything can be prepared
# (dropped out, incarcerated, death): the demo's staff had no chance to.
LEFT_WITHOUT_NOTICE = frozenset({2, 5, 6})


@dataclass(frozen=True)
class ProgramSpec:
    key: str
    name: str
    facility: str
    level: str
    teds: int
    is_24_hour: bool
    beds: int | None


PROGRAMS = [
    ProgramSpec(
        "detox",
        "Residential withdrawal management",
        "Riverside Recovery Center",
        "3.7-WM",
        2,
        True,
        16,
    ),
    ProgramSpec(
        "residential", "Residential treatment", "Riverside Recovery Center", "3.5", 4, True, 24
    ),
    ProgramSpec("php", "Day program (PHP)", "Riverside Outpatient Clinic", "2.5", 6, False, None),
    ProgramSpec("iop", "Evening IOP", "Riverside Outpatient Clinic", "2.1", 6, False, None),
    ProgramSpec("op", "Outpatient", "Riverside Outpatient Clinic", "1", 7, False, None),
    ProgramSpec(
        "cc", "Continuing care / aftercare", "Riverside Outpatient Clinic", "CC", 7, False, None
    ),
]

# Paths through the continuum, as (program key, days in it). The last stay of an
# open path is still open; closed paths end with a TEDS discharge reason.
OPEN_PATHS: list[list[tuple[str, int]]] = [
    [("detox", 2)],
    [("detox", 4), ("residential", 12)],
    [("detox", 5), ("residential", 24), ("php", 8)],
    [("detox", 4), ("php", 15), ("iop", 20)],
    [("iop", 30)],
    [("detox", 5), ("residential", 21), ("iop", 35), ("op", 40)],
    [("detox", 4), ("residential", 28), ("php", 14), ("iop", 30), ("cc", 60)],
    [("op", 45)],
]
CLOSED_PATHS: list[tuple[list[tuple[str, int]], int]] = [
    ([("detox", 4)], 2),
    ([("detox", 3), ("residential", 6)], 2),
    ([("detox", 5), ("residential", 25), ("iop", 40)], 1),
    ([("iop", 20)], 3),
    ([("detox", 5), ("residential", 20)], 4),
    ([("op", 60)], 1),
]


def _user(username: str, first: str, last: str) -> tuple[Any, bool]:
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.invalid"},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    return user, created


class Command(BaseCommand):
    help = "Load the demo organizations, staff (one per role) and about 60 patients. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        self.rng = random.Random(options["seed"])  # nosec B311 # seeded demo data, not a secret
        self.now = timezone.now().replace(second=0, microsecond=0)
        with transaction.atomic():
            org, actors = self._riverside()
            if not Patient.objects.filter(organization=org).exists():
                self._riverside_patients(org, actors)
            self._harbor()
        # Consents, a release and reviews: the privacy app's part of the demo (by name,
        # as care sits below privacy and does not import it).
        call_command("demo_privacy", stdout=self.stdout)
        call_command("demo_assessments", stdout=self.stdout)
        call_command("demo_withdrawal", stdout=self.stdout)
        call_command("demo_intake", stdout=self.stdout)
        call_command("demo_schedule", stdout=self.stdout)
        call_command("demo_recovery", stdout=self.stdout)
        call_command("demo_plans", stdout=self.stdout)
        call_command("demo_residences", stdout=self.stdout)
        call_command("demo_aftercare", stdout=self.stdout)
        self._print_logins()

    # --- Riverside: the main demo organization -------------------------------------------
    def _riverside(self) -> tuple[Organization, dict[Role, Actor]]:
        org, _ = Organization.objects.get_or_create(
            slug="riverside", defaults={"name": "Riverside Recovery"}
        )
        facilities = {}
        for name, address in [
            ("Riverside Recovery Center", "12 River Road"),
            ("Riverside Outpatient Clinic", "300 Main Street"),
        ]:
            facilities[name], _ = Facility.objects.get_or_create(
                organization=org,
                name=name,
                defaults={"time_zone": "America/New_York", "address": address},
            )
        self.programs: dict[str, Program] = {}
        for spec in PROGRAMS:
            self.programs[spec.key], _ = Program.objects.get_or_create(
                organization=org,
                facility=facilities[spec.facility],
                name=spec.name,
                defaults={
                    "asam_level": spec.level,
                    "asam_edition": 3,
                    "teds_service": spec.teds,
                    "is_24_hour": spec.is_24_hour,
                    "bed_capacity": spec.beds,
                },
            )
        actors = {}
        for role in Role:
            first, last = STAFF_NAMES[role]
            user, _ = _user(role.value, first, last)
            membership, _ = Membership.objects.get_or_create(
                user=user, organization=org, defaults={"role": role.value}
            )
            actors[role] = actor_from_membership(membership)
        return org, actors

    def _patient_data(self, index: int, prefix: str) -> PatientData:
        rng = self.rng
        age_days = rng.randint(19 * 365, 62 * 365)
        return PatientData(
            mrn=f"{prefix}-{index:05d}",
            given_name=rng.choice(GIVEN),
            family_name=rng.choice(FAMILY),
            date_of_birth=date.today() - timedelta(days=age_days),  # noqa: DTZ011 (a demo birthday)
            sex=rng.choice(["1", "1", "2"]),
            race=rng.choice(["5", "5", "5", "4", "4", "8", "2", "-9"]),
            ethnicity=rng.choice(["4", "4", "4", "2", "1", "5"]),
            education=rng.choice(["2", "3", "3", "4", "5"]),
            employment=rng.choice(["1", "2", "3", "3", "4"]),
            living_arrangement=rng.choice(["1", "2", "3", "3"]),
            phone=f"555-01{rng.randint(0, 99):02d}",
        )

    def _walk(
        self,
        actor: Actor,
        patient: Patient,
        path: list[tuple[str, int]],
        start: datetime,
        reason: int | None,
    ) -> datetime:
        """Admit, move along the path and (for closed paths) discharge; returns the end."""
        at = start
        first_key, _ = path[0]
        episode = episode_admit(
            actor,
            patient,
            self.programs[first_key],
            at=at,
            referral_source=self.rng.choice([1, 1, 2, 3, 7]),
        )
        for (before_key, days), (next_key, _) in pairwise(path):
            at += timedelta(days=days, hours=self.rng.randint(1, 6))
            before, after = self.programs[before_key], self.programs[next_key]
            kind = transition_kind_between(before.level, after.level).value
            prepare_exit(self.clinician, episode, before, at, ends_episode=False)
            stay_transition(
                actor, episode, after, kind=kind, reason=_reason_for(before, after), at=at
            )
        if reason is not None:
            at += timedelta(days=path[-1][1], hours=self.rng.randint(1, 6))
            if reason not in LEFT_WITHOUT_NOTICE:
                prepare_exit(
                    self.clinician, episode, self.programs[path[-1][0]], at, ends_episode=True
                )
            episode_discharge(actor, episode, reason=reason, at=at, note=_discharge_note(reason))
        return at

    def _riverside_patients(self, org: Organization, actors: dict[Role, Actor]) -> None:
        admissions = actors[Role.ADMISSIONS]
        counselor = actors[Role.COUNSELOR]
        nurse = actors[Role.NURSE]
        self.clinician = counselor
        index = 0
        plans: list[tuple[list[tuple[str, int]], int | None, bool]] = []
        for path in OPEN_PATHS:
            plans += [(path, None, False)] * 5  # 40 patients in care now
        for path, closing in CLOSED_PATHS:
            plans += [(path, closing, False)] * 2  # 12 discharged
        plans += [(OPEN_PATHS[0], None, True)] * 3 + [
            (OPEN_PATHS[4], None, True)
        ] * 2  # 5 readmitted
        plans += [([], None, False)] * 3  # registered, not yet admitted
        for path, reason, readmitted in plans:
            index += 1
            patient = patient_create(admissions, self._patient_data(index, "RR"))
            if index % 4 == 0:
                contact_add(
                    admissions,
                    patient,
                    name=f"{self.rng.choice(GIVEN)} {patient.family_name}",
                    relationship="parent",
                    phone="555-0199",
                    is_emergency_contact=True,
                )
            if not path:
                continue
            length = sum(days for _, days in path)
            # The counselor is on the team from the start: the detox discharge bundle
            # before each step down is the care team's to record.
            CareTeamMember.objects.get_or_create(
                organization=org,
                patient=patient,
                user_id=counselor.user_id,
                team_role=CareTeamRole.PRIMARY_COUNSELOR,
            )
            if readmitted:
                earlier = self.now - timedelta(days=length + 120)
                self._walk(admissions, patient, CLOSED_PATHS[0][0], earlier, 2)
            # Open episodes end "now-ish"; closed ones ended in the last months.
            if reason is None:
                start = self.now - timedelta(days=length, hours=self.rng.randint(1, 20))
            else:
                start = self.now - timedelta(days=length + self.rng.randint(10, 200))
            self._walk(admissions, patient, path, start, reason)
            CareTeamMember.objects.get_or_create(
                organization=org,
                patient=patient,
                user_id=counselor.user_id,
                team_role=CareTeamRole.PRIMARY_COUNSELOR,
            )
            if path[-1][0] == "detox" and reason is None:
                CareTeamMember.objects.get_or_create(
                    organization=org,
                    patient=patient,
                    user_id=nurse.user_id,
                    team_role=CareTeamRole.NURSE,
                )

    # --- Harbor Light: the second organization, behind the wall -------------------------
    def _harbor(self) -> None:
        org, _ = Organization.objects.get_or_create(
            slug="harbor-light", defaults={"name": "Harbor Light Treatment"}
        )
        facility, _ = Facility.objects.get_or_create(
            organization=org, name="Harbor Light House", defaults={"time_zone": "America/Chicago"}
        )
        program, _ = Program.objects.get_or_create(
            organization=org,
            facility=facility,
            name="Harbor outpatient",
            defaults={"asam_level": "1", "asam_edition": 3, "teds_service": 7},
        )
        user, _ = _user(OTHER_USERNAME, "Olivia", "Grant")
        membership, _ = Membership.objects.get_or_create(
            user=user, organization=org, defaults={"role": Role.DIRECTOR.value}
        )
        if Patient.objects.filter(organization=org).exists():
            return
        actor = actor_from_membership(membership)
        for index in range(1, 5):
            patient = patient_create(actor, self._patient_data(index, "HL"))
            if index <= 3:
                episode_admit(actor, patient, program, at=self.now - timedelta(days=10 * index))

    def _print_logins(self) -> None:
        self.stdout.write(f"\nStepwise demo logins (password for all: {DEMO_PASSWORD})")
        for role in Role:
            self.stdout.write(
                f"  {role.value:<16} {STAFF_NAMES[role][0]} {STAFF_NAMES[role][1]} — Riverside Recovery"
            )
        self.stdout.write(
            f"  {OTHER_USERNAME:<16} Olivia Grant — Harbor Light Treatment (a separate organization)\n"
        )


def _reason_for(before: Program, after: Program) -> str:
    if after.level.rank < before.level.rank:
        return f"Met goals of {before.name}; ready for a less intensive level."
    return f"Needs more support than {before.name} offers."


def _discharge_note(reason: int) -> str:
    return {
        1: "Completed the program; aftercare plan given.",
        2: "Left against advice; outreach attempted.",
        3: "Discharged by the facility after repeated rule violations.",
        4: "Transferred to a program closer to home.",
    }.get(reason, "")
