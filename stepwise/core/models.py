"""Tenancy, the shared base model and the audit log."""

from __future__ import annotations

import uuid
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class TimeStamped(models.Model):
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Organization(TimeStamped):
    """The tenant: one treatment organization and everything it owns."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantScoped(TimeStamped):
    """Base of every clinical row: it belongs to one organization and has a public UUID."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT)
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        abstract = True


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known IANA time zone (e.g. America/New_York).")


class Facility(TenantScoped):
    """A site of the organization; schedules and displays use its time zone."""

    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    address = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="facility_name_unique_in_org"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AuditAction(models.TextChoices):
    CREATE = "create", "Create"
    READ = "read", "Read"
    UPDATE = "update", "Update"
    ADMIT = "admit", "Admit"
    TRANSITION = "transition", "Transition"
    DISCHARGE = "discharge", "Discharge"
    SEARCH = "search", "Search"
    LOGIN = "login", "Login"
    LOGOUT = "logout", "Logout"
    LOGIN_FAILED = "login_failed", "Login failed"
    ACCESS_DENIED = "access_denied", "Access denied"
    EXPORT = "export", "Export"
    TOKEN_CREATE = "token_create", "API token created"
    TOKEN_REVOKE = "token_revoke", "API token revoked"
    KEY_ROTATE = "key_rotate", "Field keys rotated"
    # 42 CFR Part 2: consents and releases outside the program.
    CONSENT_SIGN = "consent_sign", "Consent signed"
    CONSENT_RECONFIRM = "consent_reconfirm", "Consent re-confirmed"
    CONSENT_REVOKE = "consent_revoke", "Consent revoked"
    DISCLOSE = "disclose", "Disclosed outside the program"
    DISCLOSURE_REFUSED = "disclosure_refused", "Disclosure refused"
    BREAK_GLASS = "break_glass", "Emergency access opened"
    REVIEW = "review", "Reviewed"
    # Accounts: privilege changes and sign-in security.
    USER_CREATE = "user_create", "Staff account created"
    ROLE_CHANGE = "role_change", "Role changed"
    ACCOUNT_DISABLE = "account_disable", "Account disabled"
    ACCOUNT_ENABLE = "account_enable", "Account enabled"
    PASSWORD_CHANGE = "password_change", "Password changed"
    REAUTH = "reauth", "Password confirmed"
    MFA_ENROL = "mfa_enrol", "Second factor set up"
    MFA_REMOVE = "mfa_remove", "Second factor removed"
    # Medications: each order, administration and safety override has its own action.
    ORDER = "order", "Medication ordered"
    ORDER_STOP = "order_stop", "Medication order stopped"
    ADMINISTER = "administer", "Medication administration charted"
    SAFETY_OVERRIDE = "safety_override", "Safety rule overridden"
    SETTINGS_CHANGE = "settings_change", "Clinical settings changed"


class AuditOutcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    FAILED = "failed", "Failed"


class DataClass(models.TextChoices):
    """How sensitive the data an audit event touched is, so Part 2 access stands out."""

    PART2 = "part2", "Part 2"
    PHI = "phi", "PHI"
    ACCOUNT = "account", "Account"
    SYSTEM = "system", "System"


# Audit category -> data class. In a Part 2 program everything about a patient,
# down to the fact of being one, is Part 2 information (42 CFR 2.11/2.12).
CATEGORY_DATA_CLASS: dict[str, str] = {
    **dict.fromkeys(
        [
            "chart",
            "episodes",
            "demographics",
            "contacts",
            "care_team",
            "patient_list",
            "consents",
            "disclosures",
            "counseling_notes",
            "notes",
            "plans",
            "assessments",
            "withdrawal",
            "medications",
            "intake",
            "scheduling",
            "aftercare",
            "break_glass",
            # The audit page names the patients whose records were touched.
            "audit",
        ],
        DataClass.PART2,
    ),
    # Counts per program, not one patient's record; small counts can still
    # identify someone, so they are health information rather than system data.
    "census": DataClass.PHI,
    **dict.fromkeys(
        ["session", "login", "api_token", "tokens", "staff", "membership", "roles", "mfa"],
        DataClass.ACCOUNT,
    ),
    **dict.fromkeys(["route", "field_keys", "system"], DataClass.SYSTEM),
}


def data_class_for(category: str, patient_public_id: uuid.UUID | None = None) -> str:
    """The class of a category; an unknown one is Part 2 as soon as a patient is named."""
    known = CATEGORY_DATA_CLASS.get(category)
    if known:
        return known
    return DataClass.PART2 if patient_public_id else DataClass.SYSTEM


def data_class_filter(value: str) -> models.Q:
    """Events of one class; rows from before classes were stored count by their category."""
    implied = models.Q(category__in=[c for c, k in CATEGORY_DATA_CLASS.items() if k == value])
    unknown = ~models.Q(category__in=list(CATEGORY_DATA_CLASS))
    if value == DataClass.PART2:
        implied |= unknown & models.Q(patient_public_id__isnull=False)
    elif value == DataClass.SYSTEM:
        implied |= unknown & models.Q(patient_public_id__isnull=True)
    return models.Q(data_class=value) | (models.Q(data_class="") & implied)


class AuditEvent(models.Model):
    """One append-only row of the audit log.

    Rows are spread over several hash chains (`chain`); within a chain, `seq`
    counts up from 1 and `hash` is HMAC-SHA256(key, previous hash + this row's
    canonical content). Actor and patient are stored as plain values, not
    foreign keys, so no cascade can ever touch an audit row. `data_class` says
    whether the event touched Part 2 data, other health information, a staff
    account or only the system.
    """

    chain = models.PositiveSmallIntegerField()
    seq = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=40, blank=True)
    organization_id = models.BigIntegerField(null=True, blank=True)
    patient_public_id = models.UUIDField(null=True, blank=True)
    action = models.CharField(max_length=30, choices=AuditAction.choices)
    category = models.CharField(max_length=40, blank=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=AuditOutcome.choices)
    request_id = models.CharField(max_length=64, blank=True)
    client_address = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # Blank only on rows written before data classes existed (hash version 1).
    data_class = models.CharField(max_length=10, choices=DataClass.choices, blank=True, default="")
    # Which fields enter the hash (stepwise.core.audit.HASHED_FIELDS); older rows keep theirs.
    hash_version = models.PositiveSmallIntegerField(default=2)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique"),
            models.CheckConstraint(
                condition=models.Q(outcome__in=AuditOutcome.values), name="audit_outcome_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(action__in=AuditAction.values), name="audit_action_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(data_class__in=[*DataClass.values, ""]),
                name="audit_data_class_valid",
            ),
        ]
        indexes = [
            # The audit page: one organization's events, newest first, optionally per patient.
            models.Index(fields=["organization_id", "occurred_at"], name="audit_org_time_idx"),
            models.Index(
                fields=["organization_id", "patient_public_id", "occurred_at"],
                name="audit_org_patient_time_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action} ({self.outcome})"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit events are append-only.")

    @property
    def shown_data_class(self) -> str:
        """The stored class, or for older rows the one their category implies."""
        return self.data_class or data_class_for(self.category, self.patient_public_id)

    def get_shown_data_class_display(self) -> str:
        return str(DataClass(self.shown_data_class).label)


class AuditChainHead(models.Model):
    """The last link of one hash chain: lets the verifier notice a truncated tail."""

    chain = models.PositiveSmallIntegerField(primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain {self.chain} at {self.seq}"
