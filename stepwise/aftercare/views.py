"""The aftercare plan's pages: the plan, one section's editor, the review with the
patient, the patient's ending and restart, the history, and the printed copy. Thin
over the services and selectors."""

from __future__ import annotations

import uuid
import zoneinfo
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.aftercare import forms as f
from stepwise.aftercare.models import AftercarePlan
from stepwise.aftercare.printout import plan_pdf
from stepwise.aftercare.rules import plan as rules
from stepwise.aftercare.selectors import (
    PlanPage,
    plan_for_write,
    plan_history_read,
    plan_page_read,
    plan_printout_read,
)
from stepwise.aftercare.services.plans import (
    plan_activate,
    plan_end,
    plan_restart,
    plan_sections_save,
    plan_start,
)
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.patients.models import Patient


def _in_zone(zone: str) -> None:
    timezone.activate(zoneinfo.ZoneInfo(zone))


def _who(request: HttpRequest) -> str:
    user = request.user
    return str(getattr(user, "get_full_name", lambda: "")() or getattr(user, "username", ""))


def _plan_context(page: PlanPage, request: HttpRequest) -> dict[str, Any]:
    actor = actor_of(request)
    return {
        "patient": page.patient,
        "page": page,
        "view": page.view,
        "plan": page.plan,
        # The same lines the printed copy carries, so staff see what the patient gets.
        "crisis": page.crisis_lines(actor.organization.name),
    }


@staff_view(Permission.CHART_READ)
@require_GET
def plan_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    page = plan_page_read(actor_of(request), public_id)
    if page.plan is not None:
        _in_zone(page.plan.time_zone)
    return render(request, "aftercare/plan.html", _plan_context(page, request))


def _to_plan(patient: Patient) -> HttpResponse:
    return redirect("aftercare:plan", public_id=patient.public_id)


@staff_view(Permission.RECOVERY_WRITE)
@require_POST
def plan_start_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient, _ = plan_for_write(actor, public_id)
    try:
        plan_start(actor, patient)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            "Plan started as a draft. Write it with the patient, then record the review.",
        )
    return _to_plan(patient)


def _section_of(name: str) -> rules.Section:
    try:
        return rules.Section(name)
    except ValueError:
        raise Http404() from None


def _with_revision(data: Any, revision: int) -> Any:
    """The posted values with the plan's current revision, after a refused save: the
    editor has now seen the other change, and saving again is their choice."""
    fresh = data.copy()
    fresh["revision"] = str(revision)
    return fresh


def _save_section(
    request: HttpRequest, plan: AftercarePlan, section: rules.Section
) -> tuple[HttpResponse | None, Any, Any, int]:
    """Validate and save one posted section; the forms come back with any errors."""
    actor = actor_of(request)
    if section in rules.TEXT_SECTIONS:
        form: Any = f.LinesForm(request.POST, section=section)
        formset = None
    else:
        form = f.RevisionForm(request.POST)
        formset = f.entry_formset(section, request.POST)
    if not form.is_valid() or (formset is not None and not formset.is_valid()):
        return None, form, formset, 422
    rows: list[int] = []
    if formset is None:
        values: list[Any] = form.values()
    else:
        values, rows = f.formset_values(formset)
    revision = form.cleaned_data["revision"]
    try:
        plan_sections_save(actor, plan, {section.value: values}, expected_revision=revision)
    except ValidationFailed as exc:
        if formset is None:
            for message in exc.errors.values():
                form.add_error("entries", message)
        else:
            for message in f.apply_entry_errors(formset, rows, exc.errors):
                form.add_error(None, message)
        return None, form, formset, 422
    except Conflict as exc:
        current = AftercarePlan.objects.get(pk=plan.pk).revision
        data = _with_revision(request.POST, current)
        if formset is None:
            form = f.LinesForm(data, section=section)
        else:
            form, formset = f.RevisionForm(data), f.entry_formset(section, data)
        form.is_valid()
        form.add_error(None, exc.message)
        if formset is not None:
            formset.is_valid()
        return None, form, formset, 409
    messages.success(request, f"{rules.SECTION_LABELS[section]} saved.")
    return _to_plan(plan.patient), form, formset, 200


