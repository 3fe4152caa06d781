"""Plan pages: the patient's plan (the version in force with progress, the history of
versions), one version, the draft editor (one item at a time, phone-sized), the
patient's words and signature, signing, starting a review, and the review settings.
Thin over the services and selectors."""

from __future__ import annotations

import contextlib
import uuid
import zoneinfo
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.care.selectors import patient_time_zone
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.plans.forms import (
    DetailsForm,
    GoalForm,
    InterventionForm,
    ObjectiveForm,
    PatientSignatureForm,
    ProblemForm,
    ReviewForm,
    SettingsForm,
    intervention_initial,
)
from stepwise.plans.models import PatientSignature, PlanVersion, ReviewTrigger
from stepwise.plans.rules import edits
from stepwise.plans.rules.content import Goal, Intervention, Objective, Problem
from stepwise.plans.selectors import (
    DraftPage,
    active_session_types,
    draft_page,
    plan_for_write,
    plan_page,
    settings_read,
    sign_preview,
    version_page,
)
from stepwise.plans.services.drafts import (
    draft_details_save,
    draft_item_add,
    draft_item_change,
    draft_item_remove,
    plan_start,
)
from stepwise.plans.services.settings import plan_settings_save
from stepwise.plans.services.versions import (
    patient_signature_record,
    review_start,
    version_sign,
)


def _zone(name: str) -> None:
    """Show this request's times in the patient's facility zone."""
    timezone.activate(zoneinfo.ZoneInfo(name))


def _to_plan(public_id: uuid.UUID) -> HttpResponse:
    return redirect("plans:plan", public_id=public_id)


def _to_draft(public_id: uuid.UUID, anchor: str = "") -> HttpResponse:
    url = reverse("plans:draft", args=[public_id])
    return redirect(f"{url}#{anchor}" if anchor else url)


# --- reading ------------------------------------------------------------------------


