"""Audited reads behind the privacy pages: each checks access and writes its audit row."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

from stepwise.care.chart import patient_for
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.models import Patient
from stepwise.privacy import rules
from stepwise.privacy.consent_selectors import (
    consent_get,
    consents_for_patient,
    disclosures_for_accounting,
    emergency_review_queue,
    recently_reviewed,
)
from stepwise.privacy.documents import accounting_pdf
from stepwise.privacy.models import Consent, Disclosure
from stepwise.privacy.notice import current_notice
from stepwise.privacy.services import CONSENTS, DISCLOSURES, RenderedDocument


def _audit_read(
    actor: Actor,
    patient: Patient | None,
    category: str,
    *,
    action: str = AuditAction.READ,
    object_type: str = "",
    object_id: str | uuid.UUID = "",
    detail: dict[str, str] | None = None,
) -> None:
    audit_record(
        action=action,
        actor=actor,
        patient_public_id=patient.public_id if patient else None,
        category=category,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )


def consents_read(actor: Actor, public_id: uuid.UUID | str) -> tuple[Patient, list[Consent]]:
    patient = patient_for(actor, public_id, permission=Permission.CONSENT_READ)
    with transaction.atomic():
        consents = consents_for_patient(actor, patient)
        _audit_read(actor, patient, CONSENTS)
    return patient, consents


def consent_read(
    actor: Actor, public_id: uuid.UUID | str, consent_id: uuid.UUID | str
) -> tuple[Patient, Consent]:
    patient = patient_for(actor, public_id, permission=Permission.CONSENT_READ)
    with transaction.atomic():
        consent = consent_get(actor, patient, consent_id)
        _audit_read(actor, patient, CONSENTS, object_type="consent", object_id=consent.public_id)
    return patient, consent


def consent_for_write(
    actor: Actor, public_id: uuid.UUID | str, consent_id: uuid.UUID | str
) -> tuple[Patient, Consent]:
    """The consent a write acts on. The service audits the write; this audits the read,
    as a refused write shows the consent again."""
    patient = patient_for(actor, public_id, permission=Permission.CONSENT_WRITE)
    with transaction.atomic():
        consent = consent_get(actor, patient, consent_id)
        _audit_read(actor, patient, CONSENTS, object_type="consent", object_id=consent.public_id)
    return patient, consent


@dataclass(frozen=True)
class Accounting:
    patient: Patient
    disclosures: list[Disclosure]
    since: datetime
    until: datetime


def accounting_read(
    actor: Actor,
    public_id: uuid.UUID | str,
    since: date | None,
    now: datetime,
    *,
    export: bool = False,
) -> Accounting:
    """The accounting of disclosures (§2.25) over three years or the period chosen."""
    patient = patient_for(actor, public_id, permission=Permission.DISCLOSURE_ACCOUNTING)
    start, problem = rules.accounting_start(now, since)
    if problem:
        raise ValidationFailed({"since": problem})
    with transaction.atomic():
        found = disclosures_for_accounting(actor, patient, start, now)
        _audit_read(
            actor,
            patient,
            DISCLOSURES,
            action=AuditAction.EXPORT if export else AuditAction.READ,
            object_type="accounting",
            detail={"since": f"{start:%Y-%m-%d}", "shown": str(len(found))},
        )
    return Accounting(patient=patient, disclosures=found, since=start, until=now)


def accounting_document(
    actor: Actor, public_id: uuid.UUID | str, since: date | None, now: datetime
) -> RenderedDocument:
    accounting = accounting_read(actor, public_id, since, now, export=True)
    return accounting_pdf(
        organization_name=actor.organization.name,
        patient=accounting.patient,
        disclosures=accounting.disclosures,
        since=accounting.since,
        until=accounting.until,
        notice=current_notice(),
        printed_by=actor.username,
    )


def review_queue_read(actor: Actor) -> tuple[list[Disclosure], list[Disclosure]]:
    require_permission(actor, Permission.PRIVACY_REVIEW, category=DISCLOSURES)
    with transaction.atomic():
        pending = emergency_review_queue(actor)
        reviewed = recently_reviewed(actor)
        shown = sorted({str(d.patient.public_id) for d in [*pending, *reviewed]})
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category=DISCLOSURES,
            object_type="emergency_review_queue",
            detail={"patients": shown},
        )
    return pending, reviewed


def release_form_read(
    actor: Actor, public_id: uuid.UUID | str, permission: Permission, now: datetime
) -> tuple[Patient, list[str]]:
    """The patient and the recipients named by consents active now (for the form's
    suggestions), read with the permission the release itself will need."""
    patient = patient_for(actor, public_id, permission=permission)
    with transaction.atomic():
        names = sorted(
            {
                name
                for consent in consents_for_patient(actor, patient)
                if consent.state(now) == rules.ConsentState.ACTIVE
                for name in consent.recipient_names
            },
            key=str.casefold,
        )
        _audit_read(actor, patient, CONSENTS, detail={"for": "release form"})
    return patient, names
