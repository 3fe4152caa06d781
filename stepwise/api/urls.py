"""The JSON API v1: /api/v1/, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.urls import path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from stepwise.api.assessments import router as assessments_router
from stepwise.api.auth import PersonalToken
from stepwise.api.endpoints import router
from stepwise.api.permissions import operations_without_permission, public_operation
from stepwise.core.errors import StepwiseError, ValidationFailed

api = NinjaAPI(
    title="Stepwise API",
    version="1",
    description=(
        "Patients, admissions, transitions and discharges, instruments, assessments and "
        "placement, withdrawal management, and the admissions line (calls, crisis triage, "
        "screening, the waitlist and the bed board) of a Stepwise organization. "
        "Authenticate with a personal access token: `Authorization: Bearer stw_…` "
        "(create one on your settings page or with `stepwise create_token USERNAME`)."
    ),
    auth=PersonalToken(),
    urls_namespace="api",
)
api.add_router("", router)
api.add_router("", assessments_router)
api.add_router("", "stepwise.api.withdrawal.router")
api.add_router("", "stepwise.api.intake.router")
api.add_router("", "stepwise.api.scheduling.router")
api.add_router("", "stepwise.api.notes.router")
api.add_router("", "stepwise.api.recovery.router")
api.add_router("", "stepwise.api.plans.router")
api.add_router("", "stepwise.api.aftercare.router")
api.add_router("", "stepwise.api.residences.router")


@api.get("/health", auth=None, tags=["system"])
@public_operation
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


def _field_name(location: list[Any]) -> str:
    parts = [str(p) for p in location if p not in ("body", "payload", "query", "path")]
    return ".".join(parts) or "request"


@api.exception_handler(ValidationError)
def on_schema_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, str] = {}
    for item in exc.errors:
        errors.setdefault(_field_name(list(item.get("loc", []))), str(item.get("msg", "invalid")))
    return api.create_response(
        request, {"detail": "Invalid request.", "errors": errors}, status=422
    )


@api.exception_handler(ValidationFailed)
def on_validation_failed(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
    return api.create_response(
        request, {"detail": "Invalid request.", "errors": exc.errors}, status=422
    )


@api.exception_handler(StepwiseError)
def on_stepwise_error(request: HttpRequest, exc: StepwiseError) -> HttpResponse:
    return api.create_response(request, {"detail": exc.message}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": "A valid personal access token is required (Authorization: Bearer …)."},
        status=401,
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


_undeclared = operations_without_permission(api)
if _undeclared:  # denied by default: an operation without a permission must not be served
    raise ImproperlyConfigured(f"API operations without a declared permission: {_undeclared}")

urlpatterns = [path("", api.urls)]
