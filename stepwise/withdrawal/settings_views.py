"""The withdrawal settings page: the organization's safety thresholds and each
withdrawal-management program's reassessment rhythm (clinical director only)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from stepwise.care.models import Program
from stepwise.core.actor import Actor
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.withdrawal.board import withdrawal_programs
from stepwise.withdrawal.models import SafetySettings, UnitSettings
from stepwise.withdrawal.rules.thresholds import SETTINGS, UNIT_SETTINGS, Setting
from stepwise.withdrawal.services.configuration import (
    safety_settings_update,
    unit_settings_update,
)
from stepwise.withdrawal.settings_forms import SafetySettingsForm, UnitSettingsForm

SAFETY = "safety"


@dataclass
class UnitSection:
    program: Program
    form: UnitSettingsForm
    values: dict[str, int]

    @property
    def section(self) -> str:
        return str(self.program.public_id)


@dataclass(frozen=True)
class CurrentSettings:
    safety: dict[str, int]
    changed: SafetySettings | None  # the stored row (who changed it, when), if any
    units: list[tuple[Program, dict[str, int]]]


def _values(row: object | None, settings: tuple[Setting, ...]) -> dict[str, int]:
    return {s.name: getattr(row, s.name) if row else s.default for s in settings}


def settings_read(actor: Actor) -> CurrentSettings:
    """The values in force: the stored rows, or the defaults where none is stored.
    Three queries however many programs."""
    row = (
        SafetySettings.objects.filter(organization_id=actor.organization_id)
        .select_related("changed_by")
        .first()
    )
    programs = withdrawal_programs(actor)
    stored = {u.program_id: u for u in UnitSettings.objects.filter(program__in=programs)}
    return CurrentSettings(
        safety=_values(row, SETTINGS),
        changed=row,
        units=[(p, _values(stored.get(p.pk), UNIT_SETTINGS)) for p in programs],
    )


def _change_message(what: str, before: dict[str, int], after: dict[str, int]) -> str:
    labels = {s.name: (s.label, s.unit) for s in (*SETTINGS, *UNIT_SETTINGS)}
    changes = [
        f"{labels[name][0]} {before[name]} → {value} {labels[name][1]}"
        for name, value in after.items()
        if before.get(name) != value
    ]
    if not changes:
        return f"{what}: nothing changed."
    return f"{what} saved: " + "; ".join(changes) + "."


@staff_view(Permission.CLINICAL_SETTINGS)
@require_http_methods(["GET", "POST"])
def withdrawal_settings(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    current = settings_read(actor)
    safety = SafetySettingsForm(initial=current.safety)
    units = [
        UnitSection(p, UnitSettingsForm(initial=values, prefix=f"unit-{p.public_id}"), values)
        for p, values in current.units
    ]
    status = 200
    if request.method == "POST":
        section = request.POST.get("section", "")
        if section == SAFETY:
            safety = SafetySettingsForm(request.POST)
            if safety.is_valid():
                values = safety.values()
                row, status = submit(safety, lambda: safety_settings_update(actor, values))
                if row is not None:
                    messages.success(
                        request, _change_message("Safety thresholds", current.safety, values)
                    )
                    return redirect("withdrawal:settings")
            status = form_page_status(safety, status)
        else:
            unit = next((u for u in units if u.section == section), None)
            if unit is None:
                raise Http404
            unit.form = UnitSettingsForm(request.POST, prefix=f"unit-{unit.program.public_id}")
            if unit.form.is_valid():
                values = unit.form.values()
                program = unit.program
                saved, status = submit(
                    unit.form, lambda: unit_settings_update(actor, program, values)
                )
                if saved is not None:
                    messages.success(
                        request, _change_message(f"{program.name} rhythm", unit.values, values)
                    )
                    return redirect("withdrawal:settings")
            status = form_page_status(unit.form, status)
    context = {"safety": safety, "current": current, "units": units, "safety_section": SAFETY}
    return render(request, "withdrawal/settings.html", context, status=status)
