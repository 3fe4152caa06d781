"""42 CFR Part 2 consents and the disclosure decision.

Pure Python: no Django imports. The services turn rows into these facts, ask
``decide`` and record what it answers; nothing leaves the program otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any


class ConsentKind(StrEnum):
    # §2.33(a)(2): one consent for all future treatment, payment and operations;
    # recipients may be described generically (§2.31(a)(4)(i)).
    TPO = "tpo"
    # A named recipient for a stated purpose.
    SPECIFIC = "specific"
    # SUD counseling notes need a consent of their own, like psychotherapy notes.
    COUNSELING_NOTES = "counseling_notes"
    # §2.35: may be made irrevocable until a set date.
    CRIMINAL_JUSTICE = "criminal_justice"


KIND_LABELS: dict[ConsentKind, str] = {
    ConsentKind.TPO: "Treatment, payment and health care operations (single consent)",
    ConsentKind.SPECIFIC: "Specific recipient",
    ConsentKind.COUNSELING_NOTES: "SUD counseling notes",
    ConsentKind.CRIMINAL_JUSTICE: "Criminal-justice referral (§2.35)",
}


class InfoCategory(StrEnum):
    DEMOGRAPHICS = "demographics"
    EPISODES = "episodes"
    DIAGNOSES = "diagnoses"
    ASSESSMENTS = "assessments"
    MEDICATIONS = "medications"
    TREATMENT_PLAN = "treatment_plan"
    COUNSELING_NOTES = "counseling_notes"
    # Everything in the SUD record except counseling notes, which never ride along.
    ALL_SUD = "all_sud"


CATEGORY_LABELS: dict[InfoCategory, str] = {
    InfoCategory.DEMOGRAPHICS: "Demographics and identity",
    InfoCategory.EPISODES: "Episodes of treatment and levels of care, with dates",
    InfoCategory.DIAGNOSES: "Diagnoses (substance use disorder and others)",
    InfoCategory.ASSESSMENTS: "Assessments and scores (withdrawal scales, ASAM, screening)",
    InfoCategory.MEDICATIONS: "Medications, including medications for opioid use disorder",
    InfoCategory.TREATMENT_PLAN: "Treatment plan and progress",
    InfoCategory.COUNSELING_NOTES: "SUD counseling notes",
    InfoCategory.ALL_SUD: "All substance use disorder records (except counseling notes)",
}

# What "all SUD records" stands for.
ALL_SUD_COVERS = frozenset(InfoCategory) - {InfoCategory.COUNSELING_NOTES, InfoCategory.ALL_SUD}


class Purpose(StrEnum):
    TREATMENT = "treatment"
    PAYMENT = "payment"
    OPERATIONS = "operations"
    PATIENT_REQUEST = "patient_request"
    LEGAL_PROCEEDING = "legal_proceeding"
    RESEARCH = "research"
    OTHER = "other"


PURPOSE_LABELS: dict[Purpose, str] = {
    Purpose.TREATMENT: "Treatment",
    Purpose.PAYMENT: "Payment",
    Purpose.OPERATIONS: "Health care operations",
    Purpose.PATIENT_REQUEST: "At the patient's request",
    Purpose.LEGAL_PROCEEDING: "Legal proceeding against the patient",
    Purpose.RESEARCH: "Research",
    Purpose.OTHER: "Other (described)",
}

TPO_PURPOSES = frozenset({Purpose.TREATMENT, Purpose.PAYMENT, Purpose.OPERATIONS})


class RecipientClass(StrEnum):
    TREATING_PROVIDER = "treating_provider"
    HEALTH_PLAN = "health_plan"
    BUSINESS_ASSOCIATE = "business_associate"
    CRIMINAL_JUSTICE = "criminal_justice"
    FAMILY = "family"
    ATTORNEY = "attorney"
    EMPLOYER = "employer"
    RESEARCHER = "researcher"
    OTHER = "other"


RECIPIENT_CLASS_LABELS: dict[RecipientClass, str] = {
    RecipientClass.TREATING_PROVIDER: "Treating provider or medical personnel",
    RecipientClass.HEALTH_PLAN: "Health plan or third-party payer",
    RecipientClass.BUSINESS_ASSOCIATE: "People helping to operate this program (business associates)",
    RecipientClass.CRIMINAL_JUSTICE: "Court, probation, parole or other criminal-justice agency",
    RecipientClass.FAMILY: "Family member or friend",
    RecipientClass.ATTORNEY: "Attorney",
    RecipientClass.EMPLOYER: "Employer",
    RecipientClass.RESEARCHER: "Researcher",
    RecipientClass.OTHER: "Other",
}

# HIPAA covered entities and business associates: a consent naming them for TPO
# must carry the redisclosure statement (§2.31(a)(4)(iii)).
HIPAA_ENTITIES = frozenset(
    {
        RecipientClass.TREATING_PROVIDER,
        RecipientClass.HEALTH_PLAN,
        RecipientClass.BUSINESS_ASSOCIATE,
    }
)


class ConsentState(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Basis(StrEnum):
    CONSENT = "consent"
    MEDICAL_EMERGENCY = "medical_emergency"
    COURT_ORDER = "court_order"


BASIS_LABELS: dict[Basis, str] = {
    Basis.CONSENT: "Patient consent (§2.31)",
    Basis.MEDICAL_EMERGENCY: "Medical emergency (§2.51)",
    Basis.COURT_ORDER: "Court order (§2.64 / §2.65)",
}


class Refusal(StrEnum):
    NO_CATEGORIES = "no_categories"
    LEGAL_PROCEEDING = "legal_proceeding_needs_court_order"
    COURT_ORDER_INCOMPLETE = "court_order_incomplete"
    COURT_ORDER_PURPOSE = "court_order_purpose"
    COURT_ORDER_COUNSELING_NOTES = "court_order_counseling_notes"
    EMERGENCY_NOT_MEDICAL = "emergency_not_medical"
    EMERGENCY_INCOMPLETE = "emergency_incomplete"
    EMERGENCY_COUNSELING_NOTES = "emergency_counseling_notes"
    COUNSELING_NOTES_MIXED = "counseling_notes_mixed"
    COUNSELING_NOTES_CONSENT = "counseling_notes_need_their_consent"
    NO_CONSENT = "no_consent"
    NOT_SIGNED = "consent_not_signed"
    REVOKED = "consent_revoked"
    EXPIRED = "consent_expired"
    PURPOSE = "purpose_not_covered"
    CATEGORIES = "categories_not_covered"


def normalize_name(name: str) -> str:
    """Recipient names match whatever their case and spacing."""
    return " ".join(name.split()).casefold()


def expiry_instant(expires_on: date) -> datetime:
    """A consent dated to expire on a day is good through that day (UTC).

    UTC midnight comes before local midnight everywhere in the Americas, so the
    consent stops a few hours early rather than late.
    """
    return datetime.combine(expires_on + timedelta(days=1), time.min, tzinfo=UTC)


@dataclass(frozen=True)
class ConsentFacts:
    key: str
    kind: ConsentKind
    purposes: frozenset[Purpose]
    categories: frozenset[InfoCategory]
    recipient_names: frozenset[str] = frozenset()
    recipient_classes: frozenset[RecipientClass] = frozenset()
    signed_at: datetime | None = None
    expires_on: date | None = None
    expiry_event: str = ""
    expiry_event_at: datetime | None = None
    revoked_at: datetime | None = None
    irrevocable_until: date | None = None

    @property
    def normalized_names(self) -> frozenset[str]:
        return frozenset(normalize_name(n) for n in self.recipient_names)

    @property
    def expires_at(self) -> datetime | None:
        """When the consent stops by its date or by its event, whichever is first."""
        ends = [t for t in (self.expiry_event_at,) if t is not None]
        if self.expires_on is not None:
            ends.append(expiry_instant(self.expires_on))
        return min(ends) if ends else None


def consent_state(consent: ConsentFacts, at: datetime) -> ConsentState:
    """The consent's state at an instant, from its dates alone."""
    if consent.signed_at is None or consent.signed_at > at:
        return ConsentState.DRAFT
    # Revocation takes effect at once for every disclosure not yet made.
    if consent.revoked_at is not None and consent.revoked_at <= at:
        return ConsentState.REVOKED
    expires_at = consent.expires_at
    if expires_at is not None and at >= expires_at:
        return ConsentState.EXPIRED
    return ConsentState.ACTIVE


