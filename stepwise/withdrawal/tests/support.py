"""Shared setup for withdrawal tests: a nurse and a physician on the patient's care
team, the patient admitted to detox, a medical admission with a last-use time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from stepwise.care.models import Episode
from stepwise.care.services import episode_admit
from stepwise.core.actor import Actor
from stepwise.instruments.definitions.cows import COWS
from stepwise.instruments.models import Assessment
from stepwise.instruments.services import assessment_record
from stepwise.patients.models import CareTeamMember, Patient
from stepwise.withdrawal.rules.admission import MedicalAdmissionData, SubstanceUse
from stepwise.withdrawal.services.admissions import medical_admission_record

# Sweating last: its values 0-4 fill whatever the others leave.
_FILL_ORDER = (
    "pulse",
    "restlessness",
    "pupils",
    "bone_joint_aches",
    "rhinorrhea_lacrimation",
    "gi_upset",
    "tremor",
    "yawning",
    "anxiety_irritability",
    "gooseflesh",
    "sweating",
)
COWS_ZERO = {
    "pulse": 0,
    "sweating": 0,
    "restlessness": 0,
    "pupils": 0,
    "bone_joint_aches": 0,
    "rhinorrhea_lacrimation": 0,
    "gi_upset": 0,
    "tremor": 0,
    "yawning": 0,
    "anxiety_irritability": 0,
    "gooseflesh": 0,
}


def cows_answers(total: int) -> dict[str, int]:
    """Answers that add up to `total`: the largest allowed value of each item in turn,
    ending with sweating, whose values 0-4 fill any remainder."""
    answers: dict[str, int] = {}
    left = total
    for item in _FILL_ORDER:
        allowed = [a.value for a in COWS.item(item).anchors]
        answers[item] = max(v for v in allowed if v <= left)
        left -= answers[item]
    assert left == 0, f"cannot build COWS {total}"
    return answers


def staff(cast: Any) -> tuple[Actor, Actor]:
    """A nurse and a physician, both on the patient's care team."""
    nurse = cast.actors.get("nurse") or cast.new_member("nurse")
    physician = cast.actors.get("physician") or cast.new_member("physician")
    for name, team_role in (("nurse", "nurse"), ("physician", "prescriber")):
        CareTeamMember.objects.get_or_create(
            organization=cast.org,
            patient=cast.patient,
            user=cast.users[name],
            team_role=team_role,
        )
    return nurse, physician


def admit_to_detox(cast: Any, hours_ago: float = 20) -> Episode:
    return episode_admit(
        cast.actors["owner"],
        cast.patient,
        cast.detox,
        at=timezone.now() - timedelta(hours=hours_ago),
    )


def heroin_admission(
    actor: Actor,
    patient: Patient,
    last_use: datetime,
    recorded_at: datetime | None = None,
    **changes: Any,
) -> None:
    data = MedicalAdmissionData(
        substances=(SubstanceUse("heroin", ("iv",), "powder", "1 g", "daily", last_use),),
        fentanyl_exposure="no",
        tests={"hiv": "negative", "hbv": "negative", "hcv": "pending"},
        hbv_vaccinated="yes",
        no_known_allergies=True,
        **changes,
    )
    medical_admission_record(actor, patient, data, recorded_at=recorded_at)


def cows(actor: Actor, patient: Patient, total: int, at: datetime) -> Assessment:
    return assessment_record(actor, patient, "cows", cows_answers(total), observed_at=at)
