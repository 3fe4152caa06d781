"""Consent services and the one disclosure path: every refusal, every audit row."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pytest
import time_machine
from django.db.models import QuerySet
from django.utils import timezone

from stepwise.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.privacy import rules
from stepwise.privacy.documents import render_chart_summary
from stepwise.privacy.models import Consent, Disclosure, DisclosureNotice, EmergencyReview
from stepwise.privacy.notice import VERSION_1, current_notice
from stepwise.privacy.services import (
    DisclosureRefused,
    Signature,
    consent_create,
    consent_expiry_event_record,
    consent_reconfirm,
    consent_revoke,
    consent_sign,
    disclosure_release,
    disclosure_review,
)
from stepwise.privacy.tests.factories import (
    CLINIC,
    release,
    request_for,
    signed_consent,
    specific_data,
)


def refusals(cast: Any) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        action="disclosure_refused",
        category="disclosures",
        outcome="denied",
        patient_public_id=cast.patient.public_id,
    )


def test_consent_create_names_the_field_and_the_allowed_values(cast):
    owner = cast.actors["owner"]
    with pytest.raises(ValidationFailed) as bad:
        consent_create(owner, cast.patient, specific_data(kind="general"))
    assert "kind" in bad.value.errors and "tpo (" in bad.value.errors["kind"]
    with pytest.raises(ValidationFailed) as bad:
        consent_create(owner, cast.patient, specific_data(categories=["everything"]))
    assert "Allowed values" in bad.value.errors["categories"]
    with pytest.raises(ValidationFailed) as bad:
        consent_create(
            owner,
            cast.patient,
            specific_data(recipient_names=[], expires_on=None, information_description=""),
        )
    assert set(bad.value.errors) == {"recipient_names", "expires_on", "information_description"}
    assert not Consent.objects.exists()


def test_consent_lifecycle_is_audited(cast):
    owner = cast.actors["owner"]
    draft = consent_create(owner, cast.patient, specific_data())
    assert draft.state(timezone.now()) == rules.ConsentState.DRAFT
    with pytest.raises(ValidationFailed) as bad:
        consent_sign(owner, draft, Signature("representative", "Maria Rivera", attested=False))
    assert set(bad.value.errors) == {"attested", "representative_authority"}
    signed = consent_sign(
        owner,
        draft,
        Signature(
            "representative",
            "Maria Rivera",
            attested=True,
            representative_authority="Legal guardian",
        ),
    )
    assert signed.state(timezone.now()) == rules.ConsentState.ACTIVE
    with pytest.raises(Conflict):
        consent_sign(owner, signed, Signature("patient", "Ana Rivera", attested=True))
    consent_reconfirm(owner, signed, signer_name="Ana Rivera", note="Out of withdrawal, confirms.")
    consent_revoke(owner, signed, channel="letter")
    with pytest.raises(Conflict):
        consent_revoke(owner, signed, channel="letter")
    with pytest.raises(Conflict):
        consent_reconfirm(owner, signed, signer_name="Ana Rivera")
    events = AuditEvent.objects.filter(category="consents", object_id=str(signed.public_id))
    assert [e.detail.get("event", e.action) for e in events.order_by("id")] == [
        "create",
        "signed",
        "reconfirmed",
        "revoked",
    ]
    assert [e.action for e in events.order_by("id")] == [
        "create",
        "consent_sign",
        "consent_reconfirm",
        "consent_revoke",
    ]


def test_revoke_then_release_is_refused(cast):
    consent = signed_consent(cast)
    assert release(cast).disclosure.consent == consent
    consent_revoke(cast.actors["owner"], consent, channel="form")
    with pytest.raises(DisclosureRefused) as refused:
        release(cast)
    assert refused.value.decision.refusal == rules.Refusal.REVOKED
    assert "revoked" in refused.value.message
    assert Disclosure.objects.count() == 1
    assert refusals(cast).get().detail["refusal"] == "consent_revoked"


def test_expired_consent_is_refused(cast):
    signed_consent(cast, expires_on=date(2030, 1, 31))
    with time_machine.travel("2030-02-01 12:00Z"), pytest.raises(DisclosureRefused) as refused:
        release(cast)
    assert refused.value.decision.refusal == rules.Refusal.EXPIRED


def test_expiry_event_stops_the_consent(cast):
    consent = signed_consent(cast, expires_on=None, expiry_event="end of treatment")
    consent_expiry_event_record(cast.actors["owner"], consent)
    with pytest.raises(DisclosureRefused):
        release(cast)


def test_no_consent_wrong_purpose_and_missing_categories(cast):
    with pytest.raises(DisclosureRefused) as refused:
        release(cast)
    assert refused.value.decision.refusal == rules.Refusal.NO_CONSENT
    signed_consent(cast)
    cases: list[tuple[dict[str, Any], rules.Refusal]] = [
        ({"purpose": "research"}, rules.Refusal.PURPOSE),
        ({"categories": ("medications",)}, rules.Refusal.CATEGORIES),
        ({"recipient_name": "Someone else", "recipient_class": "family"}, rules.Refusal.NO_CONSENT),
    ]
    for overrides, refusal in cases:
        with pytest.raises(DisclosureRefused) as refused:
            release(cast, **overrides)
        assert refused.value.decision.refusal == refusal
    assert refusals(cast).count() == 4 and not Disclosure.objects.exists()


def test_legal_proceeding_needs_a_court_order(cast):
    signed_consent(cast, purposes=["treatment", "other"], purpose_description="Court review")
    with pytest.raises(DisclosureRefused) as refused:
        release(cast, purpose="legal_proceeding", recipient_class="criminal_justice")
    assert refused.value.decision.refusal == rules.Refusal.LEGAL_PROCEEDING
    order = rules.CourtOrderFacts("CR-2026-114", "County Superior Court")
    with pytest.raises(AccessDenied):  # the counselor may not release under an order
        release(
            cast, purpose="legal_proceeding", recipient_class="criminal_justice", court_order=order
        )
    done = release(
        cast,
        "readonly",
        purpose="legal_proceeding",
        recipient_class="criminal_justice",
        court_order=order,
    )
    assert (
        done.disclosure.basis == "court_order"
        and done.disclosure.court_order_reference == "CR-2026-114"
        and done.disclosure.review_state == "pending"
    )
    with pytest.raises(Conflict):  # reviewed by someone else
        disclosure_review(cast.actors["readonly"], done.disclosure, note="Order checked")
    reviewed = disclosure_review(cast.actors["director"], done.disclosure, note="Order checked")
    assert reviewed.review_state == "reviewed"


def test_admissions_records_consents_but_releases_nothing(cast):
    admissions = cast.new_member("admissions")
    consent = consent_create(admissions, cast.patient, specific_data())
    consent_sign(admissions, consent, Signature("patient", "Ana Rivera", attested=True))
    with pytest.raises(AccessDenied):
        disclosure_release(admissions, cast.patient, request_for(), render_chart_summary)
    assert not Disclosure.objects.exists()


def test_counseling_notes_need_their_own_consent(cast):
    signed_consent(cast, categories=["all_sud"])
    with pytest.raises(DisclosureRefused) as refused:
        release(cast, categories=("counseling_notes",))
    assert refused.value.decision.refusal == rules.Refusal.COUNSELING_NOTES_CONSENT
    with pytest.raises(ValidationFailed):
        signed_consent(cast, kind="specific", categories=["counseling_notes"])
    notes = signed_consent(cast, kind="counseling_notes", categories=["counseling_notes"])
    assert release(cast, categories=("counseling_notes",)).disclosure.consent == notes


def test_emergency_is_recorded_and_queued(cast):
    facts = rules.EmergencyFacts(
        "County General ER", "Unresponsive after suspected fentanyl overdose"
    )
    with pytest.raises(ValidationFailed) as bad:
        release(cast, emergency=rules.EmergencyFacts("", ""))
    assert set(bad.value.errors) == {"recipient_facility", "nature"}
    done = release(cast, recipient_name="Dr. Lee (ER)", emergency=facts)
    disclosure = done.disclosure
    assert disclosure.basis == "medical_emergency" and disclosure.consent is None
    assert disclosure.review_state == EmergencyReview.PENDING
    assert disclosure.emergency_facility == "County General ER"
    assert disclosure.document_sha256 == hashlib.sha256(done.document.content).hexdigest()
    with pytest.raises(DisclosureRefused) as refused:
        release(cast, recipient_class="family", emergency=facts)
    assert refused.value.decision.refusal == rules.Refusal.EMERGENCY_NOT_MEDICAL
    with pytest.raises(AccessDenied):
        disclosure_review(cast.actors["owner"], disclosure, note="fine")
    with pytest.raises(ValidationFailed):
        disclosure_review(cast.actors["readonly"], disclosure, note="")
    reviewed = disclosure_review(
        cast.actors["readonly"], disclosure, note="Bona fide; minimum necessary."
    )
    assert reviewed.review_state == EmergencyReview.REVIEWED and reviewed.reviewed_at
    with pytest.raises(Conflict):
        disclosure_review(cast.actors["readonly"], disclosure, note="again")


def test_release_is_recorded_with_notice_and_audit(cast):
    consent = signed_consent(cast)
    done = release(cast)
    d = done.disclosure
    assert d.notice.version == 1 and d.consent == consent and d.channel == "pdf"
    assert d.recipient_name == CLINIC and d.categories == ["demographics", "episodes"]
    event = AuditEvent.objects.get(action="disclose", object_id=str(d.public_id))
    assert event.detail["basis"] == "consent" and event.detail["sha256"] == d.document_sha256
    assert event.patient_public_id == cast.patient.public_id


def test_access_to_consents_and_releases(cast):
    consent = signed_consent(cast)
    with pytest.raises(AccessDenied):  # the administrator sees no clinical content
        consent_create(cast.actors["admin"], cast.patient, specific_data())
    with pytest.raises(AccessDenied):  # a nurse not on the care team
        release(cast, "colleague")
    with pytest.raises(NotFound):
        release(cast, "outsider")
    with pytest.raises(NotFound):
        consent_revoke(cast.actors["outsider"], consent, channel="letter")
    assert release(cast, "readonly").disclosure  # the privacy officer releases records
    assert not Disclosure.objects.filter(disclosed_by=cast.users["colleague"]).exists()


def test_irrevocable_criminal_justice_consent(cast):
    cj = signed_consent(
        cast,
        kind="criminal_justice",
        recipient_names=["County Probation"],
        purposes=["other"],
        purpose_description="Monitoring under the drug court referral",
        irrevocable_until=date(2099, 1, 1),
    )
    with pytest.raises(Conflict) as refused:
        consent_revoke(cast.actors["owner"], cj, channel="letter")
    assert "§2.35" in refused.value.message


def test_notice_version_1_is_the_2024_text(cast):
    notice = current_notice()
    assert notice.version == 1 and notice.long_text == VERSION_1["long_text"]
    assert (
        notice.short_text
        == "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
    )
    DisclosureNotice.objects.all().delete()
    assert current_notice().long_text.startswith("This record which has been disclosed to you")


def test_model_choices_match_the_rules():
    from stepwise.privacy import models

    assert set(models.ConsentKind.values) == {k.value for k in rules.ConsentKind}
    assert set(models.Purpose.values) == {p.value for p in rules.Purpose}
    assert set(models.RecipientClass.values) == {c.value for c in rules.RecipientClass}
    assert set(models.Basis.values) == {b.value for b in rules.Basis}


def test_revocation_is_immediate(cast):
    consent = signed_consent(cast)
    consent_revoke(cast.actors["owner"], consent, channel="portal")
    with pytest.raises(DisclosureRefused):
        release(cast)
