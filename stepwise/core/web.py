"""Small helpers shared by the HTML views of every app."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import render

from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.errors import AccessDenied, Conflict, NotFound, OutsideCareTeam, ValidationFailed
from stepwise.core.ids import requested_patient
from stepwise.core.roles import Permission, role_can

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])
Result = TypeVar("Result")


def actor_of(request: HttpRequest) -> Actor:
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:
        raise Http404()
    return actor


# The attribute a view's permission is declared on; a route without it is refused
# (RoutePermissionMiddleware) and fails the route walker test.
PERMISSION_ATTRIBUTE = "stepwise_permission"
# Declared by routes anyone may reach (sign-in, health): they show no patient data.
PUBLIC = "public"


def public_view(view: ViewFunc) -> ViewFunc:
    """Declare a route open to anyone, signed in or not. It must show no patient data."""
    setattr(view, PERMISSION_ATTRIBUTE, PUBLIC)
    view.login_required = False  # type: ignore[attr-defined]  # Django's own marker
    return view


def declared_permission(view: Callable[..., Any]) -> str | None:
    return getattr(view, PERMISSION_ATTRIBUTE, None)


def staff_view(permission: Permission) -> Callable[[ViewFunc], ViewFunc]:
    """Declare the permission a page needs, refuse other roles (audited, 403),
    and map service errors to pages. Patient-level checks (care team) stay in the
    services and selectors the view calls."""

    def decorate(view: ViewFunc) -> ViewFunc:
        mapped = clinical_view(view)

        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                require_permission(
                    actor_of(request),
                    permission,
                    patient_public_id=requested_patient(kwargs),
                    category="route",
                )
            except AccessDenied as exc:
                return render(request, "403.html", {"message": exc.message}, status=403)
            return mapped(request, *args, **kwargs)

        setattr(wrapper, PERMISSION_ATTRIBUTE, str(permission))
        return wrapper  # type: ignore[return-value]

    return decorate


def clinical_view(view: ViewFunc) -> ViewFunc:
    """Map service errors to pages: unknown or foreign records 404, refused roles 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404() from None
        except OutsideCareTeam as exc:
            offer = role_can(actor_of(request).role, Permission.BREAK_GLASS)
            context = {
                "message": exc.message,
                "break_glass_id": exc.record_public_id if offer else "",
            }
            return render(request, "403.html", context, status=403)
        except AccessDenied as exc:
            return render(request, "403.html", {"message": exc.message}, status=403)

    return wrapper  # type: ignore[return-value]


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def apply_errors(form: forms.Form, error: ValidationFailed) -> None:
    """Put a service's per-field messages on the form's fields (others on the form)."""
    for field, message in error.errors.items():
        form.add_error(field if field in form.fields else None, message)


def submit(form: forms.Form, call: Callable[[], Result]) -> tuple[Result | None, int]:
    """Run a valid form's service; a refusal lands on the form instead of a page error.

    Returns the service's result (None if refused) and the page's status:
    200 done, 422 invalid field, 409 refused by the current state (beds full...).
    """
    try:
        return call(), 200
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return None, 422
    except Conflict as exc:
        form.add_error(None, exc.message)
        return None, 409


def form_errors_text(form: forms.Form) -> str:
    """A form's errors in one line, for a message after a redirect (a queue page)."""
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def form_page_status(form: forms.Form, status: int = 200) -> int:
    """422 for a form shown again with errors, unless a refusal already set the status."""
    return 422 if status == 200 and form.errors else status
