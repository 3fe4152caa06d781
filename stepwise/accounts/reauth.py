"""Asking for the password again before a sensitive action.

A password entered less than settings.REAUTH_MINUTES ago (at sign-in or on the
confirm page) lets the action through; otherwise `recent_auth_required` sends the
user to confirm it first, and forms that ask inline call `password_confirmed`.
Both outcomes are audited; wrong passwords count toward the sign-in lockout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from stepwise.accounts import session as account_session
from stepwise.accounts.rules import recently_authenticated
from stepwise.accounts.signals import REAUTH_PURPOSE_ATTRIBUTE
from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction
from stepwise.core.web import actor_of

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])

# Credential events (re-authentication, password change) share the audit category "login".
CREDENTIALS_CATEGORY = "login"


def has_recent_auth(request: HttpRequest) -> bool:
    return recently_authenticated(
        account_session.now_seconds(),
        request.session.get(account_session.REAUTH_AT),
        settings.REAUTH_MINUTES * 60,
    )


def password_confirmed(request: HttpRequest, password: str, *, purpose: str) -> bool:
    """Check the signed-in user's password; on success the re-authentication window opens."""
    user = request.user
    # The failed-sign-in audit (signals.on_login_failed) reads it to record the
    # failure as a re-authentication, with the actor.
    setattr(request, REAUTH_PURPOSE_ATTRIBUTE, purpose)
    try:
        checked = authenticate(request, username=user.get_username(), password=password)
    finally:
        delattr(request, REAUTH_PURPOSE_ATTRIBUTE)
    if checked is None or checked.pk != user.pk:
        return False  # audited by the failed-sign-in signal
    request.session[account_session.REAUTH_AT] = account_session.now_seconds()
    with transaction.atomic():
        audit_record(
            action=AuditAction.REAUTH,
            actor=actor_of(request),
            category=CREDENTIALS_CATEGORY,
            detail={"purpose": purpose},
        )
    return True


def safe_next(request: HttpRequest, candidate: str | None, default: str = "/") -> str:
    """A same-site path to go back to, never another host."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _return_path(request: HttpRequest) -> str:
    """Where to come back after confirming: this page for a GET; for a form's POST,
    the page the form was on (its data is not kept: the user sends it again)."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.get_host() and referer.path:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return request.path


def confirm_redirect(request: HttpRequest, next_path: str | None = None) -> HttpResponseRedirect:
    messages.info(request, "For your security, confirm your password to continue.")
    query = urlencode({"next": next_path or _return_path(request)})
    return HttpResponseRedirect(f"{reverse('accounts:confirm_password')}?{query}")


def recent_auth_required(view: ViewFunc) -> ViewFunc:
    """The view runs only with a password entered in the last few minutes.
    Put it inside `staff_view`, so a role that may not act is refused first."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not has_recent_auth(request):
            return confirm_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]
