"""The detox unit: server time of the pages a withdrawal-management unit lives on.

`build` fills a fresh, migrated database with one full unit, fixed by the seed: an
organization, a facility in America/New_York, a 3.7-WM program of `beds` beds, its
nurse and physician on the program's staff (so on every patient's care team), and a
patient in every bed, admitted at staggered times over the last one to four days.
Each has a medical admission, COWS and vital signs about every 4 hours, the default
comfort set and a scheduled order, and the doses charted so far (a few left due or
overdue, as on a real shift). Everything goes through the services the pages and the
API use, never raw inserts, so the rows, alerts and audit chain are what real use
leaves behind; the clock is the real one, times are in the past.

`measure` then times, through Django's test client and signed in as the nurse (a
session past its second factor), the unit board, the fragment the wall screen polls,
the JSON board (a personal token) and one patient's eMAR and flowsheet. The audit log
stays on: every read writes its audit row, which is part of the cost.

Pure measurement: the caller decides where the numbers go (`report.unit_section`).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
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
from stepwise.bench import DEFAULT_SEED, DEFAULT_UNIT_BEDS, DEFAULT_UNIT_REPEAT
from stepwise.bench.measure import (
    PageResult,
    analyze_after_load,
    database_version,
    log,
    measure_page,
    migrated_run,
)
from stepwise.care.management.commands.demo_load import FAMILY, GIVEN
from stepwise.care.models import Program, Stay
from stepwise.care.roster import program_staff_add
from stepwise.care.services import episode_admit
from stepwise.core.actor import Actor
from stepwise.core.models import AuditEvent, Facility, Organization
from stepwise.instruments.models import Assessment
from stepwise.instruments.registry import INSTRUMENTS
from stepwise.instruments.services import assessment_record
from stepwise.patients.models import Alert, AlertStatus, Patient
from stepwise.patients.services import PatientData, patient_create
from stepwise.withdrawal.models import Administration, MedicationOrder, VitalSigns
from stepwise.withdrawal.rules import schedule
from stepwise.withdrawal.rules.admission import MedicalAdmissionData, SubstanceUse
from stepwise.withdrawal.rules.vitals import Responsiveness, Vitals
from stepwise.withdrawal.services.admissions import medical_admission_record
from stepwise.withdrawal.services.discharge import bundle_item_record
from stepwise.withdrawal.services.medications import (
    OrderInput,
    administration_record,
    followup_record,
    order_create,
    order_set_apply,
)
from stepwise.withdrawal.services.observations import vitals_record

# Admissions are spread evenly over this many hours before now (one to four days).
ADMITTED_HOURS = (24.0, 96.0)
TIME_ZONE = "America/New_York"
UNIT_SLUG = "bench-unit"
# COWS and vital signs together, at the unit's default reassessment rhythm.
READING_EVERY = timedelta(hours=4)
# The last reading is up to this long ago: due from 3.5 hours, overdue past 4, so a
# shift's board has a few of each.
LATEST_READING = timedelta(hours=5)
# A charted dose's effectiveness check comes this long after it (due after 60 min).
FOLLOWUP_AFTER = timedelta(minutes=65)
PRN_DRUGS = ("ibuprofen", "loperamide", "ondansetron", "hydroxyzine")


@dataclass
class UnitData:
    """What the unit holds when it is measured."""

    beds: int
    patients: int
    hours_min: float  # the shortest and longest stay so far
    hours_max: float
    cows: int
    vitals: int
    orders: int
    doses: int  # charted administrations: given, held or refused
    followups: int  # effectiveness checks charted
    open_alerts: int
    audit_rows: int


@dataclass
class UnitResult:
    database: str
    vendor: str
    version: str
    seed: int
    beds: int
    migrate_s: float
    build_s: float
    data: UnitData
    pages: list[PageResult] = field(default_factory=list)


@dataclass
class Unit:
    """The handles a measurement needs: the program, its nurse, the patient whose eMAR
    and flowsheet are read (the longest stay: the most rows)."""

    program: Program
    nurse: Actor
    patient: Patient
    bed: int | None  # a full unit: every patient has a numbered bed
    hours: float


def cows_answers(total: int, rng: random.Random) -> dict[str, int]:
    """COWS answers adding up to `total` or just under: from the lowest anchor of each
    sign, random signs are raised one anchor at a time while they fit."""
    allowed = {item.id: sorted(a.value for a in item.anchors) for item in INSTRUMENTS["cows"].items}
    answers = {item: values[0] for item, values in allowed.items()}
    while True:
        room = total - sum(answers.values())
        steps = [
            (item, higher[0])
            for item, values in allowed.items()
            if (higher := [v for v in values if v > answers[item]])
            and higher[0] - answers[item] <= room
        ]
        if not steps:
            return answers
        item, value = rng.choice(steps)
        answers[item] = value


def cows_total(hours_since_use: float, rng: random.Random) -> int:
    """Short-acting opioid withdrawal, eased by comfort medication: mild on arrival,
    worst around 36 to 48 hours after last use, then settling."""
    peak = math.exp(-(((hours_since_use - 42) / 28) ** 2))
    return max(0, min(30, round(3 + 10 * peak + rng.randint(-2, 3))))


def _readings(arrived: datetime, now: datetime, rng: random.Random) -> list[datetime]:
    """About every 4 hours from arrival, the last one 10 minutes to 5 hours ago."""
    until = now - timedelta(minutes=rng.randint(10, int(LATEST_READING.total_seconds() // 60)))
    at, times = arrived + timedelta(minutes=30), []
    while at <= until:
        times.append(at)
        at += READING_EVERY + timedelta(minutes=rng.randint(-20, 20))
    return times


def _spacing(order: MedicationOrder) -> timedelta:
    return timedelta(hours=order.frequency_info.prn_every_hours or 0)


class _Builder:
    """One unit's data, written through the services as the staff would."""

    def __init__(self, beds: int, seed: int) -> None:
        self.beds = beds
        self.seed = seed
        self.arrivals = random.Random(seed)  # nosec B311 # seeded synthetic data, not a secret
        self.rng = self.arrivals
        self.now = timezone.now().replace(second=0, microsecond=0)
        self.zone = ZoneInfo(TIME_ZONE)
        self.actors: dict[str, Actor] = {}

    def staff(self) -> tuple[Program, dict[str, Actor]]:
        # No service creates an organization, facility or program; the demo and synth
        # write them as rows too.
        org = Organization.objects.create(name="Bench Unit (synthetic)", slug=UNIT_SLUG)
        facility = Facility.objects.create(
            organization=org, name="Bench Recovery Center", time_zone=TIME_ZONE
        )
        program = Program.objects.create(
            organization=org,
            facility=facility,
            name="Residential withdrawal management",
            asam_level="3.7-WM",
            teds_service=2,
            is_24_hour=True,
            bed_capacity=self.beds,
        )
        assert program.is_withdrawal_management
        actors: dict[str, Actor] = {}
        for role in ("admissions", "nurse", "physician", "director"):
            username = f"{UNIT_SLUG}-{role}"
            user = get_user_model().objects.create_user(
                username=username,
                first_name=role.title(),
                last_name="Bench",
                email=f"{username}@synthetic.invalid",
            )
            # Every member has a confirmed second factor, as the site requires.
            TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
            membership = Membership.objects.create(user=user, organization=org, role=role)
            actors[role] = actor_from_membership(membership)
        return program, actors

    def fill(self) -> Unit:
        program, actors = self.staff()
        self.actors.update(actors)
        # The unit's nurse and physician are its staff: admission puts them on the team.
        for role in ("nurse", "physician"):
            program_staff_add(actors["director"], program, actors[role].user_id)
        low, high = ADMITTED_HOURS
        longest: tuple[float, Patient, int | None] | None = None
        for index in range(self.beds):
            hours = high - (high - low) * (index + self.arrivals.random()) / self.beds
            # Each bed draws from its own stream: how many scheduled doses fall due
            # depends on the time of day the bench runs, and must not shift the next bed.
            self.rng = random.Random(self.seed * 1_000 + index)  # nosec B311 # as above
            # One transaction per patient, as the demo does: the rows are the services'
            # own, without a commit (and fsync) for each of them.
            with transaction.atomic():
                patient, bed = self.bed(index, program, self.now - timedelta(hours=hours))
            if longest is None or hours > longest[0]:
                longest = (hours, patient, bed)
        assert longest is not None
        return Unit(program, actors["nurse"], longest[1], longest[2], round(longest[0], 1))

    def bed(self, index: int, program: Program, arrived: datetime) -> tuple[Patient, int | None]:
        rng = self.rng
        patient = patient_create(
            self.actors["admissions"],
            PatientData(
                mrn=f"U-{index + 1:03d}",
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                date_of_birth=(self.now - timedelta(days=rng.randint(19 * 365, 62 * 365))).date(),
                sex=rng.choice(["1", "1", "2"]),
            ),
        )
        episode = episode_admit(
            self.actors["admissions"],
            patient,
            program,
            at=arrived,
            referral_source=rng.choice([1, 1, 2, 3, 7]),
        )
        bed = episode.stays.get().bed_number
        fentanyl = index % 3 == 1
        last_use = arrived - timedelta(hours=rng.randint(8, 18))
        self.admission(index, patient, arrived, last_use, fentanyl)
        self.readings(index, patient, arrived, last_use)
        comfort = order_set_apply(
            self.actors["physician"], patient, starts_at=arrived + timedelta(minutes=50)
        ).orders
        scheduled = self.scheduled_order(patient, arrived, fentanyl)
        self.scheduled_doses(scheduled, leave_last=index % 5 == 0)
        self.prn_doses({o.drug: o for o in comfort}, arrived)
        if self.now - arrived > timedelta(days=3):
            self.bundle(patient)
        return patient, bed

    def admission(
        self, index: int, patient: Patient, arrived: datetime, last_use: datetime, fentanyl: bool
    ) -> None:

        opioid = SubstanceUse(
            "fentanyl" if fentanyl else "heroin",
            ("iv",) if index % 2 == 0 else ("smoked", "snorted"),
            "powder",
            "10-15 pressed pills a day" if fentanyl else "about 1 g a day",
            "daily",
            last_use,
        )
        benzodiazepines = SubstanceUse("benzodiazepines", ("oral",), "pill", "2 mg", "3_6_week")
        medical_admission_record(
            self.actors["nurse"],
            patient,
            MedicalAdmissionData(
                substances=(opioid, benzodiazepines) if index % 4 == 3 else (opioid,),
                past_overdoses=index % 3,
                fentanyl_exposure="yes" if fentanyl else "unknown",
                complications=("abscess",) if index % 5 == 2 else (),
                tests={
                    "hiv": "negative",
                    "hbv": "negative" if index % 2 else "declined",
                    "hcv": "positive" if index % 4 == 0 else "pending",
                },
                hbv_vaccinated="no" if index % 2 else "unknown",
                no_known_allergies=index % 3 != 2,
                allergies="Penicillin (rash)" if index % 3 == 2 else "",
                pregnancy="negative" if patient.sex == "2" else "not_applicable",
            ),
            recorded_at=arrived + timedelta(minutes=40),
        )

    def readings(self, index: int, patient: Patient, arrived: datetime, last_use: datetime) -> None:
        rng, nurse = self.rng, self.actors["nurse"]
        times = _readings(arrived, self.now, rng)
        for number, at in enumerate(times):
            total = cows_total((at - last_use).total_seconds() / 3600, rng)
            assessment_record(nurse, patient, "cows", cows_answers(total, rng), observed_at=at)
            signs = Vitals(
                pulse=74 + total + rng.randint(-4, 4),
                systolic=118 + total // 2 + rng.randint(-6, 6),
                diastolic=74 + total // 4 + rng.randint(-4, 4),
                respiratory_rate=16 + rng.randint(-2, 2),
                spo2=97 + rng.randint(0, 2),
                temperature_c=Decimal("36.8") + Decimal(rng.randint(-3, 4)) / 10,
                responsiveness=Responsiveness.ALERT,
            )
            if index == 3 and number == len(times) - 1:
                # Benzodiazepines on top of opioids: one over-sedation alarm on the unit.
                signs = Vitals(
                    pulse=58,
                    systolic=104,
                    diastolic=64,
                    respiratory_rate=9,
                    spo2=90,
                    responsiveness=Responsiveness.VOICE,
                )
            vitals_record(nurse, patient, signs, observed_at=at)

    def scheduled_order(
        self, patient: Patient, arrived: datetime, fentanyl: bool
    ) -> MedicationOrder:
        # Lofexidine four times a day for fentanyl, clonidine every 6 hours otherwise.
        drug, dose, frequency = (
            ("lofexidine", Decimal("0.54"), "qid")
            if fentanyl
            else ("clonidine", Decimal("0.1"), "q6h")
        )
        return order_create(
            self.actors["physician"],
            patient,
            OrderInput(
                drug=drug,
                dose_mg=dose,
                route="oral",
                frequency=frequency,
                instructions="Hold for systolic below 90 or pulse below 55.",
                starts_at=arrived + timedelta(hours=1),
            ),
        )

    def scheduled_doses(self, order: MedicationOrder, *, leave_last: bool) -> None:
        """Every scheduled dose up to 45 minutes ago, a few held; some beds leave the
        latest one uncharted (overdue on the board)."""
        slots = schedule.scheduled_doses(
            frequency_code=order.frequency,
            dose_mg=order.dose_mg,
            taper=[],
            starts_at=order.starts_at,
            ends_at=None,
            window_start=order.starts_at,
            window_end=self.now - timedelta(minutes=45),
            zone=self.zone,
        )
        if leave_last:
            slots = slots[:-1]
        for slot in slots:
            at = min(slot.due_at + timedelta(minutes=self.rng.randint(-15, 30)), self.now)
            if self.rng.random() < 0.08:
                administration_record(
                    self.actors["nurse"],
                    order,
                    outcome="held",
                    at=at,
                    scheduled_for=slot.due_at,
                    reason="Asleep at the dose time; held per the order's hold rule.",
                )
            else:
                administration_record(
                    self.actors["nurse"], order, outcome="given", at=at, scheduled_for=slot.due_at
                )

    def prn_doses(self, orders: dict[str, MedicationOrder], arrived: datetime) -> None:
        """As-needed doses every 5 to 9 hours, each drug within its own spacing, and
        trazodone at bedtime; a check charted an hour later once it has come due."""
        rng, nurse = self.rng, self.actors["nurse"]
        given: list[tuple[Administration, datetime]] = []
        last: dict[str, datetime] = {}
        at = arrived + timedelta(hours=2)
        until = self.now - timedelta(minutes=20)
        while at <= until:
            ready = [
                drug
                for drug in PRN_DRUGS
                if drug not in last or at - last[drug] >= _spacing(orders[drug])
            ]
            if ready:
                drug = rng.choice(ready)
                dose = administration_record(nurse, orders[drug], outcome="given", at=at)
                given.append((dose, at))
                last[drug] = at
            at += timedelta(minutes=rng.randint(5 * 60, 9 * 60))
        for bedtime in self._bedtimes(arrived, until):
            dose = administration_record(nurse, orders["trazodone"], outcome="given", at=bedtime)
            given.append((dose, bedtime))
        self.followups(given)

    def _bedtimes(self, arrived: datetime, until: datetime) -> Iterator[datetime]:
        day = arrived.astimezone(self.zone).date()
        while True:
            at = schedule.local_instant(day, clock_time(22), self.zone) + timedelta(
                minutes=self.rng.randint(-30, 45)
            )
            if at > until:
                return
            if at > arrived + timedelta(hours=2):
                yield at
            day += timedelta(days=1)

    def followups(self, given: list[tuple[Administration, datetime]]) -> None:
        for dose, at in given:
            checked = at + FOLLOWUP_AFTER + timedelta(minutes=self.rng.randint(0, 20))
            if checked <= self.now - timedelta(minutes=5):
                followup_record(
                    self.actors["nurse"],
                    dose,
                    result=self.rng.choice(["effective", "effective", "partly", "not_effective"]),
                    at=checked,
                )

    def bundle(self, patient: Patient) -> None:
        """Day four: the safe-discharge bundle under way."""
        done_at = self.now - timedelta(hours=2)
        for item in ("naloxone_kit", "overdose_education"):
            bundle_item_record(self.actors["nurse"], patient, item=item, state="done", at=done_at)


