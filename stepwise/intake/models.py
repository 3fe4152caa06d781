"""The admissions line: calls (inquiries), crisis triage, pre-admission screenings,
the waitlist and the organization's admissions settings.

People who only called, were screened or wait are not admissions (TEDS); an inquiry
becomes a patient and an episode only through `inquiry_admit`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from stepwise.care import rules as care_rules
from stepwise.care.models import BedReservation, Episode, Program
from stepwise.core.crypto import EncryptedTextField
from stepwise.core.models import Organization, TenantScoped, TimeStamped
from stepwise.patients.models import Patient


def _in(field: str, values: list[str] | list[int]) -> models.Q:
    return models.Q(**{f"{field}__in": values})


class IntakeSettings(TimeStamped):
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="intake_settings"
    )
    # How long after the expected arrival a held place waits before it is given back.
    hold_hours = models.PositiveSmallIntegerField(default=4)
    # An overdose within this many days counts as recent for waitlist priority.
    recent_overdose_days = models.PositiveSmallIntegerField(default=30)
    # The open-capacity feed (no patient data) for a registry; off until switched on.
    capacity_feed_enabled = models.BooleanField(default=False)
    capacity_feed_key = models.CharField(max_length=64, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hold_hours__gte=1, hold_hours__lte=72),
                name="intake_hold_hours_range",
            ),
            models.CheckConstraint(
                condition=models.Q(recent_overdose_days__gte=1, recent_overdose_days__lte=365),
                name="intake_recent_overdose_range",
            ),
        ]


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    WALK_IN = "walk_in", "Walk-in"
    OTHER = "other", "Other (email, web form, fax)"


class CallerKind(models.TextChoices):
    SELF = "self", "The person themselves"
    FAMILY = "family", "Family member"
    FRIEND = "friend", "Friend"
    REFERRER = "referrer", "A referrer (hospital, court, clinician…)"
    OTHER = "other", "Someone else"


class Pregnancy(models.TextChoices):
    YES = "yes", "Pregnant"
    NO = "no", "Not pregnant"
    UNKNOWN = "unknown", "Not known or not asked"


class Outcome(models.TextChoices):
    INFORMATION = "information", "Information given"
    SCREENED = "screened", "Screened"
    SCHEDULED = "scheduled", "Scheduled for admission"
    WAITLISTED = "waitlisted", "Waitlisted"
    REFERRED_OUT = "referred_out", "Referred elsewhere"
    NO_FURTHER_CONTACT = "no_further_contact", "No further contact"
    ADMITTED = "admitted", "Admitted"


# Outcomes after which the inquiry is finished; the others still need someone.
CLOSED_OUTCOMES = frozenset(
    {Outcome.INFORMATION, Outcome.REFERRED_OUT, Outcome.NO_FURTHER_CONTACT, Outcome.ADMITTED}
)


class ReferralOutReason(models.TextChoices):
    LEVEL_NOT_OFFERED = "level_not_offered", "Level of care not offered here"
    NO_CAPACITY = "no_capacity", "No place soon enough"
    PAYER = "payer", "Payer or authorization"
    MEDICAL = "medical", "Medical needs beyond this program"
    PSYCHIATRIC = "psychiatric", "Psychiatric needs beyond this program"
    PREFERENCE = "preference", "The person's preference (location, MOUD, other)"
    OTHER = "other", "Other"


class Inquiry(TenantScoped):
    """One call (or walk-in) to the admissions line and everything learned on it."""

    received_at = models.DateTimeField()
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PHONE)
    # Who called and how to reach them.
    caller_kind = models.CharField(max_length=10, choices=CallerKind.choices)
    caller_name = models.CharField(max_length=200, blank=True)
    caller_relationship = models.CharField(max_length=100, blank=True)
    caller_phone = models.CharField(max_length=40, blank=True)
    callback_ok = models.BooleanField("may call back", default=False)
    message_ok = models.BooleanField("may leave a message", default=False)
    # The person who needs treatment (the caller, or the one they call about).
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    # Their situation.
    last_use_at = models.DateTimeField(null=True, blank=True)
    prior_treatment = models.SmallIntegerField(choices=care_rules.PRIOR_TREATMENT, default=-9)
    prior_treatment_note = models.CharField(max_length=300, blank=True)
    pregnancy = models.CharField(max_length=8, choices=Pregnancy.choices, default=Pregnancy.UNKNOWN)
    last_overdose_on = models.DateField(null=True, blank=True)
    situation_note = models.TextField(blank=True)
    # Referral in (TEDS PSOURCE plus who referred).
    referral_source = models.SmallIntegerField(choices=care_rules.REFERRAL_SOURCES, default=-9)
    referring_organization = models.CharField(max_length=200, blank=True)
    referring_person = models.CharField(max_length=200, blank=True)
    referring_contact = models.CharField(max_length=200, blank=True)
    # Crisis triage: asked first; the answers, the advice given and when.
    triaged_at = models.DateTimeField(null=True, blank=True)
    crisis_signs = models.JSONField(default=list, blank=True)
    crisis_advice = models.JSONField(default=list, blank=True)
    crisis_note = models.TextField(blank=True)
    lead_flagged = models.BooleanField(default=False)
    lead_reviewed_at = models.DateTimeField(null=True, blank=True)
    lead_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lead_note = models.TextField(blank=True)
    # Where it stands.
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField(null=True, blank=True)
    outcome_note = models.TextField(blank=True)
    referred_to = models.CharField(max_length=200, blank=True)
    referral_out_reason = models.CharField(
        max_length=20, choices=ReferralOutReason.choices, blank=True
    )
    follow_up_due_at = models.DateTimeField(null=True, blank=True)
    follow_up_note = models.CharField(max_length=300, blank=True)
    # Once admitted, and the place held for the admission.
    patient = models.ForeignKey(
        Patient, null=True, blank=True, on_delete=models.PROTECT, related_name="inquiries"
    )
    episode = models.OneToOneField(
        Episode, null=True, blank=True, on_delete=models.PROTECT, related_name="inquiry"
    )
    reservation = models.OneToOneField(
        BedReservation, null=True, blank=True, on_delete=models.PROTECT, related_name="inquiry"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_in("channel", Channel.values), name="inquiry_channel_valid"
            ),
            models.CheckConstraint(
                condition=_in("caller_kind", CallerKind.values), name="inquiry_caller_valid"
            ),
            models.CheckConstraint(
                condition=_in("pregnancy", Pregnancy.values), name="inquiry_pregnancy_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(outcome="") | _in("outcome", Outcome.values),
                name="inquiry_outcome_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(referral_out_reason="")
                | _in("referral_out_reason", ReferralOutReason.values),
                name="inquiry_referral_out_valid",
            ),
            models.CheckConstraint(
                condition=_in("referral_source", [c for c, _ in care_rules.REFERRAL_SOURCES]),
                name="inquiry_referral_source_valid",
            ),
            models.CheckConstraint(
                condition=_in("prior_treatment", [c for c, _ in care_rules.PRIOR_TREATMENT]),
                name="inquiry_prior_treatment_valid",
            ),
            # A referral out names where to and why.
            models.CheckConstraint(
                condition=~models.Q(outcome="referred_out")
                | (~models.Q(referred_to="") & ~models.Q(referral_out_reason="")),
                name="inquiry_referral_out_complete",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="admitted") | models.Q(episode__isnull=False),
                name="inquiry_admitted_has_episode",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "received_at"], name="inquiry_org_received_idx"),
            # The open calls and the lead's queue.
            models.Index(
                fields=["organization", "outcome", "received_at"], name="inquiry_org_outcome_idx"
            ),
            models.Index(
                fields=["organization", "lead_flagged"],
                condition=models.Q(lead_flagged=True, lead_reviewed_at__isnull=True),
                name="inquiry_lead_queue_idx",
            ),
            # The desk: calls ended most recently, and call-backs due.
            models.Index(fields=["organization", "outcome_at"], name="inquiry_org_outcome_at_idx"),
            models.Index(
                fields=["organization", "follow_up_due_at"],
                condition=models.Q(follow_up_due_at__isnull=False),
                name="inquiry_follow_up_idx",
            ),
            # The patient match shown before an admission.
            models.Index(
                fields=["organization", "family_name", "date_of_birth"],
                name="inquiry_org_name_dob_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Call of {self.received_at:%Y-%m-%d %H:%M}"

    @property
    def person_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p) or "Name not given"

    @property
    def is_open(self) -> bool:
        return self.outcome not in CLOSED_OUTCOMES

    @property
    def in_crisis(self) -> bool:
        return bool(self.crisis_signs)


class InquirySubstance(TenantScoped):
    """A substance the person uses, as told on the call (TEDS SUB/ROUTE/FREQ); rank 1
    is the main problem."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="substances")
    rank = models.PositiveSmallIntegerField()
    substance = models.SmallIntegerField(choices=care_rules.SUBSTANCES)
    route = models.SmallIntegerField(choices=care_rules.ROUTES, default=-9)
    frequency = models.CharField(max_length=20, choices=care_rules.FREQUENCIES, default="unknown")

    class Meta:
        ordering = ["inquiry_id", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["inquiry", "rank"], name="inquiry_substance_rank"),
            models.CheckConstraint(
                condition=models.Q(rank__gte=1, rank__lte=3), name="inquiry_substance_rank_1_3"
            ),
            models.CheckConstraint(
                condition=_in("substance", [c for c, _ in care_rules.SUBSTANCES]),
                name="inquiry_substance_valid",
            ),
            models.CheckConstraint(
                condition=_in("route", [c for c, _ in care_rules.ROUTES]),
                name="inquiry_substance_route_valid",
            ),
            models.CheckConstraint(
                condition=_in("frequency", [c for c, _ in care_rules.FREQUENCIES]),
                name="inquiry_substance_frequency_valid",
            ),
        ]


