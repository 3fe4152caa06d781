"""The safe-discharge bundle page: each item done or declined with a reason, and
what still stands between the patient and leaving withdrawal management."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from stepwise.care.chart import patient_for
from stepwise.care.forms import local_to_aware
from stepwise.care.selectors import patient_time_zone
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_errors_text, staff_view
from stepwise.withdrawal.bundle_reads import bundle_page_read
from stepwise.withdrawal.forms import LOCAL_TIME
from stepwise.withdrawal.rules import bundle as rules
from stepwise.withdrawal.services.discharge import bundle_item_record


class ItemForm(forms.Form):
    state = forms.ChoiceField(
        choices=[("done", "Done"), ("declined", "Declined")], widget=forms.RadioSelect
    )
    reason = forms.CharField(required=False, max_length=1000)
    moud_answer = forms.ChoiceField(
        required=False, choices=[("", "—"), ("accepted", "Accepted"), ("declined", "Declined")]
    )
    appointment_at = forms.DateTimeField(required=False, widget=LOCAL_TIME)
    appointment_with = forms.CharField(required=False, max_length=200)


@staff_view(Permission.CHART_READ)
@require_GET
def page(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    patient, found = bundle_page_read(actor_of(request), public_id)
    timezone.activate(patient_time_zone(patient))
    return render(
        request, "withdrawal/bundle.html", {"patient": patient, "bundle": found, "form": ItemForm()}
    )


@staff_view(Permission.DISCHARGE_BUNDLE)
@require_POST
def record(request: HttpRequest, public_id: uuid.UUID, item: str) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.DISCHARGE_BUNDLE)
    form = ItemForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            bundle_item_record(
                actor,
                patient,
                item=item,
                state=data["state"],
                reason=data["reason"],
                moud_answer=data["moud_answer"],
                appointment_at=local_to_aware(data["appointment_at"], patient_time_zone(patient)),
                appointment_with=data["appointment_with"],
            )
        except (ValidationFailed, Conflict) as exc:
            messages.error(request, exc.message)
        else:
            label = rules.ITEM_LABELS.get(rules.Item(item), item)
            messages.success(request, f"{label}: {data['state']}.")
    else:
        messages.error(request, form_errors_text(form))
    return redirect("discharge_bundle:page", public_id=patient.public_id)
