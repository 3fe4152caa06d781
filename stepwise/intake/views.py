"""The admissions desk and a call's own pages: crisis triage first, then who called
and the person's situation, the lead's review, a follow-up and how the call ends."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from stepwise.care.forms import local_to_aware
from stepwise.care.selectors import capped_programs, organization_time_zone, programs_of
from stepwise.core.actor import Actor
from stepwise.core.roles import Permission, role_can
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.intake import reads, selectors
from stepwise.intake.forms import (
    CallDetailsForm,
    ConcludeForm,
    FollowUpForm,
    GiveBackForm,
    HoldForm,
    NoteForm,
    TriageForm,
    WaitlistAddForm,
)
from stepwise.intake.models import Inquiry, Outcome
from stepwise.intake.rules import triage
from stepwise.intake.services.inquiries import (
    call_details_update,
    crisis_note_add,
    follow_up_set,
    inquiry_conclude,
    inquiry_start,
    lead_review,
)


@staff_view(Permission.INTAKE_READ)
def desk(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    now = timezone.now()
    timezone.activate(organization_time_zone(actor.organization_id))
    query = request.GET.get("q", "").strip()[:100]
    context: dict[str, object]
    if query:
        context = {"query": query, "found": reads.search_read(actor, query)}
    else:
        context = {"desk": reads.desk_read(actor, now)}
    return render(request, "intake/desk.html", {**context, "now": now})


@staff_view(Permission.INTAKE_WRITE)
@require_http_methods(["GET", "POST"])
def call_new(request: HttpRequest) -> HttpResponse:
    """Step one of every call: the danger questions. Tap a sign, then 'Show what to
    do now' (two taps), or 'None of these' to go on to the call."""
    actor = actor_of(request)
    form = TriageForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        inquiry, status = submit(
            form, lambda: inquiry_start(actor, signs=form.cleaned_data["signs"])
        )
        if inquiry is not None:
            if inquiry.in_crisis:
                return redirect("intake:call", inquiry_id=inquiry.public_id)
            return redirect("intake:call_details", inquiry_id=inquiry.public_id)
    return render(
        request,
        "intake/call_new.html",
        {"form": form, "questions": triage.QUESTIONS},
        status=form_page_status(form, status),
    )


def activate_call_zone(request: HttpRequest) -> str:
    zone = organization_time_zone(actor_of(request).organization_id)
    timezone.activate(zone)
    return zone


def call_page_context(
    request: HttpRequest, inquiry: Inquiry, **refused: object
) -> dict[str, object]:
    """Everything the call page shows; forms passed in replace the blank ones (to show
    their errors)."""
    actor = actor_of(request)
    zone = activate_call_zone(request)
    screening = selectors.latest_screening(inquiry)
    programs = programs_of(actor)
    capped = capped_programs(actor)
    local_now = timezone.localtime(timezone.now() + timedelta(hours=1))
    suggested = screening.suggested_program if screening else None
    hold_initial: dict[str, object] = {
        "expected_at": local_now.replace(second=0, microsecond=0, tzinfo=None)
    }
    if suggested is not None:
        hold_initial["program"] = suggested.public_id
    waiting = [w for w in inquiry.waitlist.all() if w.is_open]
    context: dict[str, object] = {
        "inquiry": inquiry,
        "zone": zone,
        "screening": screening,
        "steps": [triage.STEPS[triage.Advice(a)] for a in inquiry.crisis_advice],
        "sign_texts": [triage.QUESTION_TEXT[triage.Sign(s)] for s in inquiry.crisis_signs],
        "note_form": NoteForm(),
        "lead_form": NoteForm(),
        "hold_form": HoldForm(programs=capped, initial=hold_initial),
        "waitlist_form": WaitlistAddForm(
            programs=programs, initial={"program": suggested.public_id} if suggested else None
        ),
        "conclude_form": ConcludeForm(),
        "follow_up_form": FollowUpForm(
            initial={
                "due_at": timezone.localtime(inquiry.follow_up_due_at).replace(tzinfo=None)
                if inquiry.follow_up_due_at
                else None,
                "note": inquiry.follow_up_note,
            }
        ),
        "give_back_form": GiveBackForm(),
        "open_waitlist": waiting[0] if waiting else None,
        "held": inquiry.reservation
        if inquiry.reservation and inquiry.reservation.status == "held"
        else None,
        "can_lead": role_can(actor.role, Permission.INTAKE_LEAD),
        "can_write": role_can(actor.role, Permission.INTAKE_WRITE),
        "is_admitted": inquiry.outcome == Outcome.ADMITTED,
        "now": timezone.now(),
    }
    context.update(refused)
    return context