@staff_view(Permission.RECOVERY_WRITE)
@require_http_methods(["GET", "POST"])
def section_edit(request: HttpRequest, public_id: uuid.UUID, section: str) -> HttpResponse:
    actor = actor_of(request)
    key = _section_of(section)
    status = 200
    if request.method == "POST":
        patient, plan = plan_for_write(actor, public_id)
        if plan is None:
            messages.error(request, "Start the plan first.")
            return _to_plan(patient)
        if plan.is_ended:
            messages.error(request, "The patient ended this plan; restart it to change it.")
            return _to_plan(patient)
        done, form, formset, status = _save_section(request, plan, key)
        if done is not None:
            return done
    else:
        page = plan_page_read(actor, public_id, permission=Permission.RECOVERY_WRITE)
        patient, plan = page.patient, page.plan
        if plan is None or page.view is None:
            messages.info(request, "Start the plan first.")
            return _to_plan(patient)
        if plan.is_ended:
            messages.info(request, "The patient ended this plan; restart it to change it.")
            return _to_plan(patient)
        entries = page.view.sections[key]
        if key in rules.TEXT_SECTIONS:
            form = f.LinesForm(
                section=key, initial={"entries": "\n".join(entries), "revision": plan.revision}
            )
            formset = None
        else:
            form = f.RevisionForm(initial={"revision": plan.revision})
            formset = f.entry_formset(key, initial=f.initial_entries(key, entries))
    context = {
        "patient": patient,
        "plan": plan,
        "section": key,
        "label": rules.SECTION_LABELS[key],
        "help": rules.SECTION_HELP[key],
        "form": form,
        "formset": formset,
    }
    return render(request, "aftercare/section_form.html", context, status=status)


def _form_page(
    request: HttpRequest,
    template: str,
    patient: Patient,
    plan: AftercarePlan | None,
    form: Any,
    status: int,
) -> HttpResponse:
    if plan is not None:
        _in_zone(plan.time_zone)
    context = {"patient": patient, "plan": plan, "form": form}
    return render(request, template, context, status=form_page_status(form, status))


def _writable_plan(
    request: HttpRequest, public_id: uuid.UUID
) -> tuple[Patient, AftercarePlan | None]:
    """For a form's GET the plan it shows is a read (audited); a POST's service audits."""
    actor = actor_of(request)
    if request.method == "POST":
        return plan_for_write(actor, public_id)
    page = plan_page_read(actor, public_id, permission=Permission.RECOVERY_WRITE)
    return page.patient, page.plan


@staff_view(Permission.RECOVERY_WRITE)
@require_http_methods(["GET", "POST"])
def review_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient, plan = _writable_plan(request, public_id)
    if plan is None:
        messages.info(request, "Start the plan first.")
        return _to_plan(patient)
    form = f.ReviewForm(request.POST or None, time_zone=plan.time_zone)
    status = 200
    if request.method == "POST" and form.is_valid():
        done, status = submit(
            form,
            lambda: plan_activate(
                actor, plan, reviewed_at=form.reviewed(), note=form.cleaned_data["note"]
            ),
        )
        if done is not None:
            if done.checkins_from is None:
                when = "Check-ins start when the patient leaves care."
            else:
                when = f"Check-ins run from {done.checkins_from:%Y-%m-%d}."
            messages.success(request, f"Review recorded: the plan is active. {when}")
            return _to_plan(patient)
    return _form_page(request, "aftercare/review.html", patient, plan, form, status)


