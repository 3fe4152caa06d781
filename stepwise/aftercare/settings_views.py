"""The organization's aftercare settings page (clinical director)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from stepwise.aftercare.forms import AftercareSettingsForm
from stepwise.aftercare.rules.crisis import has_number
from stepwise.aftercare.services.common import settings_of
from stepwise.aftercare.services.configuration import FIELDS, aftercare_settings_save
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_page_status, staff_view, submit


def _changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    changed = [name for name, value in after.items() if before.get(name) != value]
    if not changed:
        return "Aftercare settings: nothing changed."
    return "Aftercare settings saved. New check-in schedules use them from now on."


@staff_view(Permission.CLINICAL_SETTINGS)
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    row = settings_of(actor.organization_id)
    before = {name: getattr(row, name) for name in FIELDS}
    form = AftercareSettingsForm(request.POST if request.method == "POST" else None, initial=before)
    status = 200
    if request.method == "POST" and form.is_valid():
        values = form.values()
        saved, status = submit(form, lambda: aftercare_settings_save(actor, **values))
        if saved is not None:
            messages.success(request, _changes(before, values))
            return redirect("aftercare:settings")
    return render(
        request,
        "aftercare/settings.html",
        # The same rule as the plan's page, so both warn about the same number.
        {"form": form, "row": row, "no_crisis_number": not has_number(row.crisis_line_phone)},
        status=form_page_status(form, status),
    )
