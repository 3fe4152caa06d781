"""Generate a synthetic organization with many patients, for the benchmark and load tests.

`stepwise synth --patients 100000 --seed 7` builds its own organization (slug
`synth` unless `--org-slug` says otherwise): two facilities, the six programs of
the continuum, a few staff, and N patients with episodes and stays that keep
every rule the services keep (stays touch end to start, only the last stay of an
open episode is open, transitions carry their kind and reason, discharges their
TEDS reason). Rows are written with bulk inserts in batches, without audit rows,
so 100,000 patients take a minute or two rather than hours.

The same seed gives the same patients, episodes and stays; times are laid out
backwards from the current hour, so a run today and a run tomorrow differ only
by that shift. The command refuses an organization that already has patients.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.models import Membership
from stepwise.care import rules
from stepwise.care.models import Episode, EpisodeStatus, Program, Stay, StayEntry
from stepwise.core.models import Facility, Organization
from stepwise.core.roles import Role
from stepwise.patients.models import CareTeamMember, CareTeamRole, Contact, Patient

BATCH_PATIENTS = 2000
MINUTES_PER_DAY = 24 * 60

GIVEN_NAMES = (
    "Aaron",
    "Abigail",
    "Adrian",
    "Aisha",
    "Alicia",
    "Andre",
    "Angela",
    "Anthony",
    "Ashley",
    "Austin",
    "Benjamin",
    "Brandon",
    "Brenda",
    "Brittany",
    "Caleb",
    "Carlos",
    "Carmen",
    "Chelsea",
    "Christopher",
    "Cody",
    "Courtney",
    "Crystal",
    "Daniel",
    "Danielle",
    "Darius",
    "Destiny",
    "Diego",
    "Dustin",
    "Elena",
    "Emily",
    "Eric",
    "Erica",
    "Ethan",
    "Gabriel",
    "Grace",
    "Hannah",
    "Heather",
    "Isaac",
    "Jacob",
    "Jamal",
    "Jasmine",
    "Jason",
    "Jennifer",
    "Jeremy",
    "Jessica",
    "Joel",
    "Jordan",
    "Joseph",
    "Joshua",
    "Juan",
    "Julia",
    "Justin",
    "Kayla",
    "Keisha",
    "Kevin",
    "Kyle",
    "Latoya",
    "Laura",
    "Lauren",
    "Luis",
    "Madison",
    "Marcus",
    "Maria",
    "Megan",
    "Melissa",
    "Michael",
    "Miguel",
    "Monica",
    "Nathan",
    "Nicole",
    "Noah",
    "Olivia",
    "Patrick",
    "Rachel",
    "Ramon",
    "Rebecca",
    "Ricardo",
    "Robert",
    "Ryan",
    "Samantha",
    "Sara",
    "Shawn",
    "Stephanie",
    "Tanya",
    "Terrence",
    "Thomas",
    "Tiffany",
    "Travis",
    "Tyler",
    "Valerie",
    "Victor",
    "Whitney",
    "Zachary",
)
FAMILY_NAMES = (
    "Adams",
    "Alexander",
    "Allen",
    "Alvarez",
    "Anderson",
    "Bailey",
    "Baker",
    "Barnes",
    "Bell",
    "Bennett",
    "Brooks",
    "Brown",
    "Bryant",
    "Butler",
    "Campbell",
    "Carter",
    "Castillo",
    "Chavez",
    "Clark",
    "Collins",
    "Cook",
    "Cooper",
    "Cox",
    "Cruz",
    "Davis",
    "Diaz",
    "Edwards",
    "Evans",
    "Fisher",
    "Flores",
    "Foster",
    "Garcia",
    "Gomez",
    "Gonzalez",
    "Gray",
    "Green",
    "Griffin",
    "Hall",
    "Harris",
    "Hayes",
    "Henderson",
    "Hernandez",
    "Hill",
    "Howard",
    "Hughes",
    "Jackson",
    "James",
    "Jenkins",
    "Jimenez",
    "Johnson",
    "Jones",
    "Kelly",
    "Kim",
    "King",
    "Lee",
    "Lewis",
    "Long",
    "Lopez",
    "Martin",
    "Martinez",
    "Miller",
    "Mitchell",
    "Moore",
    "Morales",
    "Morgan",
    "Murphy",
    "Myers",
    "Nelson",
    "Nguyen",
    "Ortiz",
    "Parker",
    "Patel",
    "Perez",
    "Perry",
    "Peterson",
    "Phillips",
    "Powell",
    "Price",
    "Ramirez",
    "Reed",
    "Reyes",
    "Richardson",
    "Rivera",
    "Roberts",
    "Robinson",
    "Rodriguez",
    "Rogers",
    "Ross",
    "Russell",
    "Sanchez",
    "Sanders",
    "Scott",
    "Smith",
    "Stewart",
    "Sullivan",
    "Taylor",
    "Thomas",
    "Thompson",
    "Torres",
    "Turner",
    "Walker",
    "Ward",
    "Washington",
    "Watson",
    "White",
    "Williams",
    "Wilson",
    "Wood",
    "Wright",
    "Young",
)
RELATIONSHIPS = ("parent", "spouse", "sibling", "friend", "sponsor", "other_family")


@dataclass(frozen=True)
class ProgramSpec:
    key: str
    name: str
    facility: int  # index into FACILITIES
    level: str
    teds: int
    is_24_hour: bool
    beds: int | None


FACILITIES = (("Recovery Center", "America/New_York"), ("Outpatient Clinic", "America/New_York"))
PROGRAMS = (
    ProgramSpec("detox", "Residential withdrawal management", 0, "3.7-WM", 2, True, 16),
    ProgramSpec("residential", "Residential treatment", 0, "3.5", 4, True, 24),
    ProgramSpec("php", "Day program (PHP)", 1, "2.5", 6, False, None),
    ProgramSpec("iop", "Evening IOP", 1, "2.1", 6, False, None),
    ProgramSpec("op", "Outpatient", 1, "1", 7, False, None),
    ProgramSpec("cc", "Continuing care / aftercare", 1, "CC", 7, False, None),
)
SPEC_BY_KEY = {spec.key: spec for spec in PROGRAMS}
LEVEL_BY_KEY = {spec.key: rules.level(3, spec.level) for spec in PROGRAMS}

# Staff of the synthetic organization: (role, how many). The first of each role is
# `<slug>-<role>`, the next ones `<slug>-<role>-2` and so on.
STAFF = (
    (Role.ADMISSIONS, 1),
    (Role.NURSE, 2),
    (Role.PHYSICIAN, 1),
    (Role.COUNSELOR, 4),
    (Role.CASE_MANAGER, 1),
    (Role.DIRECTOR, 1),
)

# Where episodes start, and where a stay leads next (None: the episode ends there).
ENTRY_WEIGHTS: dict[str, float] = {
    "detox": 45,
    "residential": 10,
    "php": 5,
    "iop": 20,
    "op": 20,
}
NEXT_WEIGHTS: dict[str, dict[str | None, float]] = {
    "detox": {"residential": 45, "php": 10, "iop": 20, "op": 5, None: 20},
    "residential": {"php": 20, "iop": 40, "op": 15, "detox": 3, None: 22},
    "php": {"iop": 55, "op": 15, "residential": 5, None: 25},
    "iop": {"op": 45, "residential": 4, "detox": 3, "php": 3, None: 45},
    "op": {"cc": 30, "iop": 7, "detox": 3, None: 60},
    "cc": {"op": 5, "detox": 1, None: 94},
}
MAX_STAYS = 8
# Open episodes are drawn in proportion to their length, up to this many minutes.
OPEN_BIAS_MINUTES = 365 * 24 * 60

# Length of stay in days: (median, spread of the log-normal, shortest, longest).
LOS_DAYS: dict[str, tuple[float, float, float, float]] = {
    "residential": (20, 0.45, 5, 90),
    "php": (14, 0.4, 3, 45),
    "iop": (45, 0.4, 10, 150),
    "op": (80, 0.5, 14, 365),
    "cc": (120, 0.5, 30, 540),
}
DETOX_DAYS = (2.0, 10.0, 4.0)  # triangular: shortest, longest, most frequent

DISCHARGE_WEIGHTS = {1: 45, 2: 25, 3: 5, 4: 15, 5: 3, 6: 1, 7: 6}
DISCHARGE_NOTES = {
    1: "Completed the program; aftercare plan given.",
    2: "Left against advice; outreach attempted.",
    3: "Discharged by the facility after repeated rule violations.",
    4: "Transferred to a program closer to home.",
    5: "Taken into custody; the jail's health service was informed.",
}
REFERRAL_WEIGHTS = {1: 40, 2: 15, 3: 15, 4: 1, 5: 2, 6: 7, 7: 15, -9: 5}
STEP_DOWN_REASONS = (
    "Met the goals of {before}; ready for {after}.",
    "Withdrawal complete and stable; continues in {after}.",
    "Treatment plan review: symptoms stable, step down to {after}.",
)
STEP_UP_REASONS = (
    "Returned to use while in {before}; needs the structure of {after}.",
    "Withdrawal symptoms not manageable in {before}; moved to {after}.",
    "Missed sessions and cravings rising; team agreed on {after}.",
)
TRANSFER_REASONS = ("Moved to {after} for schedule or location.",)


@dataclass(frozen=True)
class StayPlan:
    program: str
    started_at: datetime
    ended_at: datetime | None
    entry_kind: str
    entry_reason: str


@dataclass(frozen=True)
class EpisodePlan:
    admitted_at: datetime
    discharged_at: datetime | None
    discharge_reason: int | None
    referral_source: int
    stays: tuple[StayPlan, ...]


@dataclass(frozen=True)
class PatientPlan:
    index: int
    given_name: str
    family_name: str
    date_of_birth: date
    sex: str
    race: str
    ethnicity: str
    education: str
    employment: str
    living_arrangement: str
    phone: str
    has_contact: bool
    episodes: tuple[EpisodePlan, ...]  # oldest first; only the last may be open


def _weighted(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class Planner:
    """Draws patients and their care histories from one seeded random generator."""

    def __init__(self, seed: int, anchor: datetime) -> None:
        self.rng = random.Random(seed)  # nosec B311 # seeded synthetic data, not a secret
        self.anchor = anchor

    def los_minutes(self, program: str) -> int:
        rng = self.rng
        if program == "detox":
            low, high, mode = DETOX_DAYS
            days = rng.triangular(low, high, mode)
        else:
            median, spread, shortest, longest = LOS_DAYS[program]
            days = min(max(rng.lognormvariate(math.log(median), spread), shortest), longest)
        return max(60, round(days * MINUTES_PER_DAY))

    def path(self) -> list[str]:
        """Programs one episode goes through, in order; never the same one twice in a row."""
        steps = [_weighted(self.rng, ENTRY_WEIGHTS)]
        while len(steps) < MAX_STAYS:
            following = _weighted(self.rng, NEXT_WEIGHTS[steps[-1]])
            if following is None:
                break
            steps.append(following)
        return steps

    def _reason(self, before: str, after: str, kind: rules.TransitionKind) -> str:
        templates = {
            rules.TransitionKind.STEP_DOWN: STEP_DOWN_REASONS,
            rules.TransitionKind.STEP_UP: STEP_UP_REASONS,
            rules.TransitionKind.TRANSFER: TRANSFER_REASONS,
        }[kind]
        return self.rng.choice(templates).format(
            before=SPEC_BY_KEY[before].name, after=SPEC_BY_KEY[after].name
        )

    def episode(self, ends: datetime | None) -> EpisodePlan:
        """One episode: discharged at `ends`, or still open now when `ends` is None."""
        rng = self.rng
        steps = self.path()
        minutes = [self.los_minutes(p) for p in steps]
        while ends is None and rng.random() * OPEN_BIAS_MINUTES > sum(minutes):
            # Long episodes are more likely than short ones to be open on a given day.
            steps = self.path()
            minutes = [self.los_minutes(p) for p in steps]
        reason: int | None = None
        if ends is None:
            # In care now, part-way through one stay of the path; a stay is the current
            # one in proportion to its length, as when a census is taken on a random day.
            current = rng.choices(range(len(steps)), weights=minutes)[0]
            steps, minutes = steps[: current + 1], minutes[: current + 1]
            minutes[-1] = max(1, round(minutes[-1] * rng.random()))
            end = self.anchor
        else:
            reason = _weighted(rng, DISCHARGE_WEIGHTS)
            if reason in (2, 3, 5, 6):  # left before the planned end of the stay
                minutes[-1] = max(60, round(minutes[-1] * rng.uniform(0.1, 0.8)))
            end = ends
        admitted_at = end - timedelta(minutes=sum(minutes))
        stays: list[StayPlan] = []
        at = admitted_at
        for position, (program, length) in enumerate(zip(steps, minutes, strict=True)):
            last = position == len(steps) - 1
            ended_at = None if last and ends is None else at + timedelta(minutes=length)
            if position == 0:
                kind, text = StayEntry.ADMISSION.value, ""
            else:
                before = steps[position - 1]
                move = rules.transition_kind_between(LEVEL_BY_KEY[before], LEVEL_BY_KEY[program])
                kind, text = move.value, self._reason(before, program, move)
            stays.append(StayPlan(program, at, ended_at, kind, text))
            if ended_at is not None:
                at = ended_at
        return EpisodePlan(
            admitted_at=admitted_at,
            discharged_at=end if ends is not None else None,
            discharge_reason=reason,
            referral_source=_weighted(rng, REFERRAL_WEIGHTS),
            stays=tuple(stays),
        )

    def history(self) -> tuple[EpisodePlan, ...]:
        """About 70% in care now, 20% discharged only, 10% registered and never admitted;
        some of those admitted came back after an earlier episode (readmissions)."""
        rng = self.rng
        draw = rng.random()
        if draw < 0.10:
            return ()
        in_care = draw >= 0.30
        if in_care:
            earlier = rng.choices([0, 1, 2], weights=[72, 22, 6])[0]
            latest = self.episode(None)
        else:
            earlier = rng.choices([0, 1], weights=[80, 20])[0]
            # Discharged in the last two years, recent discharges more often (mean 120 days).
            ago = min(
                730 * MINUTES_PER_DAY, 1 + round(rng.expovariate(1 / (120 * MINUTES_PER_DAY)))
            )
            latest = self.episode(self.anchor - timedelta(minutes=ago))
        episodes = [latest]
        for _ in range(earlier):
            gap = timedelta(minutes=rng.randint(14 * 1440, 400 * 1440))
            episodes.append(self.episode(episodes[-1].admitted_at - gap))
        return tuple(reversed(episodes))

    def patient(self, index: int) -> PatientPlan:
        rng = self.rng
        return PatientPlan(
            index=index,
            given_name=rng.choice(GIVEN_NAMES),
            family_name=rng.choice(FAMILY_NAMES),
            date_of_birth=date(1956, 1, 1) + timedelta(days=rng.randrange(50 * 365)),
            sex=rng.choice(["1", "1", "2", "2", "1", "-9"]),
            race=rng.choice(["5", "5", "5", "5", "4", "4", "8", "2", "6", "7", "-9"]),
            ethnicity=rng.choice(["4", "4", "4", "4", "2", "1", "3", "5", "-9"]),
            education=rng.choice(["1", "2", "2", "3", "3", "3", "4", "4", "5", "-9"]),
            employment=rng.choice(["1", "2", "3", "3", "3", "4", "-9"]),
            living_arrangement=rng.choice(["1", "2", "3", "3", "3", "-9"]),
            phone=f"555-{rng.randrange(10000):04d}",
            has_contact=rng.random() < 0.3,
            episodes=self.history(),
        )


class Command(BaseCommand):
    help = (
        "Generate a synthetic organization with N patients and realistic episodes and stays "
        "(bulk inserts, no audit rows). Same seed, same data. Refuses an organization that "
        "already has patients."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=1000, help="How many patients.")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the random generator.")
        parser.add_argument(
            "--org-slug", default="synth", help="Slug of the synthetic organization."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        total: int = options["patients"]
        seed: int = options["seed"]
        slug: str = options["org_slug"]
        if total < 1:
            raise CommandError("--patients must be at least 1.")
        existing = Patient.objects.filter(organization__slug=slug).count()
        if existing:
            raise CommandError(
                f"Organization {slug!r} already has {existing:,} patients; synth only fills an "
                "empty organization. Use another --org-slug or a fresh database."
            )
        started = time.monotonic()
        # Every time is laid out backwards from the current hour.
        anchor = timezone.now().replace(minute=0, second=0, microsecond=0)
        planner = Planner(seed, anchor)
        # Public ids come from their own generator, so two organizations synthesized
        # with the same seed get the same histories but never the same UUIDs.
        self.ids = random.Random(f"{seed}/{slug}")  # nosec B311 # seeded synthetic ids, not a secret
        with transaction.atomic():
            org, self.programs, self.staff = self._organization(slug)
        self.census: Counter[str] = Counter()
        counts: Counter[str] = Counter()
        done = 0
        self._tenth_shown = 0
        self._progress(0, total, started)
        while done < total:
            size = min(BATCH_PATIENTS, total - done)
            plans = [planner.patient(done + i + 1) for i in range(size)]
            with transaction.atomic():
                counts += self._write_batch(org, plans)
                self._fit_beds()
            done += size
            self._progress(done, total, started)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Synthesized {total:,} patients in organization {slug!r}: {counts['episodes']:,} "
            f"episodes ({counts['open']:,} open), {counts['stays']:,} stays, in {elapsed:.1f} s. "
            f"Staff accounts ({self.staff[Role.COUNSELOR][0].get_username()} and others) have no "
            "password; set one with `stepwise changepassword` to sign in."
        )

    # --- The organization, its programs and staff ------------------------------------
    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.ids.getrandbits(128), version=4)

    def _organization(
        self, slug: str
    ) -> tuple[Organization, dict[str, Program], dict[Role, list[Any]]]:
        title = slug.replace("-", " ").replace("_", " ").title()
        org, _ = Organization.objects.get_or_create(
            slug=slug, defaults={"name": f"{title} (synthetic)"}
        )
        facilities = []
        for name, zone in FACILITIES:
            facility, _ = Facility.objects.get_or_create(
                organization=org, name=f"{title} {name}", defaults={"time_zone": zone}
            )
            facilities.append(facility)
        programs = {}
        for spec in PROGRAMS:
            programs[spec.key], _ = Program.objects.get_or_create(
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
        user_model = get_user_model()
        staff: dict[Role, list[Any]] = {}
        for role, how_many in STAFF:
            staff[role] = []
            for number in range(1, how_many + 1):
                username = f"{slug}-{role.value}" + (f"-{number}" if number > 1 else "")
                user, created = user_model.objects.get_or_create(
                    username=username,
                    defaults={
                        "first_name": role.value.replace("_", " ").title(),
                        "last_name": f"{title} {number}",
                        "email": f"{username}@synthetic.invalid",
                    },
                )
                if created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                Membership.objects.get_or_create(
                    user=user, organization=org, defaults={"role": role.value}
                )
                staff[role].append(user)
        return org, programs, staff

    def _someone(self, role: Role, index: int) -> Any:
        people = self.staff[role]
        return people[index % len(people)]

    # --- Patients, episodes, stays -----------------------------------------------------
    def _write_batch(self, org: Organization, plans: list[PatientPlan]) -> Counter[str]:
        patients = []
        for plan in plans:
            patient = Patient(
                organization=org,
                public_id=self._uuid(),
                mrn=f"SY-{plan.index:07d}",
                given_name=plan.given_name,
                family_name=plan.family_name,
                date_of_birth=plan.date_of_birth,
                sex=plan.sex,
                race=plan.race,
                ethnicity=plan.ethnicity,
                education=plan.education,
                employment=plan.employment,
                living_arrangement=plan.living_arrangement,
                phone=plan.phone,
            )
            patient.refresh_search_name()
            patients.append(patient)
        Patient.objects.bulk_create(patients)

        # Episodes go in by readmission depth, so each previous episode has its id first.
        by_depth: list[list[Episode]] = [[] for _ in range(3)]
        stays: list[Stay] = []
        contacts: list[Contact] = []
        team: list[CareTeamMember] = []
        counts: Counter[str] = Counter()
        for plan, patient in zip(plans, patients, strict=True):
            previous: Episode | None = None
            for depth, episode_plan in enumerate(plan.episodes):
                episode = self._episode(org, patient, plan.index, episode_plan, previous)
                while len(by_depth) <= depth:
                    by_depth.append([])
                by_depth[depth].append(episode)
                stays += self._stays(org, episode, plan.index, episode_plan)
                previous = episode
            counts["episodes"] += len(plan.episodes)
            counts["stays"] += sum(len(e.stays) for e in plan.episodes)
            current = plan.episodes[-1] if plan.episodes else None
            if current is not None and current.discharged_at is None:
                counts["open"] += 1
                where = current.stays[-1].program
                self.census[where] += 1
                team.append(self._member(org, patient, Role.COUNSELOR, plan.index))
                if where == "detox":
                    team.append(self._member(org, patient, Role.NURSE, plan.index))
            if plan.has_contact:
                contacts.append(
                    Contact(
                        organization=org,
                        public_id=self._uuid(),
                        patient=patient,
                        name=f"{GIVEN_NAMES[plan.index % len(GIVEN_NAMES)]} {plan.family_name}",
                        relationship=RELATIONSHIPS[plan.index % len(RELATIONSHIPS)],
                        phone=f"555-{(plan.index * 7919) % 10000:04d}",
                        is_emergency_contact=plan.index % 2 == 0,
                    )
                )
        for level in by_depth:
            Episode.objects.bulk_create(level)
        Stay.objects.bulk_create(stays)
        Contact.objects.bulk_create(contacts)
        CareTeamMember.objects.bulk_create(team)
        return counts

    def _episode(
        self,
        org: Organization,
        patient: Patient,
        index: int,
        plan: EpisodePlan,
        previous: Episode | None,
    ) -> Episode:
        discharged = plan.discharged_at is not None
        return Episode(
            organization=org,
            public_id=self._uuid(),
            patient=patient,
            status=EpisodeStatus.DISCHARGED if discharged else EpisodeStatus.OPEN,
            admitted_at=plan.admitted_at,
            referral_source=plan.referral_source,
            discharged_at=plan.discharged_at,
            discharge_reason=plan.discharge_reason,
            discharge_note=DISCHARGE_NOTES.get(plan.discharge_reason or 0, ""),
            previous_episode=previous,
            admitted_by=self._someone(Role.ADMISSIONS, index),
            discharged_by=self._someone(Role.COUNSELOR, index) if discharged else None,
        )

    def _stays(
        self, org: Organization, episode: Episode, index: int, plan: EpisodePlan
    ) -> list[Stay]:
        return [
            Stay(
                organization=org,
                public_id=self._uuid(),
                episode=episode,
                program=self.programs[stay.program],
                sequence=sequence,
                started_at=stay.started_at,
                ended_at=stay.ended_at,
                entry_kind=stay.entry_kind,
                entry_reason=stay.entry_reason,
                entered_by=self._someone(
                    Role.ADMISSIONS if sequence == 1 else Role.COUNSELOR, index + sequence
                ),
            )
            for sequence, stay in enumerate(plan.stays, start=1)
        ]

    def _member(
        self, org: Organization, patient: Patient, role: Role, index: int
    ) -> CareTeamMember:
        team_role = CareTeamRole.PRIMARY_COUNSELOR if role == Role.COUNSELOR else CareTeamRole.NURSE
        return CareTeamMember(
            organization=org,
            public_id=self._uuid(),
            patient=patient,
            user=self._someone(role, index),
            team_role=team_role,
        )

    def _fit_beds(self) -> None:
        """Give each 24-hour program a quarter more beds than its synthetic census."""
        for key, program in self.programs.items():
            if program.bed_capacity is None:
                continue
            needed = math.ceil(self.census[key] * 1.25)
            if needed > program.bed_capacity:
                program.bed_capacity = needed
                program.save(update_fields=["bed_capacity", "updated_at"])

    def _progress(self, done: int, total: int, started: float) -> None:
        elapsed = time.monotonic() - started
        percent = 100 * done // total
        left = elapsed / done * (total - done) if done else 0.0
        width = 30
        bar = "#" * (width * done // total) + "." * (width - width * done // total)
        line = f"synth [{bar}] {done:,}/{total:,} patients {percent:3d}% {elapsed:6.1f}s"
        if done and done < total:
            line += f" (about {left:.0f}s left)"
        if self.stderr.isatty():
            self.stderr.write("\r" + line, style_func=str, ending="\n" if done == total else "")
            self.stderr.flush()
            return
        # Not a terminal: one line per tenth of the way, not one per batch.
        tenth = 10 * done // total
        if done in (0, total) or tenth > self._tenth_shown:
            self._tenth_shown = tenth
            self.stderr.write(line, style_func=str)
