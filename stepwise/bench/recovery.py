"""Recovery's pages: returns to use, drug screens, treatment plans, aftercare and sober
living, on top of the programs' schedule after twelve weeks.

`build` first builds the schedule part's organization (`schedule.build`, same seed and
sizes: a day program, two evening IOPs and outpatient, their admissions, discharges and
every session's attendance; each discharge prepares its aftercare plan through care's
exit preparation). Then, through the services, in time order per patient:

- **Treatment plans.** The program's counselor writes and signs a plan for every open
  episode (three problems tied to ASAM dimensions, goals, four objectives with target
  dates, session and medication interventions, the patient's words); a patient in care
  more than 30 days has had a review signed (`review_start`, a changed objective,
  `version_sign`) for every 30 days, at most two. Signing stamps the build's time, so no
  scheduled review is due yet when the pages are measured.
- **Drug screens.** Every patient in care in the day program or an IOP gives an
  observed cup weekly from their second day (results at once, an eight-analyte panel);
  `BUPRENORPHINE_SHARE` take buprenorphine (its positive expected). One cup in
  `POSITIVE_EVERY` shows fentanyl: `screen_record` proposes a return to use.
- **Returns to use.** The counselor confirms `CONFIRMED_SHARE` of the proposals (a
  lapse or relapse the day before the cup) and dismisses the rest with a reason. Every
  confirmed response but the newest `OPEN_RESPONSES` is finished: naloxone, MOUD and
  outreach done, the reassessment and the plan review declined with reasons. The
  measured patient (the first IOP's longest stay) has cups showing fentanyl in weeks 3
  and 7 of the stay: the first confirmed with its response done, the second confirmed
  and open.
- **Sober living.** One residence, a men's house of `MEN_BEDS` beds and a women's of
  `WOMEN_BEDS`; the case manager moves patients of the day program and the IOPs in (the
  measured patient first, then by admission) until `OCCUPIED_SHARE` of the beds are
  taken, two days after admission; every resident's curfew is marked for each of the
  last `CURFEW_NIGHTS` nights they lived there, and a third of them had a test at the
  house this week.

`measure` then times, through Django's test client as the first IOP's counselor (a
session past its second factor): the measured patient's chart, recovery page and
treatment plan, the aftercare plan of that IOP's latest planned discharge, the men's
house (tonight's curfew list), the counselor's worklist, the recovery JSON with a
personal token, and a drug screen recorded through the form (POST; a negative cup with
buprenorphine expected, so nothing is proposed).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from stepwise.aftercare.models import AftercarePlan
from stepwise.aftercare.services.plans import plan_start as aftercare_start
from stepwise.bench import (
    DEFAULT_RECOVERY_REPEAT,
    DEFAULT_SCHEDULE_IOP,
    DEFAULT_SCHEDULE_OP,
    DEFAULT_SCHEDULE_PHP,
    DEFAULT_SCHEDULE_WEEKS,
    DEFAULT_SEED,
)
from stepwise.bench import schedule as base
from stepwise.bench.intake import LEFT_WITHOUT_NOTICE
from stepwise.bench.measure import (
    PageResult,
    analyze_after_load,
    database_version,
    log,
    measure_page,
    migrated_run,
)
from stepwise.care.models import Episode, Stay
from stepwise.core.actor import Actor
from stepwise.core.models import AuditEvent
from stepwise.patients.models import Patient
from stepwise.plans.models import PlanVersion
from stepwise.plans.rules.content import Content, Goal, Intervention, Objective, Problem
from stepwise.plans.services.drafts import draft_save, plan_start
from stepwise.plans.services.versions import review_start, version_sign
from stepwise.recovery.models import DrugScreen, RelapseEvent, ResponseItem
from stepwise.recovery.rules.relapse import Item, MoudAnswer
from stepwise.recovery.services.relapse import (
    UseDetails,
    relapse_confirm,
    relapse_dismiss,
    response_item_record,
)
from stepwise.recovery.services.screens import ScreenInput, screen_record
from stepwise.residences.models import Bed, CurfewCheckIn, House, HouseFor, Residency
from stepwise.residences.services.curfew import curfew_record, night_curfew, tonight
from stepwise.residences.services.residency import residency_move_in
from stepwise.residences.services.setup import (
    HouseData,
    ResidenceData,
    bed_create,
    house_create,
    residence_create,
)

PANEL = (
    "fentanyl",
    "opiates",
    "buprenorphine",
    "methadone",
    "oxycodone",
    "cocaine",
    "amphetamine",
    "benzodiazepines",
)
# Assumptions for a synthetic program, not published figures: two in three patients of
# the day program and the IOPs on buprenorphine, one cup in twenty-five showing
# fentanyl, most proposals confirmed by the counselor.
BUPRENORPHINE_SHARE = 0.65
POSITIVE_EVERY = 25
CONFIRMED_SHARE = 0.75
OPEN_RESPONSES = 4
REVIEW_EVERY_DAYS = 30
MEASURED_POSITIVE_WEEKS = (3, 7)
MEN_BEDS, WOMEN_BEDS = 12, 8
OCCUPIED_SHARE = 0.75
CURFEW_NIGHTS = 14
SCREENED_PROGRAMS = ("php", "iop_a", "iop_b")
# TEDS codes: other opiates and synthetics; smoking.
FENTANYL_SUBSTANCE, SMOKED = 7, 2


@dataclass
class RecoveryData:
    """What recovery holds when it is measured."""

    plans: int
    plan_versions: int
    screens: int
    screens_positive: int
    relapses_confirmed: int
    relapses_dismissed: int
    responses_open: int
    items_done: int
    items_declined: int
    residents: int
    beds: int
    curfew_marks: int
    house_tests: int
    aftercare_plans: int
    measured_screens: int
    measured_relapses: int
    audit_rows: int


@dataclass
class RecoveryResult:
    database: str
    vendor: str
    version: str
    seed: int
    iop: int
    php: int
    op: int
    weeks: int
    migrate_s: float
    schedule_s: float
    build_s: float
    schedule: base.ScheduleData
    data: RecoveryData
    pages: list[PageResult] = field(default_factory=list)


@dataclass
class Built:
    """The handles a measurement needs."""

    schedule: base.Built
    patient: Patient  # the first IOP's longest stay: screens, relapses, plan, a bed
    discharged: Patient  # the first IOP's latest planned discharge: an aftercare plan
    house: House  # the men's house


def _content(rng: random.Random, start: date, key: str, words: str) -> Content:
    """A plan as the program's counselor writes it (the demo's shape, shorter)."""
    groups = 5 if key == "php" else 3 if key.startswith("iop") else 1

    def session(code: str, per_week: int, role: str = "counselor") -> Intervention:
        return Intervention(
            kind="session", responsible_role=role, session_type=code, sessions_per_week=per_week
        )

    def by(days: int) -> date:
        return start + timedelta(days=days + rng.randint(0, 5))

    return Content(
        problems=(
            Problem(
                dimension=5,
                statement="High risk of return to opioid use after years of daily use.",
                goals=(
                    Goal(
                        "Stay free of opioids and other drugs.",
                        objectives=(
                            Objective("Negative weekly screens for four weeks.", by(28)),
                            Objective("Name three triggers and a plan for each.", by(14)),
                        ),
                        interventions=(
                            session("group_therapy", groups),
                            session("relapse_prevention", min(groups, 3)),
                        ),
                    ),
                ),
                interventions=(
                    Intervention(
                        kind="medication",
                        responsible_role="physician",
                        medication="Buprenorphine-naloxone 16 mg daily with the prescriber",
                    ),
                ),
            ),
            Problem(
                dimension=6,
                statement="Lives with a partner who still uses.",
                goals=(
                    Goal(
                        "Live in a safe, substance-free place.",
                        objectives=(Objective("Apply to a sober living house.", by(21)),),
                        interventions=(session("individual_therapy", 1),),
                    ),
                ),
            ),
            Problem(
                dimension=3,
                statement="Anxiety and poor sleep treated with opioids.",
                goals=(
                    Goal(
                        "Manage anxiety without using.",
                        objectives=(Objective("Use a coping skill on five anxious days.", by(35)),),
                        interventions=(session("life_skills", 1, "case_manager"),),
                    ),
                ),
            ),
        ),
        patient_words=words,
    )


WORDS = (
    "I want to stay alive and get my kids back.",
    "Keep my job and stop lying to my family.",
    "Stay clean and find a place of my own.",
)


class _Builder:
    def __init__(self, built: base.Built, seed: int) -> None:
        self.built = built
        self.org = built.organization
        self.rng = random.Random(seed + 11)  # nosec B311 # seeded synthetic data, not a secret
        self.zone = ZoneInfo(base.TIME_ZONE)
        self.now = timezone.now()
        self.counselor_of = {
            spec.key: self._actor(f"{base.SCHEDULE_SLUG}-{spec.staff[0]}") for spec in base.PROGRAMS
        }
        self.case_manager = self._actor(f"{base.SCHEDULE_SLUG}-case-manager")
        self.director = self._actor(f"{base.SCHEDULE_SLUG}-director")
        self.key_of = {program.pk: key for key, program in built.programs.items()}

    def _actor(self, username: str) -> Actor:
        from stepwise.accounts.models import Membership
        from stepwise.accounts.selectors import actor_from_membership

        return actor_from_membership(
            Membership.objects.select_related("user").get(
                organization=self.org, user__username=username
            )
        )

    def fill(self) -> Built:
        stays = list(
            Stay.objects.filter(organization=self.org, ended_at__isnull=True)
            .select_related("episode__patient", "program")
            .order_by("started_at", "id")
        )
        measured = self.built.patient
        for stay in stays:
            with transaction.atomic():
                self.plan(stay)
        for stay in stays:
            if self.key_of[stay.program_id] in SCREENED_PROGRAMS:
                self.screens(stay, measured=stay.episode.patient_id == measured.pk)
        self.relapses(measured)
        house = self.residence(stays, measured)
        return Built(self.built, measured, self.discharged(), house)

    # Treatment plans.

    def plan(self, stay: Stay) -> None:
        key = self.key_of[stay.program_id]
        counselor = self.counselor_of[key]
        patient = stay.episode.patient
        start = stay.started_at.astimezone(self.zone).date()
        words = self.rng.choice(WORDS)
        version = plan_start(counselor, patient)
        version = draft_save(counselor, version, _content(self.rng, start, key, words))
        version = version_sign(counselor, version)
        reviews = min(2, (self.now - stay.started_at).days // REVIEW_EVERY_DAYS)
        for n in range(reviews):
            draft = review_start(
                counselor,
                version.plan,
                trigger="scheduled",
                why=f"Review {n + 1} with the patient: progress on each objective.",
            )
            later = start + timedelta(days=REVIEW_EVERY_DAYS * (n + 1))
            version = draft_save(counselor, draft, _content(self.rng, later, key, words))
            version = version_sign(counselor, version)

    # Drug screens.

    def screens(self, stay: Stay, *, measured: bool) -> None:
        counselor = self.counselor_of[self.key_of[stay.program_id]]
        patient = stay.episode.patient
        on_bup = measured or self.rng.random() < BUPRENORPHINE_SHARE
        first = stay.started_at + timedelta(days=1)
        cups = [
            first + timedelta(weeks=n)
            for n in range(52)
            if first + timedelta(weeks=n) < self.now - timedelta(hours=1)
        ]
        # A short stay (a small build) still shows the measured patient's two returns.
        marked = {w for w in MEASURED_POSITIVE_WEEKS if w <= len(cups)}
        if len(marked) < len(MEASURED_POSITIVE_WEEKS):
            marked = {1, len(cups)}
        for week, at in enumerate(cups, start=1):
            positive = week in marked if measured else self.rng.randrange(POSITIVE_EVERY) == 0
            results = dict.fromkeys(PANEL, "negative")
            if on_bup:
                results["buprenorphine"] = "positive"
            if positive:
                results["fentanyl"] = "positive"
            screen_record(
                counselor,
                patient,
                ScreenInput(
                    collected_at=at,
                    observed=True,
                    medications=["buprenorphine"] if on_bup else [],
                    results=results,
                ),
            )

    # Returns to use, oldest first.

    def relapses(self, measured: Patient) -> None:
        proposed = list(
            RelapseEvent.objects.filter(organization=self.org, status="proposed")
            .select_related("patient")
            .order_by("used_on", "id")
        )
        confirmed: list[RelapseEvent] = []
        for event in proposed:
            counselor = self._counselor_for(event.patient)
            is_measured = event.patient_id == measured.pk
            if is_measured or self.rng.random() < CONFIRMED_SHARE:
                used_on = event.used_on or self.now.astimezone(self.zone).date()
                confirmed.append(
                    relapse_confirm(
                        counselor,
                        event,
                        UseDetails(
                            used_on=used_on - timedelta(days=1),
                            kind=self.rng.choice(["lapse", "relapse"]),
                            substances=[FENTANYL_SUBSTANCE],
                            route=SMOKED,
                            context="A weekend with an old friend who still uses.",
                            triggers="Payday; the old neighbourhood.",
                        ),
                    )
                )
            else:
                relapse_dismiss(
                    counselor, event, reason="The laboratory's confirmation was negative."
                )
        # Every response finished except the newest few, and the measured patient's last.
        ordered = sorted(confirmed, key=_newest)
        still_open = {e.pk for e in ordered[-OPEN_RESPONSES:]}
        still_open |= {e.pk for e in ordered if e.patient_id == measured.pk}
        still_open.discard(next((e.pk for e in ordered if e.patient_id == measured.pk), 0))
        for event in confirmed:
            if event.pk not in still_open:
                self.respond(event)

    def _counselor_for(self, patient: Patient) -> Actor:
        stay = (
            Stay.objects.filter(episode__patient=patient)
            .order_by("-started_at", "-id")
            .values_list("program_id", flat=True)
            .first()
        )
        return self.counselor_of[self.key_of[stay]] if stay else self.built.counselor

    def respond(self, event: RelapseEvent) -> None:
        counselor = self._counselor_for(event.patient)
        done = "done"
        response_item_record(
            counselor, event, item=Item.NALOXONE, state=done, note="Kit given; use reviewed."
        )
        response_item_record(
            counselor,
            event,
            item=Item.MOUD,
            state=done,
            moud_answer=MoudAnswer.ACCEPTED,
            note="Dose reviewed with the prescriber.",
        )
        response_item_record(
            counselor, event, item=Item.OUTREACH, state=done, note="Called the same day."
        )
        response_item_record(
            counselor,
            event,
            item=Item.REASSESSMENT,
            state="declined",
            note="Team review: a single lapse, the level of care stands.",
        )
        response_item_record(
            counselor,
            event,
            item=Item.PLAN_REVIEW,
            state="declined",
            note="The plan's relapse objectives already cover it.",
        )

    # Sober living.

    def residence(self, stays: list[Stay], measured: Patient) -> House:
        director, manager = self.director, self.case_manager
        residence = residence_create(
            director,
            ResidenceData(
                name="Bench Recovery Residence",
                operator_name="Bench Recovery Housing (synthetic)",
                address="1 Bench Street",
                phone="555-0100",
                certification="NARR level II",
                time_zone=base.TIME_ZONE,
            ),
            rules_text="1. No alcohol or drugs.\n2. Curfew 22:00.\n3. Random tests.",
        )
        houses: dict[str, House] = {}
        beds: dict[str, list[Bed]] = {}
        for sex, name, house_for, count in (
            ("1", "Bench men's house", HouseFor.MEN, MEN_BEDS),
            ("2", "Bench women's house", HouseFor.WOMEN, WOMEN_BEDS),
        ):
            houses[sex] = house_create(
                director,
                residence,
                HouseData(
                    name=name,
                    address="1 Bench Street",
                    house_for=house_for,
                    curfew_weekday=clock_time(22, 0),
                    curfew_weekend=clock_time(23, 0),
                ),
            )
            beds[sex] = [bed_create(director, houses[sex], label=f"Bed {n}") for n in range(count)]
        wanted = {sex: round(len(free) * OCCUPIED_SHARE) for sex, free in beds.items()}
        candidates = sorted(
            (s for s in stays if self.key_of[s.program_id] in SCREENED_PROGRAMS),
            key=lambda s: (s.episode.patient_id != measured.pk, s.started_at, s.pk),
        )
        residents: list[Residency] = []
        for stay in candidates:
            patient = stay.episode.patient
            sex = patient.sex
            if wanted.get(sex, 0) == 0:
                continue
            bed = beds[sex].pop(0)
            at = min(stay.started_at + timedelta(days=2), self.now - timedelta(hours=3))
            with transaction.atomic():
                residents.append(
                    residency_move_in(
                        manager, patient, bed, rules_version=residence.rules_version, at=at
                    )
                )
            wanted[sex] -= 1
        self.curfews(residents)
        self.house_tests(residents)
        return houses["1"]

    def curfews(self, residents: list[Residency]) -> None:
        manager = self.case_manager
        for residency in residents:
            house = Bed.objects.select_related("house__residence").get(pk=residency.bed_id).house
            last = tonight(house, self.now) - timedelta(days=1)
            for n in range(CURFEW_NIGHTS - 1, -1, -1):
                night = last - timedelta(days=n)
                curfew_at = night_curfew(house, night).curfew_at
                if residency.moved_in_at >= curfew_at:
                    continue
                roll = self.rng.random()
                with transaction.atomic():
                    if roll < 0.03:
                        curfew_record(manager, residency, mark="missed", night=night)
                    else:
                        minutes = (
                            self.rng.randint(20, 45) if roll < 0.08 else -self.rng.randint(5, 120)
                        )
                        curfew_record(
                            manager,
                            residency,
                            mark="arrived",
                            night=night,
                            arrived_at=curfew_at + timedelta(minutes=minutes),
                        )

    def house_tests(self, residents: list[Residency]) -> None:
        for residency in residents[::3]:
            patient = Patient.objects.get(pk=residency.patient_id)
            medications = list(
                DrugScreen.objects.filter(patient=patient)
                .order_by("-collected_at")
                .values_list("medications", flat=True)[:1]
            )
            taken = medications[0] if medications else []
            results = dict.fromkeys(PANEL, "negative")
            if "buprenorphine" in taken:
                results["buprenorphine"] = "positive"
            screen_record(
                self._counselor_for(patient),
                patient,
                ScreenInput(
                    collected_at=self.now - timedelta(days=self.rng.randint(1, 6)),
                    observed=True,
                    medications=taken,
                    results=results,
                    setting="residency",
                    setting_id=residency.public_id,
                    note="Random test at the house.",
                ),
            )

    def discharged(self) -> Patient:
        """The first IOP's latest planned discharge (its aftercare plan was prepared
        before the patient left)."""
        episode = (
            Episode.objects.filter(
                organization=self.org,
                status="discharged",
                stays__program=self.built.programs["iop_a"],
            )
            .exclude(discharge_reason__in=LEFT_WITHOUT_NOTICE)
            .select_related("patient")
            .order_by("-discharged_at", "-id")
            .first()
        )
        if episode is not None:
            return episode.patient
        # A small build may discharge no one from it: the measured patient's plan, then,
        # started while still in care.
        patient = self.built.patient
        with transaction.atomic():
            aftercare_start(self.built.counselor, patient)
        return patient


def _newest(event: RelapseEvent) -> tuple[date, int]:
    return (event.used_on or date.min, event.pk)


def build(
    iop: int = DEFAULT_SCHEDULE_IOP,
    php: int = DEFAULT_SCHEDULE_PHP,
    op: int = DEFAULT_SCHEDULE_OP,
    weeks: int = DEFAULT_SCHEDULE_WEEKS,
    seed: int = DEFAULT_SEED,
) -> tuple[Built, float]:
    """The schedule part's organization, then recovery on it; returns the handles and
    the seconds the schedule took."""
    started = time.monotonic()
    schedule = base.build(iop, php, op, weeks, seed)
    schedule_s = time.monotonic() - started
    log(f"schedule built in {schedule_s:.0f} s; plans, screens, relapses, residence")
    return _Builder(schedule, seed).fill(), schedule_s


def recovery_data(built: Built) -> RecoveryData:
    org = built.schedule.organization.pk
    relapses = RelapseEvent.objects.filter(organization_id=org)
    items = ResponseItem.objects.filter(organization_id=org)
    screens = DrugScreen.objects.filter(organization_id=org)
    return RecoveryData(
        plans=PlanVersion.objects.filter(organization_id=org).values("plan_id").distinct().count(),
        plan_versions=PlanVersion.objects.filter(organization_id=org).count(),
        screens=screens.count(),
        screens_positive=relapses.filter(source="screen").count(),
        relapses_confirmed=relapses.filter(status="confirmed").count(),
        relapses_dismissed=relapses.filter(status="dismissed").count(),
        responses_open=items.filter(state="open").values("event_id").distinct().count(),
        items_done=items.filter(state="done").count(),
        items_declined=items.filter(state="declined").count(),
        residents=Residency.objects.filter(organization_id=org).count(),
        beds=Bed.objects.filter(organization_id=org).count(),
        curfew_marks=CurfewCheckIn.objects.filter(organization_id=org).count(),
        house_tests=screens.filter(setting="residency").count(),
        aftercare_plans=AftercarePlan.objects.filter(organization_id=org).count(),
        measured_screens=screens.filter(patient=built.patient).count(),
        measured_relapses=relapses.filter(patient=built.patient, status="confirmed").count(),
        audit_rows=AuditEvent.objects.count(),
    )


def screen_form(patient: Patient) -> dict[str, str]:
    """A negative cup with buprenorphine expected, through the web form."""
    form = {
        "observed": "on",
        "validity": "valid",
        "medications": "buprenorphine",
        "results_now": "on",
        "note": "",
        "collected_at": "",
    }
    for code in PANEL:
        form[f"result_{code}"] = "positive" if code == "buprenorphine" else "negative"
    return form


def measure(built: Built, repeat: int = DEFAULT_RECOVERY_REPEAT) -> list[PageResult]:
    """Time the eight pages, each after a warm-up (see `measure.measure_page`), then the
    drug screen's POST."""
    browser, api = base.counselor_clients(built.schedule)
    patient, discharged = built.patient, built.discharged
    screens = DrugScreen.objects.filter(patient=patient).count()
    relapses = RelapseEvent.objects.filter(patient=patient, status="confirmed").count()
    versions = PlanVersion.objects.filter(plan__patient=patient).count()
    residents = Residency.objects.filter(bed__house=built.house, moved_out_at__isnull=True).count()
    cared = (
        Episode.objects.filter(
            status="open", patient__care_team__user_id=built.schedule.counselor.user_id
        )
        .distinct()
        .count()
    )
    recovery_note = f"{screens} screens, {relapses} returns to use"
    plan_versions = f"{versions} version{'' if versions == 1 else 's'}"
    pages: list[tuple[str, Any, str, str]] = [
        (
            "Chart",
            browser,
            reverse("care:chart", kwargs={"public_id": patient.public_id}),
            f"{recovery_note}, plan of {plan_versions}, a bed, all panels",
        ),
        (
            "Recovery",
            browser,
            reverse("recovery:patient", kwargs={"public_id": patient.public_id}),
            recovery_note,
        ),
        (
            "Treatment plan",
            browser,
            reverse("plans:plan", kwargs={"public_id": patient.public_id}),
            plan_versions,
        ),
        (
            "Aftercare plan",
            browser,
            reverse("aftercare:plan", kwargs={"public_id": discharged.public_id}),
            "discharged from the IOP, check-ins scheduled",
        ),
        (
            "House",
            browser,
            reverse("residences:house", kwargs={"house_id": built.house.public_id}),
            f"{residents} residents, tonight's curfew list",
        ),
        (
            "Worklist",
            browser,
            reverse("care:worklist"),
            f"the counselor's {cared} patients in care, with recovery's sections",
        ),
        (
            "JSON recovery",
            api,
            f"/api/v1/patients/{patient.public_id}/recovery",
            f"personal token; {recovery_note}",
        ),
    ]
    results = []
    for name, client, path, note in pages:
        log(f"measure {name} ({repeat} requests)")
        results.append(measure_page(client, name, [path], repeat, note))
    path = reverse("recovery:screen_new", kwargs={"public_id": patient.public_id})
    log(f"measure Record a drug screen ({repeat} requests)")
    posted, _ = base.measure_post(
        browser,
        "Record a drug screen (POST)",
        path,
        [screen_form(patient)],
        repeat,
        "an observed negative cup, buprenorphine expected: nothing proposed",
    )
    return [*results, posted]