def may_revoke(consent: ConsentFacts, at: datetime) -> str | None:
    """None if the consent may be revoked now, else why not."""
    if consent.revoked_at is not None:
        return "This consent is already revoked."
    if consent.irrevocable_until is not None and at.date() <= consent.irrevocable_until:
        return (
            "This criminal-justice referral consent was made irrevocable until "
            f"{consent.irrevocable_until:%Y-%m-%d} (42 CFR §2.35); it can be revoked after that date."
        )
    return None


def expand_categories(categories: Iterable[InfoCategory]) -> frozenset[InfoCategory]:
    found = set(categories)
    if InfoCategory.ALL_SUD in found:
        found |= ALL_SUD_COVERS
    return frozenset(found)


@dataclass(frozen=True)
class EmergencyFacts:
    """§2.51: what must be documented at once about an emergency disclosure."""

    recipient_facility: str
    nature: str


@dataclass(frozen=True)
class CourtOrderFacts:
    reference: str
    court: str = ""


@dataclass(frozen=True)
class ReleaseRequest:
    recipient_name: str
    recipient_class: RecipientClass
    purpose: Purpose
    categories: frozenset[InfoCategory]
    at: datetime
    emergency: EmergencyFacts | None = None
    court_order: CourtOrderFacts | None = None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    basis: Basis | None = None
    consent_key: str | None = None
    refusal: Refusal | None = None

    @classmethod
    def allow(cls, basis: Basis, reason: str, consent_key: str | None = None) -> Decision:
        return cls(True, reason, basis=basis, consent_key=consent_key)

    @classmethod
    def refuse(cls, refusal: Refusal, reason: str) -> Decision:
        return cls(False, reason, refusal=refusal)


