"""Sign-in, sign-out and failed sign-in go to the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest

from stepwise.accounts.selectors import membership_for_user
from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction, AuditOutcome


def _audit_session_event(action: str, user: Any) -> None:
    member = membership_for_user(user) if user is not None else None
    with transaction.atomic():
        audit_record(
            action=action,
            actor_id=user.pk if user is not None else None,
            actor_username=user.get_username() if user is not None else "",
            organization_id=member.organization_id if member else None,
            category="session",
        )


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    _audit_session_event(AuditAction.LOGIN, user)


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        _audit_session_event(AuditAction.LOGOUT, user)


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # The password is never recorded; the username tried is, to spot guessing.
    with transaction.atomic():
        audit_record(
            action=AuditAction.LOGIN_FAILED,
            actor_username=str(credentials.get("username", ""))[:150],
            category="session",
            outcome=AuditOutcome.FAILED,
        )
