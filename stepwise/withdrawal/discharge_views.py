"""The safe-discharge bundle page: each item done or declined with a reason, and
what still stands between the patient and leaving withdrawal management."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from stepwise.care.chart import patient_access, patient_for, record_read
from stepwise.care.forms import local_to_aware
from stepwise.care.models import Stay
from stepwise.care.selectors import patient_time_zone
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_errors_text, staff_view
from stepwise.withdrawal.flowsheet import stay_for_flowsheet
from stepwise.withdrawal.forms import LOCAL_TIME
from stepwise.withdrawal.models import BundleClosure, BundleItem
from stepwise.withdrawal.rules import bundle as rules
from stepwise.withdrawal.services.discharge import bundle_item_record, bundle_records


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


@dataclass(frozen=True)
class ItemRow:
    item: rules.Item
    label: str
    row: BundleItem | None


@dataclass(frozen=True)
class BundlePage:
    stay: Stay | None
    rows: list[ItemRow]
    gaps_transition: list[str]
    gaps_discharge: list[str]
    closure: BundleClosure | None


def _page(stay: Stay | None) -> BundlePage:
    if stay is None or not stay.program.is_withdrawal_management:
        return BundlePage(stay, [], [], [], None)
    stored = {
        r.item: r
        for r in BundleItem.objects.filter(
            organization_id=stay.organization_id, stay=stay
        ).select_related("recorded_by")
    }
    rows = [ItemRow(i, rules.ITEM_LABELS[i], stored.get(i.value)) for i in rules.Item]
    records = bundle_records(stay)
    now = timezone.now()
    closure = BundleClosure.objects.filter(stay=stay).first()
    return BundlePage(
        stay,
        rows,
        rules.bundle_gaps(records, rules.Leaving(now, to_next_program=True)),
        rules.bundle_gaps(records, rules.Leaving(now, to_next_program=False, discharge_reason=1)),
        closure,
    )


@staff_view(Permission.CHART_READ)
@require_GET
def page(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category="withdrawal"
    )
    timezone.activate(patient_time_zone(patient))
    found = _page(stay_for_flowsheet(patient))
    record_read(
        actor,
        patient,
        basis,
        category="withdrawal",
        object_type="discharge_bundle",
        object_id=found.stay.public_id if found.stay else patient.public_id,
    )
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
