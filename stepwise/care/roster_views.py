"""A program's staff page: who is on the care team of everyone in the program."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from stepwise.accounts.models import Membership
from stepwise.care.roster import (
    STAFF_ROLES,
    program_staff_add,
    program_staff_of,
    program_staff_remove,
)
from stepwise.care.selectors import program_get
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.roles import ROLE_LABELS, Permission, Role
from stepwise.core.web import actor_of, staff_view


class StaffForm(forms.Form):
    user = forms.TypedChoiceField(coerce=int, label="Member of staff")
    action = forms.ChoiceField(choices=[("add", "Add"), ("remove", "Remove")])


@staff_view(Permission.CLINICAL_SETTINGS)
@require_http_methods(["GET", "POST"])
def program_staff(request: HttpRequest, program_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    program = program_get(actor, program_id)
    members = list(
        Membership.objects.filter(
            organization_id=actor.organization_id, is_active=True, role__in=STAFF_ROLES
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    form = StaffForm(request.POST or None)
    form.fields["user"].choices = [  # type: ignore[attr-defined]
        (m.user_id, m.user.get_full_name() or m.user.get_username()) for m in members
    ]
    if request.method == "POST":
        if form.is_valid():
            user_id = form.cleaned_data["user"]
            try:
                if form.cleaned_data["action"] == "add":
                    program_staff_add(actor, program, user_id)
                    messages.success(
                        request,
                        "Added to the staff, and to the care team of everyone in the program.",
                    )
                else:
                    program_staff_remove(actor, program, user_id)
                    messages.success(request, "Removed from the staff of this program.")
            except (ValidationFailed, Conflict, NotFound) as exc:
                messages.error(request, exc.message)
        else:
            messages.error(request, "Choose a member of staff.")
        return redirect("care:program_staff", program_id=program.public_id)
    staff = program_staff_of(actor, program)
    on_staff = {s.user_id for s in staff}
    labels = {m.user_id: ROLE_LABELS[Role(m.role)] for m in members}
    return render(
        request,
        "care/program_staff.html",
        {
            "program": program,
            "staff": [(s, labels.get(s.user_id, "")) for s in staff],
            "candidates": [(m, labels[m.user_id]) for m in members if m.user_id not in on_staff],
        },
    )
