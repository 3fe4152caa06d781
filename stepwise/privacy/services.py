"""The named writes of 42 CFR Part 2: consents, and the one way records leave the program.

Every release of patient information outside the program (PDF today; exports,
API/FHIR and the family portal later) goes through ``disclosure_release``: it
asks the rules, refuses with the reason (audited), or produces the document with
the §2.32 notice and the consent attached, records the Disclosure and audits it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone

from stepwise.care.chart import patient_for
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, NotFound, ValidationFailed, allowed_values
from stepwise.core.models import AuditAction, AuditOutcome
from stepwise.core.roles import Permission
from stepwise.patients.models import Patient
from stepwise.privacy import rules
from stepwise.privacy.models import (
    Basis,
    Channel,
    Consent,
    ConsentKind,
    ConsentReconfirmation,
    Disclosure,
    DisclosureNotice,
    EmergencyReview,
    Purpose,
    RecipientClass,
    RevocationChannel,
    SignatureMethod,
    Signer,
)
from stepwise.privacy.notice import current_notice

CONSENTS = "consents"
DISCLOSURES = "disclosures"


def _require(actor: Actor, patient: Patient, permission: Permission) -> None:
    """Organization, role and care team, checked (and refusals audited) in one place."""
    if patient.organization_id != actor.organization_id:
        raise NotFound()
    patient_for(actor, patient.public_id, permission=permission)


def _coded(values: Sequence[str], choices: Sequence[tuple[str, str]], field_name: str) -> list[str]:
    known = {code for code, _ in choices}
    unknown = [v for v in values if v not in known]
    if unknown:
        raise ValidationFailed(
            {
                field_name: f"Unknown value {unknown[0]!r}. Allowed values: {allowed_values(choices)}."
            }
        )
    return list(dict.fromkeys(values))


def _one_coded(value: str, choices: Sequence[tuple[str, str]], field_name: str) -> str:
    if value not in {code for code, _ in choices}:
        raise ValidationFailed({field_name: f"Allowed values: {allowed_values(choices)}."})
    return value


CATEGORY_CHOICES = [(c.value, label) for c, label in rules.CATEGORY_LABELS.items()]


# Consents ------------------------------------------------------------------


@dataclass
class ConsentData:
    kind: str
    categories: list[str]
    information_description: str
    purposes: list[str]
    recipient_names: list[str] = field(default_factory=list)
    recipient_classes: list[str] = field(default_factory=list)
    recipient_description: str = ""
    purpose_description: str = ""
    # Empty means "the organization and its staff".
    disclosing_party: str = ""
    revocation_statement: str = rules.DEFAULT_REVOCATION_STATEMENT
    expires_on: date | None = None
    expiry_event: str = ""
    redisclosure_statement: str = ""
    irrevocable_until: date | None = None


def consent_create(actor: Actor, patient: Patient, data: ConsentData) -> Consent:
    """A draft consent holding every §2.31 element; it covers nothing until signed."""
    _require(actor, patient, Permission.CONSENT_WRITE)
    kind = _one_coded(data.kind, ConsentKind.choices, "kind")
    categories = _coded(data.categories, CATEGORY_CHOICES, "categories")
    purposes = _coded(data.purposes, Purpose.choices, "purposes")
    classes = _coded(data.recipient_classes, RecipientClass.choices, "recipient_classes")
    names = list(dict.fromkeys(n.strip() for n in data.recipient_names if n.strip()))
    disclosing_party = data.disclosing_party.strip() or f"{actor.organization.name} and its staff"
    draft = rules.ConsentDraft(
        kind=rules.ConsentKind(kind),
        purposes=frozenset(rules.Purpose(p) for p in purposes),
        categories=frozenset(rules.InfoCategory(c) for c in categories),
        information_description=data.information_description,
        recipient_names=tuple(names),
        recipient_classes=frozenset(rules.RecipientClass(c) for c in classes),
        disclosing_party=disclosing_party,
        revocation_statement=data.revocation_statement,
        expires_on=data.expires_on,
        expiry_event=data.expiry_event,
        redisclosure_statement=data.redisclosure_statement,
        irrevocable_until=data.irrevocable_until,
        purpose_description=data.purpose_description,
        today=timezone.now().date(),
    )
    errors = rules.consent_errors(draft)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        consent = Consent.objects.create(
            organization_id=actor.organization_id,
            patient=patient,
            kind=kind,
            disclosing_party=disclosing_party,
            categories=categories,
            information_description=data.information_description.strip(),
            recipient_names=names,
            recipient_classes=classes,
            # Only the TPO consent may describe recipients generically; it gets the
            # standard wording when none is given, no other kind gets it by default.
            recipient_description=data.recipient_description.strip()
            or (rules.TPO_GENERIC_RECIPIENTS if kind == rules.ConsentKind.TPO else ""),
            purposes=purposes,
            purpose_description=data.purpose_description.strip(),
            revocation_statement=data.revocation_statement.strip(),
            expires_on=data.expires_on,
            expiry_event=data.expiry_event.strip(),
            redisclosure_statement=data.redisclosure_statement.strip(),
            irrevocable_until=data.irrevocable_until,
            created_by_id=actor.user_id,
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CONSENTS,
            object_type="consent",
            object_id=consent.public_id,
            detail={"kind": kind, "categories": categories, "purposes": purposes},
        )
    return consent


@dataclass(frozen=True)
class Signature:
    signer: str
    signer_name: str
    attested: bool
    method: str = SignatureMethod.ELECTRONIC
    representative_authority: str = ""
    signed_at: datetime | None = None


def _locked(consent: Consent) -> Consent:
    return Consent.objects.select_for_update().select_related("patient").get(pk=consent.pk)


def consent_sign(actor: Actor, consent: Consent, signature: Signature) -> Consent:
    """Record the signature (typed full name, attestation, time) of the patient or
    their authorized representative; the consent becomes active."""
    _require(actor, consent.patient, Permission.CONSENT_WRITE)
    signer = _one_coded(signature.signer, Signer.choices, "signer")
    method = _one_coded(signature.method, SignatureMethod.choices, "method")
    errors: dict[str, str] = {}
    if not signature.signer_name.strip():
        errors["signer_name"] = "Type the signer's full name."
    if not signature.attested:
        errors["attested"] = (
            "The signer must confirm that typing their name is their signature and that "
            "they read (or had read to them) the summary."
        )
    if signer == Signer.REPRESENTATIVE and not signature.representative_authority.strip():
        errors["representative_authority"] = (
            "Give the representative's authority (e.g. parent of a minor, legal guardian, "
            "health care power of attorney)."
        )
    if errors:
        raise ValidationFailed(errors)
    signed_at = event_time(signature.signed_at, "signed_at")
    with transaction.atomic():
        locked = _locked(consent)
        if locked.signed_at is not None:
            raise Conflict(f"This consent was already signed on {locked.signed_at:%Y-%m-%d}.")
        locked.signer = signer
        locked.signer_name = signature.signer_name.strip()
        locked.representative_authority = (
            signature.representative_authority.strip() if signer == Signer.REPRESENTATIVE else ""
        )
        locked.signature_method = method
        locked.signature_attested = True
        locked.signed_at = signed_at
        locked.signature_recorded_by_id = actor.user_id
        locked.save(
            update_fields=[
                "signer",
                "signer_name",
                "representative_authority",
                "signature_method",
                "signature_attested",
                "signed_at",
                "signature_recorded_by",
                "updated_at",
            ]
        )
        audit_record(
            action=AuditAction.CONSENT_SIGN,
            actor=actor,
            patient_public_id=locked.patient.public_id,
            category=CONSENTS,
            object_type="consent",
            object_id=locked.public_id,
            detail={"event": "signed", "signer": signer, "method": method},
        )
    return locked


def consent_reconfirm(
    actor: Actor, consent: Consent, *, signer_name: str, note: str = "", at: datetime | None = None
) -> ConsentReconfirmation:
    """The patient confirms an active consent again (e.g. signed at intake in withdrawal)."""
    _require(actor, consent.patient, Permission.CONSENT_WRITE)
    if not signer_name.strip():
        raise ValidationFailed({"signer_name": "Type the full name of the person confirming."})
    confirmed_at = event_time(at, "confirmed_at")
    with transaction.atomic():
        locked = _locked(consent)
        state = locked.state(confirmed_at)
        if state != rules.ConsentState.ACTIVE:
            raise Conflict(f"Only an active consent can be re-confirmed; this one is {state}.")
        again = ConsentReconfirmation.objects.create(
            organization_id=actor.organization_id,
            consent=locked,
            confirmed_at=confirmed_at,
            confirmed_by_id=actor.user_id,
            signer_name=signer_name.strip(),
            note=note.strip(),
        )
        audit_record(
            action=AuditAction.CONSENT_RECONFIRM,
            actor=actor,
            patient_public_id=locked.patient.public_id,
            category=CONSENTS,
            object_type="consent",
            object_id=locked.public_id,
            detail={"event": "reconfirmed"},
        )
    return again


def consent_revoke(
    actor: Actor,
    consent: Consent,
    *,
    channel: str,
    note: str = "",
    at: datetime | None = None,
) -> Consent:
    """Record a written revocation. It stops every later disclosure at once; the row
    lock makes a release running at the same moment finish first or see it."""
    _require(actor, consent.patient, Permission.CONSENT_WRITE)
    channel = _one_coded(channel, RevocationChannel.choices, "channel")
    revoked_at = event_time(at, "revoked_at")
    with transaction.atomic():
        locked = _locked(consent)
        if locked.signed_at is None:
            raise Conflict("This consent was never signed; there is nothing to revoke.")
        why_not = rules.may_revoke(locked.facts(), revoked_at)
        if why_not:
            raise Conflict(why_not)
        if revoked_at < locked.signed_at:
            raise ValidationFailed({"revoked_at": "The revocation cannot precede the signature."})
        locked.revoked_at = revoked_at
        locked.revocation_channel = channel
        locked.revocation_note = note.strip()
        locked.revocation_recorded_by_id = actor.user_id
        locked.save(
            update_fields=[
                "revoked_at",
                "revocation_channel",
                "revocation_note",
                "revocation_recorded_by",
                "updated_at",
            ]
        )
        audit_record(
            action=AuditAction.CONSENT_REVOKE,
            actor=actor,
            patient_public_id=locked.patient.public_id,
            category=CONSENTS,
            object_type="consent",
            object_id=locked.public_id,
            detail={"event": "revoked", "channel": channel},
        )
    return locked


def consent_expiry_event_record(
    actor: Actor, consent: Consent, *, at: datetime | None = None
) -> Consent:
    """The consent's expiry event happened (e.g. end of treatment): it stops now."""
    _require(actor, consent.patient, Permission.CONSENT_WRITE)
    happened_at = event_time(at, "expiry_event_at")
    with transaction.atomic():
        locked = _locked(consent)
        if not locked.expiry_event:
            raise Conflict("This consent expires on a date, not on an event.")
        if locked.expiry_event_at is not None:
            raise Conflict("The expiry event is already recorded.")
        locked.expiry_event_at = happened_at
        locked.save(update_fields=["expiry_event_at", "updated_at"])
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=locked.patient.public_id,
            category=CONSENTS,
            object_type="consent",
            object_id=locked.public_id,
            detail={"event": "expiry_event"},
        )
    return locked


