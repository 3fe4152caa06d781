"""Attaches `request.actor` (user, organization, role) to every signed-in request,
ends sessions by the session policy, and holds back users who owe a second factor
or must replace a temporary password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render, resolve_url
from django.urls import reverse

from stepwise.accounts import session as account_session
from stepwise.accounts.rules import SessionEnd, activity_worth_recording
from stepwise.accounts.selectors import (
    account_state_of,
    actor_from_membership,
    membership_for_user,
)
from stepwise.accounts.services import totp_device_of
from stepwise.accounts.signals import LOGOUT_REASON_ATTRIBUTE

ACTIVE_ORG_SESSION_KEY = "stepwise_active_org"


class MembershipMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        request.account_state = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            membership = membership_for_user(
                request.user, request.session.get(ACTIVE_ORG_SESSION_KEY)
            )
            if membership is None:
                # A signed-in account with no organization has nothing to see.
                logout(request)
                return render(request, "accounts/no_membership.html", status=403)
            request.account_state = account_state_of(membership)  # type: ignore[attr-defined]
            membership.user = request.user
            request.membership = membership  # type: ignore[attr-defined]
            request.actor = actor_from_membership(membership)  # type: ignore[attr-defined]
        return self.get_response(request)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect htmx follows with a full page load instead of swapping it into a fragment."""
    if request.headers.get("HX-Request") == "true":
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def _with_next(url: str, request: HttpRequest) -> str:
    if request.method != "GET":
        return url
    return f"{url}?{urlencode({'next': request.get_full_path()})}"


SIGNED_OUT_MESSAGES = {
    SessionEnd.IDLE: "You were signed out after {minutes} minutes without activity. Sign in again to continue.",
    SessionEnd.ABSOLUTE: "Your session reached its {hours}-hour limit. Sign in again to continue.",
    SessionEnd.ENDED: "An administrator ended your session. Sign in again to continue.",
}


class SessionPolicyMiddleware:
    """Ends a session idle for settings.IDLE_MINUTES, or older than
    settings.SESSION_HOURS since its password sign-in, from the session's own
    timestamps, or signed in before an administrator ended the account's sessions;
    records activity. The API (bearer tokens) has no session."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if request.path_info.startswith("/api/") or not request.user.is_authenticated:
            return None
        now = account_session.now_seconds()
        signed_in_at = request.session.get(account_session.SIGNED_IN_AT)
        last_seen_at = request.session.get(account_session.LAST_SEEN_AT)
        if signed_in_at is None or last_seen_at is None:
            # A session from before these clocks existed: it starts over.
            return self._sign_out(request, SessionEnd.ABSOLUTE)
        state = getattr(request, "account_state", None)
        ended_at = state.sessions_ended_at if state is not None else None
        ended = account_session.session_policy().ended(
            now, signed_in_at, last_seen_at, ended_at.timestamp() if ended_at else None
        )
        if ended is not None:
            return self._sign_out(request, ended)
        if not getattr(view_func, account_session.PASSIVE, False) and activity_worth_recording(
            now, last_seen_at
        ):
            request.session[account_session.LAST_SEEN_AT] = now
        return None

    def _sign_out(self, request: HttpRequest, reason: SessionEnd) -> HttpResponse:
        setattr(request, LOGOUT_REASON_ATTRIBUTE, str(reason))
        logout(request)
        if _wants_json(request):
            return JsonResponse({"signed_in": False, "reason": str(reason)}, status=401)
        messages.info(
            request,
            SIGNED_OUT_MESSAGES[reason].format(
                minutes=settings.IDLE_MINUTES, hours=settings.SESSION_HOURS
            ),
        )
        return _redirect(request, _with_next(resolve_url(settings.LOGIN_URL), request))


class SecondFactorMiddleware:
    """Until the second factor is passed, a signed-in user reaches only the pages
    marked `before_second_factor` (sign-out, enrolment, the code step).

    It applies to everyone when settings.REQUIRE_MFA is on, and otherwise to users
    who have set up a second factor (their password alone must not be enough).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        user = request.user
        if request.path_info.startswith("/api/") or not user.is_authenticated:
            return None
        if getattr(view_func, account_session.BEFORE_SECOND_FACTOR, False):
            return None
        if user.is_verified():  # type: ignore[attr-defined]  # set by django_otp
            return None
        owed = request.session.get(account_session.SECOND_FACTOR_PENDING, False)
        if not (settings.REQUIRE_MFA or owed):
            return None
        if _wants_json(request):
            return JsonResponse({"detail": "Second factor required."}, status=403)
        target = "accounts:verify" if totp_device_of(user.pk) else "accounts:enrol"
        return _redirect(request, _with_next(reverse(target), request))


class TemporaryPasswordMiddleware:
    """Until a temporary password set by an administrator is replaced, a signed-in
    user reaches only the change-password page and the pages marked
    `before_second_factor` (sign-out, the second-factor steps, the session clock).

    It runs after SecondFactorMiddleware, so the new password is chosen in a session
    that has passed its second factor.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        state = getattr(request, "account_state", None)
        if state is None or not state.must_change_password:
            return None
        if request.path_info.startswith("/api/"):
            return None
        if getattr(view_func, account_session.BEFORE_SECOND_FACTOR, False) or getattr(
            view_func, account_session.BEFORE_PASSWORD_CHANGE, False
        ):
            return None
        if _wants_json(request):
            return JsonResponse({"detail": "Password change required."}, status=403)
        return _redirect(request, _with_next(reverse("accounts:password_change"), request))
