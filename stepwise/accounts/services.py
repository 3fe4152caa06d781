"""Writes on staff accounts: personal API tokens, passwords, second factors and the
organization's staff (created, role changed, disabled, enabled, password or second
factor reset). Each checks access, runs in one transaction and writes its audit row."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from stepwise.accounts.models import (
    AccountState,
    ApiToken,
    Membership,
    RecoveryCode,
    RecoveryCodeDevice,
    hash_token,
)
from stepwise.accounts.rules import (
    RECOVERY_CODE_COUNT,
    looks_like_totp,
    new_recovery_code,
    normalize_code,
)
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditAction, AuditOutcome
from stepwise.core.roles import Permission, Role

MAX_TOKEN_DAYS = 365


def token_create(
    actor: Actor, *, name: str, days: int | None = None, behind_second_factor: bool = True
) -> tuple[ApiToken, str]:
    """Create a personal access token; returns it with the raw secret, shown only once.

    `behind_second_factor` says whether the session creating it passed a second factor;
    a token made without one stops working where two-factor sign-in is required.
    """
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Name the token after where it is used, e.g. 'reporting script'."
    if not 1 <= days <= MAX_TOKEN_DAYS:
        errors["days"] = f"A token lives from 1 to {MAX_TOKEN_DAYS} days."
    if errors:
        raise ValidationFailed(errors)
    raw = ApiToken.generate_raw()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user_id=actor.user_id,
            organization_id=actor.organization_id,
            name=name.strip()[:100],
            token_hash=hash_token(raw),
            hint=raw[:10],
            expires_at=timezone.now() + timedelta(days=days),
            behind_second_factor=behind_second_factor,
        )
        audit_record(
            action=AuditAction.TOKEN_CREATE,
            actor=actor,
            category="api_token",
            object_type="api_token",
            object_id=token.public_id,
            detail={"days": days, "behind_second_factor": behind_second_factor},
        )
    return token, raw


def token_revoke(actor: Actor, public_id: uuid.UUID | str) -> ApiToken:
    """Revoke one of the actor's own tokens at once."""
    with transaction.atomic():
        token = (
            ApiToken.objects.select_for_update()
            .filter(user_id=actor.user_id, public_id=public_id)
            .first()
        )
        if token is None:
            raise NotFound()
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at", "updated_at"])
            audit_record(
                action=AuditAction.TOKEN_REVOKE,
                actor=actor,
                category="api_token",
                object_type="api_token",
                object_id=token.public_id,
            )
    return token


# --- passwords ------------------------------------------------------------------------------

CREDENTIALS_CATEGORY = "login"  # the actor's own credential changes


def password_change(actor: Actor, user: AbstractUser, new_password: str) -> None:
    """Set the actor's own password (already validated and confirmed by the form).

    It must differ from the current one; replacing a temporary password set by an
    administrator lifts the requirement to change it.
    """
    if user.pk != actor.user_id:
        raise NotFound()
    if user.check_password(new_password):
        raise ValidationFailed(
            {"new_password1": "Choose a new password, not the one you signed in with."}
        )
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        replaced_temporary = AccountState.objects.filter(
            user_id=user.pk, must_change_password=True
        ).update(must_change_password=False, updated_at=timezone.now())
        audit_record(
            action=AuditAction.PASSWORD_CHANGE,
            actor=actor,
            category=CREDENTIALS_CATEGORY,
            object_type="user",
            object_id=user.pk,
            detail={"replaced_temporary": True} if replaced_temporary else None,
        )


def must_change_password(user_id: int) -> bool:
    return AccountState.objects.filter(user_id=user_id, must_change_password=True).exists()


# --- second factor (TOTP and recovery codes) --------------------------------------------------

MFA_CATEGORY = "mfa"
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def totp_device_of(user_id: int) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user_id, confirmed=True).first()


def recovery_codes_left(user_id: int) -> int:
    return RecoveryCode.objects.filter(device__user_id=user_id, device__confirmed=True).count()


@dataclass(frozen=True)
class CodeCheck:
    """The outcome of a second-factor code: the device that accepted it, or how long
    to wait when too many wrong codes slowed the device down."""

    device: Device | None
    wait_seconds: int = 0
    recovery_codes_left: int | None = None


def _wait_seconds(device: ThrottlingMixin) -> int:
    allowed, detail = device.verify_is_allowed()
    if allowed:
        return 0
    locked_until = (detail or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, math.ceil((locked_until - timezone.now()).total_seconds()))


