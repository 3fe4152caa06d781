"""Census, patient list, chart, and the admit / transition / discharge pages."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.care import rules
from stepwise.care.chart import (
    chart_read,
    episode_for,
    patient_for,
    patient_for_form,
    patient_list_page,
    worklist_read,
)
from stepwise.care.forms import (
    KIND_AUTOMATIC,
    AdmitForm,
    DischargeForm,
    PlannedEndForm,
    TransitionForm,
    local_to_aware,
)
from stepwise.care.selectors import census, open_stay, organization_time_zone, programs_of
from stepwise.care.services import (
    episode_admit,
    episode_discharge,
    stay_plan_end,
    stay_transition,
)
from stepwise.core.errors import NotFound
from stepwise.core.roles import Permission, sees_all_patients
from stepwise.core.web import (
    actor_of,
    form_errors_text,
    form_page_status,
    is_htmx,
    staff_view,
    submit,
)
from stepwise.patients.models import Patient


@staff_view(Permission.CENSUS_READ)
@require_GET
def census_view(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    rows = census(actor, timezone.now())
    totals = {
        "occupied": sum(r.occupied for r in rows if r.program.bed_capacity is not None),
        "beds": sum(r.program.bed_capacity or 0 for r in rows),
        "active": sum(r.occupied for r in rows),
        "admitted": sum(r.admitted_today for r in rows),
        "discharged": sum(r.discharged_today for r in rows),
        "flagged": sum(r.flagged for r in rows),
    }
    template = "care/_census_table.html" if is_htmx(request) else "care/census.html"
    return render(request, template, {"rows": rows, "totals": totals})


@staff_view(Permission.PATIENT_LIST)
@require_GET
def patient_list(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    query = request.GET.get("q", "")
    page, rows = patient_list_page(
        actor, query, request.GET.get("page"), settings.PATIENTS_PER_PAGE
    )
    template = "care/_patient_results.html" if is_htmx(request) else "care/patient_list.html"
    return render(request, template, {"page": page, "rows": rows, "q": query})


@staff_view(Permission.CHART_READ)
@require_GET
def chart(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = actor_of(request)
    data = chart_read(actor, public_id, timezone.now())
    # Times the chart shows without a stay of their own (assessments, alerts) are in
    # the zone of the patient's current (or last) program, as the forms take them.
    latest = data.timelines[0].stays[-1] if data.timelines and data.timelines[0].stays else None
    zone = (
        latest.program.facility.time_zone
        if latest is not None
        else organization_time_zone(actor.organization_id)
    )
    timezone.activate(zoneinfo.ZoneInfo(zone))
    return render(request, "care/chart.html", {"chart": data, "patient": data.patient})


def _form_patient(request: HttpRequest, public_id: str, form: str) -> Patient:
    """Showing the form is a read of the patient (audited); posting it is audited as
    the write it makes, so the post itself adds no read row."""
    actor = actor_of(request)
    if request.method == "GET":
        return patient_for_form(actor, public_id, permission=Permission.CARE_WRITE, form=form)
    return patient_for(actor, public_id, permission=Permission.CARE_WRITE)


@staff_view(Permission.CARE_WRITE)
@require_http_methods(["GET", "POST"])
def admit(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient = _form_patient(request, public_id, "admit")
    form = AdmitForm(request.POST or None, programs=programs_of(actor))
    status = 200
    if request.method == "POST" and form.is_valid():
        program = form.cleaned_data["program"]
        episode, status = submit(
            form,
            lambda: episode_admit(
                actor,
                patient,
                program,
                at=local_to_aware(form.cleaned_data["admitted_at"], program.facility.time_zone),
                referral_source=form.cleaned_data["referral_source"],
            ),
        )
        if episode is not None:
            messages.success(request, f"{patient.display_name} is admitted to {program.name}.")
            return redirect("care:chart", public_id=patient.public_id)
    context = {"patient": patient, "form": form}
    return render(request, "care/admit.html", context, status=form_page_status(form, status))


@staff_view(Permission.CARE_WRITE)
@require_http_methods(["GET", "POST"])
def transition(request: HttpRequest, public_id: str, episode_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient = _form_patient(request, public_id, "transition")
    episode = episode_for(actor, episode_id, permission=Permission.CARE_WRITE)
    if episode.patient_id != patient.pk or not episode.is_open:
        raise NotFound()
    current = open_stay(episode)
    programs = programs_of(actor).exclude(pk=current.program_id)
    form = TransitionForm(request.POST or None, programs=programs)
    status = 200
    if request.method == "POST" and form.is_valid():
        to_program = form.cleaned_data["to_program"]
        kind = form.cleaned_data["kind"]
        if kind == KIND_AUTOMATIC:
            kind = rules.transition_kind_between(current.program.level, to_program.level).value
        stay, status = submit(
            form,
            lambda: stay_transition(
                actor,
                episode,
                to_program,
                kind=kind,
                reason=form.cleaned_data["reason"],
                at=local_to_aware(form.cleaned_data["at"], current.program.facility.time_zone),
            ),
        )
        if stay is not None:
            label = rules.TRANSITION_LABELS[rules.TransitionKind(kind)]
            messages.success(
                request, f"{label}: {patient.display_name} moved to {to_program.name}."
            )
            return redirect("care:chart", public_id=patient.public_id)
    context = {"patient": patient, "episode": episode, "current": current, "form": form}
    return render(request, "care/transition.html", context, status=form_page_status(form, status))


@staff_view(Permission.CARE_WRITE)
@require_http_methods(["GET", "POST"])
def discharge(request: HttpRequest, public_id: str, episode_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient = _form_patient(request, public_id, "discharge")
    episode = episode_for(actor, episode_id, permission=Permission.CARE_WRITE)
    if episode.patient_id != patient.pk or not episode.is_open:
        raise NotFound()
    current = open_stay(episode)
    form = DischargeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        closed, status = submit(
            form,
            lambda: episode_discharge(
                actor,
                episode,
                reason=form.cleaned_data["reason"],
                at=local_to_aware(form.cleaned_data["at"], current.program.facility.time_zone),
                note=form.cleaned_data["note"],
            ),
        )
        if closed is not None:
            messages.success(request, f"{patient.display_name} is discharged.")
            return redirect("care:chart", public_id=patient.public_id)
    context = {"patient": patient, "episode": episode, "current": current, "form": form}
    return render(request, "care/discharge.html", context, status=form_page_status(form, status))


@staff_view(Permission.CARE_WRITE)
@require_POST
def planned_end(request: HttpRequest, public_id: str, episode_id: str) -> HttpResponse:
    """Set or clear the day the patient is planned to leave the current program (the
    bed board's expected tomorrow counts it)."""
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.CARE_WRITE)
    episode = episode_for(actor, episode_id, permission=Permission.CARE_WRITE)
    if episode.patient_id != patient.pk or not episode.is_open:
        raise NotFound()
    form = PlannedEndForm(request.POST)
    if form.is_valid():
        on = form.cleaned_data["planned_end_on"]
        _, status = submit(form, lambda: stay_plan_end(actor, open_stay(episode), on=on))
        if status == 200:
            messages.success(
                request, f"Planned to leave on {on:%Y-%m-%d}." if on else "No day planned."
            )
            return redirect("care:chart", public_id=patient.public_id)
    messages.error(request, form_errors_text(form))
    return redirect("care:chart", public_id=patient.public_id)


@staff_view(Permission.CHART_READ)
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    """What needs the actor now: open safety alerts of the patients they care for
    (the whole organization for the director). Shows names, so the read is audited."""
    actor = actor_of(request)
    now = timezone.now()
    found = worklist_read(actor, now)
    timezone.activate(zoneinfo.ZoneInfo(organization_time_zone(actor.organization_id)))
    context = {
        "alerts": found.alerts,
        "tasks": found.tasks,
        "flags": found.flags,
        "sections": found.sections,
        "now": now,
        "sees_all": sees_all_patients(actor.role),
    }
    return render(request, "care/worklist.html", context)
