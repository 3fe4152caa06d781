"""Sign-in (password, then the second factor), sign-out, the lockout page, the user's
own settings (password, two-factor, API tokens), the session's keep-alive, and the
organization's staff administration (accounts, roles, temporary passwords, second
factor resets)."""

from __future__ import annotations

import base64
import uuid
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from stepwise.accounts import session as account_session
from stepwise.accounts.forms import (
    CodeForm,
    PasswordForm,
    RoleForm,
    StaffCreateForm,
    TemporaryPasswordForm,
    TokenForm,
)
from stepwise.accounts.reauth import (
    confirm_redirect,
    has_recent_auth,
    password_confirmed,
    recent_auth_required,
    safe_next,
)
from stepwise.accounts.rules import format_recovery_code, format_totp_key
from stepwise.accounts.selectors import staff_member, staff_of_organization, tokens_for_user
from stepwise.accounts.services import (
    NewStaff,
    password_change,
    recovery_codes_left,
    recovery_codes_regenerate,
    second_factor_check,
    second_factor_remove,
    staff_change_role,
    staff_create,
    staff_password_reset,
    staff_second_factor_reset,
    staff_set_active,
    token_create,
    token_revoke,
    totp_device_of,
    totp_enrolment_confirm,
    totp_enrolment_start,
)
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, apply_errors, form_page_status, staff_view, submit

NOT_YOUR_PASSWORD = "That password is not right."  # noqa: S105 (a message, not a secret) # nosec B105


def _next_from(request: HttpRequest) -> str:
    return safe_next(
        request,
        request.POST.get("next") or request.GET.get("next"),
        resolve_url(settings.LOGIN_REDIRECT_URL),
    )


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


# --- signing in -----------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        # The password is only the first step when a second factor is set up or required.
        if self.request.session.get(account_session.SECOND_FACTOR_PENDING):
            return redirect(_with_next("accounts:verify", self.get_success_url()))
        if settings.REQUIRE_MFA:
            return redirect(_with_next("accounts:enrol", self.get_success_url()))
        return response


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """django-axes' lockout page: the sign-in page saying to try again later.

    It reads the same for every username, known or not. A signed-in user who
    reached it by failing to confirm their password is signed out.
    """
    if request.user.is_authenticated:
        logout(request)
    context = {
        "form": AuthenticationForm(request),
        "locked_out": True,
        "lockout_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "next": "",
    }
    return render(request, "accounts/login.html", context, status=429)


@account_session.before_second_factor
@never_cache
@staff_view(Permission.ACCOUNT_SELF)
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second sign-in step: a code from the authenticator app, or a recovery code."""
    next_url = _next_from(request)
    if request.user.is_verified():  # type: ignore[union-attr]
        return redirect(next_url)
    if totp_device_of(actor_of(request).user_id) is None:
        return redirect(_with_next("accounts:enrol", next_url))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        checked = second_factor_check(actor_of(request), form.cleaned_data["code"])
        if checked.device is not None:
            otp_login(request, checked.device)
            request.session.pop(account_session.SECOND_FACTOR_PENDING, None)
            request.session.cycle_key()  # a new session id for the now fully signed-in user
            if checked.recovery_codes_left is not None:
                messages.warning(
                    request,
                    f"You used a recovery code; {checked.recovery_codes_left} left. "
                    "Make new ones in your settings if you are running low.",
                )
            return redirect(next_url)
        if checked.wait_seconds:
            form.add_error(
                "code",
                f"Too many wrong codes. Wait {checked.wait_seconds} seconds, then try again.",
            )
        else:
            form.add_error("code", "That code is not right, or was already used.")
    return render(
        request,
        "accounts/verify.html",
        {"form": form, "next": next_url},
        status=form_page_status(form, status),
    )


# --- two-factor enrolment and management ------------------------------------------------------


def _qr_data_uri(text: str) -> str:
    """The QR code, drawn here as SVG (no third party sees the key), as an image URI."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    svg = image.to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _recovery_codes_page(
    request: HttpRequest, codes: list[str], next_url: str, *, enrolled: bool
) -> HttpResponse:
    return render(
        request,
        "accounts/recovery_codes.html",
        {
            "codes": [format_recovery_code(c) for c in codes],
            "next": next_url,
            "enrolled": enrolled,
        },
    )


