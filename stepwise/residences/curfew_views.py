"""Tonight's curfew list of a house, with quick marks a phone can tap."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_errors_text, form_page_status, staff_view, submit
from stepwise.residences import selectors
from stepwise.residences.forms import CurfewForm
from stepwise.residences.models import House
from stepwise.residences.services.common import house_get, residency_get, zone_of
from stepwise.residences.services.curfew import curfew_record


def _night(text: str, tonight: date) -> date:
    """The night asked for (?night=YYYY-MM-DD), tonight when none or a later one."""
    try:
        asked = date.fromisoformat(text)
    except ValueError:
        return tonight
    return asked if date(1900, 1, 1) <= asked <= tonight else tonight


def _page(
    request: HttpRequest,
    house: House,
    night: date,
    *,
    failed: uuid.UUID | None = None,
    form: CurfewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = actor_of(request)
    now = timezone.now()
    found = selectors.curfew_night(actor, house, night, now)
    tonight = selectors.tonight_of(house, now)
    timezone.activate(zone_of(house.residence))
    context = {
        "house": house,
        "found": found,
        "night": night,
        "is_tonight": night == tonight,
        "tonight": tonight,
        "failed": str(failed) if failed else "",
        "failed_form": form,
        "error": form_errors_text(form) if form is not None else "",
        "now": now,
    }
    return render(request, "residences/curfew.html", context, status=status)


@staff_view(Permission.RESIDENCE_MANAGE)
@require_GET
def curfew_night_view(request: HttpRequest, house_id: uuid.UUID) -> HttpResponse:
    """Who is in and who is still out tonight (or on an earlier night, ?night=)."""
    house = house_get(actor_of(request), house_id)
    tonight = selectors.tonight_of(house)
    return _page(request, house, _night(request.GET.get("night", ""), tonight))


@staff_view(Permission.RESIDENCE_MANAGE)
@require_POST
def curfew_mark(request: HttpRequest, residency_id: uuid.UUID) -> HttpResponse:
    """One resident's mark from the list; a refusal shows the list again, what was typed
    kept on that resident's row."""
    actor = actor_of(request)
    residency = residency_get(actor, residency_id)
    house = residency.bed.house
    zone = zone_of(house.residence)
    form = CurfewForm(request.POST)
    tonight = selectors.tonight_of(house)
    night = tonight
    status = 200
    if form.is_valid():
        night = form.cleaned_data["night"] or tonight
        arrival: datetime | None = form.arrival(night, zone)
        done, status = submit(
            form,
            lambda: curfew_record(
                actor,
                residency,
                mark=form.cleaned_data["mark"],
                night=night,
                arrived_at=arrival,
                reason=form.cleaned_data["reason"],
            ),
        )
        if done is not None:
            shown = done.get_status_display()
            if done.minutes_late:
                shown += f" ({done.minutes_late} min)"
            messages.success(request, f"{residency.patient.display_name}: {shown}.")
            url = reverse("residences:curfew", kwargs={"house_id": house.public_id})
            if night != tonight:
                url += f"?night={night.isoformat()}"
            return redirect(f"{url}#r-{residency.public_id}")
    night = night if night <= tonight else tonight
    return _page(
        request,
        house,
        night,
        failed=residency.public_id,
        form=form,
        status=form_page_status(form, status),
    )