def _labels(items: Iterable[StrEnum], labels: Mapping[Any, str]) -> str:
    return ", ".join(labels[i].lower() for i in sorted(items)) or "nothing"


def names_recipient(consent: ConsentFacts, request: ReleaseRequest) -> bool:
    return (
        request.recipient_class in consent.recipient_classes
        or normalize_name(request.recipient_name) in consent.normalized_names
    )


def _covers_categories(consent: ConsentFacts, wanted: frozenset[InfoCategory]) -> bool:
    if InfoCategory.COUNSELING_NOTES in wanted:
        # Only the counseling-notes consent covers them, and it covers nothing else.
        return consent.kind == ConsentKind.COUNSELING_NOTES and wanted <= consent.categories
    return consent.kind != ConsentKind.COUNSELING_NOTES and wanted <= expand_categories(
        consent.categories
    )


def covers(consent: ConsentFacts, request: ReleaseRequest) -> bool:
    """Whether this consent alone permits the request."""
    return (
        consent_state(consent, request.at) == ConsentState.ACTIVE
        and names_recipient(consent, request)
        and request.purpose in consent.purposes
        and _covers_categories(consent, expand_categories(request.categories))
    )


def decide(consents: Sequence[ConsentFacts], request: ReleaseRequest) -> Decision:
    """May this request leave the program, and on what basis? A refusal says why."""
    wanted = expand_categories(request.categories)
    if not wanted:
        return Decision.refuse(Refusal.NO_CATEGORIES, "Choose what information to release.")

    if request.court_order is not None:
        if not request.court_order.reference.strip() or not request.court_order.court.strip():
            return Decision.refuse(
                Refusal.COURT_ORDER_INCOMPLETE,
                "Give the court order's reference (docket or case number) and the issuing "
                "court to release under it.",
            )
        if request.purpose != Purpose.LEGAL_PROCEEDING:
            # An order authorizes the proceeding or investigation it names, nothing else;
            # any other release needs the patient's consent.
            return Decision.refuse(
                Refusal.COURT_ORDER_PURPOSE,
                "A court order (§2.64 / §2.65) covers only the proceeding or investigation it "
                "authorizes: choose that purpose, or release under the patient's consent.",
            )
        if InfoCategory.COUNSELING_NOTES in wanted:
            return Decision.refuse(
                Refusal.COURT_ORDER_COUNSELING_NOTES,
                "SUD counseling notes are not released under a court order here; the privacy "
                "officer handles such an order with legal counsel.",
            )
        return Decision.allow(
            Basis.COURT_ORDER,
            f"Authorized by court order {request.court_order.reference.strip()} (§2.64 / §2.65).",
        )

    if request.purpose == Purpose.LEGAL_PROCEEDING:
        return Decision.refuse(
            Refusal.LEGAL_PROCEEDING,
            "Records may not be used in a civil, criminal, administrative or legislative "
            "proceeding against the patient without a court order under 42 CFR §2.64 or §2.65. "
            "The patient's consent or a subpoena alone is not enough. Attach the court order.",
        )

    if request.emergency is not None:
        return _decide_emergency(request, wanted)

    if InfoCategory.COUNSELING_NOTES in wanted and len(wanted) > 1:
        return Decision.refuse(
            Refusal.COUNSELING_NOTES_MIXED,
            "SUD counseling notes are released on their own, under the patient's "
            "counseling-notes consent. Release the other information separately.",
        )

    ordered = sorted(consents, key=lambda c: (c.signed_at is None, c.signed_at, c.key))
    for consent in ordered:
        if covers(consent, request):
            return Decision.allow(
                Basis.CONSENT,
                f"Covered by the {KIND_LABELS[consent.kind].lower()} consent signed "
                f"{consent.signed_at:%Y-%m-%d}.",
                consent_key=consent.key,
            )
    return _why_not(ordered, request, wanted)


