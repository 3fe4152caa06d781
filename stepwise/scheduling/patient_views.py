"""A patient's own bookings, from their schedule page: an individual appointment, an
optional series by choice, and leaving an optional series."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from stepwise.care.chart import patient_for_form
from stepwise.core.errors import NotFound
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_errors_text, form_page_status, staff_view, submit
from stepwise.scheduling.manage_forms import (
    AppointmentForm,
    EnrollmentEndForm,
    OptionalEnrollForm,
)
from stepwise.scheduling.selectors import (
    active_rooms,
    current_stay,
    facilitators_of,
    individual_types,
    optional_series_of,
)
from stepwise.scheduling.services.common import local_text, zone_of
from stepwise.scheduling.services.enrollment import (
    appointment_book,
    enroll_optional,
    enrollment_end,
    enrollment_get,
)


@staff_view(Permission.CARE_WRITE)
@require_http_methods(["GET", "POST"])
def appointment_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Book an individual session (therapy, family, medical visit) for the patient, in
    the program they are in now."""
    actor = actor_of(request)
    patient = patient_for_form(
        actor, public_id, permission=Permission.CARE_WRITE, form="appointment"
    )
    stay = current_stay(actor, patient)
    if stay is None:
        return render(
            request,
            "scheduling/appointment.html",
            {"patient": patient, "stay": None},
            status=409,
        )
    zone = zone_of(stay.program)
    # Typed times are read in the facility's zone.
    timezone.activate(zone)
    form = AppointmentForm(
        request.POST if request.method == "POST" else None,
        types=individual_types(actor),
        facilitators=facilitators_of(actor),
        rooms=active_rooms(actor, stay.program.facility_id),
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        booked, status = submit(
            form,
            lambda: appointment_book(
                actor,
                patient,
                program=stay.program,
                session_type=data["session_type"],
                facilitator_id=data["facilitator"].user_id,
                starts_at=data["starts_at"],
                minutes=data["minutes"],
                room=data["room"],
            ),
        )
        if booked is not None:
            messages.success(
                request, f"{booked.title} booked for {local_text(booked.starts_at, zone)}."
            )
            return redirect("scheduling:patient", public_id=patient.public_id)
    context = {"patient": patient, "stay": stay, "form": form, "zone": zone.key}
    return render(
        request, "scheduling/appointment.html", context, status=form_page_status(form, status)
    )


@staff_view(Permission.CARE_WRITE)
@require_POST
def enroll(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Seat the patient in an optional series of their program from now on."""
    actor = actor_of(request)
    patient = patient_for_form(actor, public_id, permission=Permission.CARE_WRITE, form="enroll")
    stay = current_stay(actor, patient)
    if stay is None:
        messages.error(request, f"{patient.display_name} is not in a program now.")
        return redirect("scheduling:patient", public_id=patient.public_id)
    form = OptionalEnrollForm(request.POST, series=optional_series_of(stay.program, timezone.now()))
    if form.is_valid():
        done, _ = submit(form, lambda: enroll_optional(actor, patient, form.cleaned_data["series"]))
        if done is not None:
            messages.success(request, f"Enrolled in {done.series.title}.")
            return redirect("scheduling:patient", public_id=patient.public_id)
    messages.error(request, form_errors_text(form))
    return redirect("scheduling:patient", public_id=patient.public_id)


@staff_view(Permission.CARE_WRITE)
@require_POST
def enrollment_leave(
    request: HttpRequest, public_id: uuid.UUID, enrollment_id: uuid.UUID
) -> HttpResponse:
    """End an optional enrollment by choice (core ones end with the stay)."""
    actor = actor_of(request)
    patient = patient_for_form(actor, public_id, permission=Permission.CARE_WRITE, form="enroll")
    enrollment = enrollment_get(actor, enrollment_id)
    if enrollment.patient_id != patient.pk:
        raise NotFound()
    form = EnrollmentEndForm(request.POST)
    if form.is_valid():
        done, _ = submit(
            form, lambda: enrollment_end(actor, enrollment, reason=form.cleaned_data["reason"])
        )
        if done is not None:
            messages.success(request, f"Left {enrollment.series.title}.")
            return redirect("scheduling:patient", public_id=patient.public_id)
    messages.error(request, form_errors_text(form))
    return redirect("scheduling:patient", public_id=patient.public_id)
