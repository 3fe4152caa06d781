"""The bed board: every program's places across the organization's facilities,
refreshed live; closing places whose caller did not come; and the open-capacity feed
a registry may read (counts only, off until the director switches it on)."""

from __future__ import annotations

import hmac
from itertools import groupby

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from stepwise.care.panels import bed_board_sections
from stepwise.care.selectors import (
    PlacesRow,
    held_places,
    organization_places,
    organization_time_zone,
    places_board,
)
from stepwise.core.roles import Permission, role_can
from stepwise.core.web import actor_of, is_htmx, public_view, staff_view
from stepwise.intake.models import IntakeSettings
from stepwise.intake.services.places import lapsed_places_close

# How often the open board refreshes itself (seconds).
REFRESH_SECONDS = 30


def _by_facility(rows: list[PlacesRow]) -> list[tuple[str, list[PlacesRow]]]:
    return [(name, list(group)) for name, group in groupby(rows, key=lambda r: r.facility.name)]


@staff_view(Permission.CENSUS_READ)
def beds(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    now = timezone.now()
    timezone.activate(organization_time_zone(actor.organization_id))
    rows = places_board(actor, now)
    overdue = []
    if role_can(actor.role, Permission.INTAKE_WRITE):
        overdue = [r for r in held_places(actor, now) if r.hold_until <= now]
    context = {
        "facilities": _by_facility(rows),
        "now": now,
        "overdue": overdue,
        "refresh": REFRESH_SECONDS,
        "can_write": role_can(actor.role, Permission.INTAKE_WRITE),
        # What other apps show beside the board (sober-living vacancies): counts only.
        "sections": bed_board_sections(actor, now),
    }
    template = "intake/_beds_table.html" if is_htmx(request) else "intake/beds.html"
    return render(request, template, context)


@staff_view(Permission.INTAKE_WRITE)
@require_POST
def lapsed_close(request: HttpRequest) -> HttpResponse:
    closed = lapsed_places_close(actor_of(request))
    count = len(closed)
    messages.success(
        request,
        f"{count} place{'s' if count != 1 else ''} given back; each call has a call-back due."
        if count
        else "No held place is past its time.",
    )
    return redirect("intake:beds")


@public_view
@require_GET
def capacity_feed(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    """Open places per program, for a state registry or referral network: counts only,
    no patient data. Answers only when switched on and asked with the current key;
    otherwise 404, saying nothing about whether the organization exists."""
    found = (
        IntakeSettings.objects.filter(organization__slug=slug, capacity_feed_enabled=True)
        .select_related("organization")
        .first()
    )
    if found is None or not found.capacity_feed_key:
        raise Http404()
    if not hmac.compare_digest(found.capacity_feed_key, key):
        raise Http404()
    now = timezone.now()
    rows = organization_places(found.organization_id, now)
    return JsonResponse(
        {
            "organization": found.organization.name,
            "generated_at": now.isoformat(),
            "programs": [
                {
                    "id": str(row.program.public_id),
                    "name": row.program.name,
                    "facility": row.facility.name,
                    "asam_level": row.program.asam_level,
                    "asam_edition": row.program.asam_edition,
                    "teds_service": row.program.teds_service,
                    "twenty_four_hour": row.program.is_24_hour,
                    "capacity": row.places.capacity,
                    "available_now": row.places.available_now,
                    "expected_tomorrow": row.places.expected_tomorrow,
                }
                for row in rows
            ],
        }
    )
