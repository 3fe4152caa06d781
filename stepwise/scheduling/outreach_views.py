"""The outreach page: why a patient needs reaching, what they missed, how to reach
them, every try so far, and a form to log the next one."""

from __future__ import annotations

import uuid

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from stepwise.care.chart import patient_for
from stepwise.core.roles import Permission, role_can
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.scheduling.models import OutreachMethod, OutreachOutcome
from stepwise.scheduling.selectors import open_outreach_task, outreach_read
from stepwise.scheduling.services.common import zone_of
from stepwise.scheduling.services.outreach import outreach_attempt_record


class AttemptForm(forms.Form):
    method = forms.ChoiceField(choices=OutreachMethod.choices, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(choices=OutreachOutcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


@staff_view(Permission.CHART_READ)
@require_http_methods(["GET", "POST"])
def outreach_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.CHART_READ)
    status = 200
    form = AttemptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        task = open_outreach_task(actor, patient)
        done, status = submit(
            form,
            lambda: outreach_attempt_record(
                actor,
                patient,
                method=form.cleaned_data["method"],
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                task=task,
            ),
        )
        if done is not None:
            return redirect(reverse("scheduling:outreach", args=[patient.public_id]))
    found = outreach_read(actor, patient, timezone.now())
    if found.stay is not None:
        timezone.activate(zone_of(found.stay.program))
    context = {
        "patient": patient,
        "file": found,
        "form": form,
        "can_write": role_can(actor.role, Permission.CARE_WRITE),
    }
    return render(
        request, "scheduling/outreach.html", context, status=form_page_status(form, status)
    )
