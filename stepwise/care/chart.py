"""The patient's chart and the patient list: audited, scoped reads with fixed query counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.utils import timezone

from stepwise.care.models import Episode, Stay
from stepwise.care.panels import ChartPanel, chart_panels, worklist_sections
from stepwise.care.selectors import (
    episode_get,
    episode_with_stays,
    episodes_for_patient,
    open_stays_by_patient,
)
from stepwise.care.timeline import EpisodeTimeline, episode_timeline
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import NotFound
from stepwise.core.models import AuditAction, AuditOutcome
from stepwise.core.roles import Permission, sees_all_patients
from stepwise.patients.access import AccessBasis, cared_for, require_patient_access
from stepwise.patients.alerts import AlertView, open_alerts_for_patient, worklist_alerts
from stepwise.patients.flags import active_flags, active_flags_by_patient, worklist_flags
from stepwise.patients.models import CareTeamMember, Contact, Patient, Problem, RiskFlag, Task
from stepwise.patients.problems import active_problems
from stepwise.patients.selectors import patient_get, patient_search
from stepwise.patients.tasks import TaskView, open_tasks_for_patient, worklist_tasks


@dataclass(frozen=True)
class Chart:
    patient: Patient
    contacts: list[Contact]
    care_team: list[CareTeamMember]
    timelines: list[EpisodeTimeline]
    alerts: list[AlertView]
    panels: list[ChartPanel]
    flags: list[RiskFlag]
    problems: list[Problem]
    tasks: list[Task]

    @property
    def open_episode(self) -> Episode | None:
        first = self.timelines[0] if self.timelines else None
        return first.episode if first and first.episode.is_open else None

    @property
    def current_stay(self) -> Stay | None:
        return self.timelines[0].current_stay if self.timelines else None


def _audit_refused_lookup(
    actor: Actor, public_id: uuid.UUID | str, object_type: str = "patient"
) -> None:
    """A record asked for that is not in the actor's organization (or no record at all)."""
    with transaction.atomic():
        audit_record(
            action=AuditAction.ACCESS_DENIED,
            actor=actor,
            category="chart",
            object_type=object_type,
            object_id=str(public_id)[:64],
            outcome=AuditOutcome.DENIED,
            detail={"why": "not found in this organization"},
        )


def patient_access(
    actor: Actor, public_id: uuid.UUID | str, *, permission: Permission, category: str = "chart"
) -> tuple[Patient, AccessBasis]:
    """The patient and why the actor may reach it: in the actor's organization, the
    role allows, and treating roles care for the patient. Refusals are audited."""
    try:
        patient = patient_get(actor, public_id)
    except NotFound:
        _audit_refused_lookup(actor, public_id)
        raise
    basis = require_patient_access(actor, permission, patient, category=category)
    return patient, basis


def patient_for(actor: Actor, public_id: uuid.UUID | str, *, permission: Permission) -> Patient:
    """The patient, if the actor may use the permission on it (see patient_access)."""
    return patient_access(actor, public_id, permission=permission)[0]


def patient_for_form(
    actor: Actor, public_id: uuid.UUID | str, *, permission: Permission, form: str
) -> Patient:
    """The patient a form page shows in its header; that showing is a read, audited."""
    patient, basis = patient_access(actor, public_id, permission=permission)
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            patient_public_id=patient.public_id,
            category="demographics",
            object_type="patient",
            object_id=patient.public_id,
            detail={"form": form, **_read_detail(basis)},
        )
    return patient


def _read_detail(basis: AccessBasis) -> dict[str, str]:
    """Reads under emergency access are marked as such in the audit log."""
    return {"access": basis.value} if basis is AccessBasis.BREAK_GLASS else {}


def record_read(
    actor: Actor,
    patient: Patient,
    basis: AccessBasis,
    *,
    category: str,
    object_type: str,
    object_id: uuid.UUID | str,
    detail: dict[str, str] | None = None,
) -> None:
    """The audit row of a read of one patient's data (marked when under emergency access)."""
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            patient_public_id=patient.public_id,
            category=category,
            object_type=object_type,
            object_id=object_id,
            detail={**(detail or {}), **_read_detail(basis)},
        )


def episode_for(actor: Actor, public_id: uuid.UUID | str, *, permission: Permission) -> Episode:
    """The episode, if in the actor's organization and the role allows; audits refusals."""
    try:
        episode = episode_get(actor, public_id)
    except NotFound:
        _audit_refused_lookup(actor, public_id, "episode")
        raise
    require_patient_access(actor, permission, episode.patient, category="chart")
    return episode