def run(
    iop: int = DEFAULT_SCHEDULE_IOP,
    php: int = DEFAULT_SCHEDULE_PHP,
    op: int = DEFAULT_SCHEDULE_OP,
    weeks: int = DEFAULT_SCHEDULE_WEEKS,
    seed: int = DEFAULT_SEED,
    repeat: int = DEFAULT_RECOVERY_REPEAT,
) -> RecoveryResult:
    """Build the schedule and recovery in the current database, then time the pages."""
    log(f"build recovery on {weeks} weeks: IOPs {iop}, PHP {php}, outpatient {op} (seed {seed})")
    started = time.monotonic()
    built, schedule_s = build(iop, php, op, weeks, seed)
    build_s = time.monotonic() - started
    log(f"built in {build_s:.0f} s")
    analyze_after_load()
    vendor, version = database_version()
    return RecoveryResult(
        database=vendor,
        vendor=connection.vendor,
        version=version,
        seed=seed,
        iop=iop,
        php=php,
        op=op,
        weeks=weeks,
        migrate_s=0.0,
        schedule_s=round(schedule_s, 1),
        build_s=round(build_s, 1),
        schedule=base.schedule_data(built.schedule, weeks),
        data=recovery_data(built),
        pages=measure(built, repeat),
    )


def run_in_worker(
    iop: int, php: int, op: int, weeks: int, seed: int, repeat: int
) -> dict[str, Any]:
    """The `--worker recovery` job: migrate the fresh database, then build and measure."""
    return migrated_run(lambda: run(iop, php, op, weeks, seed, repeat))