def second_factor_check(actor: Actor, typed: str) -> CodeCheck:
    """Check a code from the authenticator app (6 digits) or a recovery code (used
    up by this). Wrong codes slow the device down (django-otp's throttling)."""
    code = normalize_code(typed)
    model: type[TOTPDevice] | type[RecoveryCodeDevice] = (
        TOTPDevice if looks_like_totp(code) else RecoveryCodeDevice
    )
    method = "totp" if model is TOTPDevice else "recovery_code"
    with transaction.atomic():
        device = (
            model.objects.select_for_update()
            .filter(user_id=actor.user_id, confirmed=True)
            .order_by("pk")
            .first()
        )
        # A code sent while the device is slowed down is not even checked.
        wait = _wait_seconds(device) if device is not None else 0
        accepted = device is not None and not wait and device.verify_token(code)
        left = recovery_codes_left(actor.user_id) if method == "recovery_code" else None
        audit_record(
            action=AuditAction.LOGIN if accepted else AuditAction.LOGIN_FAILED,
            actor=actor,
            category=MFA_CATEGORY,
            outcome=AuditOutcome.SUCCESS if accepted else AuditOutcome.FAILED,
            detail={"method": method},
        )
    if not accepted:
        return CodeCheck(device=None, wait_seconds=wait)
    return CodeCheck(device=device, recovery_codes_left=left)


def totp_enrolment_start(actor: Actor) -> TOTPDevice:
    """The actor's device awaiting its first code: the same one on every visit, so
    reloading the page does not change the key already scanned."""
    if totp_device_of(actor.user_id) is not None:
        raise Conflict("Two-factor sign-in is already set up.")
    pending = TOTPDevice.objects.filter(user_id=actor.user_id, confirmed=False).first()
    if pending is None:
        pending = TOTPDevice.objects.create(
            user_id=actor.user_id, name=TOTP_DEVICE_NAME, confirmed=False
        )
    return pending


def _new_recovery_codes(user_id: int) -> list[str]:
    """Replace the user's recovery codes with a fresh set; returns them (shown once).

    The device itself is kept, so a session that signed in with one of the old
    codes stays verified.
    """
    device, _ = RecoveryCodeDevice.objects.select_for_update().get_or_create(
        user_id=user_id, defaults={"name": RECOVERY_DEVICE_NAME, "confirmed": True}
    )
    device.codes.all().delete()
    device.throttle_reset(commit=False)
    device.confirmed = True
    device.save()
    codes: set[str] = set()
    while len(codes) < RECOVERY_CODE_COUNT:
        codes.add(new_recovery_code())
    RecoveryCode.objects.bulk_create(RecoveryCode.for_code(device, code) for code in codes)
    return sorted(codes)


def _remove_second_factor(user_id: int) -> int:
    """Delete the user's authenticator app (set up or pending) and recovery codes, and
    revoke their API tokens (made behind that second factor); returns how many set-up
    authenticator apps there were."""
    confirmed = TOTPDevice.objects.filter(user_id=user_id, confirmed=True).count()
    TOTPDevice.objects.filter(user_id=user_id).delete()
    RecoveryCodeDevice.objects.filter(user_id=user_id).delete()
    ApiToken.objects.filter(user_id=user_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return confirmed


@dataclass(frozen=True)
class Enrolled:
    device: TOTPDevice
    recovery_codes: list[str]


def totp_enrolment_confirm(actor: Actor, code: str) -> Enrolled:
    """Activate the pending device with its first code, and issue recovery codes."""
    with transaction.atomic():
        if TOTPDevice.objects.filter(user_id=actor.user_id, confirmed=True).exists():
            raise Conflict("Two-factor sign-in is already set up.")
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user_id=actor.user_id, confirmed=False)
            .first()
        )
        if device is None:
            raise NotFound()
        if not device.verify_token(code):
            raise ValidationFailed(
                {"code": "That code is not right. Enter the 6 digits your app shows now."}
            )
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(actor.user_id)
        audit_record(
            action=AuditAction.MFA_ENROL,
            actor=actor,
            category=MFA_CATEGORY,
            object_type="totp_device",
            object_id=device.pk,
            detail={"method": "totp", "recovery_codes": len(codes)},
        )
    return Enrolled(device=device, recovery_codes=codes)


def recovery_codes_regenerate(actor: Actor) -> list[str]:
    """New recovery codes for the actor; the old ones stop working."""
    with transaction.atomic():
        if totp_device_of(actor.user_id) is None:
            raise Conflict("Set up two-factor sign-in first.")
        codes = _new_recovery_codes(actor.user_id)
        audit_record(
            action=AuditAction.MFA_ENROL,
            actor=actor,
            category=MFA_CATEGORY,
            object_type="recovery_codes",
            detail={"method": "recovery_codes", "recovery_codes": len(codes)},
        )
    return codes


