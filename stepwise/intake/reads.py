"""Reads of the admissions line with their audit rows: a call is Part 2 information
from the first ring (the person applied for treatment), so every read is logged."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.intake import selectors
from stepwise.intake.models import Inquiry
from stepwise.intake.services.common import CATEGORY
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient
from stepwise.patients.selectors import patient_matches


def _audit_list(
    actor: Actor,
    object_type: str,
    inquiries: Iterable[Inquiry],
    *,
    action: str = AuditAction.READ,
    query: str | None = None,
) -> None:
    shown = list(inquiries)
    with transaction.atomic():
        audit_record(
            action=action,
            actor=actor,
            category=CATEGORY,
            object_type=object_type,
            detail={
                **({"query": query[:100]} if query is not None else {}),
                "inquiries": [str(i.public_id) for i in shown],
                "patients": sorted({str(i.patient.public_id) for i in shown if i.patient}),
            },
        )


def inquiry_read(actor: Actor, public_id: uuid.UUID | str) -> Inquiry:
    """One call with everything the call page shows, and its audit row. Once the caller
    is a patient the call is part of their record: treating clinicians then need the
    care relationship the chart needs."""
    inquiry = selectors.inquiry_get(actor, public_id)
    if inquiry.patient is not None:
        require_patient_access(actor, Permission.CHART_READ, inquiry.patient, category=CATEGORY)
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            patient_public_id=inquiry.patient.public_id if inquiry.patient else None,
            category=CATEGORY,
            object_type="inquiry",
            object_id=inquiry.public_id,
        )
    return inquiry


def desk_read(actor: Actor, now: datetime) -> selectors.CallDesk:
    desk = selectors.call_desk(actor, now)
    seen = {
        i.pk: i
        for i in (*desk.open_calls, *desk.lead_queue, *desk.follow_ups_due, *desk.recent_closed)
    }
    _audit_list(actor, "call_desk", seen.values())
    return desk


def waitlist_read(actor: Actor, now: datetime) -> list[selectors.WaitingPerson]:
    waiting = selectors.waitlist(actor, now)
    _audit_list(actor, "waitlist", (w.inquiry for w in waiting))
    return waiting


def search_read(actor: Actor, text: str) -> list[Inquiry]:
    """Calls found by a name or phone number (a caller who rings again), audited as a
    search naming the calls shown."""
    found = list(selectors.inquiry_search(actor, text))
    _audit_list(actor, "call_search", found, action=AuditAction.SEARCH, query=text.strip())
    return found


def matches_read(actor: Actor, inquiry: Inquiry) -> list[Patient]:
    """Existing patients who may be the caller (same family name and date of birth),
    shown for confirmation before an admission: a read of their identities, audited
    naming each one."""
    if not (inquiry.family_name.strip() and inquiry.date_of_birth):
        return []
    found = patient_matches(
        actor,
        given_name=inquiry.given_name,
        family_name=inquiry.family_name,
        date_of_birth=inquiry.date_of_birth,
    )
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category=CATEGORY,
            object_type="patient_matches",
            object_id=inquiry.public_id,
            detail={"patients": [str(p.public_id) for p in found]},
        )
    return found