def build(beds: int = DEFAULT_UNIT_BEDS, seed: int = DEFAULT_SEED) -> Unit:
    """A full unit of `beds` beds in the current (migrated, empty) database."""
    if beds < 1:
        raise ValueError("The unit needs at least one bed.")
    return _Builder(beds, seed).fill()


def unit_data(unit: Unit) -> UnitData:
    org = unit.program.organization_id
    stays = Stay.objects.filter(program=unit.program, ended_at__isnull=True)
    now = timezone.now()
    hours = [(now - s.started_at).total_seconds() / 3600 for s in stays]
    return UnitData(
        beds=unit.program.bed_capacity or 0,
        patients=len(hours),
        hours_min=round(min(hours, default=0), 1),
        hours_max=round(max(hours, default=0), 1),
        cows=Assessment.objects.filter(organization_id=org, instrument="cows").count(),
        vitals=VitalSigns.objects.filter(organization_id=org).count(),
        orders=MedicationOrder.objects.filter(organization_id=org).count(),
        doses=Administration.objects.filter(organization_id=org).count(),
        followups=Administration.objects.filter(
            organization_id=org, followup_at__isnull=False
        ).count(),
        open_alerts=Alert.objects.filter(organization_id=org, status=AlertStatus.OPEN).count(),
        audit_rows=AuditEvent.objects.count(),
    )