@staff_view(Permission.RECOVERY_WRITE)
@require_http_methods(["GET", "POST"])
def end_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient, plan = _writable_plan(request, public_id)
    if plan is None:
        messages.info(request, "There is no plan to end.")
        return _to_plan(patient)
    form = f.EndForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        done, status = submit(
            form,
            lambda: plan_end(
                actor,
                plan,
                reason=form.cleaned_data["reason"],
                ended_on=form.cleaned_data["ended_on"],
            ),
        )
        if done is not None:
            messages.success(
                request, "The plan is ended, as the patient chose. It can be restarted."
            )
            return _to_plan(patient)
    return _form_page(request, "aftercare/end.html", patient, plan, form, status)


@staff_view(Permission.RECOVERY_WRITE)
@require_http_methods(["GET", "POST"])
def restart_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient, plan = _writable_plan(request, public_id)
    if plan is None:
        messages.info(request, "There is no plan to restart; start one.")
        return _to_plan(patient)
    form = f.RestartForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        done, status = submit(
            form, lambda: plan_restart(actor, plan, note=form.cleaned_data["note"])
        )
        if done is not None:
            messages.success(request, "Plan restarted as a draft: go through it with the patient.")
            return _to_plan(patient)
    return _form_page(request, "aftercare/restart.html", patient, plan, form, status)


@staff_view(Permission.CHART_READ)
@require_GET
def history_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    patient, plan, changes = plan_history_read(actor_of(request), public_id)
    if plan is not None:
        _in_zone(plan.time_zone)
    rows = [(c, _change_title(c), _shown_content(c)) for c in changes]
    return render(
        request, "aftercare/history.html", {"patient": patient, "plan": plan, "rows": rows}
    )


def _change_title(change: Any) -> str:
    if change.kind == "section":
        return f"{rules.SECTION_LABELS[rules.Section(change.section)]} changed"
    if change.kind == "schedule":
        stopped = isinstance(change.content, dict) and change.content.get("stopped")
        return "Check-ins stopped" if stopped else "Check-ins started"
    return str(change.get_kind_display())


def _shown_content(change: Any) -> list[str]:
    """What a change holds as lines of text, for the history page."""
    content = change.content
    if change.kind == "schedule" and isinstance(content, dict):
        said = []
        if content.get("started_on"):
            said.append(f"From {content['started_on']}: {content.get('schedule', '')}.")
        if content.get("no_longer_due"):
            said.append(f"{content['no_longer_due']} check-ins no longer due.")
        return said
    if change.kind == "ended" and isinstance(content, dict) and content.get("ended_on"):
        return [f"On {content['ended_on']}."]
    if change.kind != "section":
        return []
    section = rules.Section(change.section)
    try:
        entries = rules.parse_section(section.value, change.content)
    except rules.SectionError:
        return [str(change.content)]
    lines: list[str] = []
    for entry in entries:
        if isinstance(entry, str):
            lines.append(entry)
        elif isinstance(entry, rules.Support):
            extra = ", ".join(
                x
                for x in (entry.schedule, entry.contact, entry.next_on and f"next {entry.next_on}")
                if x
            )
            lines.append(f"{entry.kind_label}: {entry.name}{f' ({extra})' if extra else ''}")
        elif isinstance(entry, rules.PersonToAvoid):
            lines.append(f"{entry.who} ({entry.relationship_label.lower()})")
        else:
            lines.append(f"{entry.name} ({entry.relationship}): {entry.phone}")
    return lines or ["(emptied)"]


@staff_view(Permission.CHART_READ)
@require_GET
def print_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    page = plan_printout_read(actor, public_id)
    if page.plan is None:
        messages.info(request, "There is no aftercare plan to print yet.")
        return _to_plan(page.patient)
    content = plan_pdf(page, actor.organization.name, by=_who(request), at=timezone.now())
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="aftercare-plan.pdf"'
    # A printed record must not linger in shared or browser caches.
    response["Cache-Control"] = "no-store"
    return response