def _decide_emergency(request: ReleaseRequest, wanted: frozenset[InfoCategory]) -> Decision:
    facts = request.emergency
    assert facts is not None
    if request.recipient_class != RecipientClass.TREATING_PROVIDER or (
        request.purpose != Purpose.TREATMENT
    ):
        return Decision.refuse(
            Refusal.EMERGENCY_NOT_MEDICAL,
            "Without consent, a medical emergency (§2.51) allows disclosure only to medical "
            "personnel, for treatment of the emergency.",
        )
    if not facts.recipient_facility.strip() or not facts.nature.strip():
        return Decision.refuse(
            Refusal.EMERGENCY_INCOMPLETE,
            "Document the recipient's facility and the nature of the emergency (§2.51(c)).",
        )
    if InfoCategory.COUNSELING_NOTES in wanted:
        return Decision.refuse(
            Refusal.EMERGENCY_COUNSELING_NOTES,
            "SUD counseling notes are not released in an emergency; they need the patient's "
            "counseling-notes consent.",
        )
    return Decision.allow(
        Basis.MEDICAL_EMERGENCY,
        f"Bona fide medical emergency at {facts.recipient_facility.strip()} (§2.51); "
        "the privacy officer will review this disclosure.",
    )


def _why_not(
    consents: Sequence[ConsentFacts], request: ReleaseRequest, wanted: frozenset[InfoCategory]
) -> Decision:
    """The most useful reason: about the consent that came closest to covering."""
    who = request.recipient_name.strip() or RECIPIENT_CLASS_LABELS[request.recipient_class]
    if InfoCategory.COUNSELING_NOTES in wanted:
        notes = [c for c in consents if c.kind == ConsentKind.COUNSELING_NOTES]
        if not any(names_recipient(c, request) for c in notes):
            return Decision.refuse(
                Refusal.COUNSELING_NOTES_CONSENT,
                f"SUD counseling notes need the patient's separate counseling-notes consent "
                f"naming {who}; a general or treatment consent does not cover them.",
            )
    naming = [c for c in consents if names_recipient(c, request)]
    if not naming:
        return Decision.refuse(
            Refusal.NO_CONSENT,
            f"No consent on file names {who} as a recipient. "
            "A general medical release does not satisfy 42 CFR Part 2.",
        )
    states = {c.key: consent_state(c, request.at) for c in naming}
    active = [c for c in naming if states[c.key] == ConsentState.ACTIVE]
    if not active:
        # Tell about the most recent way the consents stopped.
        revoked = [c for c in naming if states[c.key] == ConsentState.REVOKED]
        expired = [c for c in naming if states[c.key] == ConsentState.EXPIRED]
        if revoked:
            last = max(revoked, key=lambda c: c.revoked_at or request.at)
            return Decision.refuse(
                Refusal.REVOKED,
                f"The patient revoked the consent naming {who} on "
                f"{last.revoked_at:%Y-%m-%d}. A revocation stops every later disclosure.",
            )
        if expired:
            last = max(expired, key=lambda c: c.expires_at or request.at)
            return Decision.refuse(
                Refusal.EXPIRED,
                f"The consent naming {who} expired on {last.expires_at:%Y-%m-%d}. "
                "Ask the patient for a new consent.",
            )
        return Decision.refuse(
            Refusal.NOT_SIGNED,
            f"The consent naming {who} is not signed yet; it covers nothing until it is.",
        )
    with_purpose = [c for c in active if request.purpose in c.purposes]
    if not with_purpose:
        allowed = set().union(*(c.purposes for c in active))
        return Decision.refuse(
            Refusal.PURPOSE,
            f"The active consent naming {who} allows {_labels(allowed, PURPOSE_LABELS)} "
            f"(not {PURPOSE_LABELS[request.purpose].lower()}).",
        )
    covered = set().union(
        *(
            expand_categories(c.categories)
            for c in with_purpose
            if c.kind != ConsentKind.COUNSELING_NOTES
        )
    )
    missing = wanted - covered - {InfoCategory.ALL_SUD}
    return Decision.refuse(
        Refusal.CATEGORIES,
        f"The active consent naming {who} does not cover "
        f"{_labels(missing or wanted, CATEGORY_LABELS)}.",
    )


