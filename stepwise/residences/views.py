"""Residences, houses and beds: the list with occupancy, a residence and its house
rules, a house and its beds, and their set-up forms (residence staff)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.care.selectors import organization_time_zone
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.roles import Permission, role_can
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.residences import rules, selectors
from stepwise.residences.forms import BedForm, HouseForm, ResidenceForm, ResidenceNewForm, RulesForm
from stepwise.residences.models import House
from stepwise.residences.services.common import bed_get, house_get, residence_get, zone_of
from stepwise.residences.services.setup import (
    HouseData,
    ResidenceData,
    bed_create,
    bed_reinstate,
    bed_retire,
    bed_update,
    house_create,
    house_reinstate,
    house_retire,
    house_update,
    residence_create,
    residence_reinstate,
    residence_retire,
    residence_update,
    rules_update,
)


def _can_manage(request: HttpRequest) -> bool:
    return role_can(actor_of(request).role, Permission.RESIDENCE_MANAGE)


@staff_view(Permission.RESIDENCE_READ)
@require_GET
def residence_list(request: HttpRequest) -> HttpResponse:
    """Every residence with its houses' occupied, vacant and out-of-service beds now."""
    actor = actor_of(request)
    manage = _can_manage(request)
    rows = selectors.occupancy(actor, timezone.now(), with_retired=manage)
    context = {
        "rows": rows,
        "totals": rules.total(r.counts for r in rows if r.residence.is_active),
        "can_manage": manage,
    }
    return render(request, "residences/list.html", context)


def _residence_data(form: ResidenceForm) -> ResidenceData:
    data = form.cleaned_data
    return ResidenceData(
        name=data["name"],
        operator_name=data["operator_name"],
        address=data["address"],
        phone=data["phone"],
        certification=data["certification"],
        time_zone=data["time_zone"],
    )


