"""The admissions line: server time of the pages the admissions desk lives on, after a
year of calls.

`build` fills a fresh, migrated database with a year of one mid-sized organization's
admissions line, fixed by the seed: two facilities (America/New_York), ten programs
(detox and ambulatory withdrawal management, residential, PHP, two IOPs, outpatient,
an OTP, office-based buprenorphine, continuing care), the desk's staff, and about
`calls` calls received over the last 365 days, more on weekdays (Mondays most) and in
the day and evening than at night. About 60% are screened; about one in five leads to
an admission (new patient, episode, TEDS fields carried over) a few hours to a few
weeks after the call, and the episodes end through care's `episode_discharge` after a
length of stay drawn per program (with the safe-discharge bundle done first on
withdrawal management, as the demo's staff do), so the programs keep room. The rest
end as information given, referred elsewhere or no further contact; crisis calls are
noted and reviewed by the clinical lead (the last few wait in the lead's queue); some
open calls have a call back due. At the end, about 80 people are put on the waitlists
of three programs (a few more leave them: admitted, referred or lost contact) and
about 10 places are held for callers expected in the next hours.

Everything goes through the services the pages and the API use (`inquiry_start`,
`call_details_update`, `crisis_note_add`, `lead_review`, `screening_record`,
`inquiry_conclude`, `follow_up_set`, `inquiry_admit`, `bundle_item_record`,
`episode_discharge`, `waitlist_add`, `waitlist_leave`, `place_hold`), never raw
inserts (only the organization, its facilities, programs and staff are rows, as in
the demo and the detox unit), so rows, constraints and the audit chain are what real
use leaves. Events run in time order (a call, then its admission, then the
discharge), one transaction each, as the detox unit writes one per patient. The clock
is the real one: the services that take a time get the call's, admission's or
discharge's; the others (screening, an ending, a waitlist entry) stamp the time of
the build, so those times are all "now".

Sizes and shares come from docs and domain.md §10 where they exist (lengths of stay,
detox outcomes, TEDS discharge reasons, buprenorphine retention); the call volume,
shares of screened calls, admissions, waitlist and holds are the brief's, and the
rest (hours, weekdays, payer mix, delays to admission) are assumptions, labelled.

`measure` then times, through Django's test client as an admissions coordinator (a
session past its second factor), the desk, the bed board page and its htmx fragment,
the waitlist, the metrics page for the last 30 and 365 days, one call page, and the
JSON bed board and waitlist with a personal token. The audit log stays on.

Pure measurement: the caller decides where the numbers go (`report.intake_section`).
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from stepwise.accounts.models import Membership
from stepwise.accounts.selectors import actor_from_membership
from stepwise.accounts.services import token_create
from stepwise.bench import DEFAULT_INTAKE_CALLS, DEFAULT_INTAKE_REPEAT, DEFAULT_SEED
from stepwise.bench.measure import (
    PageResult,
    analyze_after_load,
    database_version,
    log,
    measure_page,
    migrated_run,
)
from stepwise.care.exits import prepare_exit
from stepwise.care.management.commands.demo_load import FAMILY, GIVEN
from stepwise.care.models import Episode, Program
from stepwise.care.roster import program_staff_add
from stepwise.care.services import SubstanceUse, episode_discharge, program_place_cap_set
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict
from stepwise.core.models import AuditEvent, Facility, Organization
from stepwise.intake.metrics import today_for
from stepwise.intake.models import (
    CLOSED_OUTCOMES,
    Inquiry,
    Outcome,
    Screening,
    WaitlistEntry,
)
from stepwise.intake.selectors import DESK_LIMIT
from stepwise.intake.services.admission import inquiry_admit
from stepwise.intake.services.inquiries import (
    CallDetails,
    call_details_update,
    crisis_note_add,
    follow_up_set,
    inquiry_conclude,
    inquiry_start,
    lead_review,
)
from stepwise.intake.services.places import place_hold
from stepwise.intake.services.screening import ScreenAnswers, screening_record
from stepwise.intake.services.waitlist import waitlist_add, waitlist_leave

INTAKE_SLUG = "bench-intake"
TIME_ZONE = "America/New_York"
DAYS = 365
# The brief's shares, scaled to the number of calls (3,000 calls: 1,800 screened,
# 600 admissions, 80 waiting, 10 places held).
SCREENED_SHARE = 0.60
ADMITTED_SHARE = 0.20
WAITING_PER_CALL = 80 / 3000
HELD_PER_CALL = 10 / 3000
# Assumptions: danger signs on about 3% of calls; a few waitlist exits at build time.
CRISIS_SHARE = 0.03
WAITLIST_EXITS_PER_CALL = 20 / 3000
# The waitlist is drawn from calls of the last 90 days; calls of the last 21 days may
# still be open (screened, or only triaged in the last 7).
WAITLIST_FROM_DAYS = 90
OPEN_SCREENED_DAYS = 21
OPEN_UNSCREENED_DAYS = 7

# Assumption: calls per weekday (Monday first) and per local hour, relative.
WEEKDAY_WEIGHTS = (1.35, 1.2, 1.1, 1.05, 1.0, 0.65, 0.65)
HOUR_WEIGHTS = (
    0.25, 0.2, 0.15, 0.12, 0.12, 0.2, 0.4, 0.8, 1.4, 1.8, 1.9, 1.8,  # 00-11
    1.6, 1.7, 1.7, 1.6, 1.5, 1.3, 1.1, 1.0, 0.9, 0.7, 0.5, 0.35,  # 12-23
)  # fmt: skip


@dataclass(frozen=True)
class ProgramSpec:
    key: str
    name: str
    facility: int  # index into FACILITIES
    asam_level: str
    teds_service: int
    is_24_hour: bool
    beds: int | None = None
    place_cap: int | None = None
    otp: bool = False


FACILITIES = ("Bench Recovery Center", "Bench Southside Clinic")
# Beds and caps with room for this line's admissions (every admission should find a
# place; one that does not is referred out for lack of capacity and counted).
PROGRAMS = (
    ProgramSpec("detox", "Residential withdrawal management", 0, "3.7-WM", 2, True, beds=12),
    ProgramSpec("residential", "Residential treatment", 0, "3.5", 4, True, beds=20),
    ProgramSpec("php", "Day program (PHP)", 0, "2.5", 6, False, place_cap=25),
    ProgramSpec("iop_north", "Evening IOP", 0, "2.1", 6, False, place_cap=40),
    ProgramSpec("op", "Outpatient counseling", 0, "1", 7, False),
    ProgramSpec("otp", "Opioid treatment program", 1, "OTP", 7, False, place_cap=200, otp=True),
    ProgramSpec("obot", "Office-based buprenorphine", 1, "1", 7, False),
    ProgramSpec("iop_south", "Day IOP", 1, "2.1", 6, False, place_cap=30),
    ProgramSpec("amb_wm", "Ambulatory withdrawal management", 1, "2-WM", 8, False, place_cap=10),
    ProgramSpec("cc", "Continuing care / aftercare", 1, "CC", 7, False),
)
# Assumption: where the admissions from calls go (continuing care takes none directly).
ADMIT_WEIGHTS = {
    "detox": 28,
    "amb_wm": 6,
    "residential": 12,
    "php": 6,
    "iop_north": 11,
    "iop_south": 7,
    "op": 10,
    "otp": 10,
    "obot": 10,
}
# Waitlists on three programs (assumption: residential and methadone wait most).
WAITLIST_WEIGHTS = {"residential": 45, "otp": 35, "detox": 20}
HOLD_ORDER = ("detox", "detox", "residential", "iop_north", "detox", "php", "amb_wm", "iop_south")

# Lengths of stay in days. domain.md §10.3: detox mode 4 (2-10); residential median
# 20 (cap 30); IOP median 41-50; outpatient median 69-104; buprenorphine (and, as an
# assumption, methadone) retention 50% at day 180, 27% at day 365 (log-normal, median
# 180, sigma 1.15). PHP median 20 (cap 45) and ambulatory WM one day longer than
# residential detox are assumptions.
DETOX_DAYS = {2: 1, 3: 3, 4: 5, 5: 3, 6: 2, 7: 1, 8: 1, 9: 0.5, 10: 0.5}
LOG_NORMAL_STAYS = {
    "residential": (20, 0.35, 30),
    "php": (20, 0.5, 45),
    "iop_north": (45, 0.5, 180),
    "iop_south": (45, 0.5, 180),
    "op": (85, 0.7, 400),
    "otp": (180, 1.15, 1500),
    "obot": (180, 1.15, 1500),
}
# TEDS reasons for discharge (1 completed, 2 dropped out, 3 terminated, 4 transferred,
# 7 other), per domain.md §10.1/§10.3: detox; short-term residential, primary opiates;
# IOP; outpatient; methadone outpatient (for the OTP and office-based buprenorphine).
DETOX_REASONS = {1: 62, 4: 14, 2: 16, 3: 2, 7: 6}
REASONS = {
    "residential": {1: 53.5, 4: 15.3, 2: 21.1, 3: 6.1, 7: 4.0},
    "php": {1: 37.7, 4: 17.9, 2: 23.2, 3: 14.0, 7: 7.2},
    "iop_north": {1: 37.7, 4: 17.9, 2: 23.2, 3: 14.0, 7: 7.2},
    "iop_south": {1: 37.7, 4: 17.9, 2: 23.2, 3: 14.0, 7: 7.2},
    "op": {1: 36.4, 4: 11.7, 2: 27.2, 3: 10.5, 7: 14.2},
    "otp": {1: 16.6, 4: 15.9, 2: 46.7, 3: 8.6, 7: 12.2},
    "obot": {1: 16.6, 4: 15.9, 2: 46.7, 3: 8.6, 7: 12.2},
}
# Left without notice: no discharge bundle before leaving (as the demo).
LEFT_WITHOUT_NOTICE = frozenset({2})
REFERRED_TO = (
    "Harbor Methadone Clinic",
    "County Behavioral Health",
    "St. Mary's Hospital detox",
    "Lakeside Recovery (residential)",
    "Community Health Center MAT clinic",
)
REFERRERS = {
    2: "Lakeside Recovery",
    3: "St. Mary's Emergency Department",
    6: "Syringe services program",
    7: "County Drug Court",
}


@dataclass
class IntakeData:
    """What the admissions line holds when it is measured."""

    facilities: int
    programs: int
    calls: int
    calls_30_days: int
    first_call_days_ago: int
    screened_calls: int
    screenings: int
    crisis_calls: int
    lead_queue: int
    open_calls: int
    follow_ups_due: int
    admitted: int
    episodes_open: int
    episodes_discharged: int
    referred_out: int
    no_capacity: int  # admissions and holds refused for want of a place (expected 0)
    waiting: int
    waitlist_programs: int
    waitlist_left: int
    held: int
    audit_rows: int


@dataclass
class IntakeResult:
    database: str
    vendor: str
    version: str
    seed: int
    calls: int
    migrate_s: float
    build_s: float
    data: IntakeData
    pages: list[PageResult] = field(default_factory=list)


@dataclass
class Line:
    """The handles a measurement needs: the coordinator who browses, and the call whose
    page is read (the most urgent person waiting: screened, with substances and a
    waitlist entry)."""

    organization: Organization
    coordinator: Actor
    call: Inquiry
    no_capacity: int  # admissions and holds refused for want of a place (expected 0)


@dataclass
class CallPlan:
    """One call and what becomes of it, drawn before anything is written."""

    index: int
    received_at: datetime
    fate: str  # see `_Planner.fates`
    screened: bool = False
    details: bool = True
    signs: tuple[str, ...] = ()
    lead_reviewed: bool = False
    follow_up: bool = False
    program: str = ""  # the admission's, the waitlist's or the held place's
    admit_at: datetime | None = None
    inquiry: Inquiry | None = None


def _weighted(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def call_times(count: int, now: datetime, zone: ZoneInfo, rng: random.Random) -> list[datetime]:
    """`count` call times over the last 365 days: a day by its weekday's weight, then a
    local hour by its weight and a minute; none later than two minutes ago."""
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=k) for k in range(DAYS)]
    day_weights = [WEEKDAY_WEIGHTS[d.weekday()] for d in days]
    times = []
    for _ in range(count):
        day = rng.choices(days, weights=day_weights)[0]
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        local = datetime.combine(day, clock_time(hour, rng.randint(0, 59)), tzinfo=zone)
        at = local.astimezone(ZoneInfo("UTC"))
        if at > now - timedelta(minutes=2):
            at -= timedelta(days=1)
        times.append(at)
    return sorted(times)


def stay_days(program: str, reason: int, rng: random.Random) -> float:
    """A length of stay in days (see LOG_NORMAL_STAYS); a drop-out leaves earlier."""
    if program in ("detox", "amb_wm"):
        days = float(_weighted(rng, DETOX_DAYS)) + (1 if program == "amb_wm" else 0)
    else:
        median, sigma, cap = LOG_NORMAL_STAYS[program]
        days = min(cap, math.exp(math.log(median) + sigma * rng.gauss(0, 1)))
    if reason in LEFT_WITHOUT_NOTICE:
        days *= rng.uniform(0.2, 0.7)
    return max(days, 1.0) + rng.uniform(0, 0.4)


def admission_delay(rng: random.Random) -> timedelta:
    """Assumption: from the call to the admission, 40% the same day, 30% in 1-3 days,
    20% in 4-10 days, 10% in 11-30 days."""
    draw = rng.random()
    if draw < 0.4:
        return timedelta(hours=rng.uniform(1, 8))
    if draw < 0.7:
        return timedelta(days=rng.uniform(1, 3))
    if draw < 0.9:
        return timedelta(days=rng.uniform(4, 10))
    return timedelta(days=rng.uniform(11, 30))


class _Planner:
    """Every call's fate, drawn up front with the seed so the writes can run in time
    order. Fates: admit (later, at `admit_at`), hold (a place held now), wait (on a
    waitlist now), wait_admit / wait_refer / wait_lost (on a waitlist, then leaving it
    now), referred_out, no_further_contact, information, open."""

    def __init__(self, calls: int, seed: int, now: datetime, zone: ZoneInfo) -> None:
        self.rng = random.Random(seed)  # nosec B311 # seeded synthetic data, not a secret
        self.now = now
        self.times = call_times(calls, now, zone, self.rng)

    def plans(self) -> list[CallPlan]:
        rng, now, n = self.rng, self.now, len(self.times)
        plans = [CallPlan(i, at, "") for i, at in enumerate(self.times)]
        crisis = set(rng.sample(range(n), round(CRISIS_SHARE * n)))
        free = [p for p in plans if p.index not in crisis]
        held = max(1, round(HELD_PER_CALL * n))
        for plan, key in zip(reversed(free), _cycle(HOLD_ORDER, held), strict=False):
            plan.fate, plan.program = "hold", key
        recent = [
            p
            for p in free
            if not p.fate and p.received_at >= now - timedelta(days=WAITLIST_FROM_DAYS)
        ]
        waiting = max(3, round(WAITING_PER_CALL * n))
        exits = max(3, round(WAITLIST_EXITS_PER_CALL * n))
        # A random sample, so the first `exits` of it are spread over the 90 days too.
        chosen = rng.sample(recent, min(len(recent), waiting + exits))
        leaving = _cycle(("wait_admit", "wait_refer", "wait_lost", "wait_admit"), exits)
        for number, plan in enumerate(chosen):
            plan.program = _weighted(rng, WAITLIST_WEIGHTS)
            plan.fate = leaving[number] if number < exits else "wait"
        admitted_now = sum(p.fate == "wait_admit" for p in plans)
        candidates = [p for p in plans if not p.fate and p.received_at <= now - timedelta(hours=2)]
        for plan in rng.sample(
            candidates, min(len(candidates), round(ADMITTED_SHARE * n) - admitted_now)
        ):
            plan.fate, plan.program = "admit", _weighted(rng, ADMIT_WEIGHTS)
            delay = admission_delay(rng)
            latest = now - plan.received_at - timedelta(minutes=30)
            if delay > latest:
                delay = latest * rng.uniform(0.3, 1.0)
            plan.admit_at = (plan.received_at + delay).replace(second=0, microsecond=0)
            if plan.admit_at <= plan.received_at:
                plan.admit_at = plan.received_at + timedelta(minutes=1)
        for plan in plans:
            plan.screened = bool(plan.fate)
        others = [p for p in plans if not p.screened]
        more = max(0, round(SCREENED_SHARE * n) - (n - len(others)))
        for plan in rng.sample(others, min(more, len(others))):
            plan.screened = True
        for plan in plans:
            if not plan.fate:
                plan.fate = self.ending(plan)
                plan.details = plan.screened or rng.random() < 0.85
        self.crisis(plans, crisis)
        for plan in plans:
            if plan.fate in ("open", "wait") and plan.details:
                plan.follow_up = rng.random() < 0.35
        return plans

    def ending(self, plan: CallPlan) -> str:
        """How a call that leads to no admission or waitlist ends (assumption)."""
        rng, age = self.rng, self.now - plan.received_at
        if plan.screened:
            if age <= timedelta(days=OPEN_SCREENED_DAYS) and rng.random() < 0.5:
                return "open"
            return _weighted(rng, {"referred_out": 45, "no_further_contact": 45, "information": 10})
        if age <= timedelta(days=OPEN_UNSCREENED_DAYS) and rng.random() < 0.25:
            return "open"
        return _weighted(rng, {"information": 55, "referred_out": 20, "no_further_contact": 25})

    def crisis(self, plans: list[CallPlan], chosen: set[int]) -> None:
        """Danger signs on the chosen calls; the lead reviews all but the last few."""
        rng = self.rng
        crisis = [p for p in plans if p.index in chosen]
        waiting = max(1, min(3, len(crisis) // 10))
        for number, plan in enumerate(crisis):
            plan.signs = rng.choice(
                (
                    ("unresponsive", "blue_lips"),
                    ("not_breathing",),
                    ("suicidal",),
                    ("suicidal",),
                    ("medical_emergency",),
                )
            )
            plan.lead_reviewed = number < len(crisis) - waiting


def _cycle(keys: tuple[str, ...], count: int) -> list[str]:
    return [keys[i % len(keys)] for i in range(count)]


class _Builder:
    """One admissions line's year, written through the services in time order."""

    def __init__(self, calls: int, seed: int) -> None:
        self.calls = calls
        self.seed = seed
        self.rng = random.Random(seed + 1)  # nosec B311 # seeded synthetic data, not a secret
        self.now = timezone.now().replace(second=0, microsecond=0)
        self.zone = ZoneInfo(TIME_ZONE)
        self.actors: dict[str, Actor] = {}
        self.programs: dict[str, Program] = {}
        self.no_capacity = 0
        self.sequence = 0

    # The organization, its facilities, programs and staff: rows, as the demo writes them.

    def staff(self) -> Organization:
        org = Organization.objects.create(name="Bench Admissions (synthetic)", slug=INTAKE_SLUG)
        facilities = [
            Facility.objects.create(organization=org, name=name, time_zone=TIME_ZONE)
            for name in FACILITIES
        ]
        for spec in PROGRAMS:
            self.programs[spec.key] = Program.objects.create(
                organization=org,
                facility=facilities[spec.facility],
                name=spec.name,
                asam_level=spec.asam_level,
                teds_service=spec.teds_service,
                is_24_hour=spec.is_24_hour,
                bed_capacity=spec.beds,
                otp_certified=spec.otp,
            )
        roles = {
            "desk1": "admissions",
            "desk2": "admissions",
            "desk3": "admissions",
            "night": "nurse",
            "nurse": "nurse",
            "lead": "physician",
            "director": "director",
        }
        for name, role in roles.items():
            username = f"{INTAKE_SLUG}-{name}"
            user = get_user_model().objects.create_user(
                username=username,
                first_name=name.title(),
                last_name="Bench",
                email=f"{username}@synthetic.invalid",
            )
            # Every member has a confirmed second factor, as the site requires.
            TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
            membership = Membership.objects.create(user=user, organization=org, role=role)
            self.actors[name] = actor_from_membership(membership)
        director = self.actors["director"]
        for spec in PROGRAMS:
            if spec.place_cap is not None:
                self.programs[spec.key] = program_place_cap_set(
                    director, self.programs[spec.key], spec.place_cap
                )
        # The withdrawal-management nurse is on those programs' staff, so on each
        # patient's care team: the safe-discharge bundle is theirs to record.
        for key in ("detox", "amb_wm"):
            program_staff_add(director, self.programs[key], self.actors["nurse"].user_id)
        return org

    def answerer(self, at: datetime) -> Actor:
        """The desk by day (three coordinators), the unit's night nurse from 23 to 7."""
        local = at.astimezone(self.zone)
        if local.hour >= 23 or local.hour < 7:
            return self.actors["night"]
        return self.actors[("desk1", "desk2", "desk3")[(local.day + local.hour // 8) % 3]]

    # The year, in time order.

    def fill(self) -> Line:
        org = self.staff()
        plans = _Planner(self.calls, self.seed, self.now, self.zone).plans()
        events: list[tuple[datetime, int, str, Any]] = []
        for plan in plans:
            self.push(events, plan.received_at, "call", plan)
        while events:
            at, _, kind, payload = heapq.heappop(events)
            with transaction.atomic():
                if kind == "call":
                    self.call(payload)
                    if payload.fate == "admit":
                        assert payload.admit_at is not None
                        self.push(events, payload.admit_at, "admit", payload)
                elif kind == "admit":
                    discharge = self.admit(payload)
                    if discharge is not None:
                        self.push(events, discharge[0], "discharge", discharge[1:])
                else:
                    self.discharge(at, *payload)
        self.today(plans)
        # The call page of someone waiting who told the most (substances), the earliest
        # such call: its screening, substances and waitlist entry are all on the page.
        waiting = [p.inquiry for p in plans if p.fate == "wait" and p.inquiry is not None]
        call = max(waiting, key=lambda i: (i.substances.count(), -i.pk), default=None)
        call = call or next(p.inquiry for p in plans if p.screened and p.inquiry)
        return Line(org, self.actors["desk1"], call, self.no_capacity)

    def push(
        self, events: list[tuple[datetime, int, str, Any]], at: datetime, kind: str, payload: Any
    ) -> None:
        self.sequence += 1
        heapq.heappush(events, (at, self.sequence, kind, payload))

    def call(self, plan: CallPlan) -> None:
        rng, desk = self.rng, self.answerer(plan.received_at)
        inquiry = inquiry_start(desk, signs=plan.signs, received_at=plan.received_at)
        if plan.signs:
            note = (
                "Caller gave naloxone; 911 on the way; he is breathing."
                if "suicidal" not in plan.signs
                else "Connected the caller to 988; stayed on the line until the warm handoff."
            )
            inquiry = crisis_note_add(desk, inquiry, note=note)
        if plan.details:
            inquiry = call_details_update(desk, inquiry, self.details(plan))
        if plan.screened:
            screening_record(desk, inquiry, self.answers(plan))
        if plan.lead_reviewed:
            inquiry = lead_review(
                self.actors["lead"], inquiry, note="Reviewed the advice given; appropriate."
            )
        ending = plan.fate
        if ending == "referred_out":
            inquiry = inquiry_conclude(
                desk,
                inquiry,
                outcome=Outcome.REFERRED_OUT,
                referred_to=rng.choice(REFERRED_TO),
                referral_out_reason=rng.choice(
                    ["level_not_offered", "payer", "preference", "preference", "medical"]
                ),
            )
        elif ending == "no_further_contact":
            inquiry = inquiry_conclude(
                desk,
                inquiry,
                outcome=Outcome.NO_FURTHER_CONTACT,
                note="Three call-backs unanswered.",
            )
        elif ending == "information":
            inquiry = inquiry_conclude(
                desk,
                inquiry,
                outcome=Outcome.INFORMATION,
                note=rng.choice(
                    ["Asked about costs and insurance.", "Asked about visiting hours.", "Hung up."]
                ),
            )
        if plan.follow_up:
            inquiry = follow_up_set(
                desk,
                inquiry,
                due_at=plan.received_at + timedelta(days=rng.choice([1, 2, 3, 7])),
                note="Call back about a place and the insurance.",
            )
        plan.inquiry = inquiry

    def details(self, plan: CallPlan) -> CallDetails:
        """Who called and the person (assumptions: 60% call for themselves, heroin or
        fentanyl first, mostly daily, injected or smoked; TEDS codes as domain §10.3)."""
        rng, received = self.rng, plan.received_at
        kind = _weighted(rng, {"self": 60, "family": 25, "friend": 5, "referrer": 10})
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        caller_phone = f"555-{rng.randint(0, 9999):04d}"
        source = 3 if kind == "referrer" else _weighted(rng, {1: 55, 2: 8, 3: 15, 6: 10, 7: 12})
        primary = SubstanceUse(
            rng.choice([5, 7, 7]), _weighted(rng, {4: 45, 2: 30, 3: 15, 1: 10}), "daily"
        )
        more = []
        if rng.random() < 0.35:
            more.append(SubstanceUse(rng.choice([13, 10, 3, 2]), rng.choice([1, 2, 3]), "3_6_week"))
        needs_person = plan.fate != "open" or plan.screened
        return CallDetails(
            caller_kind=kind,
            caller_name="" if kind == "self" else f"{rng.choice(GIVEN)} {family}",
            caller_relationship={"family": "parent", "friend": "friend"}.get(kind, ""),
            caller_phone=caller_phone,
            callback_ok=rng.random() < 0.9,
            message_ok=rng.random() < 0.5,
            given_name=given,
            family_name=family,
            date_of_birth=(
                date(rng.randint(1958, 2005), rng.randint(1, 12), rng.randint(1, 28))
                if needs_person or rng.random() < 0.8
                else None
            ),
            phone=f"555-{rng.randint(0, 9999):04d}" if rng.random() < 0.7 else "",
            substances=[primary, *more],
            last_use_at=received - timedelta(hours=rng.randint(2, 40))
            if rng.random() < 0.6
            else None,
            prior_treatment=_weighted(rng, {0: 35, 1: 55, -9: 10}),
            pregnancy="yes" if rng.random() < 0.02 else "unknown",
            last_overdose_on=(received - timedelta(days=rng.randint(1, 200))).date()
            if rng.random() < 0.12
            else None,
            referral_source=source,
            referring_organization=REFERRERS.get(source, ""),
        )

    def answers(self, plan: CallPlan) -> ScreenAnswers:
        """A screen that fits the program the person ends up in or waits for (or a
        drawn one); payer mix an assumption."""
        rng = self.rng
        need = plan.program or _weighted(rng, ADMIT_WEIGHTS)
        r = rng.randint
        if need == "detox":
            withdrawal = rng.choice(["moderate", "moderate", "severe", "mild"])
            ratings = [3, r(0, 1), r(0, 2), r(1, 3), r(2, 3), r(1, 3)]
        elif need == "amb_wm":
            withdrawal, ratings = "mild", [2, 0, r(0, 1), r(1, 2), 2, r(1, 2)]
        elif need == "residential":
            withdrawal = rng.choice(["none", "mild"])
            ratings = [1, r(0, 1), r(1, 2), r(2, 3), 3, 3]
        elif need == "php":
            withdrawal, ratings = "mild", [1, r(0, 1), r(1, 2), 2, r(2, 3), 2]
        elif need in ("iop_north", "iop_south"):
            withdrawal, ratings = rng.choice(["none", "mild"]), [r(0, 1), r(0, 1), 1, 2, 2, r(1, 2)]
        else:
            withdrawal, ratings = "none", [r(0, 1), 0, r(0, 1), r(1, 2), r(1, 2), 1]
        medical = ["alcohol_or_benzodiazepines"] if rng.random() < 0.12 else []
        if rng.random() < 0.08:
            medical.append("infection")
        payer = _weighted(
            rng,
            {
                "medicaid": 55,
                "private": 18,
                "state_funded": 10,
                "medicare": 5,
                "military": 2,
                "none": 5,
                "unknown": 5,
            },
        )
        authorization = {
            "medicaid": "approved",
            "private": rng.choice(["pending", "approved"]),
            "state_funded": "not_required",
        }.get(payer, "unknown")
        return ScreenAnswers(
            withdrawal_estimate=withdrawal,
            ratings=ratings,
            payer_type=payer,
            medical_flags=medical,
            psychiatric_flags=["severe_depression_or_anxiety"] if rng.random() < 0.15 else [],
            payer_member_id=f"M{rng.randint(0, 10**9):09d}"
            if payer in ("medicaid", "private")
            else "",
            authorization=authorization,
        )

    def admit(self, plan: CallPlan) -> tuple[datetime, Episode, str, int] | None:
        """Admit at the planned time; returns the discharge to come (if before now)."""
        assert plan.inquiry is not None and plan.admit_at is not None
        program = self.programs[plan.program]
        try:
            admitted = inquiry_admit(
                self.actors["desk1"],
                plan.inquiry,
                program,
                mrn=f"BI-{plan.index + 1:05d}",
                at=plan.admit_at,
            )
        except Conflict:
            # No place at that time: referred elsewhere, as the desk would.
            self.no_capacity += 1
            plan.fate = "referred_out"
            inquiry_conclude(
                self.actors["desk1"],
                plan.inquiry,
                outcome=Outcome.REFERRED_OUT,
                referred_to=REFERRED_TO[0],
                referral_out_reason="no_capacity",
            )
            return None
        reasons = DETOX_REASONS if plan.program in ("detox", "amb_wm") else REASONS[plan.program]
        reason = int(_weighted(self.rng, reasons))
        ends = plan.admit_at + timedelta(days=stay_days(plan.program, reason, self.rng))
        if ends >= self.now - timedelta(minutes=5):
            return None  # still in care
        return ends.replace(second=0, microsecond=0), admitted.episode, plan.program, reason

    def discharge(self, at: datetime, episode: Episode, key: str, reason: int) -> None:
        program = self.programs[key]
        # What the care team does before a planned discharge: the detox bundle (the
        # unit's nurse, on its care teams) and the aftercare plan (the director, who
        # may act for every care team, elsewhere).
        if reason not in LEFT_WITHOUT_NOTICE:
            who = "nurse" if program.is_withdrawal_management else "director"
            prepare_exit(self.actors[who], episode, program, at, ends_episode=True)
        episode_discharge(self.actors["director"], episode, reason=reason, at=at)

    # What the desk does today: the waitlists, their exits, and the held places.

    def today(self, plans: list[CallPlan]) -> None:
        desk = self.actors["desk1"]
        for plan in plans:
            if plan.fate.startswith("wait") and plan.inquiry is not None:
                with transaction.atomic():
                    entry = waitlist_add(desk, plan.inquiry, self.programs[plan.program])
                if plan.fate == "wait_refer":
                    waitlist_leave(
                        desk,
                        entry,
                        exit="referred",
                        reason="A place opened sooner elsewhere.",
                        referred_to=REFERRED_TO[3],
                        referral_out_reason="no_capacity",
                    )
                elif plan.fate == "wait_lost":
                    waitlist_leave(
                        desk, entry, exit="lost_contact", reason="Three call-backs unanswered."
                    )
                elif plan.fate == "wait_admit":
                    try:
                        inquiry_admit(
                            desk,
                            plan.inquiry,
                            self.programs[plan.program],
                            mrn=f"BI-{plan.index + 1:05d}",
                        )
                    except Conflict:
                        self.no_capacity += 1
        for plan in plans:
            if plan.fate == "hold" and plan.inquiry is not None:
                expected = self.now + timedelta(hours=self.rng.randint(1, 20))
                try:
                    place_hold(
                        desk, plan.inquiry, self.programs[plan.program], expected_at=expected
                    )
                except Conflict:
                    self.no_capacity += 1


def build(calls: int = DEFAULT_INTAKE_CALLS, seed: int = DEFAULT_SEED) -> Line:
    """A year of an admissions line with about `calls` calls in the current (migrated,
    empty) database."""
    if calls < 20:
        raise ValueError("The admissions line needs at least 20 calls.")
    return _Builder(calls, seed).fill()


def intake_data(line: Line) -> IntakeData:
    org = line.organization.pk
    now = timezone.now()
    calls = Inquiry.objects.filter(organization_id=org)
    first = calls.order_by("received_at").values_list("received_at", flat=True).first()
    since_30 = datetime.combine(
        today_for(line.coordinator) - timedelta(days=29), clock_time.min, tzinfo=ZoneInfo(TIME_ZONE)
    )
    outcomes = Counter(calls.values_list("outcome", flat=True))
    waiting = WaitlistEntry.objects.filter(organization_id=org, left_at__isnull=True)
    episodes = Episode.objects.filter(organization_id=org)
    return IntakeData(
        facilities=Facility.objects.filter(organization_id=org).count(),
        programs=Program.objects.filter(organization_id=org, is_active=True).count(),
        calls=calls.count(),
        calls_30_days=calls.filter(received_at__gte=since_30).count(),
        first_call_days_ago=(now - first).days if first else 0,
        screened_calls=calls.filter(screenings__isnull=False).distinct().count(),
        screenings=Screening.objects.filter(organization_id=org).count(),
        crisis_calls=calls.filter(lead_flagged=True).count(),
        lead_queue=calls.filter(lead_flagged=True, lead_reviewed_at__isnull=True).count(),
        open_calls=sum(n for outcome, n in outcomes.items() if outcome not in CLOSED_OUTCOMES),
        follow_ups_due=calls.filter(follow_up_due_at__lte=now).count(),
        admitted=outcomes[Outcome.ADMITTED],
        episodes_open=episodes.filter(status="open").count(),
        episodes_discharged=episodes.filter(status="discharged").count(),
        referred_out=outcomes[Outcome.REFERRED_OUT],
        no_capacity=line.no_capacity,
        waiting=waiting.count(),
        waitlist_programs=waiting.values("program").distinct().count(),
        waitlist_left=WaitlistEntry.objects.filter(
            organization_id=org, left_at__isnull=False
        ).count(),
        held=calls.filter(reservation__status="held").count(),
        audit_rows=AuditEvent.objects.count(),
    )


def coordinator_clients(line: Line) -> tuple[Client, Client, Client]:
    """The coordinator's browser (signed in, past the second factor), the same session
    as htmx asks (the bed board's refresh), and an API client with a personal token."""
    user = get_user_model().objects.get(pk=line.coordinator.user_id)
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(user)
    # What the verify step stores: the session has passed its second factor.
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    htmx = Client(HTTP_HOST="localhost", headers={"HX-Request": "true"})
    htmx.cookies = browser.cookies
    _, raw = token_create(line.coordinator, name="admissions screen", days=30)
    api = Client(HTTP_HOST="localhost", headers={"Authorization": f"Bearer {raw}"})
    return browser, htmx, api


def measure(line: Line, data: IntakeData, repeat: int = DEFAULT_INTAKE_REPEAT) -> list[PageResult]:
    """Time the nine pages, each after a warm-up (see `worker.measure_page`)."""
    browser, htmx, api = coordinator_clients(line)
    today = today_for(line.coordinator)
    metrics = reverse("intake:metrics")
    beds = reverse("intake:beds")
    call = line.call
    substances = call.substances.count()
    entry = call.waitlist.select_related("program").filter(left_at__isnull=True).first()
    waits_for = f"waiting for {entry.program.name}" if entry else f"outcome {call.outcome}"
    board = f"{data.programs} programs, {data.facilities} facilities"
    waiting = f"{data.waiting} waiting, {data.waitlist_programs} programs"
    pages: list[tuple[str, Client, str, str]] = [
        (
            "Desk",
            browser,
            reverse("intake:desk"),
            f"{data.open_calls:,} open calls (lists capped at {DESK_LIMIT})",
        ),
        ("Bed board", browser, beds, board),
        ("Bed board fragment", htmx, beds, f"{board}; HX-Request, polled every 30 s"),
        ("Waitlist", browser, reverse("intake:waitlist"), waiting),
        (
            "Metrics, 30 days",
            browser,
            f"{metrics}?start={today - timedelta(days=29)}&end={today}",
            f"{data.calls_30_days:,} calls in the period",
        ),
        (
            "Metrics, 365 days",
            browser,
            f"{metrics}?start={today - timedelta(days=364)}&end={today}",
            f"{data.calls:,} calls in the period",
        ),
        (
            "Call",
            browser,
            reverse("intake:call", kwargs={"inquiry_id": call.public_id}),
            f"{waits_for}: {call.screenings.count()} screening, {substances} substances",
        ),
        ("JSON beds", api, "/api/v1/beds", "personal token"),
        ("JSON waitlist", api, "/api/v1/waitlist", f"personal token; {waiting}"),
    ]
    results = []
    for name, client, path, note in pages:
        log(f"measure {name} ({repeat} requests)")
        results.append(measure_page(client, name, [path], repeat, note))
    return results


def run(
    calls: int = DEFAULT_INTAKE_CALLS,
    seed: int = DEFAULT_SEED,
    repeat: int = DEFAULT_INTAKE_REPEAT,
) -> IntakeResult:
    """Build the admissions line in the current database, then time its pages."""
    log(f"build a year of an admissions line, {calls:,} calls (seed {seed})")
    started = time.monotonic()
    line = build(calls, seed)
    build_s = time.monotonic() - started
    log(f"built in {build_s:.0f} s")
    analyze_after_load()
    data = intake_data(line)
    vendor, version = database_version()
    return IntakeResult(
        database=vendor,
        vendor=connection.vendor,
        version=version,
        seed=seed,
        calls=calls,
        migrate_s=0.0,
        build_s=round(build_s, 1),
        data=data,
        pages=measure(line, data, repeat),
    )


def run_in_worker(calls: int, seed: int, repeat: int) -> dict[str, Any]:
    """The `--worker intake` job: migrate the fresh database, then build and measure."""
    return migrated_run(lambda: run(calls, seed, repeat))
