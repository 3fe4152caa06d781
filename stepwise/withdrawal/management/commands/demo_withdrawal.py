"""The detox unit of the demo: medical admissions, vital signs, comfort medication,
a buprenorphine induction given when the rule allowed it, one waiting on the rule,
and a discharge bundle under way. Everything goes through the services."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.selectors import actors_by_role
from stepwise.care.models import Program, Stay
from stepwise.care.roster import program_staff_add
from stepwise.core.actor import Actor
from stepwise.core.models import Organization
from stepwise.core.roles import Role
from stepwise.withdrawal.models import MedicalAdmission, MedicationOrder
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
from stepwise.withdrawal.services.order_sets import LineInput, order_set_create

DEMO_SLUG = "riverside"
VITALS_EVERY = timedelta(hours=4)
# The latest reading is this long ago: some checks are due, a few overdue.
LATEST = timedelta(minutes=50)


class Command(BaseCommand):
    help = "Add the demo detox unit's bedside records. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=DEMO_SLUG).first()
        if org is None:
            raise CommandError("Load the demo first: stepwise demo_load")
        if MedicalAdmission.objects.filter(organization=org).exists():
            return
        actors = actors_by_role(org.pk)
        self.rng = random.Random(options["seed"])  # noqa: S311 # nosec B311 # seeded demo data
        self.now = timezone.now().replace(second=0, microsecond=0)
        self.nurse, self.physician = actors[Role.NURSE], actors[Role.PHYSICIAN]
        stays = [
            s
            for s in Stay.objects.filter(organization=org, ended_at__isnull=True)
            .select_related("program__facility", "episode__patient")
            .order_by("bed_number", "episode__patient__mrn")
            if s.program.is_withdrawal_management
        ]
        with transaction.atomic():
            # The unit's nurse and physician are its staff: on every bed's care team.
            for program in {s.program for s in stays}:
                for actor in (self.nurse, self.physician):
                    program_staff_add(actors[Role.DIRECTOR], program, actor.user_id)
                self._order_sets(actors[Role.DIRECTOR], program)
            for index, stay in enumerate(stays):
                self._bedside(index, stay)
        self.stdout.write(f"Demo detox unit: {len(stays)} patients with bedside records.")

    def _order_sets(self, director: Actor, program: Program) -> None:
        """The unit's own set beside the default comfort set: overdose rescue and the
        lofexidine course many units use for fentanyl withdrawal."""
        order_set_create(
            director,
            program,
            name="Fentanyl withdrawal: lofexidine and rescue",
            description="Lofexidine four times a day (stop it when withdrawal eases), with naloxone at the bedside.",
            lines=[
                LineInput("lofexidine", Decimal("0.54"), "oral", "qid"),
                LineInput(
                    "naloxone",
                    Decimal(4),
                    "intranasal",
                    "q2h_prn",
                    "Suspected overdose: unresponsive or slow breathing",
                ),
            ],
        )

    def _bedside(self, index: int, stay: Stay) -> None:
        patient = stay.episode.patient
        arrived = stay.started_at
        fentanyl = index % 3 == 1
        last_use = arrived - timedelta(hours=self.rng.randint(13, 18))
        medical_admission_record(
            self.nurse,
            patient,
            MedicalAdmissionData(
                substances=(
                    SubstanceUse(
                        "fentanyl" if fentanyl else "heroin",
                        ("iv",) if index % 2 == 0 else ("smoked", "snorted"),
                        "powder",
                        "about 1 g a day" if not fentanyl else "10-15 pressed pills a day",
                        "daily",
                        last_use,
                    ),
                    *(
                        (SubstanceUse("benzodiazepines", ("oral",), "pill", "2 mg", "3_6_week"),)
                        if index % 4 == 3
                        else ()
                    ),
                ),
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
        self._vitals(index, stay)
        order_set_apply(self.physician, patient, starts_at=arrived + timedelta(minutes=50))
        self._comfort_doses(stay, recent_dose=index in (0, 4))
        if index == 0:
            self._induction_given(stay)
        elif index == 1:
            self._induction_waiting(stay)
        if index == 2:
            bundle_item_record(self.nurse, patient, item="naloxone_kit", state="done")
            bundle_item_record(self.nurse, patient, item="overdose_education", state="done")

    def _times(self, stay: Stay) -> list[datetime]:
        at, until, times = stay.started_at + timedelta(minutes=30), self.now - LATEST, []
        while at <= until:
            times.append(at)
            at += VITALS_EVERY
        return times

    def _vitals(self, index: int, stay: Stay) -> None:
        times = self._times(stay)
        for number, at in enumerate(times):
            easing = max(0, 6 - number)
            signs = Vitals(
                pulse=78 + 5 * easing + self.rng.randint(-4, 4),
                systolic=122 + 3 * easing + self.rng.randint(-6, 6),
                diastolic=76 + easing + self.rng.randint(-4, 4),
                respiratory_rate=16 + self.rng.randint(-2, 2),
                spo2=97 + self.rng.randint(0, 2),
                temperature_c=Decimal("36.8") + Decimal(self.rng.randint(-3, 4)) / 10,
                responsiveness=Responsiveness.ALERT,
            )
            if index == 3 and number == len(times) - 1:
                # Benzodiazepines on top of opioids: the alarm the unit must act on.
                signs = Vitals(
                    pulse=58,
                    systolic=104,
                    diastolic=64,
                    respiratory_rate=9,
                    spo2=90,
                    responsiveness=Responsiveness.VOICE,
                )
            vitals_record(self.nurse, stay.episode.patient, signs, observed_at=at)

    def _comfort_doses(self, stay: Stay, *, recent_dose: bool) -> None:
        orders = {
            o.drug: o for o in MedicationOrder.objects.filter(stay=stay).exclude(order_set="")
        }
        first = stay.started_at + timedelta(hours=2)
        for drug, offset in (("clonidine", 0), ("loperamide", 3), ("ibuprofen", 5)):
            at = first + timedelta(hours=offset)
            if at >= self.now - timedelta(minutes=30):
                continue
            dose = administration_record(self.nurse, orders[drug], outcome="given", at=at)
            followup_record(
                self.nurse,
                dose,
                result=self.rng.choice(["effective", "effective", "partly"]),
                at=at + timedelta(minutes=65),
            )
        recent = self.now - timedelta(minutes=70)
        if recent_dose and recent > stay.started_at + timedelta(hours=9):
            # Given an hour ago: its effectiveness check is due now.
            administration_record(self.nurse, orders["ondansetron"], outcome="given", at=recent)

    def _induction_given(self, stay: Stay) -> None:
        """Ordered on arrival, first dose once the COWS reached the threshold."""
        patient = stay.episode.patient
        order = order_create(
            self.physician,
            patient,
            OrderInput(
                drug="buprenorphine_naloxone",
                dose_mg=Decimal(4),
                route="sublingual",
                frequency="q2h_prn",
                prn_indication="COWS 8 or more, up to 12 mg on day 1",
                max_daily_mg=Decimal(12),
                bup_start="standard",
                starts_at=stay.started_at + timedelta(minutes=45),
            ),
        )
        # The demo's first COWS is an hour after arrival, in moderate withdrawal.
        first_dose = stay.started_at + timedelta(hours=1, minutes=20)
        for at, effect in (
            (first_dose, "partly"),
            (first_dose + timedelta(hours=2, minutes=10), "effective"),
        ):
            dose = administration_record(self.nurse, order, outcome="given", at=at)
            followup_record(self.nurse, dose, result=effect, at=at + timedelta(minutes=55))

    def _induction_waiting(self, stay: Stay) -> None:
        """Ordered just now: the rule waits for objective withdrawal (a COWS of 8 or
        more within the hour), which the board and the medication page show."""
        order_create(
            self.physician,
            stay.episode.patient,
            OrderInput(
                drug="buprenorphine",
                dose_mg=Decimal(2),
                route="sublingual",
                frequency="q1h_prn",
                prn_indication="COWS 8 or more",
                max_daily_mg=Decimal(8),
                bup_start="standard",
                starts_at=self.now - timedelta(minutes=20),
            ),
        )
