"""The demo's aftercare: a plan being written for everyone in outpatient care (supports,
triggers, people to avoid, coping, warning signs, people to call); the discharged
patients' active plans filled in the same way, with the calls they made since they
left (one reporting use, which proposes a relapse); a patient who dropped out, reached
by the case manager some weeks ago, whose latest check-in went unanswered; then the
sweep, which keeps the schedules made ahead and marks any check-in past its grace as
missed, with its outreach task for the case manager."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.selectors import actors_by_role
from stepwise.aftercare.models import AftercarePlan, Checkin, CheckinStatus
from stepwise.aftercare.rules.checkin import Report
from stepwise.aftercare.rules.schedule import local_day
from stepwise.aftercare.services.checkins import checkin_record
from stepwise.aftercare.services.common import PLAN_TASK, plan_of
from stepwise.aftercare.services.plans import plan_activate, plan_sections_save, plan_start
from stepwise.aftercare.services.sweep import aftercare_sweep
from stepwise.care.models import Episode, EpisodeStatus, Stay
from stepwise.care.selectors import patient_time_zone
from stepwise.core.actor import Actor
from stepwise.core.models import Organization
from stepwise.core.roles import Role
from stepwise.patients.access import care_basis
from stepwise.patients.models import CareTeamRole, Patient, Task, TaskStatus
from stepwise.patients.services import care_team_add
from stepwise.patients.tasks import task_close

DEMO_SLUG = "riverside"
OUTPATIENT = ("Outpatient", "Evening IOP", "Continuing care / aftercare")
# How many discharged patients have called in since they left.
CALLERS = 5
# The TEDS reason of the patient reached after leaving: dropped out of treatment.
DROPPED_OUT = 2
# When the case manager went through the plan with them, in days on the facility's
# calendar: weekly check-ins since, one answered, the latest (about a week ago, past
# any grace) not.
REACHED_DAYS_AGO = 20
# The hour of that call, facility time.
REACHED_AT = time(11)
THERAPISTS = ["Dr. Elena Cruz, LPC", "Marcus Bell, LCSW", "Dr. Hannah Ross, PsyD"]
TRIGGERS = [
    "Payday and having cash on me",
    "Driving past the old neighbourhood",
    "Being alone on weekend nights",
    "Arguments at home",
    "Back pain after long shifts",
    "Friday nights at the bar",
]
COPING = [
    "Call my sponsor before I make any plan",
    "Go to a meeting the same day",
    "Walk for twenty minutes and call someone",
    "Play the tape forward: where does one use end up?",
    "Give my bank card to my sister on payday",
]
WARNING_SIGNS = [
    "Skipping meetings and not returning calls",
    "Not sleeping; up all night",
    "Saying I can handle one time",
    "Hanging around people I used with",
    "Keeping secrets about money",
]
PEOPLE = [
    {"who": "Tony from the Elm Street house", "relationship": "supplier"},
    {"who": "My cousin who still uses", "relationship": "enabler"},
    {"who": "Ex-partner", "relationship": "codependent"},
]
CONTACTS = [
    ("Sister", "555-0131"),
    ("Sponsor", "555-0177"),
    ("Mother", "555-0164"),
    ("Best friend", "555-0158"),
]


class Command(BaseCommand):
    help = (
        "Fill in the demo's aftercare plans and check-ins, then run the sweep. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=DEMO_SLUG).first()
        if org is None:
            return
        plans = AftercarePlan.objects.filter(organization=org)
        # The walk's plans hold only a follow-up support; filled in ones are ours.
        if any(p.triggers for p in plans.only("triggers")):
            return
        self.rng = random.Random(options["seed"])  # noqa: S311  # nosec B311 # seeded demo data
        actors = actors_by_role(org.pk)
        counselor, manager = actors[Role.COUNSELOR], actors[Role.CASE_MANAGER]
        director = actors[Role.DIRECTOR]
        now = timezone.now()
        with transaction.atomic():
            started = 0
            for stay in (
                Stay.objects.filter(
                    organization=org, program__name__in=OUTPATIENT, ended_at__isnull=True
                )
                .select_related("episode__patient")
                .order_by("started_at", "id")
            ):
                patient = stay.episode.patient
                plan = plan_of(patient)
                if plan is None:
                    plan = plan_start(counselor, patient)
                    started += 1
                self._sections(counselor, plan)
            callers = self._discharged(director, manager, org, now)
            self._reached_after_leaving(director, manager, org, now)
        # The hourly sweep, as on any day: the unanswered check-in is past its grace.
        result = aftercare_sweep(org.pk)
        self.stdout.write(
            f"Demo aftercare: {started} plans started, check-ins recorded for {callers} "
            f"discharged patients, {result.missed} missed by the sweep, each with an outreach task."
        )

    def _sections(
        self, actor: Actor, plan: AftercarePlan, at: datetime | None = None
    ) -> AftercarePlan:
        rng = self.rng
        therapist = rng.choice(THERAPISTS)
        supports: list[dict[str, Any]] = list(plan.supports)
        supports += [
            {
                "kind": "support_group",
                "group": "na",
                "name": "Thursday night NA, St. Mark's church hall",
                "schedule": "Thursdays 19:00, weekly",
            },
            {
                "kind": "therapist",
                "name": therapist,
                "contact": "555-0120",
                "schedule": "Every other week",
                "next_on": (
                    local_day(timezone.now(), plan.time_zone) + timedelta(days=rng.randint(3, 12))
                ).isoformat(),
            },
        ]
        if rng.random() < 0.5:
            supports.append(
                {
                    "kind": "medication",
                    "name": "Buprenorphine with Dr. Okafor at the clinic",
                    "contact": "555-0100",
                    "schedule": "Monthly visit, prescription for 28 days",
                }
            )
        name = f"{rng.choice(['Ana', 'Luis', 'Grace', 'Sam', 'Rosa', 'Dee'])}"
        relationship, phone = rng.choice(CONTACTS)
        return plan_sections_save(
            actor,
            plan,
            {
                "supports": supports,
                "triggers": rng.sample(TRIGGERS, 3),
                "people_to_avoid": rng.sample(PEOPLE, rng.randint(1, 2)),
                "coping_strategies": rng.sample(COPING, 3),
                "warning_signs": rng.sample(WARNING_SIGNS, 3),
                "emergency_contacts": [
                    {"name": name, "relationship": relationship, "phone": phone},
                ],
            },
            at=at,
        )

    def _discharged(self, director: Actor, manager: Actor, org: Organization, now: datetime) -> int:
        """Patients who left with an active plan: filled in, the case manager on the team
        (the missed check-ins' outreach is theirs), and the calls they made since."""
        plans = list(
            AftercarePlan.objects.filter(
                organization=org, status="active", checkins_from__isnull=False
            )
            .select_related("patient")
            .order_by("checkins_from", "id")
        )
        callers = 0
        for plan in plans:
            patient = plan.patient
            if Episode.objects.filter(patient=patient, status="open").exists():
                continue  # in continuing care: done with the outpatient plans above
            self._on_team(director, manager, patient, now)
            plan = self._sections(manager, plan)
            if callers >= CALLERS:
                continue
            self._calls(manager, plan, now, used=callers == 0)
            callers += 1
        return callers

    def _reached_after_leaving(
        self, director: Actor, manager: Actor, org: Organization, now: datetime
    ) -> None:
        """A patient who dropped out with no plan (the task to bring it to them was
        raised then), reached by the case manager weeks ago: the plan written and gone
        through with them that day, its check-ins made from then on as they were that
        day, and every call since answered but the latest, which the sweep then finds
        missed. The task is closed at load (closing stamps the present), its note
        naming the day of the call."""
        left = (
            Episode.objects.filter(
                organization=org,
                status=EpisodeStatus.DISCHARGED,
                discharge_reason=DROPPED_OUT,
                patient__aftercare__isnull=True,
                discharged_at__lt=now - timedelta(days=REACHED_DAYS_AGO + 1),
            )
            .exclude(patient__episodes__status=EpisodeStatus.OPEN)
            .select_related("patient")
            .order_by("-discharged_at", "-id")
            .first()
        )
        if left is None:
            return
        patient = left.patient
        self._on_team(director, manager, patient, now)
        # A day on the facility's calendar, not 20 x 24 hours: across a clock change
        # that would be the day before or after.
        zone_name = patient_time_zone(patient)
        day = local_day(now, zone_name) - timedelta(days=REACHED_DAYS_AGO)
        reviewed = datetime.combine(day, REACHED_AT, tzinfo=ZoneInfo(zone_name))
        plan = plan_start(manager, patient, at=reviewed - timedelta(hours=1))
        plan = self._sections(manager, plan, at=reviewed - timedelta(minutes=30))
        plan = plan_activate(
            manager,
            plan,
            reviewed_at=reviewed,
            note="Reached by phone after leaving care; went through the plan together.",
            backfill_checkins=True,
        )
        for task in Task.objects.filter(
            organization=org, patient=patient, kind=PLAN_TASK, status=TaskStatus.OPEN
        ).select_related("patient"):
            task_close(
                manager,
                task,
                status=TaskStatus.DONE,
                note=f"Plan gone through by phone on {day:%Y-%m-%d}.",
            )
        zone = ZoneInfo(plan.time_zone)
        gone_by = list(
            Checkin.objects.filter(
                plan=plan,
                status=CheckinStatus.DUE,
                due_on__lt=local_day(now, plan.time_zone),
            ).order_by("due_on")
        )
        for checkin in gone_by[:-1]:
            checkin_record(
                manager,
                plan,
                Report(
                    wellbeing=3,
                    craving=3,
                    used=False,
                    supports_attended=["NA meeting"],
                    note="Getting by; back at meetings.",
                ),
                method="phone",
                checkin=checkin,
                at=datetime.combine(checkin.due_on, time(11, 30), tzinfo=zone),
            )

    def _on_team(self, director: Actor, manager: Actor, patient: Patient, now: datetime) -> None:
        if care_basis(manager, patient, now) is None:
            care_team_add(
                director, patient, user_id=manager.user_id, team_role=CareTeamRole.CASE_MANAGER
            )

    def _calls(self, actor: Actor, plan: AftercarePlan, now: datetime, *, used: bool) -> None:
        """Calls since the patient left (every week or two, not before the plan began);
        the latest, for one patient, reports use."""
        rng = self.rng
        since = max(plan.started_at, now - timedelta(days=35))
        times = sorted(
            {since + timedelta(days=d, hours=rng.randint(1, 8)) for d in (3, 12, 24) if d < 34}
        )
        times = [t for t in times if t < now - timedelta(hours=1)]
        for n, at in enumerate(times):
            last = n == len(times) - 1
            if used and last:
                report = Report(
                    wellbeing=2,
                    craving=7,
                    used=True,
                    substances=[7],
                    used_on=local_day(at, plan.time_zone) - timedelta(days=2),
                    supports_attended=[],
                    note="Used once after a fight at home; scared, wants to come in.",
                )
            else:
                report = Report(
                    wellbeing=rng.choice([3, 4, 4, 5]),
                    craving=rng.randint(0, 4),
                    used=False,
                    supports_attended=["NA meeting", "Therapist"][: rng.randint(1, 2)],
                    note="Doing the plan; went to meetings this week.",
                )
            checkin_record(actor, plan, report, method="phone", at=at)