# Disclosures ---------------------------------------------------------------


@dataclass(frozen=True)
class DisclosureRequest:
    """What someone asks to release, to whom, why, and through which channel."""

    recipient_name: str
    recipient_class: str
    purpose: str
    categories: tuple[str, ...]
    channel: str = Channel.PDF
    recipient_address: str = ""
    information_description: str = ""
    purpose_description: str = ""
    emergency: rules.EmergencyFacts | None = None
    court_order: rules.CourtOrderFacts | None = None


@dataclass(frozen=True)
class ReleasePacket:
    """Everything a renderer needs; it must print the notice and the consent (or basis)."""

    actor: Actor
    patient: Patient
    request: DisclosureRequest
    decision: rules.Decision
    notice: DisclosureNotice
    consent: Consent | None
    disclosed_at: datetime
    # The Disclosure's public id, printed on the document so both sides can refer to it.
    reference: uuid.UUID

    @property
    def categories(self) -> list[rules.InfoCategory]:
        return [rules.InfoCategory(c) for c in self.request.categories]


@dataclass(frozen=True)
class RenderedDocument:
    content: bytes
    filename: str
    media_type: str


@dataclass(frozen=True)
class Release:
    disclosure: Disclosure
    document: RenderedDocument


class DisclosureRefused(Conflict):
    """The rules said no; the message is the reason, written for a person."""

    def __init__(self, decision: rules.Decision) -> None:
        super().__init__(decision.reason)
        self.decision = decision


