"""Pages of a patient's recovery: the count of days, relapse events and their
response, drug screens; and the organization's recovery settings."""

from __future__ import annotations

import uuid
import zoneinfo
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from stepwise.care.chart import patient_for, patient_for_form
from stepwise.care.selectors import patient_time_zone
from stepwise.core.errors import NotFound
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_errors_text, form_page_status, staff_view, submit
from stepwise.patients.models import Patient
from stepwise.recovery import forms, selectors
from stepwise.recovery.links import response_link, screen_setting_label
from stepwise.recovery.models import DrugScreen, RelapseEvent, RelapseStatus, ScreenStatus
from stepwise.recovery.rules import relapse as relapse_rules
from stepwise.recovery.rules.screens import MEDICATIONS_BY_CODE
from stepwise.recovery.services import relapse as relapse_services
from stepwise.recovery.services import screens as screen_services
from stepwise.recovery.services.common import local_day, settings_of
from stepwise.recovery.services.configuration import recovery_settings_update


def _local(patient: Patient) -> str:
    """Show and take this request's times in the patient's facility zone."""
    zone = patient_time_zone(patient)
    timezone.activate(zoneinfo.ZoneInfo(zone))
    return zone


def _today(zone: str) -> date:
    return local_day(timezone.now(), zoneinfo.ZoneInfo(zone))