class WithdrawalEstimate(models.TextChoices):
    NONE = "none", "No withdrawal now"
    MILD = "mild", "Mild (restless, yawning, runny nose)"
    MODERATE = "moderate", "Moderate (sweating, aches, cramps, vomiting)"
    SEVERE = "severe", "Severe (cannot keep fluids down, confused, very unwell)"


class PayerType(models.TextChoices):
    MEDICAID = "medicaid", "Medicaid"
    MEDICARE = "medicare", "Medicare"
    PRIVATE = "private", "Private insurance"
    STATE_FUNDED = "state_funded", "State or block-grant funded"
    MILITARY = "military", "TRICARE or VA"
    SELF_PAY = "self_pay", "Self-pay"
    NONE = "none", "No coverage"
    UNKNOWN = "unknown", "Not known yet"


class Authorization(models.TextChoices):
    NOT_REQUIRED = "not_required", "Not required"
    PENDING = "pending", "Requested, pending"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    UNKNOWN = "unknown", "Not checked yet"


class Screening(TenantScoped):
    """A short pre-admission screen of an inquiry: the estimate of withdrawal, the six
    ASAM dimension ratings, red flags and payer, and the placement suggestion it gave.
    Not an admission; kept as screened, never edited (a new screen supersedes)."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="screenings")
    screened_at = models.DateTimeField()
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_estimate = models.CharField(max_length=10, choices=WithdrawalEstimate.choices)
    d1 = models.PositiveSmallIntegerField()
    d2 = models.PositiveSmallIntegerField()
    d3 = models.PositiveSmallIntegerField()
    d4 = models.PositiveSmallIntegerField()
    d5 = models.PositiveSmallIntegerField()
    d6 = models.PositiveSmallIntegerField()
    medical_flags = models.JSONField(default=list, blank=True)
    psychiatric_flags = models.JSONField(default=list, blank=True)
    payer_type = models.CharField(max_length=14, choices=PayerType.choices)
    payer_name = models.CharField(max_length=200, blank=True)
    payer_member_id = EncryptedTextField(blank=True, default="")
    authorization = models.CharField(
        max_length=14, choices=Authorization.choices, default=Authorization.UNKNOWN
    )
    authorization_ref = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    # What the decision support said, kept as said (rules version included).
    recommended_level = models.CharField(max_length=10)
    withdrawal_level = models.CharField(max_length=10, blank=True)
    rationale = models.JSONField(default=list)
    cautions = models.JSONField(default=list, blank=True)
    rules_version = models.CharField(max_length=40)
    suggested_program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    suggestion_reasons = models.JSONField(default=list)

    class Meta:
        ordering = ["-screened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_in("withdrawal_estimate", WithdrawalEstimate.values),
                name="screening_withdrawal_valid",
            ),
            models.CheckConstraint(
                condition=_in("payer_type", PayerType.values), name="screening_payer_valid"
            ),
            models.CheckConstraint(
                condition=_in("authorization", Authorization.values),
                name="screening_authorization_valid",
            ),
            *(
                models.CheckConstraint(
                    condition=models.Q(**{f"d{n}__lte": 4}), name=f"screening_d{n}_0_4"
                )
                for n in range(1, 7)
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "inquiry", "screened_at"], name="screening_inquiry_idx"
            )
        ]

    @property
    def ratings(self) -> tuple[int, int, int, int, int, int]:
        return (self.d1, self.d2, self.d3, self.d4, self.d5, self.d6)


class WaitlistExit(models.TextChoices):
    ADMITTED = "admitted", "Admitted"
    REFERRED = "referred", "Referred elsewhere"
    LOST_CONTACT = "lost_contact", "Lost contact"


class WaitlistEntry(TenantScoped):
    """A person waiting for a place in a program. Leaves by admission, referral
    elsewhere or loss of contact, with the reason."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="waitlist")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    left_at = models.DateTimeField(null=True, blank=True)
    left_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exit = models.CharField(max_length=14, choices=WaitlistExit.choices, blank=True)
    exit_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["inquiry"],
                condition=models.Q(left_at__isnull=True),
                name="waitlist_one_open_per_inquiry",
            ),
            models.CheckConstraint(
                condition=(models.Q(left_at__isnull=True) & models.Q(exit=""))
                | (models.Q(left_at__isnull=False) & _in("exit", WaitlistExit.values)),
                name="waitlist_exit_complete",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "program"],
                condition=models.Q(left_at__isnull=True),
                name="waitlist_open_idx",
            ),
            models.Index(fields=["organization", "added_at"], name="waitlist_org_added_idx"),
        ]

    @property
    def is_open(self) -> bool:
        return self.left_at is None
