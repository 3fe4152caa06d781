"""Placing people: moving in (choose the patient, then the bed and the rules), a
residency's page, moving out, moving to another bed, accepting changed rules, and the
patient's own residence page (for their chart readers)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.care.chart import patient_access, patient_for_form
from stepwise.core.roles import Permission, role_can
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.patients.models import Patient
from stepwise.residences import rules, selectors
from stepwise.residences.forms import (
    MoveBedForm,
    MoveInForm,
    MoveOutForm,
    RulesAcceptForm,
    on_wall_clock,
    seen_versions,
)
from stepwise.residences.models import Bed, Residency
from stepwise.residences.services.common import local_text, residency_get, zone_of
from stepwise.residences.services.residency import (
    residency_move_bed,
    residency_move_in,
    residency_move_out,
    rules_accept,
)


def _rules_version(form: MoveInForm | MoveBedForm, bed: Bed) -> int | None:
    """The version of the bed's residence rules the page showed, if the box is ticked."""
    if not form.cleaned_data.get("rules_accepted"):
        return None
    seen = seen_versions(form.cleaned_data.get("rules_seen", ""))
    return seen.get(str(bed.house.residence.public_id), 0)


def _chosen_bed(actor_beds: list[Bed], wanted: str) -> Bed | None:
    return next((b for b in actor_beds if str(b.public_id) == wanted), None)


@dataclass(frozen=True)
class BedChoice:
    """The vacant beds a move form offers: those in houses that fit the patient's
    recorded sex, or every one (`?all_beds=1`, or a bed asked for in another house), in
    which case a bed in a house for the other sex needs a reason."""

    beds: QuerySet[Bed]
    # The recorded sex narrows the list, so the page offers the other list.
    narrowed: bool
    all_beds: bool
    all_url: str
    fitting_url: str


def _bed_choice(request: HttpRequest, sex: str, wanted_bed: str = "") -> BedChoice:
    actor = actor_of(request)
    narrowed = rules.houses_allowed(sex) is not None
    all_beds = narrowed and request.GET.get("all_beds") == "1"
    beds = selectors.vacant_beds(actor, for_sex=None if all_beds else sex)
    if narrowed and not all_beds and wanted_bed and _chosen_bed(list(beds), wanted_bed) is None:
        every = selectors.vacant_beds(actor)
        if _chosen_bed(list(every), wanted_bed) is not None:
            all_beds, beds = True, every
    query = request.GET.copy()
    query["all_beds"] = "1"
    all_url = f"?{query.urlencode()}"
    query.pop("all_beds")
    return BedChoice(beds, narrowed, all_beds, all_url, f"?{query.urlencode()}")


