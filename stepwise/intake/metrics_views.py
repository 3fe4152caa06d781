"""The admissions metrics page: the line's figures for a period the user picks."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from stepwise.core.errors import ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, staff_view
from stepwise.intake.metrics import (
    DEFAULT_DAYS,
    FIELD_LABELS,
    MAX_DAYS,
    admissions_metrics_read,
    parse_period,
    today_for,
)


@staff_view(Permission.INTAKE_READ)
@require_GET
def metrics_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    given = {name: request.GET.get(name, "").strip() for name in FIELD_LABELS}
    context: dict[str, object] = {
        "given": given,
        "default_days": DEFAULT_DAYS,
        "max_days": MAX_DAYS,
    }
    try:
        period = parse_period(given["start"], given["end"], today_for(actor))
    except ValidationFailed as exc:
        context["errors"] = exc.errors
        return render(request, "intake/metrics.html", context, status=422)
    context["metrics"] = admissions_metrics_read(actor, period.start, period.end)
    return render(request, "intake/metrics.html", context)