# What a consent must hold, element by element (§2.31(a)), checked before it is saved.


@dataclass(frozen=True)
class ConsentDraft:
    kind: ConsentKind
    purposes: frozenset[Purpose]
    categories: frozenset[InfoCategory]
    information_description: str
    recipient_names: tuple[str, ...]
    recipient_classes: frozenset[RecipientClass]
    disclosing_party: str
    revocation_statement: str
    expires_on: date | None
    expiry_event: str
    redisclosure_statement: str
    irrevocable_until: date | None = None
    purpose_description: str = ""
    today: date = field(default_factory=lambda: datetime.now(UTC).date())


def consent_errors(draft: ConsentDraft) -> dict[str, str]:
    """One message per missing or inconsistent §2.31 element."""
    errors: dict[str, str] = {}
    if not draft.disclosing_party.strip():
        errors["disclosing_party"] = "Say who may make the disclosure (§2.31(a)(2))."
    if not draft.categories:
        errors["categories"] = "Choose what information the consent covers (§2.31(a)(3))."
    elif draft.kind == ConsentKind.COUNSELING_NOTES:
        if draft.categories != {InfoCategory.COUNSELING_NOTES}:
            errors["categories"] = (
                "A counseling-notes consent covers SUD counseling notes and nothing else."
            )
    elif InfoCategory.COUNSELING_NOTES in draft.categories:
        errors["categories"] = (
            "SUD counseling notes need their own consent: choose the counseling-notes kind."
        )
    if not draft.information_description.strip():
        errors["information_description"] = (
            "Describe the information in a specific and meaningful way, including the SUD "
            "information involved (§2.31(a)(3))."
        )
    names = [n for n in draft.recipient_names if n.strip()]
    if draft.kind == ConsentKind.TPO:
        if not names and not draft.recipient_classes:
            errors["recipient_names"] = (
                "Name the recipients or describe them by class (§2.31(a)(4))."
            )
    elif not names:
        errors["recipient_names"] = (
            f"A {KIND_LABELS[draft.kind].lower()} consent names each recipient (§2.31(a)(4))."
        )
    if not draft.purposes:
        errors["purposes"] = "Choose the purpose of the disclosure (§2.31(a)(5))."
    elif draft.kind == ConsentKind.TPO and not draft.purposes <= TPO_PURPOSES:
        errors["purposes"] = (
            "A treatment, payment and operations consent allows only treatment, payment "
            "and health care operations."
        )
    elif Purpose.LEGAL_PROCEEDING in draft.purposes:
        errors["purposes"] = (
            "A consent cannot authorize use in a proceeding against the patient; that needs "
            "a court order (§2.64 / §2.65)."
        )
    if Purpose.OTHER in draft.purposes and not draft.purpose_description.strip():
        errors["purpose_description"] = "Describe the purpose when it is 'other'."
    if not draft.revocation_statement.strip():
        errors["revocation_statement"] = (
            "State the right to revoke in writing and how to do it (§2.31(a)(6))."
        )
    if draft.expires_on is None and not draft.expiry_event.strip():
        errors["expires_on"] = "Give an expiration date or event (§2.31(a)(7))."
    elif draft.expires_on is not None and draft.expires_on < draft.today:
        errors["expires_on"] = "The expiration date is already past."
    tpo_to_hipaa = bool(draft.purposes & TPO_PURPOSES) and (
        draft.kind == ConsentKind.TPO or bool(draft.recipient_classes & HIPAA_ENTITIES)
    )
    if tpo_to_hipaa and not draft.redisclosure_statement.strip():
        errors["redisclosure_statement"] = (
            "Recipients that are HIPAA covered entities or business associates receiving for "
            "treatment, payment or operations need the redisclosure statement "
            "(§2.31(a)(4)(iii))."
        )
    if draft.irrevocable_until is not None:
        if draft.kind != ConsentKind.CRIMINAL_JUSTICE:
            errors["irrevocable_until"] = (
                "Only a criminal-justice referral consent may be irrevocable (§2.35)."
            )
        elif draft.irrevocable_until < draft.today:
            errors["irrevocable_until"] = "The irrevocable-until date is already past."
    return errors


