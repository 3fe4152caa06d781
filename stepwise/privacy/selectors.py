"""Reads of the audit log for directors and privacy officers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.db.models import Q, QuerySet
from django.http import QueryDict

from stepwise.core.actor import Actor
from stepwise.core.models import AuditAction, AuditEvent, DataClass, data_class_filter
from stepwise.patients.models import Patient

# Column name shown to the user -> ordering of the query (stable with id).
AUDIT_SORTS: dict[str, str] = {
    "time": "occurred_at",
    "user": "actor_username",
    "role": "actor_role",
    "action": "action",
    "category": "category",
    "class": "data_class",
    "patient": "patient_public_id",
    "outcome": "outcome",
}


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class AuditFilter:
    patient: str = ""
    user: str = ""
    action: str = ""
    data_class: str = ""
    since: date | None = None
    until: date | None = None
    sort: str = "-time"

    @classmethod
    def from_query(cls, query: QueryDict) -> AuditFilter:
        sort = query.get("sort", "-time")
        if sort.lstrip("-") not in AUDIT_SORTS:
            sort = "-time"
        action = query.get("action", "")
        data_class = query.get("class", "")
        return cls(
            patient=query.get("patient", "").strip(),
            user=query.get("user", "").strip(),
            action=action if action in AuditAction.values else "",
            data_class=data_class if data_class in DataClass.values else "",
            since=_parse_day(query.get("since", "")),
            until=_parse_day(query.get("until", "")),
            sort=sort,
        )


def _patient_ids_for(actor: Actor, text: str) -> list[uuid.UUID]:
    """A patient filter may be a UUID or a record number of the actor's organization."""
    try:
        return [uuid.UUID(text)]
    except ValueError:
        return list(
            Patient.objects.filter(
                organization_id=actor.organization_id, mrn__iexact=text
            ).values_list("public_id", flat=True)
        )


def _naming_patients(ids: list[uuid.UUID]) -> Q:
    """Events about these patients: their own rows, and reads of a page that showed
    several patients at once (a unit board, a review queue), which list the patients
    shown in `detail.patients` instead of naming one."""
    found = Q(patient_public_id__in=ids)
    for public_id in ids:
        listed = (
            # JSON containment, served by the GIN index of migration core 0006.
            Q(detail__contains={"patients": [str(public_id)]})
            if connection.vendor == "postgresql"
            # SQLite has no JSON containment: the listed id as text.
            else Q(detail__patients__icontains=str(public_id))
        )
        found |= Q(patient_public_id__isnull=True) & listed
    return found


def audit_events(actor: Actor, filters: AuditFilter) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(organization_id=actor.organization_id)
    if filters.patient:
        events = events.filter(_naming_patients(_patient_ids_for(actor, filters.patient)))
    if filters.user:
        events = events.filter(actor_username__iexact=filters.user)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.data_class:
        events = events.filter(data_class_filter(filters.data_class))
    if filters.since:
        events = events.filter(
            occurred_at__gte=datetime.combine(filters.since, time.min, tzinfo=UTC)
        )
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=UTC)
        events = events.filter(occurred_at__lt=end)
    field = AUDIT_SORTS[filters.sort.lstrip("-")]
    direction = "-" if filters.sort.startswith("-") else ""
    return events.order_by(f"{direction}{field}", f"{direction}id")


def patient_names(actor: Actor, public_ids: list[uuid.UUID]) -> dict[uuid.UUID, Patient]:
    """Patients named on one page of the log, in one query."""
    found = Patient.objects.filter(
        organization_id=actor.organization_id, public_id__in=public_ids
    ).only("public_id", "given_name", "family_name", "mrn")
    return {p.public_id: p for p in found}
