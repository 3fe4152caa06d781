"""Consents and releases for the tests, made through the services."""

from __future__ import annotations

from datetime import date
from typing import Any

from stepwise.privacy import rules
from stepwise.privacy.documents import render_chart_summary
from stepwise.privacy.models import Consent
from stepwise.privacy.services import (
    ConsentData,
    DisclosureRequest,
    Release,
    Signature,
    consent_create,
    consent_sign,
    disclosure_release,
)

CLINIC = "Dr. Mira Shah, Eastside Clinic"


def specific_data(**overrides) -> ConsentData:
    values: dict[str, Any] = {
        "kind": "specific",
        "categories": ["demographics", "episodes"],
        "information_description": "Dates of treatment and levels of care for opioid use disorder.",
        "purposes": ["treatment"],
        "recipient_names": [CLINIC],
        "recipient_classes": [],
        "expires_on": date(2099, 1, 1),
        "redisclosure_statement": rules.DEFAULT_REDISCLOSURE_STATEMENT,
    }
    values.update(overrides)
    return ConsentData(**values)


def signed_consent(cast, actor_name: str = "owner", **overrides) -> Consent:
    actor = cast.actors[actor_name]
    consent = consent_create(actor, cast.patient, specific_data(**overrides))
    return consent_sign(actor, consent, Signature("patient", "Ana Rivera", attested=True))


def request_for(**overrides) -> DisclosureRequest:
    values: dict[str, Any] = {
        "recipient_name": CLINIC,
        "recipient_class": "treating_provider",
        "purpose": "treatment",
        "categories": ("demographics", "episodes"),
        "recipient_address": "12 Main St, Springfield",
    }
    values.update(overrides)
    return DisclosureRequest(**values)


def release(cast, actor_name: str = "owner", **overrides) -> Release:
    return disclosure_release(
        cast.actors[actor_name], cast.patient, request_for(**overrides), render_chart_summary
    )
