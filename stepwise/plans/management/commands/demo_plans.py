"""The demo's treatment plans: a signed plan for each patient in care, shaped by the
level of care they are in; a few just admitted to detox with only a draft; one
scheduled review under way; and the confirmed relapse's plan review left as a draft
for the counselor to finish."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.selectors import actors_by_role
from stepwise.care.models import Episode, Stay
from stepwise.core.actor import Actor
from stepwise.core.models import Organization
from stepwise.core.roles import Role
from stepwise.plans.models import TreatmentPlan
from stepwise.plans.rules.content import Content, Goal, Intervention, Objective, Problem
from stepwise.plans.services.drafts import draft_save, plan_start
from stepwise.plans.services.versions import review_start, version_sign
from stepwise.recovery.models import RelapseEvent

DEMO_SLUG = "riverside"
DETOX = "Residential withdrawal management"
RESIDENTIAL = "Residential treatment"
PHP = "Day program (PHP)"
IOP = "Evening IOP"
OUTPATIENT = "Outpatient"
CONTINUING = "Continuing care / aftercare"
# Group sessions a week by program (the demo schedule's own rhythm).
GROUPS_A_WEEK = {DETOX: 3, RESIDENTIAL: 5, PHP: 5, IOP: 3, OUTPATIENT: 1, CONTINUING: 1}
WORDS = [
    "I want to stop using and get my kids back.",
    "I want to keep my job and stop lying to my family.",
    "I'm tired of being sick every morning. I want a normal life.",
    "Stay clean, finish my GED, and find a place of my own.",
    "I want to be someone my mom can count on again.",
    "Get off fentanyl for good and stay alive.",
]
MEDICATIONS = [
    "Buprenorphine-naloxone 16 mg daily, continued with the clinic's prescriber",
    "Methadone 80 mg daily at the opioid treatment program",
    "Extended-release naltrexone monthly injection",
]


def _session(code: str, per_week: int, role: str = "counselor") -> Intervention:
    return Intervention(
        kind="session", responsible_role=role, session_type=code, sessions_per_week=per_week
    )


class Command(BaseCommand):
    help = "Add treatment plans to the demo organization. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=DEMO_SLUG).first()
        if org is None or TreatmentPlan.objects.filter(organization=org).exists():
            return
        self.rng = random.Random(options["seed"])  # noqa: S311  # nosec B311 # seeded demo data
        self.today = timezone.localdate()
        counselor = actors_by_role(org.pk)[Role.COUNSELOR]
        programs = {
            s.episode_id: s.program.name
            for s in Stay.objects.filter(organization=org, ended_at__isnull=True).select_related(
                "program"
            )
        }
        episodes = list(
            Episode.objects.filter(organization=org, status="open")
            .select_related("patient")
            .order_by("admitted_at", "id")
        )
        relapse = (
            RelapseEvent.objects.filter(organization=org, status="confirmed")
            .select_related("patient")
            .first()
        )
        signed = drafts = 0
        with transaction.atomic():
            detox_seen = 0
            reviewed = False
            for episode in episodes:
                patient = episode.patient
                program = programs.get(episode.pk, OUTPATIENT)
                version = plan_start(counselor, patient)
                version = draft_save(counselor, version, self._content(program))
                # Half the patients just admitted to detox: the plan is still being written.
                if program == DETOX:
                    detox_seen += 1
                    if detox_seen % 2 == 0:
                        drafts += 1
                        continue
                version = version_sign(counselor, version)
                signed += 1
                if relapse is not None and patient.pk == relapse.patient_id:
                    self._relapse_review(counselor, version.plan, relapse)
                elif not reviewed and program == OUTPATIENT:
                    review_start(
                        counselor,
                        version.plan,
                        trigger="scheduled",
                        why="Monthly review with the patient: progress on each objective.",
                    )
                    reviewed = True
        self.stdout.write(
            f"Demo plans: {signed} signed, {drafts} drafts, a scheduled review and the "
            "relapse's review under way."
        )

    def _relapse_review(self, actor: Actor, plan: TreatmentPlan, event: RelapseEvent) -> None:
        review_start(
            actor,
            plan,
            trigger="relapse",
            why="Lapse on the weekend; add a plan for weekends and payday with the patient.",
            source_type="relapse_event",
            source_id=event.public_id,
        )

    def _by(self, days: int) -> date:
        return self.today + timedelta(days=days + self.rng.randint(0, 5))

    def _content(self, program: str) -> Content:
        rng = self.rng
        groups = GROUPS_A_WEEK[program]
        problems: list[Problem] = []
        if program == DETOX:
            problems.append(
                Problem(
                    dimension=1,
                    statement="Opioid withdrawal after daily fentanyl use; COWS moderate on admission.",
                    goals=(
                        Goal(
                            "Complete withdrawal management safely and comfortably.",
                            objectives=(
                                Objective("COWS below 5 for 24 hours in a row.", self._by(4)),
                                Objective(
                                    "Start buprenorphine and reach a stable dose.", self._by(5)
                                ),
                            ),
                            interventions=(
                                Intervention(
                                    kind="medication",
                                    responsible_role="physician",
                                    medication="Buprenorphine induction per the unit's protocol",
                                ),
                                _session("medical_visit", 7, "nurse"),
                            ),
                        ),
                    ),
                )
            )
        problems.append(
            Problem(
                dimension=5,
                statement="High risk of return to opioid use: daily use for years, "
                "two earlier returns to use within a month of treatment.",
                goals=(
                    Goal(
                        "Stay free of opioids and other drugs.",
                        objectives=(
                            Objective(
                                "Negative drug screens (besides prescribed medication) "
                                "every week for four weeks.",
                                self._by(28),
                            ),
                            Objective(
                                "Name three personal triggers and a coping plan for each.",
                                self._by(14),
                            ),
                        ),
                        interventions=(
                            _session("group_therapy", groups),
                            _session("relapse_prevention", min(groups, 3)),
                        ),
                    ),
                ),
                interventions=(
                    (
                        Intervention(
                            kind="medication",
                            responsible_role="physician",
                            medication=rng.choice(MEDICATIONS),
                        ),
                    )
                    if program != DETOX and rng.random() < 0.5
                    else ()
                ),
            )
        )
        if program in (RESIDENTIAL, DETOX):
            problems.append(
                Problem(
                    dimension=4,
                    statement="Unsure about continuing treatment after detox; "
                    "says they can stay clean on their own.",
                    goals=(
                        Goal(
                            "Choose the next level of care with the team.",
                            objectives=(
                                Objective("Attend at least 90% of scheduled groups.", self._by(14)),
                            ),
                            interventions=(_session("individual_therapy", 1),),
                        ),
                    ),
                )
            )
        else:
            problems.append(
                Problem(
                    dimension=6,
                    statement="Lives with a partner who still uses; no stable, drug-free housing.",
                    goals=(
                        Goal(
                            "Live in a safe, substance-free place.",
                            objectives=(
                                Objective(
                                    "Apply to a sober living residence or another drug-free home.",
                                    self._by(21),
                                ),
                            ),
                            interventions=(
                                Intervention(
                                    kind="referral",
                                    responsible_role="case_manager",
                                    referral_to="Riverside Sober Living",
                                    referral_for="a bed in recovery housing",
                                ),
                                _session("individual_therapy", 1),
                            ),
                        ),
                    ),
                )
            )
            if program == PHP:
                problems.append(
                    Problem(
                        dimension=3,
                        statement="Anxiety and poor sleep that the patient has treated with opioids.",
                        goals=(
                            Goal(
                                "Manage anxiety without using.",
                                objectives=(
                                    Objective(
                                        "Use a coping skill from group on at least five "
                                        "anxious days, logged in a diary.",
                                        self._by(21),
                                    ),
                                ),
                                interventions=(_session("life_skills", 5, "case_manager"),),
                            ),
                        ),
                    )
                )
        return Content(problems=tuple(problems), patient_words=rng.choice(WORDS))
