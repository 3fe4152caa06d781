"""Shared set-up of the plan tests: a patient admitted to the evening IOP, a full
plan's contents (two problems, goals, objectives, sessions, medication, a
referral), and helpers to start and sign plans as members of the cast."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from stepwise.care.models import Episode
from stepwise.care.services import episode_admit
from stepwise.patients.models import Patient
from stepwise.plans.models import PlanVersion
from stepwise.plans.rules.content import Content, Goal, Intervention, Objective, Problem
from stepwise.plans.services.drafts import draft_save, plan_start
from stepwise.plans.services.versions import version_sign

ZONE = ZoneInfo("America/New_York")
# Monday 2026-11-02 in the cast's facility: the day plans are written in these tests.
TODAY = date(2026, 11, 2)
WORDS = "I want to be there for my daughter and keep my job."


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


def admitted(cast: Any, patient: Patient | None = None, program: Any = None) -> Episode:
    """Admitted a week before TODAY (the stay must start before any transition)."""
    with time_machine.travel(at(TODAY - timedelta(days=7), 9), tick=False):
        return episode_admit(cast.actors["owner"], patient or cast.patient, program or cast.iop)


def full_content(words: str = WORDS) -> Content:
    meetings = Objective(
        "Attends 3 mutual-help meetings a week, shown by signed cards", TODAY + timedelta(days=30)
    )
    urges = Objective(
        "Uses urge surfing when cravings come, logged daily", TODAY + timedelta(days=21)
    )
    housing = Objective("Visits two sober living houses", TODAY + timedelta(days=14))
    return Content(
        problems=(
            Problem(
                dimension=5,
                statement="Cravings after work lead to use most evenings",
                goals=(
                    Goal(
                        "Stay abstinent from opioids",
                        objectives=(meetings, urges),
                        interventions=(
                            Intervention(
                                kind="session",
                                session_type="group_therapy",
                                sessions_per_week=3,
                                responsible_role="counselor",
                            ),
                        ),
                    ),
                ),
                interventions=(
                    Intervention(
                        kind="medication",
                        medication="Buprenorphine continued with the prescriber",
                        responsible_role="physician",
                    ),
                ),
            ),
            Problem(
                dimension=6,
                statement="Lives with a partner who uses",
                goals=(
                    Goal(
                        "A safe place to live",
                        objectives=(housing,),
                        interventions=(
                            Intervention(
                                kind="referral",
                                referral_to="Harbor sober living",
                                referral_for="a bed within 30 days",
                                responsible_role="case_manager",
                            ),
                        ),
                    ),
                ),
            ),
        ),
        patient_words=words,
    )


def drafted(cast: Any, patient: Patient | None = None, who: str = "owner") -> PlanVersion:
    actor = cast.actors[who]
    version = plan_start(actor, patient or cast.patient)
    return draft_save(actor, version, full_content())


def signed(cast: Any, patient: Patient | None = None, who: str = "owner") -> PlanVersion:
    return version_sign(cast.actors[who], drafted(cast, patient, who))


def first_objective(content: Content) -> Objective:
    return next(iter(content.objectives()))


def relapse_of(cast: Any, patient: Patient | None = None) -> uuid.UUID:
    """A return to use recorded yesterday: what a relapse review names as its source."""
    from stepwise.recovery.services.relapse import UseDetails, relapse_record

    event = relapse_record(
        cast.actors["owner"],
        patient or cast.patient,
        UseDetails(used_on=TODAY - timedelta(days=1), kind="relapse", substances=[7], route=2),
    )
    return event.public_id