@account_session.before_second_factor
@never_cache  # the key and, after confirming, the recovery codes are shown once
@staff_view(Permission.ACCOUNT_SELF)
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    next_url = _next_from(request)
    if totp_device_of(actor.user_id) is not None:
        if request.user.is_verified():  # type: ignore[union-attr]
            messages.info(request, "Two-factor sign-in is already set up.")
            return redirect("accounts:settings")
        # Someone with the password alone must not replace the device.
        return redirect(_with_next("accounts:verify", next_url))
    device: TOTPDevice = totp_enrolment_start(actor)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            enrolled = totp_enrolment_confirm(actor, form.cleaned_data["code"])
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            otp_login(request, enrolled.device)
            request.session.pop(account_session.SECOND_FACTOR_PENDING, None)
            request.session.cycle_key()
            return _recovery_codes_page(request, enrolled.recovery_codes, next_url, enrolled=True)
    key = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "next": next_url,
            "qr": _qr_data_uri(device.config_url),
            "key": format_totp_key(key),
            "required": settings.REQUIRE_MFA,
        },
        status=form_page_status(form),
    )


@never_cache
@staff_view(Permission.ACCOUNT_SELF)
@require_POST
@recent_auth_required
def recovery_codes_new(request: HttpRequest) -> HttpResponse:
    try:
        codes = recovery_codes_regenerate(actor_of(request))
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("accounts:settings")
    return _recovery_codes_page(request, codes, reverse("accounts:settings"), enrolled=False)


@never_cache
@staff_view(Permission.ACCOUNT_SELF)
@require_http_methods(["GET", "POST"])
def second_factor_remove_view(request: HttpRequest) -> HttpResponse:
    """Turning two-factor off always asks for the password, however recent the last one."""
    if totp_device_of(actor_of(request).user_id) is None:
        return redirect("accounts:settings")
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if password_confirmed(request, form.cleaned_data["password"], purpose="mfa_remove"):
            second_factor_remove(actor_of(request))
            request.session.pop(DEVICE_ID_SESSION_KEY, None)
            messages.success(
                request, "Two-factor sign-in is off; your recovery codes no longer work."
            )
            return redirect("accounts:settings")
        form.add_error("password", NOT_YOUR_PASSWORD)
    return render(
        request,
        "accounts/second_factor_remove.html",
        {"form": form, "required": settings.REQUIRE_MFA},
        status=form_page_status(form),
    )


@staff_view(Permission.ACCOUNT_SELF)
@require_POST
def mfa_banner_dismiss(request: HttpRequest) -> HttpResponse:
    request.session[account_session.MFA_BANNER_DISMISSED] = True
    return redirect(safe_next(request, request.POST.get("next")))


# --- re-authentication and password -----------------------------------------------------------


@never_cache
@staff_view(Permission.ACCOUNT_SELF)
@require_http_methods(["GET", "POST"])
def confirm_password(request: HttpRequest) -> HttpResponse:
    next_url = _next_from(request)
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if password_confirmed(request, form.cleaned_data["password"], purpose="confirm_page"):
            return redirect(next_url)
        form.add_error("password", NOT_YOUR_PASSWORD)
    return render(
        request,
        "accounts/confirm_password.html",
        {"form": form, "next": next_url, "minutes": settings.REAUTH_MINUTES},
        status=form_page_status(form),
    )


