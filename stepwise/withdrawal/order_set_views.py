"""The clinical director's order-set pages for one withdrawal-management program:
the sets offered, a new or changed set, retiring one, and the default comfort set."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.care.models import Program
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, staff_view
from stepwise.withdrawal.models import OrderSet
from stepwise.withdrawal.order_set_forms import (
    LineFormSet,
    OrderSetForm,
    line_formset,
    line_formset_with_rows,
    posted_rows,
)
from stepwise.withdrawal.order_sets import (
    available_set,
    order_set_of,
    program_sets,
    set_lines,
)
from stepwise.withdrawal.selectors import withdrawal_program
from stepwise.withdrawal.services.order_sets import (
    default_set_offer,
    order_set_create,
    order_set_retire,
    order_set_update,
)


def _back(program: Program) -> HttpResponse:
    return redirect("withdrawal:order_sets", program_id=program.public_id)


@staff_view(Permission.CLINICAL_SETTINGS)
@require_GET
def order_sets(request: HttpRequest, program_id: uuid.UUID) -> HttpResponse:
    program = withdrawal_program(actor_of(request), program_id)
    return render(request, "withdrawal/order_sets.html", {"sets": program_sets(program)})


def _apply_errors(form: OrderSetForm, lines: LineFormSet, error: ValidationFailed) -> None:
    """Put the service's messages on the name, the set, or the line they name."""
    filled = lines.filled_forms()
    for field, message in error.errors.items():
        parts = field.split(".")
        if parts[0] == "lines" and len(parts) == 3 and int(parts[1]) < len(filled):
            row = filled[int(parts[1])]
            row.add_error(parts[2] if parts[2] in row.fields else None, message)
        elif field in form.fields:
            form.add_error(field, message)
        else:
            form.add_error(None, message)


def _edit_page(request: HttpRequest, program: Program, order_set: OrderSet | None) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "POST" and "add_rows" in request.POST:
        # More empty rows: show the form again as typed, nothing checked or saved.
        form = OrderSetForm(
            initial={
                "name": request.POST.get("name", ""),
                "description": request.POST.get("description", ""),
            }
        )
        lines = line_formset_with_rows(posted_rows(request.POST))
    elif request.method == "POST":
        form = OrderSetForm(request.POST)
        lines = line_formset(request.POST)
        if form.is_valid() and lines.is_valid():
            values = {
                "name": form.cleaned_data["name"],
                "description": form.cleaned_data["description"],
                "lines": lines.lines(),
            }
            try:
                if order_set is None:
                    saved = order_set_create(actor, program, **values)
                else:
                    saved = order_set_update(actor, order_set, **values)
            except ValidationFailed as exc:
                _apply_errors(form, lines, exc)
            except Conflict as exc:
                messages.error(request, exc.message)
                return _back(program)
            else:
                messages.success(request, f"Order set “{saved.name}” saved for {program.name}.")
                return _back(program)
    elif order_set is not None:
        form = OrderSetForm(initial={"name": order_set.name, "description": order_set.description})
        lines = line_formset(initial=set_lines(order_set))
    else:
        copied = available_set(program, request.GET.get("copy", ""))
        form = OrderSetForm(initial={"name": f"{copied.name} ({program.name})"} if copied else None)
        lines = line_formset(initial=copied.lines if copied else ())
    invalid = form.errors or lines.total_error_count()
    return render(
        request,
        "withdrawal/order_set_form.html",
        {"program": program, "order_set": order_set, "form": form, "lines": lines},
        status=422 if invalid else 200,
    )


@staff_view(Permission.CLINICAL_SETTINGS)
@require_http_methods(["GET", "POST"])
def order_set_new(request: HttpRequest, program_id: uuid.UUID) -> HttpResponse:
    program = withdrawal_program(actor_of(request), program_id)
    return _edit_page(request, program, None)


@staff_view(Permission.CLINICAL_SETTINGS)
@require_http_methods(["GET", "POST"])
def order_set_edit(request: HttpRequest, program_id: uuid.UUID, set_id: uuid.UUID) -> HttpResponse:
    program = withdrawal_program(actor_of(request), program_id)
    order_set = order_set_of(program, set_id)
    if not order_set.is_active:
        messages.error(request, "This set is retired; create a new one instead.")
        return _back(program)
    return _edit_page(request, program, order_set)


@staff_view(Permission.CLINICAL_SETTINGS)
@require_POST
def order_set_retire_view(
    request: HttpRequest, program_id: uuid.UUID, set_id: uuid.UUID
) -> HttpResponse:
    actor = actor_of(request)
    program = withdrawal_program(actor, program_id)
    try:
        retired = order_set_retire(actor, order_set_of(program, set_id))
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Order set “{retired.name}” retired; orders placed from it go on."
        )
    return _back(program)


@staff_view(Permission.CLINICAL_SETTINGS)
@require_POST
def default_set(request: HttpRequest, program_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    program = withdrawal_program(actor, program_id)
    offered = request.POST.get("offered") == "1"
    default_set_offer(actor, program, offered=offered)
    if offered:
        messages.success(request, f"Physicians of {program.name} are offered the default set.")
    else:
        messages.success(request, f"The default set is no longer offered in {program.name}.")
    return _back(program)
