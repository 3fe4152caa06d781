"""The short "last opioid use" entry of a withdrawal-management stay, and marking a
mistaken one in error (listed on the flowsheet)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from stepwise.care.chart import patient_for, patient_for_form
from stepwise.care.selectors import current_stay_of, patient_time_zone
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_errors_text, form_page_status, staff_view, submit
from stepwise.withdrawal.forms import InErrorForm, LastUseForm
from stepwise.withdrawal.last_use_reads import last_use_report_of
from stepwise.withdrawal.services.last_use import last_use_mark_in_error, last_use_record

FORM_NAME = "last_use_report"


@staff_view(Permission.MEDICAL_WRITE)
@require_http_methods(["GET", "POST"])
def last_use_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "GET":
        patient = patient_for_form(
            actor, public_id, permission=Permission.MEDICAL_WRITE, form=FORM_NAME
        )
    else:
        patient = patient_for(actor, public_id, permission=Permission.MEDICAL_WRITE)
    stay = current_stay_of(patient)
    zone = stay.program.facility.time_zone if stay else patient_time_zone(patient)
    timezone.activate(zone)
    form = LastUseForm(request.POST if request.method == "POST" else None, time_zone=zone)
    status = 200
    if request.method == "POST" and form.is_valid():
        used = form.when()
        assert used is not None  # a required field
        row, status = submit(
            form,
            lambda: last_use_record(
                actor,
                patient,
                substance=form.cleaned_data["substance"],
                last_use_at=used,
                source=form.cleaned_data["source"],
                note=form.cleaned_data["note"],
            ),
        )
        if row is not None:
            messages.success(request, "Last opioid use recorded.")
            return redirect("withdrawal:flowsheet", public_id=patient.public_id)
    in_unit = stay is not None and stay.program.is_withdrawal_management
    return render(
        request,
        "withdrawal/last_use_form.html",
        {"patient": patient, "form": form, "stay": stay, "in_unit": in_unit, "zone": zone},
        status=form_page_status(form, status),
    )


@staff_view(Permission.MEDICAL_WRITE)
@require_POST
def last_use_error(
    request: HttpRequest, public_id: uuid.UUID, last_use_id: uuid.UUID
) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.MEDICAL_WRITE)
    row = last_use_report_of(patient, last_use_id)  # NotFound: 404
    form = InErrorForm(request.POST)
    if form.is_valid():
        _, status = submit(
            form, lambda: last_use_mark_in_error(actor, row, reason=form.cleaned_data["reason"])
        )
        if status == 200:
            messages.success(request, "Marked entered in error.")
            return redirect("withdrawal:flowsheet", public_id=patient.public_id)
    messages.error(request, form_errors_text(form))
    return redirect("withdrawal:flowsheet", public_id=patient.public_id)