@staff_view(Permission.CHART_READ)
@require_http_methods(["GET"])
def recovery_page(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    found = selectors.recovery_read(actor, public_id, timezone.now())
    _local(found.patient)
    return render(request, "recovery/recovery.html", {"patient": found.patient, "recovery": found})


def _details(form: forms.UseForm) -> relapse_services.UseDetails:
    data = form.cleaned_data
    return relapse_services.UseDetails(
        used_on=data["used_on"],
        kind=data["kind"],
        substances=data["substances"],
        route=data["route"],
        overdose=data["overdose"],
        context=data["context"],
        triggers=data["triggers"],
    )


@staff_view(Permission.RECOVERY_WRITE)
@require_http_methods(["GET", "POST"])
def relapse_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "GET":
        patient = patient_for_form(
            actor, public_id, permission=Permission.RECOVERY_WRITE, form="relapse"
        )
    else:
        patient = patient_for(actor, public_id, permission=Permission.RECOVERY_WRITE)
    zone = _local(patient)
    form = forms.UseForm(request.POST or None, initial={"used_on": _today(zone)})
    status = 200
    if request.method == "POST" and form.is_valid():
        event, status = submit(
            form, lambda: relapse_services.relapse_record(actor, patient, _details(form))
        )
        if event is not None:
            messages.success(request, _confirmed_message(event))
            return redirect(
                "recovery:relapse", public_id=patient.public_id, event_id=event.public_id
            )
    return render(
        request,
        "recovery/relapse_form.html",
        {"patient": patient, "form": form},
        status=form_page_status(form, status),
    )


def _confirmed_message(event: RelapseEvent) -> str:
    flag = " The overdose-risk flag is raised." if event.flag_until else ""
    return f"Return to use recorded; its response has started.{flag}"


def _event_page(
    request: HttpRequest,
    event: RelapseEvent,
    *,
    use_form: forms.UseForm | None = None,
    close_form: forms.CloseForm | None = None,
    item_forms: dict[str, forms.ResponseItemForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    patient = event.patient
    zone = _local(patient)
    item_forms = item_forms or {}
    items = [
        {
            "row": row,
            "form": item_forms.get(row.item) or forms.ResponseItemForm(prefix=row.item),
            "link": response_link(row.item, event),
        }
        for row in event.items.all()
    ]
    if use_form is None and event.status == RelapseStatus.PROPOSED:
        use_form = forms.UseForm(
            initial={
                "used_on": event.used_on or local_day(event.created_at, zoneinfo.ZoneInfo(zone)),
                "substances": event.substances,
                "overdose": event.overdose,
                "kind": relapse_rules.Kind.LAPSE.value,
            }
        )
    return render(
        request,
        "recovery/relapse.html",
        {
            "patient": patient,
            "event": event,
            "items": items,
            "use_form": use_form,
            "close_form": close_form or forms.CloseForm(),
            "settled": event.status == RelapseStatus.CONFIRMED
            and not any(row.is_open for row in event.items.all()),
        },
        status=status,
    )


@staff_view(Permission.CHART_READ)
@require_http_methods(["GET"])
def relapse_page(request: HttpRequest, public_id: uuid.UUID, event_id: uuid.UUID) -> HttpResponse:
    event = selectors.relapse_read(actor_of(request), public_id, event_id)
    return _event_page(request, event)


def _reload(event: RelapseEvent, public_id: uuid.UUID) -> Any:
    return redirect("recovery:relapse", public_id=public_id, event_id=event.public_id)


@staff_view(Permission.RECOVERY_WRITE)
@require_POST
def relapse_confirm(
    request: HttpRequest, public_id: uuid.UUID, event_id: uuid.UUID
) -> HttpResponse:
    actor = actor_of(request)
    event = selectors.relapse_read(actor, public_id, event_id, permission=Permission.RECOVERY_WRITE)
    _local(event.patient)
    form = forms.UseForm(request.POST)
    status = 200
    if form.is_valid():
        confirmed, status = submit(
            form, lambda: relapse_services.relapse_confirm(actor, event, _details(form))
        )
        if confirmed is not None:
            messages.success(request, _confirmed_message(confirmed))
            return _reload(event, public_id)
    return _event_page(request, event, use_form=form, status=form_page_status(form, status))


def _close_view(
    request: HttpRequest, public_id: uuid.UUID, event_id: uuid.UUID, *, in_error: bool
) -> HttpResponse:
    actor = actor_of(request)
    event = selectors.relapse_read(actor, public_id, event_id, permission=Permission.RECOVERY_WRITE)
    form = forms.CloseForm(request.POST)
    status = 200
    if form.is_valid():
        service = (
            relapse_services.relapse_mark_in_error if in_error else relapse_services.relapse_dismiss
        )
        closed, status = submit(
            form, lambda: service(actor, event, reason=form.cleaned_data["reason"])
        )
        if closed is not None:
            messages.success(
                request,
                "Marked entered in error; it stays on the record and no longer counts."
                if in_error
                else "Dismissed: not a return to use. The proposal stays on the record.",
            )
            return _reload(event, public_id)
    return _event_page(request, event, close_form=form, status=form_page_status(form, status))


@staff_view(Permission.RECOVERY_WRITE)
@require_POST
def relapse_dismiss(
    request: HttpRequest, public_id: uuid.UUID, event_id: uuid.UUID
) -> HttpResponse:
    return _close_view(request, public_id, event_id, in_error=False)


@staff_view(Permission.RECOVERY_WRITE)
@require_POST
def relapse_error(request: HttpRequest, public_id: uuid.UUID, event_id: uuid.UUID) -> HttpResponse:
    return _close_view(request, public_id, event_id, in_error=True)


@staff_view(Permission.RECOVERY_WRITE)
@require_POST
def response_item(
    request: HttpRequest, public_id: uuid.UUID, event_id: uuid.UUID, item: str
) -> HttpResponse:
    actor = actor_of(request)
    event = selectors.relapse_read(actor, public_id, event_id, permission=Permission.RECOVERY_WRITE)
    form = forms.ResponseItemForm(request.POST, prefix=item)
    status = 200
    if form.is_valid():
        data = form.cleaned_data
        row, status = submit(
            form,
            lambda: relapse_services.response_item_record(
                actor,
                event,
                item=item,
                state=data["state"],
                note=data["note"],
                moud_answer=data["moud_answer"],
            ),
        )
        if row is not None:
            messages.success(request, f"{row.label}: recorded as {row.state}.")
            return _reload(event, public_id)
    return _event_page(
        request, event, item_forms={item: form}, status=form_page_status(form, status)
    )


@staff_view(Permission.RECOVERY_WRITE)
@require_http_methods(["GET", "POST"])
def screen_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "GET":
        patient = patient_for_form(
            actor, public_id, permission=Permission.RECOVERY_WRITE, form="drug_screen"
        )
    else:
        patient = patient_for(actor, public_id, permission=Permission.RECOVERY_WRITE)
    zone = _local(patient)
    ordered = selectors.prescribed_medications(patient)
    last = selectors.last_screen_medications(patient)
    form = forms.ScreenForm(request.POST or None, time_zone=zone, initial={"medications": ordered})
    place = _place_of(request, patient)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        screen, status = submit(
            form,
            lambda: screen_services.screen_record(
                actor,
                patient,
                screen_services.ScreenInput(
                    collected_at=form.collected(),
                    observed=data["observed"],
                    validity=data["validity"],
                    medications=data["medications"],
                    results=form.results() or None,
                    note=data["note"],
                    setting=place[0] if place else "",
                    setting_id=place[1] if place else None,
                ),
            ),
        )
        if screen is not None:
            messages.success(request, _screen_message(screen))
            return redirect(
                "recovery:screen", public_id=patient.public_id, screen_id=screen.public_id
            )
    return render(
        request,
        "recovery/screen_form.html",
        {
            "patient": patient,
            "form": form,
            "place": place,
            "ordered": ordered,
            "last_listed": [
                MEDICATIONS_BY_CODE[m].name
                for m in last
                if m not in ordered and m in MEDICATIONS_BY_CODE
            ],
        },
        status=form_page_status(form, status),
    )


def _place_of(request: HttpRequest, patient: Patient) -> tuple[str, uuid.UUID, str] | None:
    """A screen collected somewhere other than the program (a residence's drug test):
    `?setting=residency&setting_id=<id>`; unknown or foreign places are refused."""
    setting = request.GET.get("setting", "")
    if not setting:
        return None
    try:
        setting_id = uuid.UUID(request.GET.get("setting_id", ""))
    except ValueError:
        raise NotFound() from None
    label = screen_setting_label(setting, patient, setting_id)
    if label is None:
        raise NotFound()
    return setting, setting_id, label


def _screen_message(screen: DrugScreen) -> str:
    if screen.status == ScreenStatus.COLLECTED:
        return "Collection recorded; enter the results when the laboratory sends them."
    proposal = selectors.proposal_of_screen(screen)
    if proposal is not None:
        return "Results recorded. An unexpected positive proposes a return to use: confirm or dismiss it."
    return "Results recorded."


def _screen_page(
    request: HttpRequest,
    screen: DrugScreen,
    *,
    results_form: forms.ResultsForm | None = None,
    close_form: forms.CloseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    _local(screen.patient)
    if results_form is None and screen.status == ScreenStatus.COLLECTED:
        results_form = forms.ResultsForm(initial={"validity": screen.validity})
    return render(
        request,
        "recovery/screen.html",
        {
            "patient": screen.patient,
            "screen": screen,
            "proposal": selectors.proposal_of_screen(screen),
            "place": screen_setting_label(screen.setting, screen.patient, screen.setting_id)
            if screen.setting and screen.setting_id
            else None,
            "results_form": results_form,
            "close_form": close_form or forms.CloseForm(),
        },
        status=status,
    )


@staff_view(Permission.CHART_READ)
@require_http_methods(["GET"])
def screen_page(request: HttpRequest, public_id: uuid.UUID, screen_id: uuid.UUID) -> HttpResponse:
    return _screen_page(request, selectors.screen_read(actor_of(request), public_id, screen_id))


@staff_view(Permission.RECOVERY_WRITE)
@require_POST
def screen_results(
    request: HttpRequest, public_id: uuid.UUID, screen_id: uuid.UUID
) -> HttpResponse:
    actor = actor_of(request)
    screen = selectors.screen_read(
        actor, public_id, screen_id, permission=Permission.RECOVERY_WRITE
    )
    form = forms.ResultsForm(request.POST)
    status = 200
    if form.is_valid():
        saved, status = submit(
            form,
            lambda: screen_services.screen_results_record(
                actor, screen, form.results(), validity=form.cleaned_data["validity"]
            ),
        )
        if saved is not None:
            messages.success(request, _screen_message(saved))
            return redirect("recovery:screen", public_id=public_id, screen_id=screen.public_id)
    return _screen_page(request, screen, results_form=form, status=form_page_status(form, status))


@staff_view(Permission.RECOVERY_WRITE)
@require_POST
def screen_error(request: HttpRequest, public_id: uuid.UUID, screen_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    screen = selectors.screen_read(
        actor, public_id, screen_id, permission=Permission.RECOVERY_WRITE
    )
    form = forms.CloseForm(request.POST)
    status = 200
    if form.is_valid():
        saved, status = submit(
            form,
            lambda: screen_services.screen_mark_in_error(
                actor, screen, reason=form.cleaned_data["reason"]
            ),
        )
        if saved is not None:
            messages.success(request, "Marked entered in error; it stays on the record.")
            return redirect("recovery:screen", public_id=public_id, screen_id=screen.public_id)
    if form.errors:
        messages.error(request, form_errors_text(form))
    return _screen_page(request, screen, close_form=form, status=form_page_status(form, status))


@staff_view(Permission.CLINICAL_SETTINGS)
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    current = settings_of(actor.organization_id)
    form = forms.SettingsForm(
        request.POST or None,
        expectations=current.expectation_table(),
        initial={
            "outreach_hours": current.outreach_hours,
            "tolerance_days": current.tolerance_days,
            "flag_days": current.flag_days,
        },
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved, status = submit(
            form,
            lambda: recovery_settings_update(
                actor,
                outreach_hours=data["outreach_hours"],
                tolerance_days=data["tolerance_days"],
                flag_days=data["flag_days"],
                expectations=form.expectations(),
            ),
        )
        if saved is not None:
            messages.success(request, "Recovery settings saved.")
            return redirect("recovery:settings")
    return render(
        request,
        "recovery/settings.html",
        {"form": form},
        status=form_page_status(form, status),
    )