def _validated(request: DisclosureRequest) -> None:
    errors: dict[str, str] = {}
    if not request.recipient_name.strip():
        errors["recipient_name"] = "Name the recipient (a person or an organization)."
    if request.emergency is not None:
        # §2.51(c): documented at the time of the disclosure, not later.
        if not request.emergency.recipient_facility.strip():
            errors["recipient_facility"] = "Name the recipient's facility."
        if not request.emergency.nature.strip():
            errors["nature"] = "Describe the nature of the emergency."
    if errors:
        raise ValidationFailed(errors)
    _one_coded(request.recipient_class, RecipientClass.choices, "recipient_class")
    _one_coded(request.purpose, Purpose.choices, "purpose")
    _one_coded(request.channel, Channel.choices, "channel")
    _coded(request.categories, CATEGORY_CHOICES, "categories")
    if request.purpose == Purpose.OTHER and not request.purpose_description.strip():
        raise ValidationFailed({"purpose_description": "Describe the purpose when it is 'other'."})


def _audit_refusal(
    actor: Actor, patient: Patient, request: DisclosureRequest, decision: rules.Decision
) -> None:
    with transaction.atomic():
        audit_record(
            action=AuditAction.DISCLOSURE_REFUSED,
            actor=actor,
            patient_public_id=patient.public_id,
            category=DISCLOSURES,
            object_type="disclosure",
            outcome=AuditOutcome.DENIED,
            detail={
                "refusal": str(decision.refusal),
                "reason": decision.reason,
                "purpose": request.purpose,
                "recipient_class": request.recipient_class,
                "categories": list(request.categories),
                "channel": request.channel,
            },
        )


