"""Sign-in, sign-out and the user's own settings (API tokens)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from stepwise.accounts.forms import TokenForm
from stepwise.accounts.selectors import tokens_for_user
from stepwise.accounts.services import token_create, token_revoke
from stepwise.core.errors import ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, apply_errors, staff_view


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@never_cache  # a new token is shown once: no cache or back button may show it again
@staff_view(Permission.ACCOUNT_SELF)
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    new_token = None
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = token_create(
                actor, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            new_token = (token, raw)
            form = TokenForm()
    return render(
        request,
        "accounts/settings.html",
        {"form": form, "tokens": tokens_for_user(actor.user_id), "new_token": new_token},
        status=422 if form.errors else 200,
    )


@staff_view(Permission.ACCOUNT_SELF)
@require_POST
def token_revoke_view(request: HttpRequest, public_id: str) -> HttpResponse:
    token = token_revoke(actor_of(request), public_id)
    messages.success(request, f"Token “{token.name}” is revoked; it no longer works.")
    return redirect("accounts:settings")
