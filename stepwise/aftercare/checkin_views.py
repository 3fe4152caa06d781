"""Check-in pages: a patient's check-ins (upcoming, missed, done), one check-in (where
an outreach task leads), and the record form."""

from __future__ import annotations

import uuid
import zoneinfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from stepwise.aftercare.forms import UNSCHEDULED, CheckinForm
from stepwise.aftercare.models import Checkin
from stepwise.aftercare.rules import plan as plan_rules
from stepwise.aftercare.selectors import checkin_read, checkins_read
from stepwise.aftercare.services.checkins import checkin_record
from stepwise.core.errors import NotFound
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_page_status, staff_view, submit


@staff_view(Permission.CHART_READ)
@require_GET
def checkins_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    found = checkins_read(actor_of(request), public_id, timezone.now())
    if found.plan is not None:
        timezone.activate(zoneinfo.ZoneInfo(found.plan.time_zone))
    return render(request, "aftercare/checkins.html", {"patient": found.patient, "page": found})


@staff_view(Permission.CHART_READ)
@require_GET
def checkin_view(request: HttpRequest, public_id: uuid.UUID, checkin_id: uuid.UUID) -> HttpResponse:
    patient, plan, checkin = checkin_read(actor_of(request), public_id, checkin_id)
    timezone.activate(zoneinfo.ZoneInfo(plan.time_zone))
    contacts = plan.entries(plan_rules.Section.CONTACTS)
    context = {"patient": patient, "plan": plan, "checkin": checkin, "contacts": contacts}
    return render(request, "aftercare/checkin.html", context)


@staff_view(Permission.RECOVERY_WRITE)
@require_http_methods(["GET", "POST"])
def record_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    now = timezone.now()
    # The form's page shows the plan's open check-ins: a read (audited), also on a post.
    found = checkins_read(actor, public_id, now, permission=Permission.RECOVERY_WRITE)
    patient, plan = found.patient, found.plan
    if plan is None or plan.status != "active":
        messages.info(
            request,
            "Check-ins are recorded on an active plan: start the plan and record its review "
            "with the patient first.",
        )
        return redirect("aftercare:plan", public_id=patient.public_id)
    timezone.activate(zoneinfo.ZoneInfo(plan.time_zone))
    open_checkins = found.recordable
    supports = [s.name for s in plan.entries(plan_rules.Section.SUPPORTS)]
    chosen = request.GET.get("checkin", "")
    initial = {
        "method": plan.checkin_method,
        "checkin": chosen
        if chosen
        else (str(open_checkins[0].public_id) if open_checkins else UNSCHEDULED),
    }
    form = CheckinForm(
        request.POST or None,
        initial=initial,
        open_checkins=open_checkins,
        support_names=supports,
        time_zone=plan.time_zone,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        checkin: Checkin | None = None
        key = form.chosen()
        if key is not None:
            checkin = next((c for c in open_checkins if str(c.public_id) == key), None)
            if checkin is None:
                raise NotFound()
        done, status = submit(
            form,
            lambda: checkin_record(
                actor,
                plan,
                form.report(),
                method=form.cleaned_data["method"],
                checkin=checkin,
                at=form.happened(),
            ),
        )
        if done is not None:
            messages.success(request, "Check-in recorded.")
            if done.used:
                messages.info(
                    request,
                    "Use was reported: a relapse event is proposed for the care team's response.",
                )
            return redirect("aftercare:checkins", public_id=patient.public_id)
    context = {"patient": patient, "plan": plan, "form": form, "open_checkins": open_checkins}
    return render(
        request, "aftercare/checkin_form.html", context, status=form_page_status(form, status)
    )
