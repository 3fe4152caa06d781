"""What a signed-in session remembers about its own security: when the password was
entered, when the user was last active, whether a second factor is still owed.

The timestamps are seconds since the epoch, kept in the session itself, so the
server alone decides when a session ends; no browser timer is trusted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest
from django.utils import timezone

from stepwise.accounts.rules import SecondsLeft, SessionPolicy

SIGNED_IN_AT = "stepwise_signed_in_at"
LAST_SEEN_AT = "stepwise_last_seen_at"
REAUTH_AT = "stepwise_reauth_at"
SECOND_FACTOR_PENDING = "stepwise_second_factor_pending"
MFA_BANNER_DISMISSED = "stepwise_mfa_banner_dismissed"

# View markers, read by the middlewares of this app.
BEFORE_SECOND_FACTOR = "stepwise_before_second_factor"
BEFORE_PASSWORD_CHANGE = "stepwise_before_password_change"  # noqa: S105 # nosec B105 (a marker)
PASSIVE = "stepwise_passive"

View = TypeVar("View", bound=Callable[..., Any])


def before_second_factor(view: View) -> View:
    """A page a signed-in user may reach before passing the second factor
    (sign-out, enrolment, the code step). Apply it outside `staff_view`."""
    setattr(view, BEFORE_SECOND_FACTOR, True)
    return view


def before_password_change(view: View) -> View:
    """A page a user who must replace a temporary password may still reach (the
    change-password page itself). Apply it outside `staff_view`."""
    setattr(view, BEFORE_PASSWORD_CHANGE, True)
    return view


def passive(view: View) -> View:
    """A request that is not user activity (the timeout script asking how long is
    left): it must not keep an idle session alive."""
    setattr(view, PASSIVE, True)
    return view


def now_seconds() -> float:
    return timezone.now().timestamp()


def session_policy() -> SessionPolicy:
    return SessionPolicy(
        idle_seconds=settings.IDLE_MINUTES * 60, absolute_seconds=settings.SESSION_HOURS * 3600
    )


def start(session: SessionBase, *, second_factor_owed: bool) -> None:
    """A password sign-in: the clocks start, and the password counts as just entered."""
    now = now_seconds()
    session[SIGNED_IN_AT] = now
    session[LAST_SEEN_AT] = now
    session[REAUTH_AT] = now
    session[SECOND_FACTOR_PENDING] = second_factor_owed


def seconds_left(request: HttpRequest) -> SecondsLeft | None:
    signed_in_at = request.session.get(SIGNED_IN_AT)
    last_seen_at = request.session.get(LAST_SEEN_AT)
    if signed_in_at is None or last_seen_at is None:
        return None
    return session_policy().seconds_left(now_seconds(), signed_in_at, last_seen_at)
