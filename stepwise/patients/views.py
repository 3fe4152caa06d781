"""Registering a patient; adding contacts and care-team members from the chart."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.accounts.reauth import password_confirmed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_errors_text, form_page_status, staff_view, submit
from stepwise.patients.access import require_care_team_change, require_patient_access
from stepwise.patients.alerts import alert_get, alert_resolve
from stepwise.patients.break_glass import (
    break_glass_get,
    break_glass_open,
    break_glass_queue_read,
    break_glass_review,
)
from stepwise.patients.forms import (
    BreakGlassForm,
    BreakGlassReviewForm,
    CareTeamForm,
    CloseTaskForm,
    ContactForm,
    PatientForm,
    ResolveAlertForm,
)
from stepwise.patients.selectors import patient_get, staff_choices
from stepwise.patients.services import care_team_add, contact_add, patient_create
from stepwise.patients.tasks import task_close, task_get


@staff_view(Permission.PATIENT_CREATE)
@require_http_methods(["GET", "POST"])
def patient_new(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
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
    require_patient_access(actor, Permission.PATIENT_WRITE, patient, category="contacts")
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
    require_care_team_change(actor, patient)
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


@staff_view(Permission.BREAK_GLASS)
@require_http_methods(["GET", "POST"])
def break_glass(request: HttpRequest, public_id: str) -> HttpResponse:
    """Emergency access. The page shows nothing of the patient until access is given."""
    actor = actor_of(request)
    patient = patient_get(actor, public_id)
    form = BreakGlassForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        access, status = submit(
            form,
            lambda: break_glass_open(
                actor,
                patient,
                reason=form.cleaned_data["reason"],
                password_confirmed=password_confirmed(
                    request, form.cleaned_data["password"], purpose="break_glass"
                ),
                now=timezone.now(),
            ),
        )
        if access is not None:
            messages.warning(
                request,
                f"Emergency access for {settings.BREAK_GLASS_MINUTES} minutes. "
                "Every page you open is recorded and reviewed by the privacy officer.",
            )
            return redirect("care:chart", public_id=patient.public_id)
    context = {"form": form, "minutes": settings.BREAK_GLASS_MINUTES}
    return render(
        request, "patients/break_glass.html", context, status=form_page_status(form, status)
    )


@staff_view(Permission.PRIVACY_REVIEW)
@require_GET
def break_glass_queue_view(request: HttpRequest) -> HttpResponse:
    queue = break_glass_queue_read(actor_of(request))
    context = {
        "pending": queue.pending,
        "reviewed": queue.reviewed,
        "form": BreakGlassReviewForm(),
        "now": timezone.now(),
    }
    return render(request, "patients/break_glass_queue.html", context)


@staff_view(Permission.PRIVACY_REVIEW)
@require_POST
def break_glass_review_view(request: HttpRequest, access_id: str) -> HttpResponse:
    actor = actor_of(request)
    access = break_glass_get(actor, access_id)
    form = BreakGlassReviewForm(request.POST)
    if form.is_valid():
        done, _status = submit(
            form,
            lambda: break_glass_review(
                actor, access, note=form.cleaned_data["note"], now=timezone.now()
            ),
        )
        if done is not None:
            messages.success(request, "The emergency access is reviewed.")
            return redirect("patients:break_glass_queue")
    messages.error(request, form_errors_text(form))
    return redirect("patients:break_glass_queue")


@staff_view(Permission.CARE_WRITE)
@require_POST
def alert_resolve_view(request: HttpRequest, public_id: str, alert_id: str) -> HttpResponse:
    actor = actor_of(request)
    alert = alert_get(actor, alert_id)
    if str(alert.patient.public_id) != str(public_id):
        raise Http404()
    # Refuse an outsider before looking at what they sent.
    require_patient_access(actor, Permission.CARE_WRITE, alert.patient, category="chart")
    form = ResolveAlertForm(request.POST)
    if form.is_valid():
        done, _status = submit(
            form, lambda: alert_resolve(actor, alert, note=form.cleaned_data["note"])
        )
        if done is not None:
            messages.success(request, "Alert resolved; your note is kept with it.")
    if form.errors:
        messages.error(request, form_errors_text(form))
    target = form.cleaned_data.get("next", "") if form.is_valid() else ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("care:chart", public_id=alert.patient.public_id)


@staff_view(Permission.CARE_WRITE)
@require_POST
def task_close_view(request: HttpRequest, public_id: str, task_id: str) -> HttpResponse:
    actor = actor_of(request)
    task = task_get(actor, task_id)
    if str(task.patient.public_id) != str(public_id):
        raise Http404()
    require_patient_access(actor, Permission.CARE_WRITE, task.patient, category="chart")
    form = CloseTaskForm(request.POST)
    if form.is_valid():
        done, _status = submit(
            form,
            lambda: task_close(
                actor, task, status=form.cleaned_data["status"], note=form.cleaned_data["note"]
            ),
        )
        if done is not None:
            messages.success(request, f"Task {done.get_status_display().lower()}: {done.title}.")
    if form.errors:
        messages.error(request, form_errors_text(form))
    target = form.cleaned_data.get("next", "") if form.is_valid() else ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("care:chart", public_id=task.patient.public_id)