def second_factor_remove(actor: Actor) -> None:
    """Remove the actor's authenticator app and recovery codes."""
    with transaction.atomic():
        if _remove_second_factor(actor.user_id):
            audit_record(
                action=AuditAction.MFA_REMOVE,
                actor=actor,
                category=MFA_CATEGORY,
                object_type="totp_device",
            )


# --- the organization's staff -----------------------------------------------------------------

STAFF_CATEGORY = "staff"
ROLE_VALUES = frozenset(r.value for r in Role)


def _role_error(role: str) -> str | None:
    if role not in ROLE_VALUES:
        return "Choose one of the roles in the list."
    return None


@dataclass(frozen=True)
class NewStaff:
    username: str
    role: str
    password: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""


def _new_staff_errors(data: NewStaff) -> dict[str, str]:
    errors: dict[str, str] = {}
    username = data.username.strip()
    if not username:
        errors["username"] = "Enter a username."
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            errors["username"] = "Use letters, digits and @ . + - _ only."
        else:
            if get_user_model().objects.filter(username__iexact=username).exists():
                errors["username"] = "That username is taken. Choose another."
    if data.email.strip():
        try:
            validate_email(data.email.strip())
        except ValidationError:
            errors["email"] = "Enter a valid email address, or leave it empty."
    role_error = _role_error(data.role)
    if role_error:
        errors["role"] = role_error
    candidate = get_user_model()(
        username=username,
        first_name=data.first_name.strip(),
        last_name=data.last_name.strip(),
        email=data.email.strip(),
    )
    try:
        password_validation.validate_password(data.password, candidate)
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    return errors


def _require_new_password(user: AbstractUser) -> None:
    """A password set by an administrator is temporary: the person replaces it at
    their next sign-in (accounts.middleware.TemporaryPasswordMiddleware)."""
    # (A flag, not a secret; the scanner reads "password" as one.)
    AccountState.objects.update_or_create(
        user_id=user.pk,
        defaults={"must_change_password": True},  # nosec B105
    )


def staff_create(actor: Actor, data: NewStaff) -> Membership:
    """A new staff account in the actor's organization, with a role and a temporary
    password (which must pass the password rules, and is replaced at first sign-in)."""
    require_permission(actor, Permission.STAFF_ADMIN, category=STAFF_CATEGORY)
    errors = _new_staff_errors(data)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=data.username.strip(),
            password=data.password,
            first_name=data.first_name.strip()[:150],
            last_name=data.last_name.strip()[:150],
            email=data.email.strip(),
        )
        _require_new_password(user)
        membership = Membership.objects.create(
            user=user, organization_id=actor.organization_id, role=data.role
        )
        audit_record(
            action=AuditAction.USER_CREATE,
            actor=actor,
            category=STAFF_CATEGORY,
            object_type="user",
            object_id=user.pk,
            detail={"username": user.get_username(), "temporary_credential": True},
        )
        audit_record(
            action=AuditAction.ROLE_CHANGE,
            actor=actor,
            category=STAFF_CATEGORY,
            object_type="membership",
            object_id=membership.public_id,
            detail={"username": user.get_username(), "from": None, "to": data.role},
        )
    return membership


OWN_ACCOUNT = (
    "You cannot change your own role or disable your own account: "
    "ask another administrator, so the organization always keeps one."
)


def _member_for_change(
    actor: Actor, membership_id: uuid.UUID | str, *, own: str = OWN_ACCOUNT
) -> Membership:
    """The organization's membership, locked for the change; never the actor's own
    (`own` says why)."""
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(organization_id=actor.organization_id, public_id=membership_id)
        .first()
    )
    if membership is None:
        raise NotFound()
    if membership.user_id == actor.user_id:
        raise Conflict(own)
    return membership


def _credentials_are_ours(membership: Membership) -> None:
    """A person's password and second factor serve every organization they work for:
    an administrator of one may reset them only if no other organization relies on
    them, or one organization could take over an account at another."""
    elsewhere = (
        Membership.objects.filter(user_id=membership.user_id, is_active=True)
        .exclude(organization_id=membership.organization_id)
        .exists()
    )
    if elsewhere:
        raise Conflict(
            f"{membership.user.get_username()} also works for another organization on this "
            "server, which relies on the same password and two-factor sign-in. "
            "Ask the operator of this server to reset them."
        )