def disclosure_release(
    actor: Actor,
    patient: Patient,
    request: DisclosureRequest,
    render_document: Callable[[ReleasePacket], RenderedDocument],
) -> Release:
    """Release patient information outside the program, or refuse with the reason.

    The only way records leave Stepwise. Refusals raise DisclosureRefused (a
    Conflict) after their audit row is written; nothing is rendered for them.
    """
    emergency = request.emergency is not None
    permission = Permission.DISCLOSURE_EMERGENCY if emergency else Permission.DISCLOSURE_RELEASE
    _require(actor, patient, permission)
    if request.court_order is not None:
        # Releasing under a court order is the privacy officer's (or director's) call.
        require_permission(
            actor,
            Permission.PRIVACY_REVIEW,
            patient_public_id=patient.public_id,
            category=DISCLOSURES,
        )
    _validated(request)
    asked = rules.ReleaseRequest(
        recipient_name=request.recipient_name,
        recipient_class=rules.RecipientClass(request.recipient_class),
        purpose=rules.Purpose(request.purpose),
        categories=frozenset(rules.InfoCategory(c) for c in request.categories),
        at=timezone.now(),
        emergency=request.emergency,
        court_order=request.court_order,
    )
    with transaction.atomic():
        # Locking the patient's consents orders this release against a revocation.
        consents = list(
            Consent.objects.select_for_update()
            .filter(organization_id=actor.organization_id, patient=patient)
            .order_by("id")
        )
        decision = rules.decide([c.facts() for c in consents], asked)
        if decision.allowed:
            return _record_release(actor, patient, request, decision, consents, render_document)
    _audit_refusal(actor, patient, request, decision)
    raise DisclosureRefused(decision)


