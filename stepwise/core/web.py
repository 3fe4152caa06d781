"""Small helpers shared by the HTML views of every app."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from stepwise.core.actor import Actor
from stepwise.core.errors import AccessDenied, NotFound, ValidationFailed

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponse])


def actor_of(request: HttpRequest) -> Actor:
    actor: Actor | None = getattr(request, "actor", None)
    if actor is None:
        raise Http404()
    return actor


def clinical_view(view: ViewFunc) -> ViewFunc:
    """Map service errors to pages: unknown or foreign records 404, refused roles 403."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404() from None
        except AccessDenied as exc:
            return render(request, "403.html", {"message": exc.message}, status=403)

    return wrapper  # type: ignore[return-value]


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def apply_errors(form: forms.Form, error: ValidationFailed) -> None:
    """Put a service's per-field messages on the form's fields (others on the form)."""
    for field, message in error.errors.items():
        form.add_error(field if field in form.fields else None, message)