@staff_view(Permission.RESIDENCE_MANAGE)
@require_http_methods(["GET", "POST"])
def move_in(request: HttpRequest) -> HttpResponse:
    """First choose the patient (those whose care the actor shares), then the bed, the
    time and the house rules accepted."""
    actor = actor_of(request)
    wanted_patient = request.GET.get("patient", "")
    wanted_bed = request.GET.get("bed", "")
    if not wanted_patient:
        query = request.GET.get("q", "")
        context = {
            "candidates": selectors.move_in_candidates(actor, query),
            "q": query,
            "bed": wanted_bed,
            "limit": selectors.CANDIDATES,
        }
        return render(request, "residences/move_in_choose.html", context)
    patient = patient_for_form(
        actor, wanted_patient, permission=Permission.CARE_WRITE, form="residence_move_in"
    )
    choice = _bed_choice(request, patient.sex, wanted_bed)
    beds = choice.beds
    rules_rows = selectors.rules_in_force(actor)
    # Typed times are read on the chosen residence's clock (see on_wall_clock).
    timezone.activate(UTC)
    initial = {}
    preselected = _chosen_bed(list(beds), wanted_bed) if wanted_bed else None
    if preselected is not None:
        initial["bed"] = preselected.public_id
    form = MoveInForm(
        request.POST if request.method == "POST" else None,
        beds=beds,
        rules_rows=rules_rows,
        with_reason=choice.all_beds,
        initial=initial,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        bed: Bed = data["bed"]
        zone = zone_of(bed.house.residence)
        made, status = submit(
            form,
            lambda: residency_move_in(
                actor,
                patient,
                bed,
                rules_version=_rules_version(form, bed),
                at=on_wall_clock(data["moved_in_at"], zone),
                expected_move_out_on=data["expected_move_out_on"],
                house_for_reason=data.get("house_for_reason", ""),
            ),
        )
        if made is not None:
            messages.success(
                request, f"{patient.display_name} moved into {bed.house.name}, {bed.label}."
            )
            return redirect("residences:house", house_id=bed.house.public_id)
    context = {
        "patient": patient,
        "form": form,
        "rules_rows": rules_rows,
        "has_beds": beds.exists(),
        "choice": choice,
    }
    return render(
        request, "residences/move_in.html", context, status=form_page_status(form, status)
    )


def _residency_page(
    request: HttpRequest,
    residency: Residency,
    accept_form: RulesAcceptForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = actor_of(request)
    page = selectors.residency_page(actor, residency)
    residence = residency.bed.house.residence
    current = selectors.current_rules(residence) if page.needs_rules else None
    timezone.activate(zone_of(residence))
    context = {
        "patient": residency.patient,
        "residency": residency,
        "page": page,
        "residence": residence,
        "current_rules": current,
        "accept_form": accept_form
        or RulesAcceptForm(initial={"rules_version": residence.rules_version}),
    }
    return render(request, "residences/residency.html", context, status=status)


@staff_view(Permission.RESIDENCE_MANAGE)
@require_GET
def residency_view(request: HttpRequest, residency_id: uuid.UUID) -> HttpResponse:
    """One residency for residence staff: bed, stay, rules accepted, curfew marks, and
    what other apps add (residence drug screens, once the recovery app adds them)."""
    residency = residency_get(actor_of(request), residency_id)
    return _residency_page(request, residency)


@staff_view(Permission.RESIDENCE_MANAGE)
@require_POST
def rules_accept_view(request: HttpRequest, residency_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    residency = residency_get(actor, residency_id)
    form = RulesAcceptForm(request.POST)
    status = 200
    if form.is_valid():
        version = (
            form.cleaned_data["rules_version"] if form.cleaned_data["rules_accepted"] else None
        )
        done, status = submit(form, lambda: rules_accept(actor, residency, rules_version=version))
        if done is not None:
            messages.success(request, f"House rules version {done.rules.version} accepted.")
            return redirect("residences:residency", residency_id=residency.public_id)
    return _residency_page(request, residency, form, form_page_status(form, status))


@staff_view(Permission.RESIDENCE_MANAGE)
@require_http_methods(["GET", "POST"])
def move_out(request: HttpRequest, residency_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    residency = residency_get(actor, residency_id)
    zone = zone_of(residency.bed.house.residence)
    timezone.activate(UTC)
    form = MoveOutForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done, status = submit(
            form,
            lambda: residency_move_out(
                actor,
                residency,
                reason=data["reason"],
                note=data["note"],
                at=on_wall_clock(data["moved_out_at"], zone),
            ),
        )
        if done is not None:
            messages.success(
                request,
                f"{residency.patient.display_name} moved out; {residency.bed.label} is vacant.",
            )
            return redirect("residences:house", house_id=residency.bed.house.public_id)
    selectors.record_form_read(actor, residency, "residence_move_out")
    context = {
        "residency": residency,
        "patient": residency.patient,
        "form": form,
        "since": local_text(residency.moved_in_at, zone),
    }
    return render(
        request, "residences/move_out.html", context, status=form_page_status(form, status)
    )


@staff_view(Permission.RESIDENCE_MANAGE)
@require_http_methods(["GET", "POST"])
def move_bed(request: HttpRequest, residency_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    residency = residency_get(actor, residency_id)
    choice = _bed_choice(request, residency.patient.sex)
    rules_rows = selectors.rules_in_force(actor)
    timezone.activate(UTC)
    form = MoveBedForm(
        request.POST if request.method == "POST" else None,
        beds=choice.beds,
        rules_rows=rules_rows,
        with_reason=choice.all_beds,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        bed: Bed = data["bed"]
        zone = zone_of(bed.house.residence)
        moved, status = submit(
            form,
            lambda: residency_move_bed(
                actor,
                residency,
                bed,
                at=on_wall_clock(data["moved_at"], zone),
                rules_version=_rules_version(form, bed),
                house_for_reason=data.get("house_for_reason", ""),
            ),
        )
        if moved is not None:
            messages.success(
                request,
                f"{residency.patient.display_name} moved to {bed.house.name}, {bed.label}.",
            )
            return redirect("residences:residency", residency_id=moved.public_id)
    selectors.record_form_read(actor, residency, "residence_move_bed")
    context = {
        "residency": residency,
        "patient": residency.patient,
        "form": form,
        "rules_rows": rules_rows,
        "choice": choice,
    }
    return render(
        request, "residences/move_bed.html", context, status=form_page_status(form, status)
    )


@staff_view(Permission.CHART_READ)
@require_GET
def patient_residences_view(request: HttpRequest, patient_id: uuid.UUID) -> HttpResponse:
    """The patient's residencies, curfew history and house rules accepted, for those who
    read the patient's chart."""
    actor = actor_of(request)
    patient: Patient = patient_access(actor, patient_id, permission=Permission.CHART_READ)[0]
    found = selectors.patient_residences(actor, patient)
    if found.residencies:
        timezone.activate(zone_of(found.residencies[0].bed.house.residence))
    can_place = role_can(actor.role, Permission.RESIDENCE_MANAGE) and role_can(
        actor.role, Permission.CARE_WRITE
    )
    context = {
        "patient": patient,
        "found": found,
        "can_manage": role_can(actor.role, Permission.RESIDENCE_MANAGE),
        "move_in_url": f"{reverse('residences:move_in')}?patient={patient.public_id}"
        if can_place
        else "",
    }
    return render(request, "residences/patient.html", context)
