"""The demo shows the privacy features with real data, made through the services."""

from __future__ import annotations

import io

from django.core.management import call_command

from stepwise.core.audit import audit_verify
from stepwise.patients.models import BreakGlassAccess, Patient
from stepwise.privacy.models import Consent, Disclosure


def test_the_demo_has_consents_a_release_and_items_to_review(db):
    call_command("demo_load", stdout=io.StringIO())
    consents = Consent.objects.filter(organization__slug="riverside")
    assert consents.count() == 12
    assert consents.filter(revoked_at__isnull=False).count() == 1
    assert consents.filter(reconfirmations__isnull=False).distinct().count() == 1
    released = Disclosure.objects.filter(organization__slug="riverside")
    assert sorted(d.basis for d in released) == ["consent", "medical_emergency"]
    assert BreakGlassAccess.objects.filter(reviewed_at__isnull=True).count() == 1

    call_command("demo_load", stdout=io.StringIO())  # a second run adds nothing
    assert Consent.objects.count() == 12 and Disclosure.objects.count() == 2
    assert Patient.objects.filter(organization__slug="riverside").count() > 50
    assert audit_verify() == []