DEFAULT_REVOCATION_STATEMENT = (
    "You may revoke this consent at any time, in writing, by giving or sending a signed "
    "letter or the program's revocation form to the program's privacy officer. Revoking "
    "stops future disclosures; it does not undo disclosures already made in reliance on "
    "this consent."
)

DEFAULT_REDISCLOSURE_STATEMENT = (
    "When your record is disclosed under this consent to a HIPAA covered entity or "
    "business associate for treatment, payment or health care operations, the recipient "
    "may redisclose it as the HIPAA regulations permit, except for uses and disclosures "
    "for civil, criminal, administrative and legislative proceedings against you."
)

TPO_GENERIC_RECIPIENTS = (
    "My treating providers, health plans, third-party payers, and people helping to "
    "operate this program."
)


def long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def plain_summary(
    *,
    kind: ConsentKind,
    patient_name: str,
    disclosing_party: str,
    categories: Iterable[InfoCategory],
    information_description: str,
    recipient_names: Iterable[str],
    recipient_classes: Iterable[RecipientClass],
    purposes: Iterable[Purpose],
    purpose_description: str,
    expires_on: date | None,
    expiry_event: str,
    revocation_statement: str,
    irrevocable_until: date | None = None,
) -> list[str]:
    """The consent in plain words, read to or by the patient before signing."""
    who = [n.strip() for n in recipient_names if n.strip()]
    who += [RECIPIENT_CLASS_LABELS[c].lower() for c in sorted(recipient_classes)]
    what = [CATEGORY_LABELS[c].lower() for c in sorted(categories)]
    why = [PURPOSE_LABELS[p].lower() for p in sorted(purposes)]
    if purpose_description.strip():
        why.append(purpose_description.strip())
    if expires_on is not None and expiry_event.strip():
        until = f"{long_date(expires_on)} or {expiry_event.strip()}, whichever comes first"
    elif expires_on is not None:
        until = long_date(expires_on)
    else:
        until = expiry_event.strip()
    lines = [
        f"{patient_name}, this consent lets {disclosing_party.strip()} share information "
        "from your substance use disorder treatment record.",
        f"What may be shared: {'; '.join(what)}."
        + (f" {information_description.strip()}" if information_description.strip() else ""),
        f"Who may receive it: {'; '.join(who)}.",
        f"Why: {'; '.join(why)}.",
        f"Until: {until}.",
        revocation_statement.strip(),
    ]
    if kind == ConsentKind.COUNSELING_NOTES:
        lines.insert(1, "This consent covers your SUD counseling notes only.")
    if irrevocable_until is not None:
        lines.append(
            f"Because this consent is part of a criminal-justice referral, you cannot revoke "
            f"it before {long_date(irrevocable_until)} (42 CFR §2.35)."
        )
    lines.append(
        "Your treatment does not depend on signing this consent, and you may refuse to sign it."
    )
    return lines


ACCOUNTING_YEARS = 3


def years_before(at: datetime, years: int) -> datetime:
    try:
        return at.replace(year=at.year - years)
    except ValueError:  # 29 February
        return at.replace(year=at.year - years, day=28)


def accounting_start(now: datetime, since: date | None) -> tuple[datetime, str | None]:
    """Start of an accounting of disclosures (§2.25): three years back, or a shorter
    period the patient picks. Returns the start and, if the pick is refused, why."""
    earliest = years_before(now, ACCOUNTING_YEARS)
    if since is None:
        return earliest, None
    start = datetime.combine(since, time.min, tzinfo=UTC)
    if start < earliest - timedelta(days=1):
        return earliest, (
            f"An accounting covers at most {ACCOUNTING_YEARS} years: from "
            f"{earliest:%Y-%m-%d} at the earliest."
        )
    if start > now:
        return earliest, "The start of the period cannot be in the future."
    return max(start, earliest), None
