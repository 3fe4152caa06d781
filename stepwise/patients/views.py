"""Registering a new patient."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from stepwise.core.access import require_permission
from stepwise.core.errors import ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, apply_errors, clinical_view
from stepwise.patients.forms import PatientForm
from stepwise.patients.services import patient_create


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
