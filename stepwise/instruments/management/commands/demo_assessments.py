"""Assessments for the demo organization, recorded through the instruments services.

Run by `demo_load` after the demo patients exist; safe to run again (it adds
nothing once the demo organization has assessments). Every response is recorded
by `assessment_record` as a clinician on the patient's care team (the nurse for
withdrawal scales, the counselor for screens, diagnosis and placement), observed
in the past, inside the patient's current stay:

- everyone in withdrawal management: a COWS every 4 hours since admission, easing
  off; on one patient the latest COWS was entered in error and re-recorded;
- the first of them also: SOWS and craving every 8 hours (read against the
  baseline), a DSM-5 opioid use disorder checklist at admission (severe, with a
  suggested ICD-10-CM code) and an ASAM assessment for the step down (to the day
  program) waiting for a placement decision;
- in residential treatment: a PHQ-9 with thoughts of self-harm (a suicide-risk
  alert on the chart and worklist), a GAD-7 and an ASAM review whose placement was
  confirmed; on another patient a DAST-10 and an AUDIT-C.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.selectors import actors_by_role
from stepwise.care.models import EpisodeStatus, Stay
from stepwise.core.actor import Actor
from stepwise.core.models import Organization
from stepwise.core.roles import Role
from stepwise.instruments import placement
from stepwise.instruments.definitions.asam import DIMENSIONS
from stepwise.instruments.definitions.dsm5 import CRITERION_IDS, WITHDRAWAL_NOW
from stepwise.instruments.engine import Instrument
from stepwise.instruments.models import Assessment
from stepwise.instruments.registry import instrument_for
from stepwise.instruments.services import (
    assessment_mark_in_error,
    assessment_record,
    placement_decide,
)
from stepwise.patients.models import CareTeamMember, Patient

DEMO_SLUG = "riverside"
DETOX_LEVEL = "3.7-WM"
RESIDENTIAL_LEVEL = "3.5"
COWS_EVERY = timedelta(hours=4)
SOWS_EVERY = timedelta(hours=8)
# The newest reading is at least this long ago, so nothing is observed "now".
LATEST = timedelta(minutes=30)

# Nine of eleven criteria (not A6 social problems, not A8 hazardous use): severe.
DSM5_SEVERE = {
    criterion: 0 if criterion in ("a6_social_problems", "a8_hazardous_use") else 1
    for criterion in CRITERION_IDS
} | {
    "a10_under_medical_supervision": 0,
    "a11_under_medical_supervision": 0,
    WITHDRAWAL_NOW: 1,
}
PHQ9_WITH_SELF_HARM = {
    "little_interest": 2,
    "feeling_down": 2,
    "sleep": 2,
    "tired": 2,
    "appetite": 1,
    "feeling_bad_about_self": 2,
    "concentration": 1,
    "moving_slowly_or_restless": 1,
    "thoughts_of_death_or_self_harm": 1,  # several days: the suicide-risk signal
}
GAD7_MODERATE = {
    "nervous": 2,
    "cannot_stop_worrying": 2,
    "worrying_too_much": 2,
    "trouble_relaxing": 1,
    "restless": 1,
    "irritable": 2,
    "afraid": 1,
}
DAST10_SUBSTANTIAL = {
    "used_non_medically": 1,
    "more_than_one_at_a_time": 1,
    "able_to_stop": 0,  # "no": scores a point
    "blackouts_flashbacks": 0,
    "guilty": 1,
    "family_complains": 1,
    "neglected_family": 1,
    "illegal_activities": 1,
    "withdrawal": 1,
    "medical_problems": 0,
}
AUDITC_POSITIVE = {"drinking_frequency": 2, "typical_day_drinks": 1, "six_or_more_frequency": 1}
# Near the end of detox: the day program (2.5) recommended, with ambulatory withdrawal
# management. No dimension at 4, which would be an imminent-danger alert.
ASAM_END_OF_DETOX = (1, 1, 2, 3, 3, 2)
# A continued-stay review in residential: dimension 3 alone keeps 3.5.
ASAM_RESIDENTIAL_REVIEW = (0, 1, 3, 2, 3, 2)


@dataclass(frozen=True)
class Cast:
    nurse: Actor
    counselor: Actor


class Command(BaseCommand):
    help = "Add demo assessments, alerts and placement decisions. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=DEMO_SLUG).first()
        if org is None:
            raise CommandError("Load the demo first: stepwise demo_load")
        if Assessment.objects.filter(organization=org).exists():
            return
        actors = actors_by_role(org.pk)
        self.rng = random.Random(options["seed"])  # noqa: S311 # nosec B311 # seeded demo data, not a secret
        self.now = timezone.now().replace(second=0, microsecond=0)
        cast = Cast(nurse=actors[Role.NURSE], counselor=actors[Role.COUNSELOR])
        with transaction.atomic():
            self._load(org, cast)
        added = Assessment.objects.filter(organization=org).count()
        self.stdout.write(f"Demo assessments added: {added} responses, one placement decided.")

    # --- Whom: current stays, and the clinician on each patient's care team -------------
    def _current_stays(self, org: Organization, level: str, actor: Actor) -> list[Stay]:
        stays = list(
            Stay.objects.filter(
                organization=org,
                ended_at__isnull=True,
                episode__status=EpisodeStatus.OPEN,
                program__asam_edition=3,
                program__asam_level=level,
                episode__patient__in=CareTeamMember.objects.filter(
                    organization=org, user_id=actor.user_id
                ).values("patient"),
            )
            .select_related("episode__patient", "program")
            .order_by("episode__patient__mrn")
        )
        if len(stays) < 2:
            raise CommandError(f"The demo has too few patients at level {level} to assess.")
        return stays

    def _load(self, org: Organization, cast: Cast) -> None:
        detox = self._current_stays(org, DETOX_LEVEL, cast.nurse)
        for index, stay in enumerate(detox):
            # One patient's course is the familiar 14, 11, 8, 5; the others vary.
            start = [14, 11, 8, 5] if index == 1 else [self.rng.randint(11, 17)]
            self._cows_course(cast.nurse, stay, start, latest_in_error=index == 1)
        self._detox_showcase(cast, detox[0])
        residential = self._current_stays(org, RESIDENTIAL_LEVEL, cast.counselor)
        self._residential_review(cast.counselor, residential[0])
        self._screens(cast.counselor, residential[1])

    # --- Withdrawal management ----------------------------------------------------------
    def _times(self, stay: Stay, every: timedelta) -> list[datetime]:
        """From an hour after the stay began, every `every`, up to a while ago."""
        at, until, times = stay.started_at + timedelta(hours=1), self.now - LATEST, []
        while at <= until:
            times.append(at)
            at += every
        return times

    def _course(
        self, start: list[int], count: int, step: tuple[int, int], settle: int
    ) -> list[int]:
        """Totals easing from `start` by `step` a reading, then wandering at or below
        `settle`, drifting down."""
        values = list(start)
        while len(values) < count:
            last = values[-1]
            if last > settle:
                values.append(max(settle, last - self.rng.randint(*step)))
            else:
                values.append(max(0, min(settle, last + self.rng.choice((-1, -1, 0, 1)))))
        return values[:count]

    def _answers_totalling(self, instrument: Instrument, total: int) -> dict[str, int]:
        """A response to a plain-sum instrument whose items add up to `total`."""
        for _ in range(100):
            answers = {item.id: 0 for item in instrument.items}
            remaining = total
            while remaining > 0:
                steps = [
                    (item.id, value)
                    for item in instrument.items
                    for value in item.allowed
                    if 0 < value - answers[item.id] <= remaining
                ]
                if not steps:
                    break
                item_id, value = self.rng.choice(steps)
                remaining -= value - answers[item_id]
                answers[item_id] = value
            if remaining == 0:
                return answers
        raise CommandError(f"No {instrument.code} response adds up to {total}.")  # not reached

    def _cows_course(
        self, nurse: Actor, stay: Stay, start: list[int], *, latest_in_error: bool
    ) -> None:
        cows = instrument_for("cows")
        patient = stay.episode.patient
        times = self._times(stay, COWS_EVERY)
        totals = self._course(start, len(times), step=(2, 4), settle=4)
        for number, (at, total) in enumerate(zip(times, totals, strict=True), 1):
            answers = self._answers_totalling(cows, total)
            if latest_in_error and number == len(times):
                self._entered_in_error(nurse, patient, answers, at)
            else:
                assessment_record(nurse, patient, "cows", answers, observed_at=at)

    def _entered_in_error(
        self, nurse: Actor, patient: Patient, answers: dict[str, int], at: datetime
    ) -> None:
        """The ratings went in from the previous patient's flow sheet: marked entered in
        error with the reason, and the right ones recorded as the correction."""
        mistaken = answers | {"pulse": 4, "gooseflesh": 5}
        wrong = assessment_record(nurse, patient, "cows", mistaken, observed_at=at)
        wrong = assessment_mark_in_error(
            nurse,
            wrong,
            reason="Pulse and gooseflesh copied from the previous patient's flow sheet; "
            "re-rated at the bedside.",
        )
        assessment_record(nurse, patient, "cows", answers, observed_at=at, replaces=wrong)

    def _detox_showcase(self, cast: Cast, stay: Stay) -> None:
        """Self-rated withdrawal and craving against baseline, the diagnosis at admission
        and an ASAM assessment for the step down, not decided yet."""
        patient = stay.episode.patient
        times = self._times(stay, SOWS_EVERY)
        sows = instrument_for("sows")
        sows_totals = self._course([self.rng.randint(34, 42)], len(times), (4, 8), settle=8)
        craving_totals = self._course([8], len(times), (1, 2), settle=3)
        for at, sows_total, craving in zip(times, sows_totals, craving_totals, strict=True):
            answers = self._answers_totalling(sows, sows_total)
            assessment_record(cast.nurse, patient, "sows", answers, observed_at=at)
            assessment_record(cast.nurse, patient, "craving", {"craving": craving}, observed_at=at)
        assessment_record(
            cast.counselor,
            patient,
            "dsm5-oud",
            DSM5_SEVERE,
            observed_at=stay.started_at + timedelta(hours=2),
        )
        assessment_record(
            cast.counselor,
            patient,
            "asam3",
            dict(zip(DIMENSIONS, ASAM_END_OF_DETOX, strict=True)),
            observed_at=self._within(stay, timedelta(hours=3)),
        )

    # --- Residential treatment ----------------------------------------------------------
    def _within(self, stay: Stay, ago: timedelta) -> datetime:
        """`ago` before now, but never before the stay began."""
        return max(stay.started_at + timedelta(hours=1), self.now - ago)

    def _residential_review(self, counselor: Actor, stay: Stay) -> None:
        patient = stay.episode.patient
        screened = self._within(stay, timedelta(days=2))
        assessment_record(counselor, patient, "phq9", PHQ9_WITH_SELF_HARM, observed_at=screened)
        assessment_record(counselor, patient, "gad7", GAD7_MODERATE, observed_at=screened)
        review = assessment_record(
            counselor,
            patient,
            "asam3",
            dict(zip(DIMENSIONS, ASAM_RESIDENTIAL_REVIEW, strict=True)),
            observed_at=self._within(stay, timedelta(days=1)),
        )
        placement_decide(counselor, review, placement.Facts(), confirm=True)

    def _screens(self, counselor: Actor, stay: Stay) -> None:
        patient = stay.episode.patient
        at = stay.started_at + timedelta(days=1)
        assessment_record(counselor, patient, "dast10", DAST10_SUBSTANTIAL, observed_at=at)
        # The threshold follows the patient's recorded sex (filled in by the service).
        assessment_record(counselor, patient, "auditc", AUDITC_POSITIVE, observed_at=at)
