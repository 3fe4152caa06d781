"""42 CFR Part 2 consents, the §2.32 notice and the record of every disclosure.

Consent state (draft, active, expired, revoked) is never stored: it follows from
the dates (privacy.rules.consent_state), so it cannot drift from them.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from stepwise.core.models import TenantScoped, TimeStamped
from stepwise.patients.models import Patient
from stepwise.privacy import rules


# The choices mirror the rules' enums; a test keeps them in step.
class ConsentKind(models.TextChoices):
    TPO = "tpo", rules.KIND_LABELS[rules.ConsentKind.TPO]
    SPECIFIC = "specific", rules.KIND_LABELS[rules.ConsentKind.SPECIFIC]
    COUNSELING_NOTES = "counseling_notes", rules.KIND_LABELS[rules.ConsentKind.COUNSELING_NOTES]
    CRIMINAL_JUSTICE = "criminal_justice", rules.KIND_LABELS[rules.ConsentKind.CRIMINAL_JUSTICE]


class Signer(models.TextChoices):
    PATIENT = "patient", "The patient"
    REPRESENTATIVE = "representative", "An authorized representative"


class SignatureMethod(models.TextChoices):
    ELECTRONIC = "electronic", "Electronic (typed name and attestation)"
    PAPER = "paper", "Signed on paper (kept in the record)"


class RevocationChannel(models.TextChoices):
    # Part 2 revocations are in writing; these are the ways writing arrives.
    LETTER = "letter", "Signed letter"
    FORM = "form", "Program revocation form"
    PORTAL = "portal", "Patient portal message"
    EMAIL = "email", "Email from the patient"


class Consent(TenantScoped):
    """A written consent with every element §2.31(a) requires."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    # (a)(2) who may make the disclosure.
    disclosing_party = models.CharField(max_length=300)
    # (a)(3) what: coded categories plus words, naming the SUD information.
    categories = models.JSONField(default=list)
    information_description = models.TextField()
    # (a)(4) to whom: names and/or classes (classes alone only for TPO).
    recipient_names = models.JSONField(default=list, blank=True)
    recipient_classes = models.JSONField(default=list, blank=True)
    recipient_description = models.TextField(blank=True)
    # (a)(5) why.
    purposes = models.JSONField(default=list)
    purpose_description = models.TextField(blank=True)
    # (a)(6) the right to revoke in writing, and how.
    revocation_statement = models.TextField()
    # (a)(7) expiry: a date, an event, or both (whichever first).
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(max_length=200, blank=True)
    expiry_event_at = models.DateTimeField(null=True, blank=True)
    # (a)(4)(iii) the HIPAA redisclosure statement, when the recipients call for it.
    redisclosure_statement = models.TextField(blank=True)
    # §2.35: a criminal-justice referral consent may be irrevocable until a date.
    irrevocable_until = models.DateField(null=True, blank=True)
    # (a)(8), (a)(9) signature and date.
    signer = models.CharField(max_length=20, choices=Signer.choices, blank=True)
    signer_name = models.CharField(max_length=200, blank=True)
    representative_authority = models.CharField(max_length=200, blank=True)
    signature_method = models.CharField(max_length=20, choices=SignatureMethod.choices, blank=True)
    signature_attested = models.BooleanField(default=False)
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_channel = models.CharField(
        max_length=20, choices=RevocationChannel.choices, blank=True
    )
    revocation_note = models.TextField(blank=True)
    revocation_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ConsentKind.values), name="consent_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(signer__in=[*Signer.values, ""]), name="consent_signer_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(signature_method__in=[*SignatureMethod.values, ""]),
                name="consent_signature_method_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(revocation_channel__in=[*RevocationChannel.values, ""]),
                name="consent_revocation_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_on__isnull=False) | ~models.Q(expiry_event=""),
                name="consent_has_expiry",
            ),
            # A signature is complete or absent: who, how, attested.
            models.CheckConstraint(
                condition=models.Q(
                    signed_at__isnull=True, signer="", signer_name="", signature_method=""
                )
                | (
                    models.Q(signed_at__isnull=False, signature_attested=True)
                    & ~models.Q(signer="")
                    & ~models.Q(signer_name="")
                    & ~models.Q(signature_method="")
                ),
                name="consent_signature_complete",
            ),
            models.CheckConstraint(
                condition=~models.Q(signer="representative", representative_authority=""),
                name="consent_representative_authority",
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revocation_channel="")
                | (
                    models.Q(revoked_at__isnull=False, signed_at__isnull=False)
                    & ~models.Q(revocation_channel="")
                ),
                name="consent_revocation_complete",
            ),
            models.CheckConstraint(
                condition=models.Q(irrevocable_until__isnull=True)
                | models.Q(kind="criminal_justice"),
                name="consent_irrevocable_only_cj",
            ),
        ]
        indexes = [
            # The consents page and every disclosure decision: one patient's consents.
            models.Index(
                fields=["organization", "patient", "created_at"], name="consent_org_patient_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} consent of {self.patient_id}"

    def facts(self) -> rules.ConsentFacts:
        return rules.ConsentFacts(
            key=str(self.public_id),
            kind=rules.ConsentKind(self.kind),
            purposes=frozenset(rules.Purpose(p) for p in self.purposes),
            categories=frozenset(rules.InfoCategory(c) for c in self.categories),
            recipient_names=frozenset(self.recipient_names),
            recipient_classes=frozenset(rules.RecipientClass(c) for c in self.recipient_classes),
            signed_at=self.signed_at,
            expires_on=self.expires_on,
            expiry_event=self.expiry_event,
            expiry_event_at=self.expiry_event_at,
            revoked_at=self.revoked_at,
            irrevocable_until=self.irrevocable_until,
        )

    def state(self, at: datetime) -> rules.ConsentState:
        return rules.consent_state(self.facts(), at)

    @property
    def category_labels(self) -> list[str]:
        return [rules.CATEGORY_LABELS[rules.InfoCategory(c)] for c in self.categories]

    @property
    def purpose_labels(self) -> list[str]:
        return [rules.PURPOSE_LABELS[rules.Purpose(p)] for p in self.purposes]

    @property
    def recipient_class_labels(self) -> list[str]:
        return [
            rules.RECIPIENT_CLASS_LABELS[rules.RecipientClass(c)] for c in self.recipient_classes
        ]

    def plain_summary(self) -> list[str]:
        return rules.plain_summary(
            kind=rules.ConsentKind(self.kind),
            patient_name=self.patient.display_name,
            disclosing_party=self.disclosing_party,
            categories=[rules.InfoCategory(c) for c in self.categories],
            information_description=self.information_description,
            recipient_names=self.recipient_names,
            recipient_classes=[rules.RecipientClass(c) for c in self.recipient_classes],
            purposes=[rules.Purpose(p) for p in self.purposes],
            purpose_description=self.purpose_description,
            expires_on=self.expires_on,
            expiry_event=self.expiry_event,
            revocation_statement=self.revocation_statement,
            irrevocable_until=self.irrevocable_until,
        )


class ConsentReconfirmation(TenantScoped):
    """The patient confirmed the consent again, e.g. once out of withdrawal."""

    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="reconfirmations")
    confirmed_at = models.DateTimeField()
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signer_name = models.CharField(max_length=200)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["confirmed_at", "id"]
        indexes = [
            models.Index(fields=["organization", "consent"], name="reconfirm_org_consent_idx")
        ]

    def __str__(self) -> str:
        return f"Re-confirmed {self.confirmed_at:%Y-%m-%d}"


class DisclosureNotice(TimeStamped):
    """One version of the §2.32 notice text. Versions are added, never edited."""

    version = models.PositiveSmallIntegerField(unique=True)
    long_text = models.TextField(help_text="Statement 1, §2.32(a)(1)")
    short_text = models.TextField(help_text="Statement 2, §2.32(a)(2)")
    citation = models.CharField(max_length=200)
    effective_from = models.DateField()

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"§2.32 notice v{self.version}"


class Purpose(models.TextChoices):
    TREATMENT = "treatment", rules.PURPOSE_LABELS[rules.Purpose.TREATMENT]
    PAYMENT = "payment", rules.PURPOSE_LABELS[rules.Purpose.PAYMENT]
    OPERATIONS = "operations", rules.PURPOSE_LABELS[rules.Purpose.OPERATIONS]
    PATIENT_REQUEST = "patient_request", rules.PURPOSE_LABELS[rules.Purpose.PATIENT_REQUEST]
    LEGAL_PROCEEDING = "legal_proceeding", rules.PURPOSE_LABELS[rules.Purpose.LEGAL_PROCEEDING]
    RESEARCH = "research", rules.PURPOSE_LABELS[rules.Purpose.RESEARCH]
    OTHER = "other", rules.PURPOSE_LABELS[rules.Purpose.OTHER]


class RecipientClass(models.TextChoices):
    TREATING_PROVIDER = (
        "treating_provider",
        rules.RECIPIENT_CLASS_LABELS[rules.RecipientClass.TREATING_PROVIDER],
    )
    HEALTH_PLAN = "health_plan", rules.RECIPIENT_CLASS_LABELS[rules.RecipientClass.HEALTH_PLAN]
    BUSINESS_ASSOCIATE = (
        "business_associate",
        rules.RECIPIENT_CLASS_LABELS[rules.RecipientClass.BUSINESS_ASSOCIATE],
    )
    CRIMINAL_JUSTICE = (
        "criminal_justice",
        rules.RECIPIENT_CLASS_LABELS[rules.RecipientClass.CRIMINAL_JUSTICE],
    )
    FAMILY = "family", rules.RECIPIENT_CLASS_LABELS[rules.RecipientClass.FAMILY]
    ATTORNEY = "attorney", rules.RECIPIENT_CLASS_LABELS[rules.RecipientClass.ATTORNEY]
    EMPLOYER = "employer", rules.RECIPIENT_CLASS_LABELS[rules.RecipientClass.EMPLOYER]
    RESEARCHER = "researcher", rules.RECIPIENT_CLASS_LABELS[rules.RecipientClass.RESEARCHER]
    OTHER = "other", rules.RECIPIENT_CLASS_LABELS[rules.RecipientClass.OTHER]


class Basis(models.TextChoices):
    CONSENT = "consent", rules.BASIS_LABELS[rules.Basis.CONSENT]
    MEDICAL_EMERGENCY = "medical_emergency", rules.BASIS_LABELS[rules.Basis.MEDICAL_EMERGENCY]
    COURT_ORDER = "court_order", rules.BASIS_LABELS[rules.Basis.COURT_ORDER]


class Channel(models.TextChoices):
    PDF = "pdf", "PDF or printout"
    EXPORT = "export", "Data export"
    API = "api", "API"
    FHIR = "fhir", "FHIR"
    PORTAL = "portal", "Family or patient portal"


class EmergencyReview(models.TextChoices):
    NOT_REQUIRED = "not_required", "Not required"
    PENDING = "pending", "Awaiting the privacy officer's review"
    REVIEWED = "reviewed", "Reviewed"


class Disclosure(TenantScoped):
    """One release of patient information outside the program: what, to whom, why, on
    what authority, with which notice, and a fingerprint of exactly what left."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="disclosures")
    recipient_name = models.CharField(max_length=300)
    recipient_address = models.TextField(blank=True)
    recipient_class = models.CharField(max_length=30, choices=RecipientClass.choices)
    purpose = models.CharField(max_length=30, choices=Purpose.choices)
    purpose_description = models.TextField(blank=True)
    categories = models.JSONField(default=list)
    information_description = models.TextField(blank=True)
    basis = models.CharField(max_length=30, choices=Basis.choices)
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures"
    )
    notice = models.ForeignKey(DisclosureNotice, on_delete=models.PROTECT, related_name="+")
    disclosed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    disclosed_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    # §2.51(c): documented at once for an emergency disclosure.
    emergency_facility = models.CharField(max_length=300, blank=True)
    emergency_nature = models.TextField(blank=True)
    court_order_reference = models.CharField(max_length=200, blank=True)
    court_order_court = models.CharField(max_length=300, blank=True)
    document_name = models.CharField(max_length=200, blank=True)
    document_sha256 = models.CharField(max_length=64)
    review_state = models.CharField(
        max_length=20, choices=EmergencyReview.choices, default=EmergencyReview.NOT_REQUIRED
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-disclosed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recipient_class__in=RecipientClass.values),
                name="disclosure_recipient_class_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(purpose__in=Purpose.values), name="disclosure_purpose_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(basis__in=Basis.values), name="disclosure_basis_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=Channel.values), name="disclosure_channel_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(review_state__in=EmergencyReview.values),
                name="disclosure_review_state_valid",
            ),
            # Each basis carries its own authority, documented.
            models.CheckConstraint(
                condition=models.Q(basis="consent", consent__isnull=False)
                | (
                    models.Q(basis="medical_emergency")
                    & ~models.Q(emergency_facility="")
                    & ~models.Q(emergency_nature="")
                    & ~models.Q(review_state="not_required")
                )
                | (models.Q(basis="court_order") & ~models.Q(court_order_reference="")),
                name="disclosure_basis_documented",
            ),
            # A proceeding against the patient needs a court order, whatever else is on file.
            models.CheckConstraint(
                condition=~models.Q(purpose="legal_proceeding") | models.Q(basis="court_order"),
                name="disclosure_legal_needs_court_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(review_state="reviewed") | models.Q(reviewed_at__isnull=False),
                name="disclosure_review_complete",
            ),
            models.CheckConstraint(
                condition=~models.Q(document_sha256=""), name="disclosure_sha256_present"
            ),
        ]
        indexes = [
            # Accounting of disclosures: one patient's releases over a period.
            models.Index(
                fields=["organization", "patient", "disclosed_at"],
                name="disclosure_org_patient_idx",
            ),
            # The privacy officer's queue: emergency disclosures not yet reviewed.
            models.Index(
                fields=["organization", "disclosed_at"],
                condition=models.Q(review_state="pending"),
                name="disclosure_review_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Disclosure to {self.recipient_name} on {self.disclosed_at:%Y-%m-%d}"

    @property
    def category_labels(self) -> list[str]:
        return [rules.CATEGORY_LABELS[rules.InfoCategory(c)] for c in self.categories]
