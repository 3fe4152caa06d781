"""Scoped reads of consents and disclosures: organization first, fixed query counts."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db.models import Prefetch, QuerySet

from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound
from stepwise.core.ids import public_id_or_404
from stepwise.patients.models import Patient
from stepwise.privacy.models import Consent, ConsentReconfirmation, Disclosure, EmergencyReview


def _consents(actor: Actor, patient: Patient) -> QuerySet[Consent]:
    again = ConsentReconfirmation.objects.select_related("confirmed_by").order_by("confirmed_at")
    return (
        Consent.objects.filter(organization_id=actor.organization_id, patient=patient)
        .select_related("patient", "created_by", "signature_recorded_by", "revocation_recorded_by")
        .prefetch_related(Prefetch("reconfirmations", queryset=again))
    )


def consents_for_patient(actor: Actor, patient: Patient) -> list[Consent]:
    """A patient's consents, newest first, with their re-confirmations (2 queries)."""
    return list(_consents(actor, patient).order_by("-created_at", "-id"))


def consent_get(actor: Actor, patient: Patient, public_id: uuid.UUID | str) -> Consent:
    consent = _consents(actor, patient).filter(public_id=public_id_or_404(public_id)).first()
    if consent is None:
        raise NotFound()
    return consent


def disclosures_for_accounting(
    actor: Actor, patient: Patient, since: datetime, until: datetime
) -> list[Disclosure]:
    """The patient's disclosures in a period, newest first (1 query)."""
    return list(
        Disclosure.objects.filter(
            organization_id=actor.organization_id,
            patient=patient,
            disclosed_at__gte=since,
            disclosed_at__lte=until,
        )
        .select_related("disclosed_by", "consent", "notice")
        .order_by("-disclosed_at", "-id")
    )


def emergency_review_queue(actor: Actor) -> list[Disclosure]:
    """Emergency disclosures awaiting the privacy officer's review, oldest first (1 query)."""
    return list(
        Disclosure.objects.filter(
            organization_id=actor.organization_id, review_state=EmergencyReview.PENDING
        )
        .select_related("patient", "disclosed_by")
        .order_by("disclosed_at", "id")
    )


def recently_reviewed(actor: Actor, limit: int = 20) -> list[Disclosure]:
    """The last reviewed emergency disclosures (1 query)."""
    return list(
        Disclosure.objects.filter(
            organization_id=actor.organization_id, review_state=EmergencyReview.REVIEWED
        )
        .select_related("patient", "disclosed_by", "reviewed_by")
        .order_by("-reviewed_at", "-id")[:limit]
    )


def disclosure_get(actor: Actor, public_id: uuid.UUID | str) -> Disclosure:
    found = (
        Disclosure.objects.filter(
            organization_id=actor.organization_id, public_id=public_id_or_404(public_id)
        )
        .select_related("patient")
        .first()
    )
    if found is None:
        raise NotFound()
    return found
