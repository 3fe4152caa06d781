"""The unit board and the flowsheet: pages and their htmx fragments."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from stepwise.care.chart import patient_for
from stepwise.care.selectors import patient_time_zone
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_errors_text, staff_view, submit
from stepwise.withdrawal import selectors
from stepwise.withdrawal.board import board_read_audited, withdrawal_programs
from stepwise.withdrawal.flowsheet import flowsheet_read
from stepwise.withdrawal.forms import InErrorForm, VitalsForm
from stepwise.withdrawal.models import VitalSigns
from stepwise.withdrawal.services.last_use import may_withdraw
from stepwise.withdrawal.services.observations import vitals_mark_in_error, vitals_record

# How often the board refreshes itself (htmx polling), in seconds.
BOARD_REFRESH_SECONDS = 60


@staff_view(Permission.UNIT_BOARD)
@require_GET
def units(request: HttpRequest) -> HttpResponse:
    programs = withdrawal_programs(actor_of(request))
    if len(programs) == 1:
        return redirect("withdrawal:board", program_id=programs[0].public_id)
    return render(request, "withdrawal/units.html", {"programs": programs})


@staff_view(Permission.UNIT_BOARD)
@require_GET
def board(request: HttpRequest, program_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    program = selectors.withdrawal_program(actor, program_id)
    found = board_read_audited(actor, program, timezone.now())
    timezone.activate(found.zone)
    template = "withdrawal/_board.html" if request.GET.get("fragment") else "withdrawal/board.html"
    return render(
        request,
        template,
        {"board": found, "refresh": BOARD_REFRESH_SECONDS, "wall": request.GET.get("wall") == "1"},
    )


@staff_view(Permission.CHART_READ)
@require_GET
def flowsheet(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    sheet = flowsheet_read(actor, public_id, timezone.now())
    timezone.activate(sheet.zone)
    form = VitalsForm(time_zone=str(sheet.zone))
    withdrawable = {r.pk for r in sheet.last_use_reports if may_withdraw(actor, r)}
    return render(
        request,
        "withdrawal/flowsheet.html",
        {
            "sheet": sheet,
            "patient": sheet.patient,
            "form": form,
            "error_form": InErrorForm(),
            "withdrawable": withdrawable,
        },
    )


@staff_view(Permission.MEDICAL_WRITE)
@require_POST
def vitals_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.MEDICAL_WRITE)
    zone = patient_time_zone(patient)
    form = VitalsForm(request.POST, time_zone=zone)
    if form.is_valid():
        row, status = submit(
            form, lambda: vitals_record(actor, patient, form.values(), observed_at=form.when())
        )
        if row is not None:
            if row.sedation_signs:
                messages.error(
                    request,
                    "Signs of over-sedation: " + ", ".join(row.sedation_signs) + ". Act now.",
                )
            else:
                messages.success(request, "Vital signs recorded.")
            return redirect("withdrawal:flowsheet", public_id=patient.public_id)
    else:
        status = 422
    sheet = flowsheet_read(actor, public_id, timezone.now())
    timezone.activate(sheet.zone)
    return render(
        request,
        "withdrawal/flowsheet.html",
        {"sheet": sheet, "patient": patient, "form": form, "error_form": InErrorForm()},
        status=status if status != 200 else 422,
    )


@staff_view(Permission.MEDICAL_WRITE)
@require_POST
def vitals_error(request: HttpRequest, public_id: uuid.UUID, vitals_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.MEDICAL_WRITE)
    row = VitalSigns.objects.filter(
        organization_id=actor.organization_id, patient=patient, public_id=vitals_id
    ).first()
    if row is None:
        raise Http404
    form = InErrorForm(request.POST)
    if form.is_valid():
        _, status = submit(
            form, lambda: vitals_mark_in_error(actor, row, reason=form.cleaned_data["reason"])
        )
        if status == 200:
            messages.success(request, "Marked entered in error.")
            return redirect("withdrawal:flowsheet", public_id=patient.public_id)
    messages.error(request, form_errors_text(form))
    return redirect("withdrawal:flowsheet", public_id=patient.public_id)
