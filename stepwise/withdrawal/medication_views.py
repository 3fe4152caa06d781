"""The eMAR pages: the record, a physician's order, charting a dose, overrides."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from stepwise.care.chart import patient_for, patient_for_form
from stepwise.care.selectors import patient_time_zone
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, apply_errors, form_errors_text, form_page_status, staff_view
from stepwise.patients.models import Patient
from stepwise.withdrawal.mar import mar_read, order_of, order_slots_open
from stepwise.withdrawal.medication_forms import (
    FollowupForm,
    GiveForm,
    OrderForm,
    OverrideForm,
    StopForm,
)
from stepwise.withdrawal.models import Administration, MedicationOrder
from stepwise.withdrawal.rules.safety import Verdict
from stepwise.withdrawal.services.common import open_stay
from stepwise.withdrawal.services.medications import (
    SafetyBlocked,
    administration_mark_in_error,
    administration_record,
    followup_record,
    order_create,
    order_set_apply,
    order_stop,
    override_record,
    safety_verdicts,
    standing_overrides,
)


def _back(patient: Patient) -> HttpResponse:
    return redirect("medications:record", public_id=patient.public_id)


def _order(actor: Actor, patient: Patient, order_id: uuid.UUID) -> MedicationOrder:
    order = order_of(actor, patient, order_id)
    if order is None:
        raise Http404
    return order


@staff_view(Permission.CHART_READ)
@require_http_methods(["GET"])
def record(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    mar = mar_read(actor, public_id, timezone.now())
    timezone.activate(mar.zone)
    return render(
        request,
        "withdrawal/mar.html",
        {
            "mar": mar,
            "patient": mar.patient,
            "override_form": OverrideForm(),
            "followup_form": FollowupForm(),
            "stop_form": StopForm(),
        },
    )


@staff_view(Permission.MEDICATION_ORDER)
@require_http_methods(["GET", "POST"])
def order_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "GET":
        patient = patient_for_form(
            actor, public_id, permission=Permission.MEDICATION_ORDER, form="medication_order"
        )
    else:
        patient = patient_for(actor, public_id, permission=Permission.MEDICATION_ORDER)
    zone = patient_time_zone(patient)
    timezone.activate(zone)
    initial = {"drug": request.GET.get("drug", "")}
    form = OrderForm(request.POST or None, time_zone=zone, initial=initial)
    blocked: list[Verdict] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.order_input()
        try:
            order = order_create(actor, patient, data, overrides=form.overrides(["R-MTD-1"]))
        except SafetyBlocked as exc:
            blocked, status = exc.verdicts, 409
            form.add_error(
                None,
                "A safety rule blocks this order. Change it, or give the clinical reason "
                "for overriding the rule.",
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
            status = 422
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(request, f"Ordered: {order}.")
            return _back(patient)
    return render(
        request,
        "withdrawal/order_form.html",
        {"patient": patient, "form": form, "blocked": blocked},
        status=form_page_status(form, status),
    )


@staff_view(Permission.MEDICATION_ORDER)
@require_POST
def order_set(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.MEDICATION_ORDER)
    try:
        placed = order_set_apply(actor, patient, key=request.POST.get("order_set", ""))
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        count = len(placed.orders)
        messages.success(
            request, f"Ordered {placed.name}: {count} order{'' if count == 1 else 's'}."
        )
        if placed.skipped:
            messages.warning(request, "Left out: " + "; ".join(placed.skipped) + ".")
    return _back(patient)


@staff_view(Permission.MEDICATION_ORDER)
@require_POST
def stop(request: HttpRequest, public_id: uuid.UUID, order_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.MEDICATION_ORDER)
    order = _order(actor, patient, order_id)
    form = StopForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return _back(patient)
    try:
        order_stop(actor, order, reason=form.cleaned_data["reason"])
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Stopped: {order}.")
    return _back(patient)


def _slot_choices(order: MedicationOrder) -> list[tuple[str, str]]:
    now = timezone.now()
    return [
        (
            d.due_at.isoformat(),
            f"{timezone.localtime(d.due_at):%a %H:%M} · {d.dose_mg.normalize():f} mg"
            + (" · overdue" if d.overdue else ""),
        )
        for d in order_slots_open(order, now)
    ]


@staff_view(Permission.MEDICATION_ADMINISTER)
@require_http_methods(["GET", "POST"])
def give(request: HttpRequest, public_id: uuid.UUID, order_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "GET":
        patient = patient_for_form(
            actor, public_id, permission=Permission.MEDICATION_ADMINISTER, form="administration"
        )
    else:
        patient = patient_for(actor, public_id, permission=Permission.MEDICATION_ADMINISTER)
    order = _order(actor, patient, order_id)
    zone = patient_time_zone(patient)
    timezone.activate(zone)
    slots = [] if order.is_prn else _slot_choices(order)
    form = GiveForm(request.POST or None, time_zone=zone, slots=slots)
    blocked: list[Verdict] = []
    status = 200
    if request.method == "POST" and form.is_valid():
        scheduled = form.cleaned_data.get("scheduled_for")
        try:
            administration_record(
                actor,
                order,
                outcome=form.cleaned_data["outcome"],
                at=form.when(),
                scheduled_for=datetime.fromisoformat(scheduled) if scheduled else None,
                reason=form.cleaned_data.get("reason", ""),
            )
        except SafetyBlocked as exc:
            blocked, status = exc.verdicts, 409
            form.add_error(None, "Not given: a safety rule blocks this dose (see below).")
        except ValidationFailed as exc:
            apply_errors(form, exc)
            status = 422
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(request, f"{order.drug_name}: {form.cleaned_data['outcome']}.")
            return _back(patient)
    preview = _preview(order)
    return render(
        request,
        "withdrawal/give.html",
        {
            "patient": patient,
            "order": order,
            "form": form,
            "blocked": blocked,
            "preview": preview,
            "overrides": standing_overrides(order, timezone.now()),
            "override_form": OverrideForm(),
        },
        status=form_page_status(form, status),
    )


def _preview(order: MedicationOrder) -> list[Verdict]:
    """What the safety rules say about giving this dose now (nothing is stored)."""
    if order.drug_info.safety.value == "none":
        return []
    try:
        stay = open_stay(order.patient)
    except ValidationFailed:
        return []
    return safety_verdicts(order, stay, timezone.now(), order.dose_mg)


@staff_view(Permission.SAFETY_OVERRIDE)
@require_POST
def override(request: HttpRequest, public_id: uuid.UUID, order_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.SAFETY_OVERRIDE)
    order = _order(actor, patient, order_id)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return _back(patient)
    try:
        override_record(
            actor, order, rule=form.cleaned_data["rule"], reason=form.cleaned_data["reason"]
        )
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{form.cleaned_data['rule']} overridden for {order.drug_name}; the override is "
            "recorded with your reason and what the rule saw.",
        )
    return _back(patient)


def _administration(actor: Actor, patient: Patient, administration_id: uuid.UUID) -> Administration:
    row = (
        Administration.objects.filter(
            organization_id=actor.organization_id, patient=patient, public_id=administration_id
        )
        .select_related("patient", "order")
        .first()
    )
    if row is None:
        raise Http404
    return row


@staff_view(Permission.MEDICAL_WRITE)
@require_POST
def followup(
    request: HttpRequest, public_id: uuid.UUID, administration_id: uuid.UUID
) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.MEDICAL_WRITE)
    row = _administration(actor, patient, administration_id)
    form = FollowupForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return _back(patient)
    try:
        followup_record(
            actor, row, result=form.cleaned_data["result"], note=form.cleaned_data["note"]
        )
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Effectiveness check recorded.")
    return _back(patient)


@staff_view(Permission.MEDICATION_ADMINISTER)
@require_POST
def administration_error(
    request: HttpRequest, public_id: uuid.UUID, administration_id: uuid.UUID
) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.MEDICATION_ADMINISTER)
    row = _administration(actor, patient, administration_id)
    reason = request.POST.get("reason", "")
    try:
        administration_mark_in_error(actor, row, reason=reason)
    except (ValidationFailed, Conflict) as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Marked entered in error.")
    return _back(patient)
