"""Staff memberships, per-person sign-in state, recovery codes and personal API tokens."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

from stepwise.accounts.rules import hash_recovery_code, normalize_code, recovery_code_matches
from stepwise.core.models import Organization, TimeStamped
from stepwise.core.roles import ROLE_LABELS, Role

ROLE_CHOICES = [(r.value, ROLE_LABELS[r]) for r in Role]


class Membership(TimeStamped):
    """A user's role in one organization. One Django user per person.

    An inactive membership is a disabled account in that organization: it keeps
    its history but gives no access.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=30, choices=ROLE_CHOICES)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_one_per_org"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) at {self.organization}"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[Role(self.role)]


class AccountState(models.Model):
    """What a person's sign-in must still do, whatever the organization: replace a
    temporary password set by an administrator; and the moment an administrator
    ended their sessions (a session signed in before it is over)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="account_state",
    )
    must_change_password = models.BooleanField(default=False)
    sessions_ended_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"account state of user {self.user_id}"


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A person's one-time recovery codes, as a django-otp device: `verify_token`
    accepts an unused code once, so django_otp.login, the second-step page and the
    middleware treat it like the authenticator app. Only salted digests are stored
    (accounts.rules.hash_recovery_code)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user"], name="recovery_codes_one_set_per_user"),
        ]

    def get_throttle_factor(self) -> int:
        return 1  # wrong codes wait 1, 2, 4, 8... seconds before the next is checked

    def verify_token(self, token: object) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        code = normalize_code(str(token))
        match = next(
            (c for c in self.codes.order_by("pk") if recovery_code_matches(code, c.digest)), None
        )
        with transaction.atomic():
            # Counting the rows deleted makes two requests racing with one code
            # accept it once, even where rows cannot be locked (SQLite).
            used = RecoveryCode.objects.filter(pk=match.pk).delete()[0] if match else 0
            if used:
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
            else:
                self.throttle_increment()
        return bool(used)


class RecoveryCode(models.Model):
    """One unused recovery code; it is deleted when used."""

    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=160)

    def __str__(self) -> str:
        return f"recovery code {self.pk} of device {self.device_id}"

    @classmethod
    def for_code(cls, device: RecoveryCodeDevice, code: str) -> RecoveryCode:
        return cls(device=device, digest=hash_recovery_code(normalize_code(code)))


TOKEN_PREFIX = "stw_"  # noqa: S105 (a prefix, not a secret) # nosec B105


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(TimeStamped):
    """A personal access token; only its SHA-256 is stored, the token is shown once."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(
        max_length=12, help_text="The token's first characters, to recognise it."
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Made in a session that passed a second factor (or by the operator's command).
    # When two-factor sign-in is required, other tokens do not work.
    behind_second_factor = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def generate_raw() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "active" if self.is_usable() else "expired"