def staff_change_role(actor: Actor, membership_id: uuid.UUID | str, role: str) -> Membership:
    require_permission(actor, Permission.STAFF_ADMIN, category=STAFF_CATEGORY)
    role_error = _role_error(role)
    if role_error:
        raise ValidationFailed({"role": role_error})
    with transaction.atomic():
        membership = _member_for_change(actor, membership_id)
        previous = membership.role
        if previous == role:
            return membership
        membership.role = role
        membership.save(update_fields=["role", "updated_at"])
        audit_record(
            action=AuditAction.ROLE_CHANGE,
            actor=actor,
            category=STAFF_CATEGORY,
            object_type="membership",
            object_id=membership.public_id,
            detail={"username": membership.user.get_username(), "from": previous, "to": role},
        )
    return membership


def staff_set_active(actor: Actor, membership_id: uuid.UUID | str, *, active: bool) -> Membership:
    """Disable or enable a member's account in the organization.

    Disabling revokes their API tokens for the organization, and their signed-in
    sessions end at their next request; with no other organization left, the
    account cannot sign in at all.
    """
    require_permission(actor, Permission.STAFF_ADMIN, category=STAFF_CATEGORY)
    with transaction.atomic():
        membership = _member_for_change(actor, membership_id)
        if membership.is_active == active:
            return membership
        membership.is_active = active
        membership.save(update_fields=["is_active", "updated_at"])
        user = membership.user
        detail: dict[str, Any] = {"username": user.get_username()}
        if active:
            if not user.is_active:
                user.is_active = True
                user.save(update_fields=["is_active"])
        else:
            detail["tokens_revoked"] = ApiToken.objects.filter(
                user_id=user.pk, organization_id=actor.organization_id, revoked_at__isnull=True
            ).update(revoked_at=timezone.now())
            others = Membership.objects.filter(user_id=user.pk, is_active=True)
            if not others.exclude(pk=membership.pk).exists():
                user.is_active = False
                user.save(update_fields=["is_active"])
        audit_record(
            action=AuditAction.ACCOUNT_ENABLE if active else AuditAction.ACCOUNT_DISABLE,
            actor=actor,
            category=STAFF_CATEGORY,
            object_type="membership",
            object_id=membership.public_id,
            detail=detail,
        )
    return membership


def staff_password_reset(actor: Actor, membership_id: uuid.UUID | str, password: str) -> Membership:
    """Give a member a temporary password (a forgotten one): it must pass the password
    rules, their signed-in sessions end, and they choose their own at next sign-in."""
    require_permission(actor, Permission.STAFF_ADMIN, category=STAFF_CATEGORY)
    with transaction.atomic():
        membership = _member_for_change(
            actor, membership_id, own="Change your own password in your settings."
        )
        _credentials_are_ours(membership)
        user = membership.user
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise ValidationFailed({"password": " ".join(exc.messages)}) from None
        # A new password hash ends the sessions signed in with the old one (Django
        # checks it on every request).
        user.set_password(password)
        user.save(update_fields=["password"])
        _require_new_password(user)
        audit_record(
            action=AuditAction.PASSWORD_CHANGE,
            actor=actor,
            category=STAFF_CATEGORY,
            object_type="membership",
            object_id=membership.public_id,
            detail={"username": user.get_username(), "temporary": True},
        )
    return membership


def staff_second_factor_reset(actor: Actor, membership_id: uuid.UUID | str) -> Membership:
    """Remove a member's authenticator app and recovery codes (a lost phone) and end
    their signed-in sessions. They set up a new one at their next sign-in when the
    organization requires two-factor sign-in."""
    require_permission(actor, Permission.STAFF_ADMIN, category=STAFF_CATEGORY)
    with transaction.atomic():
        membership = _member_for_change(
            actor,
            membership_id,
            own="Manage your own two-factor sign-in in your settings.",
        )
        _credentials_are_ours(membership)
        user = membership.user
        if not _remove_second_factor(user.pk):
            raise Conflict(f"{user.get_username()} has not set up two-factor sign-in.")
        AccountState.objects.update_or_create(
            user_id=user.pk, defaults={"sessions_ended_at": timezone.now()}
        )
        audit_record(
            action=AuditAction.MFA_REMOVE,
            actor=actor,
            category=STAFF_CATEGORY,
            object_type="membership",
            object_id=membership.public_id,
            detail={"username": user.get_username(), "sessions_ended": True},
        )
    return membership
