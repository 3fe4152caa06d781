"""From a screened call to a bed: the pre-admission screen, a held place, the
waitlist, and the admission itself (with the patient match shown for confirmation)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from stepwise.care.forms import local_to_aware
from stepwise.care.selectors import capped_programs, programs_of
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.intake import reads, selectors
from stepwise.intake.forms import (
    NEW_PATIENT,
    AdmitForm,
    GiveBackForm,
    HoldForm,
    ScreenForm,
    WaitlistAddForm,
    WaitlistLeaveForm,
)
from stepwise.intake.models import Inquiry
from stepwise.intake.services.admission import inquiry_admit
from stepwise.intake.services.places import place_give_back, place_hold
from stepwise.intake.services.screening import screening_record
from stepwise.intake.services.waitlist import waitlist_add, waitlist_leave
from stepwise.intake.views import act_on_call, activate_call_zone
from stepwise.patients.models import Patient


@staff_view(Permission.INTAKE_WRITE)
@require_http_methods(["GET", "POST"])
def screen(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    inquiry = reads.inquiry_read(actor, inquiry_id)
    form = ScreenForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        screening, status = submit(form, lambda: screening_record(actor, inquiry, form.answers()))
        if screening is not None:
            level = screening.withdrawal_level or screening.recommended_level
            messages.success(request, f"Screened: level {level} suggested.")
            return redirect("intake:call", inquiry_id=inquiry.public_id)
    return render(
        request,
        "intake/screen.html",
        {"inquiry": inquiry, "form": form},
        status=form_page_status(form, status),
    )


@staff_view(Permission.INTAKE_WRITE)
@require_POST
def hold(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    # The call page shows and fills times in the organization's zone; read them so.
    zone = activate_call_zone(request)

    def held_until(held: Inquiry, data: dict[str, Any]) -> str:
        until = timezone.localtime(held.reservation.hold_until) if held.reservation else None
        return f"A place is held in {data['program'].name} until {until:%Y-%m-%d %H:%M}."

    return act_on_call(
        request,
        inquiry_id,
        HoldForm(request.POST, programs=capped_programs(actor_of(request))),
        "hold_form",
        lambda actor, inquiry, data: place_hold(
            actor,
            inquiry,
            data["program"],
            expected_at=local_to_aware(data["expected_at"], zone),  # type: ignore[arg-type]  # required
        ),
        held_until,
    )


@staff_view(Permission.INTAKE_WRITE)
@require_POST
def give_back(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    return act_on_call(
        request,
        inquiry_id,
        GiveBackForm(request.POST),
        "give_back_form",
        lambda actor, inquiry, data: place_give_back(actor, inquiry, reason=data["reason"]),
        lambda _, __: "The place was given back.",
    )


@staff_view(Permission.INTAKE_WRITE)
@require_POST
def waitlist_join(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    return act_on_call(
        request,
        inquiry_id,
        WaitlistAddForm(request.POST, programs=programs_of(actor_of(request))),
        "waitlist_form",
        lambda actor, inquiry, data: waitlist_add(actor, inquiry, data["program"]),
        lambda _, data: f"On the waitlist for {data['program'].name}.",
    )


@staff_view(Permission.INTAKE_READ)
def waitlist_page(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    activate_call_zone(request)
    waiting = reads.waitlist_read(actor, timezone.now())
    return render(request, "intake/waitlist.html", {"waiting": waiting})


@staff_view(Permission.INTAKE_WRITE)
@require_http_methods(["GET", "POST"])
def waitlist_exit(request: HttpRequest, entry_id: uuid.UUID) -> HttpResponse:
    """Take one person off the waitlist: its own small page, so the list itself stays
    a light table however many wait."""
    actor = actor_of(request)
    entry = selectors.waitlist_entry_get(actor, entry_id)
    form = WaitlistLeaveForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        _, status = submit(
            form,
            lambda: waitlist_leave(
                actor,
                entry,
                exit=data["exit"],
                reason=data["reason"],
                referred_to=data["referred_to"],
                referral_out_reason=data["referral_out_reason"],
            ),
        )
        if status == 200:
            messages.success(request, f"{entry.inquiry.person_name} taken off the waitlist.")
            return redirect("intake:waitlist")
    activate_call_zone(request)
    return render(
        request,
        "intake/waitlist_leave.html",
        {"entry": entry, "form": form},
        status=form_page_status(form, status),
    )


def _match_choices(matches: list[Patient]) -> list[tuple[str, str]]:
    return [
        (
            str(p.public_id),
            f"{p.display_name} · born {p.date_of_birth:%Y-%m-%d} · record {p.mrn}",
        )
        for p in matches
    ]


@staff_view(Permission.INTAKE_WRITE)
@require_http_methods(["GET", "POST"])
def admit(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    """Turn the call into an admission: confirm who the person is (a matching patient
    is shown, never merged silently), choose the program, admit."""
    actor = actor_of(request)
    inquiry = reads.inquiry_read(actor, inquiry_id)
    zone = activate_call_zone(request)
    matches = reads.matches_read(actor, inquiry)
    programs = programs_of(actor)
    screening = selectors.latest_screening(inquiry)
    initial: dict[str, object] = {}
    held = (
        inquiry.reservation
        if inquiry.reservation and inquiry.reservation.status == "held"
        else None
    )
    if held is not None:
        initial["program"] = held.program.public_id
    elif screening and screening.suggested_program:
        initial["program"] = screening.suggested_program.public_id
    form = AdmitForm(
        request.POST if request.method == "POST" else None,
        programs=programs,
        matches=_match_choices(matches),
        initial=initial,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        program = data["program"]
        chosen = data["patient"]
        patient = (
            None
            if chosen == NEW_PATIENT
            else next(p for p in matches if str(p.public_id) == chosen)
        )
        at = local_to_aware(data["admitted_at"], zone)
        admitted, status = submit(
            form,
            lambda: inquiry_admit(actor, inquiry, program, patient=patient, mrn=data["mrn"], at=at),
        )
        if admitted is not None:
            messages.success(
                request,
                f"{admitted.patient.display_name} admitted to {program.name}"
                + ("." if admitted.created_patient else " (existing record)."),
            )
            return redirect("care:chart", public_id=admitted.patient.public_id)
    return render(
        request,
        "intake/admit.html",
        {
            "inquiry": inquiry,
            "form": form,
            "matches": matches,
            "screening": screening,
            "held": held,
            "zone": zone,
        },
        status=form_page_status(form, status),
    )