@staff_view(Permission.CHART_READ)
@require_GET
def plan(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    page = plan_page(actor_of(request), public_id)
    _zone(page.zone)
    return render(request, "plans/plan.html", {"page": page, "patient": page.patient})


@staff_view(Permission.CHART_READ)
@require_GET
def version(request: HttpRequest, public_id: uuid.UUID, version_id: uuid.UUID) -> HttpResponse:
    page = version_page(actor_of(request), public_id, version_id)
    _zone(page.zone)
    context = {"page": page, "patient": page.patient, "tree": page.tree, "today": page.today}
    return render(request, "plans/version.html", context)


# --- starting and the draft ---------------------------------------------------------


@staff_view(Permission.PLAN_WRITE)
@require_POST
def start(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    target = plan_for_write(actor, public_id)
    try:
        plan_start(actor, target.patient)
    except Conflict as exc:
        messages.error(request, exc.message)
        return _to_plan(public_id)
    messages.success(
        request, "Plan started: write its problems, goals, objectives and interventions."
    )
    return _to_draft(public_id)


def _draft_or_back(request: HttpRequest, public_id: uuid.UUID) -> DraftPage | HttpResponse:
    page = draft_page(actor_of(request), public_id)
    if page is None:
        messages.info(request, "There is no draft: start the plan, or a review of it.")
        return _to_plan(public_id)
    _zone(page.zone)
    return page


@staff_view(Permission.PLAN_WRITE)
@require_GET
def draft(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    page = _draft_or_back(request, public_id)
    if isinstance(page, HttpResponse):
        return page
    context = {"page": page, "patient": page.patient, "tree": page.tree, "today": page.today}
    return render(request, "plans/draft.html", context)


@staff_view(Permission.PLAN_WRITE)
@require_http_methods(["GET", "POST"])
def details(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    page = _draft_or_back(request, public_id)
    if isinstance(page, HttpResponse):
        return page
    version = page.draft
    initial = {"patient_words": version.patient_words}
    if version.is_review:
        initial.update({"trigger": version.trigger, "why": version.why})
    form = DetailsForm(
        request.POST if request.method == "POST" else None,
        review=version.is_review,
        initial=initial,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        saved, status = submit(
            form,
            lambda: draft_details_save(
                actor,
                version,
                patient_words=form.cleaned_data["patient_words"],
                reason=form.reason(),
            ),
        )
        if saved is not None:
            messages.success(request, "Saved.")
            return _to_draft(public_id, "details")
    context = {"page": page, "patient": page.patient, "form": form}
    return render(request, "plans/details.html", context, status=form_page_status(form, status))


# --- one item of the draft ----------------------------------------------------------

KINDS: dict[str, type] = {
    "problem": Problem,
    "goal": Goal,
    "objective": Objective,
    "intervention": Intervention,
}
# What an item is added under: a goal under a problem, an objective under a goal, an
# intervention under either.
PARENTS: dict[str, tuple[type, ...]] = {
    "goal": (Problem,),
    "objective": (Goal,),
    "intervention": (Problem, Goal),
}


def _form_for(
    request: HttpRequest, page: DraftPage, kind: str, initial: dict[str, Any] | None = None
) -> forms.Form:
    data = request.POST if request.method == "POST" else None
    if kind == "problem":
        return ProblemForm(data, initial=initial)
    if kind == "goal":
        return GoalForm(data, initial=initial)
    if kind == "objective":
        return ObjectiveForm(data, initial=initial)
    types = active_session_types(page.plan.organization_id)
    return InterventionForm(data, initial=initial, session_types=types)


def _initial(item: Any) -> dict[str, Any]:
    if isinstance(item, Problem):
        return {"dimension": item.dimension, "statement": item.statement}
    if isinstance(item, Goal):
        return {"statement": item.statement}
    if isinstance(item, Objective):
        return {"statement": item.statement, "target_on": item.target_on, "status": item.status}
    return intervention_initial(item)


def _item_page(
    request: HttpRequest,
    page: DraftPage,
    kind: str,
    form: forms.Form,
    status: int,
    *,
    item: Any = None,
    parent: Any = None,
) -> HttpResponse:
    content = page.tree.content
    context = {
        "page": page,
        "patient": page.patient,
        "kind": kind,
        "form": form,
        "item": item,
        "parent": parent or (edits.parent_of(content, item.key) if item is not None else None),
        "children": _children(item),
    }
    template = "plans/item_form.html"
    return render(request, template, context, status=form_page_status(form, status))


def _children(item: Any) -> str:
    """What goes with an item removed, in words."""
    if isinstance(item, Problem):
        objectives = sum(len(g.objectives) for g in item.goals)
        interventions = len(list(item.all_interventions()))
        return (
            f"{len(item.goals)} goal(s), {objectives} objective(s), {interventions} intervention(s)"
        )
    if isinstance(item, Goal):
        return f"{len(item.objectives)} objective(s), {len(item.interventions)} intervention(s)"
    return ""


def _item_of(form: forms.Form, key: uuid.UUID | None = None) -> Any:
    return form.item(key)  # type: ignore[attr-defined]


@staff_view(Permission.PLAN_WRITE)
@require_http_methods(["GET", "POST"])
def item_new(request: HttpRequest, public_id: uuid.UUID, kind: str) -> HttpResponse:
    actor = actor_of(request)
    page = _draft_or_back(request, public_id)
    if isinstance(page, HttpResponse):
        return page
    if kind not in KINDS:
        raise Http404()
    parent = None
    if kind in PARENTS:
        try:
            parent_key = uuid.UUID(str(request.GET.get("parent", "")))
        except ValueError:
            raise Http404() from None
        parent = edits.find(page.tree.content, parent_key)
        if not isinstance(parent, PARENTS[kind]):
            raise Http404()
    form = _form_for(request, page, kind)
    status = 200
    if request.method == "POST" and form.is_valid():
        item = _item_of(form)
        saved, status = submit(
            form,
            lambda: draft_item_add(actor, page.draft, item, parent=parent.key if parent else None),
        )
        if saved is not None:
            messages.success(request, f"{kind.capitalize()} added.")
            return _to_draft(public_id, f"item-{item.key}")
    return _item_page(request, page, kind, form, status, parent=parent)


@staff_view(Permission.PLAN_WRITE)
@require_http_methods(["GET", "POST"])
def item_edit(
    request: HttpRequest, public_id: uuid.UUID, kind: str, item_key: uuid.UUID
) -> HttpResponse:
    actor = actor_of(request)
    page = _draft_or_back(request, public_id)
    if isinstance(page, HttpResponse):
        return page
    item = edits.find(page.tree.content, item_key)
    if kind not in KINDS or not isinstance(item, KINDS[kind]):
        raise Http404()
    form = _form_for(request, page, kind, _initial(item))
    status = 200
    if request.method == "POST" and form.is_valid():
        changed = _item_of(form, item_key)
        saved, status = submit(form, lambda: draft_item_change(actor, page.draft, changed))
        if saved is not None:
            messages.success(request, f"{kind.capitalize()} saved.")
            return _to_draft(public_id, f"item-{item_key}")
    return _item_page(request, page, kind, form, status, item=item)


@staff_view(Permission.PLAN_WRITE)
@require_POST
def item_remove(request: HttpRequest, public_id: uuid.UUID, item_key: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    page = _draft_or_back(request, public_id)
    if isinstance(page, HttpResponse):
        return page
    try:
        draft_item_remove(actor, page.draft, item_key)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Removed from the draft.")
    return _to_draft(public_id)


# --- the patient's signature, signing, reviews ----------------------------------------------


@staff_view(Permission.PLAN_WRITE)
@require_http_methods(["GET", "POST"])
def patient_signature(
    request: HttpRequest, public_id: uuid.UUID, version_id: uuid.UUID
) -> HttpResponse:
    actor = actor_of(request)
    target = plan_for_write(actor, public_id)
    version: PlanVersion = target.version(version_id)
    _zone(patient_time_zone(target.patient))
    initial = {
        "signature": version.patient_signature,
        "name": version.patient_signed_name or target.patient.display_name,
        "on": version.patient_signed_on or timezone.localdate(),
        "reason": version.patient_declined_reason,
    }
    form = PatientSignatureForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved, status = submit(
            form,
            lambda: patient_signature_record(
                actor,
                version,
                signature=data["signature"],
                name=data.get("name") or "",
                on=data.get("on"),
                reason=data.get("reason") or "",
            ),
        )
        if saved is not None:
            messages.success(request, "The patient's signature is recorded.")
            if saved.is_draft:
                return _to_draft(public_id, "details")
            return _to_plan(public_id)
    context = {
        "patient": target.patient,
        "version": version,
        "form": form,
        "final": not version.is_draft,
        "statuses": PatientSignature,
    }
    return render(
        request, "plans/patient_signature.html", context, status=form_page_status(form, status)
    )


@staff_view(Permission.PLAN_WRITE)
@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    preview = sign_preview(actor, public_id)
    if preview is None:
        messages.info(request, "There is no draft to sign.")
        return _to_plan(public_id)
    _zone(preview.page.zone)
    status = 200
    refusal = ""
    if request.method == "POST":
        try:
            signed = version_sign(actor, preview.page.draft)
        except ValidationFailed as exc:
            preview.errors = exc.errors
            status = 422
        except Conflict as exc:
            refusal, status = exc.message, 409
        else:
            messages.success(
                request,
                f"Version {signed.number} signed: it is the plan in force, its text is final. "
                f"Next review by {signed.review_due_on:%Y-%m-%d}.",
            )
            return _to_plan(public_id)
    context = {
        "preview": preview,
        "page": preview.page,
        "patient": preview.page.patient,
        "refusal": refusal,
    }
    return render(request, "plans/sign.html", context, status=status)


def _review_initial(request: HttpRequest) -> dict[str, Any]:
    """A review started from elsewhere names its trigger and source in the address
    (?trigger=relapse&source=<the relapse event's id>)."""
    initial: dict[str, Any] = {}
    trigger = request.GET.get("trigger", "")
    if trigger in ReviewTrigger.values:
        initial["trigger"] = trigger
    with contextlib.suppress(ValueError):
        initial["source"] = uuid.UUID(request.GET.get("source", ""))
    return initial


@staff_view(Permission.PLAN_WRITE)
@require_http_methods(["GET", "POST"])
def start_review(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    target = plan_for_write(actor, public_id)
    if target.plan is None or target.active is None:
        messages.info(request, "Only a signed plan is reviewed: sign its first version first.")
        return _to_plan(public_id)
    if target.draft is not None:
        messages.info(
            request, f"A review is already in progress (draft version {target.draft.number})."
        )
        return _to_draft(public_id)
    form = ReviewForm(
        request.POST if request.method == "POST" else None, initial=_review_initial(request)
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        plan = target.plan
        started, status = submit(
            form,
            lambda: review_start(
                actor,
                plan,
                trigger=data["trigger"],
                why=data["why"],
                source_type=data.get("source_type") or "",
                source_id=data.get("source"),
            ),
        )
        if started is not None:
            messages.success(
                request,
                f"Review started: draft version {started.number}, copied from version "
                f"{target.active.number}. Change what the review changes, then sign.",
            )
            return _to_draft(public_id)
    context = {"patient": target.patient, "form": form, "active": target.active}
    return render(request, "plans/review.html", context, status=form_page_status(form, status))


# --- settings -----------------------------------------------------------------------------


@staff_view(Permission.CLINICAL_SETTINGS)
@require_http_methods(["GET", "POST"])
def plan_settings(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    page = settings_read(actor)
    programs = [program for program, _ in page.programs]
    initial: dict[str, Any] = {"review_interval_days": page.settings.review_interval_days}
    initial.update({f"program_{p.public_id}": days for p, days in page.programs})
    form = SettingsForm(
        request.POST if request.method == "POST" else None, initial=initial, programs=programs
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        saved, status = submit(
            form,
            lambda: plan_settings_save(
                actor,
                review_interval_days=form.cleaned_data["review_interval_days"],
                programs=form.program_values(),
            ),
        )
        if saved is not None:
            messages.success(request, "Review settings saved; they apply from the next signing.")
            return redirect("plans:settings")
    context = {"form": form, "page": page}
    return render(request, "plans/settings.html", context, status=form_page_status(form, status))
