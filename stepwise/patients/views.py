"""Registering a patient; adding contacts and care-team members from the chart."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from stepwise.core.access import require_permission
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.patients.forms import CareTeamForm, ContactForm, PatientForm
from stepwise.patients.selectors import patient_get, staff_choices
from stepwise.patients.services import care_team_add, contact_add, patient_create


@staff_view(Permission.PATIENT_CREATE)
@require_http_methods(["GET", "POST"])
def patient_new(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_permission(actor, Permission.PATIENT_WRITE, category="demographics")
    form = PatientForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        patient, status = submit(form, lambda: patient_create(actor, form.to_data()))
        if patient is not None:
            return redirect("care:chart", public_id=patient.public_id)
    context = {"form": form}
    return render(
        request, "patients/patient_new.html", context, status=form_page_status(form, status)
    )


@staff_view(Permission.PATIENT_WRITE)
@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_get(actor, public_id)
    require_permission(
        actor, Permission.PATIENT_WRITE, patient_public_id=patient.public_id, category="contacts"
    )
    form = ContactForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        contact, status = submit(form, lambda: contact_add(actor, patient, **form.cleaned_data))
        if contact is not None:
            messages.success(request, f"{form.cleaned_data['name']} is added to the contacts.")
            return redirect("care:chart", public_id=patient.public_id)
    context = {"patient": patient, "form": form, "title": "Add a contact", "button": "Add contact"}
    return render(
        request, "patients/patient_form.html", context, status=form_page_status(form, status)
    )


@staff_view(Permission.CARE_WRITE)
@require_http_methods(["GET", "POST"])
def care_team_new(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_get(actor, public_id)
    require_permission(
        actor, Permission.CARE_WRITE, patient_public_id=patient.public_id, category="care_team"
    )
    form = CareTeamForm(request.POST or None, staff=staff_choices(actor))
    status = 200
    if request.method == "POST" and form.is_valid():
        member, status = submit(
            form,
            lambda: care_team_add(
                actor,
                patient,
                user_id=form.cleaned_data["user"],
                team_role=form.cleaned_data["team_role"],
            ),
        )
        if member is not None:
            messages.success(request, "The care team is updated.")
            return redirect("care:chart", public_id=patient.public_id)
    context = {"patient": patient, "form": form, "title": "Add to the care team", "button": "Add"}
    return render(
        request, "patients/patient_form.html", context, status=form_page_status(form, status)
    )
