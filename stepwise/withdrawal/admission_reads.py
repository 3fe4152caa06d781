"""Reads of the medical admission pages: the current assessment of the patient's
stay with its follow-up tasks and the latest mental-health screens, in a fixed
number of queries, with the audit row of the read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from stepwise.care.chart import patient_access, record_read
from stepwise.care.models import Stay
from stepwise.care.selectors import current_stay_of, organization_time_zone
from stepwise.core.actor import Actor
from stepwise.core.roles import Permission
from stepwise.instruments.selectors import InstrumentSummary, latest_by_instrument
from stepwise.patients.models import Patient, Problem, Task
from stepwise.withdrawal.flowsheet import stay_for_flowsheet
from stepwise.withdrawal.models import MedicalAdmission, RecordStatus
from stepwise.withdrawal.rules import admission as rules
from stepwise.withdrawal.services.common import OBSERVATIONS

# What the service writes as the source of the problems and tasks it opens.
SOURCE = "medical_admission"
# The mental-health screens shown beside the assessment, in this order.
SCREENS = ("phq9", "gad7")


def current_of(organization_id: int, episode_id: int) -> MedicalAdmission | None:
    """The latest final assessment of the episode (a later one replaces it)."""
    return (
        MedicalAdmission.objects.filter(
            organization_id=organization_id, episode_id=episode_id, status=RecordStatus.FINAL
        )
        .select_related("recorded_by", "reviewed_by", "replaces__recorded_by")
        .order_by("-recorded_at", "-id")
        .first()
    )


def admission_to_replace(patient: Patient) -> tuple[Stay | None, MedicalAdmission | None]:
    """The open stay a new entry goes to, and the assessment it would replace: the
    current one of the stay's episode (none when the patient is not in a program)."""
    stay = current_stay_of(patient)
    return stay, current_of(patient.organization_id, stay.episode_id) if stay else None


def admission_to_review(patient: Patient) -> MedicalAdmission | None:
    """The assessment the page shows: of the open stay, or of the last one."""
    stay = stay_for_flowsheet(patient)
    return current_of(patient.organization_id, stay.episode_id) if stay else None


@dataclass(frozen=True)
class AdmissionPage:
    patient: Patient
    stay: Stay | None
    zone: ZoneInfo
    admission: MedicalAdmission | None
    tasks: list[Task]
    screens: list[InstrumentSummary]

    @property
    def data(self) -> rules.MedicalAdmissionData | None:
        return self.admission.parsed() if self.admission else None

    @property
    def is_open(self) -> bool:
        return self.stay is not None and self.stay.ended_at is None


def admission_page_read(actor: Actor, public_id: uuid.UUID | str) -> AdmissionPage:
    """The detail page: the current assessment, the tasks it opened (with their state
    now), the latest PHQ-9 and GAD-7; audited as a read of the assessment."""
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=OBSERVATIONS
    )
    stay = stay_for_flowsheet(patient)
    if stay is not None:
        zone = ZoneInfo(stay.program.facility.time_zone)
        admission = current_of(patient.organization_id, stay.episode_id)
    else:
        zone = ZoneInfo(organization_time_zone(patient.organization_id))
        admission = None
    tasks: list[Task] = []
    if admission is not None and stay is not None:
        tasks = list(
            Task.objects.filter(
                organization_id=patient.organization_id,
                patient=patient,
                source_type=SOURCE,
                source_id=stay.episode.public_id,
            ).order_by("due_at", "id")
        )
    latest = {s.instrument.code: s for s in latest_by_instrument(patient)}
    screens = [latest[code] for code in SCREENS if code in latest]
    shown = [s.instrument.code for s in screens if s.latest is not None]
    record_read(
        actor,
        patient,
        basis,
        category=OBSERVATIONS,
        object_type=SOURCE,
        object_id=admission.public_id if admission else patient.public_id,
        detail={"screens": ",".join(shown)} if shown else None,
    )
    return AdmissionPage(patient, stay, zone, admission, tasks, screens)


def created_by(row: MedicalAdmission) -> tuple[int, int]:
    """How many problems and follow-up tasks the assessment added (those already on
    the list or already open are not counted)."""
    problems = Problem.objects.filter(
        organization_id=row.organization_id,
        patient_id=row.patient_id,
        source_type=SOURCE,
        source_id=row.public_id,
    ).count()
    tasks = Task.objects.filter(
        organization_id=row.organization_id,
        patient_id=row.patient_id,
        source_type=SOURCE,
        source_id=row.episode.public_id,
        created_at__gte=row.created_at,
    ).count()
    return problems, tasks
