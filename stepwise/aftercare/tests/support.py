"""Shared set-up for the aftercare tests: a plan written with the patient, and a
patient who has left care with it (so check-ins run)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from stepwise.aftercare.models import AftercarePlan
from stepwise.aftercare.services.plans import plan_activate, plan_sections_save, plan_start
from stepwise.care.models import Episode
from stepwise.care.services import episode_admit, episode_discharge
from stepwise.patients.models import Patient

# The cast facility's zone: its calendar is the one check-ins are counted on.
NEW_YORK = ZoneInfo("America/New_York")

NA_GROUP = {
    "kind": "support_group",
    "group": "na",
    "name": "NA Tuesday night",
    "contact": "555-0100",
    "schedule": "Tuesdays 19:00, weekly",
}
THERAPIST = {
    "kind": "therapist",
    "name": "Dr. Lee",
    "contact": "(555) 010-2000",
    "schedule": "Every other Monday",
    "next_on": "2031-01-06",
}


def facility_today() -> date:
    return timezone.now().astimezone(NEW_YORK).date()


def facility_noon(days_ago: int) -> datetime:
    """Noon on the facility's calendar `days_ago` days before its today. Not now minus
    days x 24 hours: across a clock change that lands on the day before or after."""
    return datetime.combine(facility_today() - timedelta(days=days_ago), time(12), NEW_YORK)


def written_plan(cast: Any, patient: Patient | None = None, who: str = "owner") -> AftercarePlan:
    """A draft with a support, a trigger and a contact."""
    actor = cast.actors[who]
    plan = plan_start(actor, patient or cast.patient)
    return plan_sections_save(
        actor,
        plan,
        {
            "supports": [NA_GROUP, THERAPIST],
            "triggers": ["Payday", "The Elm Street corner"],
            "emergency_contacts": [
                {"name": "Maria", "relationship": "sister", "phone": "555-0101"}
            ],
            "people_to_avoid": [{"who": "J. from the old crew", "relationship": "supplier"}],
            "coping_strategies": ["Call my sponsor", "Go for a run"],
            "warning_signs": ["Skipping meetings"],
        },
    )


def active_plan(cast: Any, patient: Patient | None = None, who: str = "owner") -> AftercarePlan:
    return plan_activate(cast.actors[who], written_plan(cast, patient, who), note="With Ana")


def admitted(
    cast: Any, patient: Patient | None = None, program: Any = None, days: int = 10
) -> Episode:
    return episode_admit(
        cast.actors["owner"],
        patient or cast.patient,
        program or cast.iop,
        at=timezone.now() - timedelta(days=days),
    )


def discharged(cast: Any, at: datetime | None = None, reason: int = 1) -> Episode:
    """The cast's patient admitted to the evening IOP, plan active, then discharged."""
    episode = admitted(cast)
    active_plan(cast)
    return episode_discharge(cast.actors["owner"], episode, reason=reason, at=at)