def _record_release(
    actor: Actor,
    patient: Patient,
    request: DisclosureRequest,
    decision: rules.Decision,
    consents: list[Consent],
    render_document: Callable[[ReleasePacket], RenderedDocument],
) -> Release:
    consent = next((c for c in consents if str(c.public_id) == decision.consent_key), None)
    if consent is not None:
        consent.patient = patient  # the renderer prints the patient's name from it
    notice = current_notice()
    disclosed_at = timezone.now()
    packet = ReleasePacket(
        actor=actor,
        patient=patient,
        request=request,
        decision=decision,
        notice=notice,
        consent=consent,
        disclosed_at=disclosed_at,
        reference=uuid.uuid4(),
    )
    document = render_document(packet)
    digest = hashlib.sha256(document.content).hexdigest()
    basis = Basis(str(decision.basis))
    disclosure = Disclosure.objects.create(
        public_id=packet.reference,
        organization_id=actor.organization_id,
        patient=patient,
        recipient_name=request.recipient_name.strip(),
        recipient_address=request.recipient_address.strip(),
        recipient_class=request.recipient_class,
        purpose=request.purpose,
        purpose_description=request.purpose_description.strip(),
        categories=list(dict.fromkeys(request.categories)),
        information_description=request.information_description.strip(),
        basis=basis,
        consent=consent,
        notice=notice,
        disclosed_by_id=actor.user_id,
        disclosed_at=disclosed_at,
        channel=request.channel,
        emergency_facility=request.emergency.recipient_facility.strip()
        if request.emergency and basis == Basis.MEDICAL_EMERGENCY
        else "",
        emergency_nature=request.emergency.nature.strip()
        if request.emergency and basis == Basis.MEDICAL_EMERGENCY
        else "",
        court_order_reference=request.court_order.reference.strip() if request.court_order else "",
        court_order_court=request.court_order.court.strip() if request.court_order else "",
        document_name=document.filename,
        document_sha256=digest,
        # Releases without the patient's consent wait for a second person's review.
        review_state=EmergencyReview.PENDING
        if basis in (Basis.MEDICAL_EMERGENCY, Basis.COURT_ORDER)
        else EmergencyReview.NOT_REQUIRED,
    )
    audit_record(
        action=AuditAction.DISCLOSE,
        actor=actor,
        patient_public_id=patient.public_id,
        category=DISCLOSURES,
        object_type="disclosure",
        object_id=disclosure.public_id,
        detail={
            "basis": basis.value,
            "purpose": request.purpose,
            "recipient_class": request.recipient_class,
            "categories": list(request.categories),
            "channel": request.channel,
            "consent": str(consent.public_id) if consent else "",
            "notice_version": notice.version,
            "sha256": digest,
        },
    )
    return Release(disclosure=disclosure, document=document)


def disclosure_review(actor: Actor, disclosure: Disclosure, *, note: str) -> Disclosure:
    """The privacy officer's review of a §2.51 emergency disclosure."""
    require_permission(
        actor,
        Permission.PRIVACY_REVIEW,
        patient_public_id=disclosure.patient.public_id,
        category=DISCLOSURES,
    )
    if disclosure.organization_id != actor.organization_id:
        raise NotFound()
    if disclosure.disclosed_by_id == actor.user_id:
        raise Conflict("Another person must review a release you made.")
    if not note.strip():
        raise ValidationFailed({"note": "Say what the review found."})
    with transaction.atomic():
        locked = (
            Disclosure.objects.select_for_update().select_related("patient").get(pk=disclosure.pk)
        )
        if locked.review_state != EmergencyReview.PENDING:
            raise Conflict("This disclosure is not awaiting review.")
        locked.review_state = EmergencyReview.REVIEWED
        locked.reviewed_at = timezone.now()
        locked.reviewed_by_id = actor.user_id
        locked.review_note = note.strip()
        locked.save(
            update_fields=[
                "review_state",
                "reviewed_at",
                "reviewed_by",
                "review_note",
                "updated_at",
            ]
        )
        audit_record(
            action=AuditAction.REVIEW,
            actor=actor,
            patient_public_id=locked.patient.public_id,
            category=DISCLOSURES,
            object_type="disclosure",
            object_id=locked.public_id,
            detail={"event": "emergency_reviewed"},
        )
    return locked