@account_session.before_password_change
@never_cache
@staff_view(Permission.ACCOUNT_SELF)
@require_http_methods(["GET", "POST"])
def password_change_view(request: HttpRequest) -> HttpResponse:
    """Change one's password; the only page open (with sign-out and the second
    factor) while a temporary password set by an administrator is in use."""
    user: User = request.user  # type: ignore[assignment]
    state = getattr(request, "account_state", None)
    temporary = state is not None and state.must_change_password
    form = PasswordChangeForm(user, request.POST or None)
    if temporary:
        form.fields["old_password"].label = "Temporary password"
    status = 200
    if request.method == "POST" and form.is_valid():
        new_password = form.cleaned_data["new_password1"]
        _, status = submit(form, lambda: password_change(actor_of(request), user, new_password))
        if status == 200:
            # Other sessions of this user end; this one stays, under a new id.
            update_session_auth_hash(request, user)
            request.session[account_session.REAUTH_AT] = account_session.now_seconds()
            messages.success(request, "Your password is changed.")
            if temporary:
                return redirect(_next_from(request))
            return redirect("accounts:settings")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "temporary": temporary, "next": _next_from(request)},
        status=form_page_status(form, status),
    )


# --- settings and API tokens ------------------------------------------------------------------


@never_cache  # a new token is shown once: no cache or back button may show it again
@staff_view(Permission.ACCOUNT_SELF)
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponseBase:
    actor = actor_of(request)
    new_token = None
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        if not has_recent_auth(request):
            return confirm_redirect(request, reverse("accounts:settings"))
        if form.is_valid():
            try:
                token, raw = token_create(
                    actor,
                    name=form.cleaned_data["name"],
                    days=form.cleaned_data["days"],
                    behind_second_factor=request.user.is_verified(),  # type: ignore[union-attr]
                )
            except ValidationFailed as exc:
                apply_errors(form, exc)
            else:
                new_token = (token, raw)
                form = TokenForm()
    device = totp_device_of(actor.user_id)
    return render(
        request,
        "accounts/settings.html",
        {
            "form": form,
            "tokens": tokens_for_user(actor.user_id),
            "new_token": new_token,
            "second_factor": device,
            "recovery_codes_left": recovery_codes_left(actor.user_id) if device else 0,
            "require_mfa": settings.REQUIRE_MFA,
        },
        status=422 if form.errors else 200,
    )


@staff_view(Permission.ACCOUNT_SELF)
@require_POST
def token_revoke_view(request: HttpRequest, public_id: str) -> HttpResponse:
    token = token_revoke(actor_of(request), public_id)
    messages.success(request, f"Token “{token.name}” is revoked; it no longer works.")
    return redirect("accounts:settings")


# --- the session's keep-alive -----------------------------------------------------------------


def _session_state(request: HttpRequest) -> JsonResponse:
    left = account_session.seconds_left(request)
    return JsonResponse(
        {
            "idle_seconds": left.idle if left else 0,
            "absolute_seconds": left.absolute if left else 0,
            "warn_seconds": settings.IDLE_WARNING_SECONDS,
        }
    )


@account_session.before_second_factor
@account_session.passive
@staff_view(Permission.ACCOUNT_SELF)
@require_GET
def session_status(request: HttpRequest) -> JsonResponse:
    """How long the session has left; asking is not activity."""
    return _session_state(request)


@account_session.before_second_factor
@staff_view(Permission.ACCOUNT_SELF)
@require_POST
def session_keep_alive(request: HttpRequest) -> HttpResponse:
    """ "Stay signed in": counts as activity now. The absolute limit still holds."""
    request.session[account_session.LAST_SEEN_AT] = account_session.now_seconds()
    if "application/json" in request.headers.get("Accept", ""):
        return _session_state(request)
    return redirect(safe_next(request, request.POST.get("next")))


# --- the organization's staff -----------------------------------------------------------------


def _staff_page(
    request: HttpRequest, *, status: int = 200, error: str = "", error_member: str = ""
) -> HttpResponse:
    actor = actor_of(request)
    return render(
        request,
        "accounts/staff_list.html",
        {
            "members": staff_of_organization(actor.organization_id),
            "role_form": RoleForm(),
            "error": error,
            "error_member": error_member,
            "require_mfa": settings.REQUIRE_MFA,
        },
        status=status,
    )


