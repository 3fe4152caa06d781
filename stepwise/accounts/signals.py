"""Sign-in, sign-out and failed sign-in go to the audit log; a sign-in starts the
session's clocks (accounts.session)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY, user_has_device

from stepwise.accounts import session as account_session
from stepwise.accounts.selectors import membership_for_user
from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction, AuditOutcome

# Set on the request by whatever signs a user out for a reason (idle, time limit).
LOGOUT_REASON_ATTRIBUTE = "stepwise_logout_reason"
REAUTH_PURPOSE_ATTRIBUTE = "stepwise_reauth_purpose"


def _audit_session_event(action: str, user: Any, detail: dict[str, Any] | None = None) -> None:
    member = membership_for_user(user) if user is not None else None
    with transaction.atomic():
        audit_record(
            action=action,
            actor_id=user.pk if user is not None else None,
            actor_username=user.get_username() if user is not None else "",
            organization_id=member.organization_id if member else None,
            category="session",
            detail=detail,
        )


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if getattr(user, "otp_device", None) is None:
        # A second factor passed earlier in this browser never carries over to a
        # new password sign-in.
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
    account_session.start(request.session, second_factor_owed=user_has_device(user))
    _audit_session_event(AuditAction.LOGIN, user)


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        reason = getattr(request, LOGOUT_REASON_ATTRIBUTE, "")
        _audit_session_event(AuditAction.LOGOUT, user, {"reason": reason} if reason else None)


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The password is never recorded; the username tried is, to spot guessing.
    purpose = getattr(request, REAUTH_PURPOSE_ATTRIBUTE, "") if request is not None else ""
    actor = getattr(request, "actor", None) if purpose else None
    # A wrong password on the confirm step is a failed re-authentication, not a
    # failed sign-in; both count toward the lockout (django-axes).
    with transaction.atomic():
        audit_record(
            action=AuditAction.REAUTH if purpose else AuditAction.LOGIN_FAILED,
            actor=actor,
            actor_username=str(credentials.get("username", ""))[:150],
            category="login" if purpose else "session",
            outcome=AuditOutcome.FAILED,
            detail={"purpose": purpose} if purpose else None,
        )
