"""Registering a new patient."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from stepwise.core.access import require_permission
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, apply_errors, clinical_view
from stepwise.patients.forms import CareTeamForm, ContactForm, PatientForm
from stepwise.patients.selectors import patient_get, staff_choices
from stepwise.patients.services import care_team_add, contact_add, patient_create


@clinical_view
@require_http_methods(["GET", "POST"])
def patient_new(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    require_permission(actor, Permission.PATIENT_WRITE, category="demographics")
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient = patient_create(actor, form.to_data())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return redirect("care:chart", public_id=patient.public_id)
    return render(
        request, "patients/patient_new.html", {"form": form}, status=422 if form.errors else 200
    )


@clinical_view
@require_http_methods(["GET", "POST"])
def contact_new(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_get(actor, public_id)
    require_permission(
        actor, Permission.PATIENT_WRITE, patient_public_id=patient.public_id, category="contacts"
    )
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact_add(actor, patient, **form.cleaned_data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{form.cleaned_data['name']} is added to the contacts.")
            return redirect("care:chart", public_id=patient.public_id)
    context = {"patient": patient, "form": form, "title": "Add a contact", "button": "Add contact"}
    return render(
        request, "patients/patient_form.html", context, status=422 if form.errors else 200
    )


@clinical_view
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
        try:
            care_team_add(
                actor,
                patient,
                user_id=form.cleaned_data["user"],
                team_role=form.cleaned_data["team_role"],
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(request, "The care team is updated.")
            return redirect("care:chart", public_id=patient.public_id)
    if form.errors and status == 200:
        status = 422
    context = {"patient": patient, "form": form, "title": "Add to the care team", "button": "Add"}
    return render(request, "patients/patient_form.html", context, status=status)