@never_cache
@staff_view(Permission.STAFF_ADMIN)
@recent_auth_required
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    return _staff_page(request)


@never_cache
@staff_view(Permission.STAFF_ADMIN)
@recent_auth_required
@require_http_methods(["GET", "POST"])
def staff_new(request: HttpRequest) -> HttpResponse:
    form = StaffCreateForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = NewStaff(**form.cleaned_data)
        membership, status = submit(form, lambda: staff_create(actor_of(request), data))
        if membership is not None:
            messages.success(
                request,
                f"{membership.user.get_username()} can now sign in as {membership.role_label}. "
                "At their first sign-in they will choose their own password"
                + (" and set up two-factor sign-in." if settings.REQUIRE_MFA else "."),
            )
            return redirect("accounts:staff")
    return render(
        request, "accounts/staff_new.html", {"form": form}, status=form_page_status(form, status)
    )


@staff_view(Permission.STAFF_ADMIN)
@recent_auth_required
@require_POST
def staff_role(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    form = RoleForm(request.POST)
    role = form.cleaned_data["role"] if form.is_valid() else request.POST.get("role", "")
    try:
        membership = staff_change_role(actor_of(request), public_id, role)
    except ValidationFailed as exc:
        detail = " ".join(f"{field.capitalize()}: {msg}" for field, msg in exc.errors.items())
        return _staff_page(request, status=422, error=detail, error_member=str(public_id))
    except Conflict as exc:
        return _staff_page(request, status=409, error=exc.message, error_member=str(public_id))
    messages.success(request, f"{membership.user.get_username()} is now {membership.role_label}.")
    return redirect("accounts:staff")


@staff_view(Permission.STAFF_ADMIN)
@recent_auth_required
@require_POST
def staff_active(request: HttpRequest, public_id: uuid.UUID, active: bool) -> HttpResponse:
    try:
        membership = staff_set_active(actor_of(request), public_id, active=active)
    except Conflict as exc:
        return _staff_page(request, status=409, error=exc.message, error_member=str(public_id))
    name = membership.user.get_username()
    if active:
        messages.success(request, f"{name}'s account is enabled.")
    else:
        messages.success(request, f"{name}'s account is disabled; their API tokens no longer work.")
    return redirect("accounts:staff")


@never_cache
@staff_view(Permission.STAFF_ADMIN)
@recent_auth_required
@require_http_methods(["GET", "POST"])
def staff_password(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Give a member a temporary password, which they replace at their next sign-in."""
    actor = actor_of(request)
    member = staff_member(actor.organization_id, public_id)
    if member is None:
        raise NotFound()
    if member.user_id == actor.user_id:
        return redirect("accounts:password_change")
    form = TemporaryPasswordForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["password"]
        done, status = submit(form, lambda: staff_password_reset(actor, public_id, password))
        if done is not None:
            messages.success(
                request,
                f"{done.user.get_username()} has a temporary password; their open sessions "
                "have ended. They will choose their own password at their next sign-in.",
            )
            return redirect("accounts:staff")
    return render(
        request,
        "accounts/staff_password.html",
        {"form": form, "member": member},
        status=form_page_status(form, status),
    )


@staff_view(Permission.STAFF_ADMIN)
@recent_auth_required
@require_POST
def staff_mfa_reset(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """A member lost their phone: their authenticator app and recovery codes go, and
    their open sessions end."""
    try:
        membership = staff_second_factor_reset(actor_of(request), public_id)
    except Conflict as exc:
        return _staff_page(request, status=409, error=exc.message, error_member=str(public_id))
    name = membership.user.get_username()
    then = (
        "They will set it up again at their next sign-in."
        if settings.REQUIRE_MFA
        else "They can set it up again in their settings."
    )
    messages.success(
        request,
        f"{name}'s two-factor sign-in is removed and their open sessions have ended. {then}",
    )
    return redirect("accounts:staff")