@staff_view(Permission.INTAKE_READ)
def call(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    inquiry = reads.inquiry_read(actor_of(request), inquiry_id)
    return render(request, "intake/call.html", call_page_context(request, inquiry))


# What a call-page form does once valid: the service call, given the actor, the call
# and the form's cleaned data; then the message shown after it, given its result.
Act = Callable[[Actor, Inquiry, dict[str, Any]], object]
Done = Callable[[Any, dict[str, Any]], str]


def act_on_call(
    request: HttpRequest,
    inquiry_id: uuid.UUID,
    form: forms.Form,
    form_name: str,
    act: Act,
    done: Done,
) -> HttpResponse:
    """Run one of the call page's forms: back to the call with a message when done, or
    the call page again with the form showing why not (422 invalid, 409 refused)."""
    actor = actor_of(request)
    inquiry = reads.inquiry_read(actor, inquiry_id)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        result, status = submit(form, lambda: act(actor, inquiry, data))
        if status == 200:
            messages.success(request, done(result, data))
            return redirect("intake:call", inquiry_id=inquiry.public_id)
    context = call_page_context(request, inquiry, **{form_name: form})
    return render(request, "intake/call.html", context, status=status)


@staff_view(Permission.INTAKE_WRITE)
@require_http_methods(["GET", "POST"])
def call_details(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    inquiry = reads.inquiry_read(actor, inquiry_id)
    zone = activate_call_zone(request)
    if request.method == "POST":
        form = CallDetailsForm(request.POST, time_zone=zone)
    else:
        form = CallDetailsForm(initial=_details_initial(inquiry), time_zone=zone)
    status = 200
    if request.method == "POST" and form.is_valid():
        saved, status = submit(form, lambda: call_details_update(actor, inquiry, form.details()))
        if saved is not None:
            messages.success(request, "Call details saved.")
            if request.POST.get("next") == "screen":
                return redirect("intake:screen", inquiry_id=inquiry.public_id)
            return redirect("intake:call", inquiry_id=inquiry.public_id)
    return render(
        request,
        "intake/call_details.html",
        {"inquiry": inquiry, "form": form, "zone": zone},
        status=form_page_status(form, status),
    )


def _details_initial(inquiry: Inquiry) -> dict[str, object]:
    initial: dict[str, object] = {
        name: getattr(inquiry, name)
        for name in CallDetailsForm.base_fields
        if hasattr(inquiry, name)
    }
    if inquiry.last_use_at:
        initial["last_use_at"] = timezone.localtime(inquiry.last_use_at).replace(tzinfo=None)
    for use in inquiry.substances.all():
        initial[f"substance_{use.rank}"] = use.substance
        initial[f"route_{use.rank}"] = use.route
        initial[f"frequency_{use.rank}"] = use.frequency
    return initial


@staff_view(Permission.INTAKE_WRITE)
@require_POST
def crisis_note(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    return act_on_call(
        request,
        inquiry_id,
        NoteForm(request.POST),
        "note_form",
        lambda actor, inquiry, data: crisis_note_add(actor, inquiry, note=data["note"]),
        lambda _, __: "Noted.",
    )


@staff_view(Permission.INTAKE_LEAD)
@require_POST
def lead_review_view(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    return act_on_call(
        request,
        inquiry_id,
        NoteForm(request.POST),
        "lead_form",
        lambda actor, inquiry, data: lead_review(actor, inquiry, note=data["note"]),
        lambda _, __: "Review recorded.",
    )


@staff_view(Permission.INTAKE_WRITE)
@require_POST
def conclude(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    return act_on_call(
        request,
        inquiry_id,
        ConcludeForm(request.POST),
        "conclude_form",
        lambda actor, inquiry, data: inquiry_conclude(
            actor,
            inquiry,
            outcome=data["outcome"],
            note=data["note"],
            referred_to=data["referred_to"],
            referral_out_reason=data["referral_out_reason"],
        ),
        lambda _, data: f"Call ended: {Outcome(data['outcome']).label.lower()}.",
    )


@staff_view(Permission.INTAKE_WRITE)
@require_POST
def follow_up(request: HttpRequest, inquiry_id: uuid.UUID) -> HttpResponse:
    zone = activate_call_zone(request)
    return act_on_call(
        request,
        inquiry_id,
        FollowUpForm(request.POST),
        "follow_up_form",
        lambda actor, inquiry, data: follow_up_set(
            actor, inquiry, due_at=local_to_aware(data["due_at"], zone), note=data["note"]
        ),
        lambda _, data: "Follow-up set." if data["due_at"] else "Follow-up marked done.",
    )
