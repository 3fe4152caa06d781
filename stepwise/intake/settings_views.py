"""The admissions settings page (clinical director): hold time, recent overdose,
the open-capacity feed and each ambulatory program's cap on places."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from stepwise.care.models import Program
from stepwise.care.selectors import programs_of
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.intake.services.common import settings_of
from stepwise.intake.services.configuration import (
    HOLD_HOURS,
    RECENT_OVERDOSE_DAYS,
    intake_settings_update,
    place_caps_update,
)


class IntakeSettingsForm(forms.Form):
    hold_hours = forms.IntegerField(
        label="Hold a place for (hours after the expected arrival)",
        min_value=HOLD_HOURS[0],
        max_value=HOLD_HOURS[1],
    )
    recent_overdose_days = forms.IntegerField(
        label="An overdose is recent for (days)",
        min_value=RECENT_OVERDOSE_DAYS[0],
        max_value=RECENT_OVERDOSE_DAYS[1],
    )
    capacity_feed_enabled = forms.BooleanField(
        label="Publish the open-capacity feed (counts only, no patient data)", required=False
    )
    new_feed_key = forms.BooleanField(
        label="Issue a new feed address (the old one stops working)", required=False
    )

    def __init__(self, *args: Any, programs: list[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programs = programs
        for program in programs:
            self.fields[f"cap_{program.pk}"] = forms.IntegerField(
                label=f"{program.name} (ASAM {program.asam_level}, {program.facility.name})",
                min_value=1,
                max_value=10000,
                required=False,
                help_text="Places; empty for no cap.",
            )

    def cap_fields(self) -> list[forms.BoundField]:
        return [self[f"cap_{p.pk}"] for p in self.programs]


@staff_view(Permission.CLINICAL_SETTINGS)
@require_http_methods(["GET", "POST"])
def intake_settings(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    row = settings_of(actor.organization_id)
    ambulatory = [p for p in programs_of(actor) if not p.has_beds]
    initial: dict[str, object] = {
        "hold_hours": row.hold_hours,
        "recent_overdose_days": row.recent_overdose_days,
        "capacity_feed_enabled": row.capacity_feed_enabled,
        **{f"cap_{p.pk}": p.place_cap for p in ambulatory},
    }
    form = IntakeSettingsForm(
        request.POST if request.method == "POST" else None, programs=ambulatory, initial=initial
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def save() -> None:
            with transaction.atomic():
                intake_settings_update(
                    actor,
                    hold_hours=data["hold_hours"],
                    recent_overdose_days=data["recent_overdose_days"],
                    capacity_feed_enabled=data["capacity_feed_enabled"],
                    new_feed_key=data["new_feed_key"],
                )
                place_caps_update(actor, {p: data[f"cap_{p.pk}"] for p in ambulatory})

        _, status = submit(form, save)
        if status == 200:
            messages.success(request, "Admissions settings saved.")
            return redirect("intake:settings")
    feed_url = ""
    if row.capacity_feed_enabled and row.capacity_feed_key:
        feed_url = request.build_absolute_uri(
            reverse(
                "intake:capacity_feed",
                kwargs={"slug": actor.organization.slug, "key": row.capacity_feed_key},
            )
        )
    return render(
        request,
        "intake/settings.html",
        {"form": form, "row": row, "feed_url": feed_url},
        status=form_page_status(form, status),
    )