def chart_read(actor: Actor, public_id: uuid.UUID | str, now: datetime) -> Chart:
    """Everything the chart page shows, in a fixed number of queries, with its audit row."""
    patient, basis = patient_access(actor, public_id, permission=Permission.CHART_READ)
    with transaction.atomic():
        contacts = list(patient.contacts.all())
        care_team = list(patient.care_team.select_related("user"))
        timelines = [episode_timeline(e, now) for e in episodes_for_patient(actor, patient)]
        alerts = open_alerts_for_patient(patient)
        flags = active_flags(patient, now)
        problems = active_problems(patient)
        tasks = open_tasks_for_patient(patient)
        panels = chart_panels(actor, patient)
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            patient_public_id=patient.public_id,
            category="chart",
            object_type="patient",
            object_id=patient.public_id,
            detail=_read_detail(basis),
        )
    return Chart(
        patient=patient,
        contacts=contacts,
        care_team=care_team,
        timelines=timelines,
        alerts=alerts,
        panels=panels,
        flags=flags,
        problems=problems,
        tasks=tasks,
    )


@dataclass(frozen=True)
class PatientRow:
    patient: Patient
    stay: Stay | None
    flags: list[RiskFlag] = field(default_factory=list)


def patient_list_page(
    actor: Actor, query: str, page_number: str | int | None, per_page: int
) -> tuple[Page, list[PatientRow]]:  # type: ignore[type-arg]
    """One page of the patient list or search, with each patient's current program.

    Four queries (count, page, current stays, risk flags) plus the audit row. Treating
    clinicians see the patients they care for; facility-wide roles see all.
    """
    require_permission(actor, Permission.PATIENT_LIST, category="patient_list")
    query = query.replace("\x00", "")  # PostgreSQL text (and the audit row) cannot hold NUL
    found = patient_search(actor, query)
    if not sees_all_patients(actor.role):
        found = cared_for(actor, found, timezone.now())
    with transaction.atomic():
        page = Paginator(found, per_page).get_page(page_number)
        patients = list(page.object_list)
        stays = open_stays_by_patient(actor, [p.pk for p in patients])
        flags = active_flags_by_patient(
            actor.organization_id, [p.pk for p in patients], timezone.now()
        )
        audit_record(
            action=AuditAction.SEARCH if query.strip() else AuditAction.READ,
            actor=actor,
            category="patient_list",
            detail={"query": query.strip()[:100], "page": page.number, "shown": len(patients)},
        )
    return page, [PatientRow(p, stays.get(p.pk), flags.get(p.pk, [])) for p in patients]


def patient_record_read(actor: Actor, public_id: uuid.UUID | str) -> Patient:
    """One patient's demographic record, with its audit row."""
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category="demographics"
    )
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            patient_public_id=patient.public_id,
            category="demographics",
            object_type="patient",
            object_id=patient.public_id,
            detail=_read_detail(basis),
        )
    return patient


def episode_timeline_read(
    actor: Actor, episode_public_id: uuid.UUID | str, now: datetime
) -> EpisodeTimeline:
    """One episode's timeline (episode, stays, events), with its audit row."""
    try:
        episode = episode_with_stays(actor, episode_public_id)
    except NotFound:
        _audit_refused_lookup(actor, episode_public_id, "episode")
        raise
    basis = require_patient_access(
        actor, Permission.CHART_READ, episode.patient, category="episodes"
    )
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            patient_public_id=episode.patient.public_id,
            category="episodes",
            object_type="episode",
            object_id=episode.public_id,
            detail=_read_detail(basis),
        )
    return episode_timeline(episode, now)


@dataclass(frozen=True)
class Worklist:
    alerts: list[AlertView]
    tasks: list[TaskView]
    flags: list[RiskFlag]
    sections: list[ChartPanel]


def worklist_read(actor: Actor, now: datetime) -> Worklist:
    """The actor's worklist: open alerts, open follow-up tasks and running risk flags
    of their patients, with its audit row (like the patient list)."""
    require_permission(actor, Permission.CHART_READ, category="patient_list")
    found = Worklist(
        alerts=worklist_alerts(actor, now),
        tasks=worklist_tasks(actor, now),
        flags=worklist_flags(actor, now),
        sections=worklist_sections(actor, now),
    )
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category="patient_list",
            object_type="worklist",
            detail={
                "shown": len(found.alerts),
                **({"tasks": len(found.tasks)} if found.tasks else {}),
                **({"flags": len(found.flags)} if found.flags else {}),
                **({"sections": len(found.sections)} if found.sections else {}),
            },
        )
    return found