def nurse_clients(unit: Unit) -> tuple[Client, Client]:
    """The nurse's browser (signed in, past the second factor) and an API client with
    the nurse's personal token."""
    user = get_user_model().objects.get(pk=unit.nurse.user_id)
    browser = Client(HTTP_HOST="localhost")
    browser.force_login(user)
    # What the verify step stores: the session has passed its second factor.
    session = browser.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    _, raw = token_create(unit.nurse, name="unit board screen", days=30)
    api = Client(HTTP_HOST="localhost", headers={"Authorization": f"Bearer {raw}"})
    return browser, api


def measure(unit: Unit, repeat: int = DEFAULT_UNIT_REPEAT) -> list[PageResult]:
    """Time the five pages, each after a warm-up (see `worker.measure_page`)."""
    browser, api = nurse_clients(unit)
    program_id = unit.program.public_id
    board = reverse("withdrawal:board", kwargs={"program_id": program_id})
    patient = {"public_id": unit.patient.public_id}
    beds = unit.program.bed_capacity
    orders = MedicationOrder.objects.filter(patient=unit.patient).count()
    doses = Administration.objects.filter(patient=unit.patient).count()
    cows = Assessment.objects.filter(patient=unit.patient, instrument="cows").count()
    vitals = VitalSigns.objects.filter(patient=unit.patient).count()
    one = f"bed {unit.bed}, {unit.hours:.0f} h in"
    pages: list[tuple[str, Client, str, str]] = [
        ("Unit board", browser, board, f"{beds} beds, the whole page"),
        (
            "Board fragment",
            browser,
            f"{board}?fragment=1&wall=1",
            "what the wall screen polls every 60 s",
        ),
        ("JSON board", api, f"/api/v1/units/{program_id}/board", "personal token"),
        (
            "eMAR",
            browser,
            reverse("medications:record", kwargs=patient),
            f"{one}: {orders} orders, {doses} doses",
        ),
        (
            "Flowsheet",
            browser,
            reverse("withdrawal:flowsheet", kwargs=patient),
            f"{one}: {cows} COWS, {vitals} vital signs",
        ),
    ]
    results = []
    for name, client, path, note in pages:
        log(f"measure {name} ({repeat} requests)")
        results.append(measure_page(client, name, [path], repeat, note))
    return results


def run(
    beds: int = DEFAULT_UNIT_BEDS, seed: int = DEFAULT_SEED, repeat: int = DEFAULT_UNIT_REPEAT
) -> UnitResult:
    """Build the unit in the current database, then time its pages."""
    log(f"build a {beds}-bed unit (seed {seed})")
    started = time.monotonic()
    unit = build(beds, seed)
    build_s = time.monotonic() - started
    analyze_after_load()
    data = unit_data(unit)
    vendor, version = database_version()
    return UnitResult(
        database=vendor,
        vendor=connection.vendor,
        version=version,
        seed=seed,
        beds=beds,
        migrate_s=0.0,
        build_s=round(build_s, 1),
        data=data,
        pages=measure(unit, repeat),
    )


def run_in_worker(beds: int, seed: int, repeat: int) -> dict[str, Any]:
    """The `--worker unit` job: migrate the fresh database, then build and measure."""
    return migrated_run(lambda: run(beds, seed, repeat))