@staff_view(Permission.RESIDENCE_MANAGE)
@require_http_methods(["GET", "POST"])
def residence_new(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    form = ResidenceNewForm(
        request.POST if request.method == "POST" else None,
        initial={"time_zone": organization_time_zone(actor.organization_id)},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        made, status = submit(
            form,
            lambda: residence_create(
                actor, _residence_data(form), rules_text=form.cleaned_data["rules_text"]
            ),
        )
        if made is not None:
            messages.success(request, f"{made.name} added with its house rules (version 1).")
            return redirect("residences:residence", residence_id=made.public_id)
    return render(
        request,
        "residences/residence_form.html",
        {"form": form, "residence": None},
        status=form_page_status(form, status),
    )


@staff_view(Permission.RESIDENCE_READ)
@require_GET
def residence_page(request: HttpRequest, residence_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    residence = residence_get(actor, residence_id)
    page = selectors.residence_page(actor, residence, timezone.now())
    context = {
        "residence": residence,
        "page": page,
        "can_manage": _can_manage(request),
        "house_form": HouseForm(),
    }
    return render(request, "residences/residence.html", context)


@staff_view(Permission.RESIDENCE_MANAGE)
@require_http_methods(["GET", "POST"])
def residence_edit(request: HttpRequest, residence_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    residence = residence_get(actor, residence_id)
    initial = {
        name: getattr(residence, name)
        for name in ("name", "operator_name", "address", "phone", "certification", "time_zone")
    }
    form = ResidenceForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        saved, status = submit(
            form, lambda: residence_update(actor, residence, _residence_data(form))
        )
        if saved is not None:
            messages.success(request, f"{saved.name} saved.")
            return redirect("residences:residence", residence_id=saved.public_id)
    return render(
        request,
        "residences/residence_form.html",
        {"form": form, "residence": residence},
        status=form_page_status(form, status),
    )


@staff_view(Permission.RESIDENCE_MANAGE)
@require_POST
def residence_retire_view(request: HttpRequest, residence_id: uuid.UUID) -> HttpResponse:
    """Retire a residence, or put it back in use ("reinstate")."""
    actor = actor_of(request)
    residence = residence_get(actor, residence_id)
    if request.POST.get("action") == "reinstate":
        _refusable(
            request,
            lambda: residence_reinstate(actor, residence),
            f"{residence.name} is in use again.",
        )
    else:
        _refusable(
            request, lambda: residence_retire(actor, residence), f"{residence.name} retired."
        )
    return redirect("residences:residence", residence_id=residence.public_id)


def _refusable(request: HttpRequest, call: Callable[[], object], done: str) -> None:
    """Run a one-button write; a refusal (409 or 422) becomes a message on the page."""
    try:
        call()
    except Conflict as exc:
        messages.error(request, exc.message)
    except ValidationFailed as exc:
        for message in exc.errors.values():
            messages.error(request, message)
    else:
        messages.success(request, done)


@staff_view(Permission.RESIDENCE_MANAGE)
@require_http_methods(["GET", "POST"])
def rules_edit(request: HttpRequest, residence_id: uuid.UUID) -> HttpResponse:
    """New house rules (a new version; residents are asked to accept it)."""
    actor = actor_of(request)
    residence = residence_get(actor, residence_id)
    current = selectors.residence_page(actor, residence, timezone.now()).current_rules
    form = RulesForm(
        request.POST if request.method == "POST" else None,
        initial={"rules_text": current.text if current else ""},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        made, status = submit(
            form, lambda: rules_update(actor, residence, text=form.cleaned_data["rules_text"])
        )
        if made is not None:
            messages.success(
                request,
                f"House rules version {made.version} in force; residents who live there are "
                "asked to accept them.",
            )
            return redirect("residences:residence", residence_id=residence.public_id)
    return render(
        request,
        "residences/rules_form.html",
        {"form": form, "residence": residence, "current": current},
        status=form_page_status(form, status),
    )


def _house_data(form: HouseForm) -> HouseData:
    data = form.cleaned_data
    return HouseData(
        name=data["name"],
        address=data["address"],
        house_for=data["house_for"],
        curfew_weekday=data["curfew_weekday"],
        curfew_weekend=data["curfew_weekend"],
    )


@staff_view(Permission.RESIDENCE_MANAGE)
@require_http_methods(["GET", "POST"])
def house_new(request: HttpRequest, residence_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    residence = residence_get(actor, residence_id)
    form = HouseForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        made, status = submit(form, lambda: house_create(actor, residence, _house_data(form)))
        if made is not None:
            messages.success(request, f"{made.name} added; add its beds below.")
            return redirect("residences:house", house_id=made.public_id)
    return render(
        request,
        "residences/house_form.html",
        {"form": form, "residence": residence, "house": None},
        status=form_page_status(form, status),
    )


def _house_page(
    request: HttpRequest, house: House, bed_form: BedForm, status: int = 200
) -> HttpResponse:
    actor = actor_of(request)
    page = selectors.house_page(actor, house, timezone.now())
    context = {
        "house": house,
        "residence": house.residence,
        "page": page,
        "bed_form": bed_form,
        "can_manage": _can_manage(request),
        "zone": house.residence.time_zone,
    }
    return render(request, "residences/house.html", context, status=status)


@staff_view(Permission.RESIDENCE_READ)
@require_GET
def house_page(request: HttpRequest, house_id: uuid.UUID) -> HttpResponse:
    """A house's beds: who lives in each for residence staff, counts for others."""
    house = house_get(actor_of(request), house_id)
    timezone.activate(zone_of(house.residence))
    return _house_page(request, house, BedForm())


@staff_view(Permission.RESIDENCE_MANAGE)
@require_http_methods(["GET", "POST"])
def house_edit(request: HttpRequest, house_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    house = house_get(actor, house_id)
    initial = {
        name: getattr(house, name)
        for name in ("name", "address", "house_for", "curfew_weekday", "curfew_weekend")
    }
    form = HouseForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        saved, status = submit(form, lambda: house_update(actor, house, _house_data(form)))
        if saved is not None:
            messages.success(request, f"{saved.name} saved.")
            return redirect("residences:house", house_id=saved.public_id)
    return render(
        request,
        "residences/house_form.html",
        {"form": form, "residence": house.residence, "house": house},
        status=form_page_status(form, status),
    )


@staff_view(Permission.RESIDENCE_MANAGE)
@require_POST
def house_retire_view(request: HttpRequest, house_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    house = house_get(actor, house_id)
    if request.POST.get("action") == "reinstate":
        _refusable(request, lambda: house_reinstate(actor, house), f"{house.name} is in use again.")
    else:
        _refusable(request, lambda: house_retire(actor, house), f"{house.name} retired.")
    return redirect("residences:house", house_id=house.public_id)


@staff_view(Permission.RESIDENCE_MANAGE)
@require_POST
def bed_new(request: HttpRequest, house_id: uuid.UUID) -> HttpResponse:
    """Add a bed from the house page; a refusal shows the page again with the label kept."""
    actor = actor_of(request)
    house = house_get(actor, house_id)
    timezone.activate(zone_of(house.residence))
    form = BedForm(request.POST)
    status = 200
    if form.is_valid():
        made, status = submit(
            form, lambda: bed_create(actor, house, label=form.cleaned_data["label"])
        )
        if made is not None:
            messages.success(request, f"{made.label} added to {house.name}.")
            return redirect("residences:house", house_id=house.public_id)
    return _house_page(request, house, form, form_page_status(form, status))


@staff_view(Permission.RESIDENCE_MANAGE)
@require_http_methods(["GET", "POST"])
def bed_edit(request: HttpRequest, bed_id: uuid.UUID) -> HttpResponse:
    """Rename a bed, take it out of service or put it back."""
    actor = actor_of(request)
    bed = bed_get(actor, bed_id)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if action in ("retire", "reinstate"):
        if action == "retire":
            _refusable(request, lambda: bed_retire(actor, bed), f"{bed.label} is out of service.")
        else:
            _refusable(request, lambda: bed_reinstate(actor, bed), f"{bed.label} is in service.")
        return redirect("residences:house", house_id=bed.house.public_id)
    form = BedForm(request.POST if request.method == "POST" else None, initial={"label": bed.label})
    status = 200
    if request.method == "POST" and form.is_valid():
        saved, status = submit(
            form, lambda: bed_update(actor, bed, label=form.cleaned_data["label"])
        )
        if saved is not None:
            messages.success(request, f"{saved.label} saved.")
            return redirect("residences:house", house_id=bed.house.public_id)
    return render(
        request,
        "residences/bed_form.html",
        {"form": form, "bed": bed, "house": bed.house},
        status=form_page_status(form, status),
    )
