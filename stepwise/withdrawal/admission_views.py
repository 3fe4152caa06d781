"""The medical admission pages: the nurse's entry form on arrival, the assessment
with its findings, and the physician's review."""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.care.chart import patient_access, patient_for, record_read
from stepwise.care.models import Stay
from stepwise.care.selectors import patient_time_zone
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_errors_text, staff_view, submit
from stepwise.patients.models import Patient
from stepwise.withdrawal.admission_forms import (
    LABELS,
    ROUTE_LABELS,
    SUBSTANCE_LABELS,
    TEST_LABELS,
    AdmissionEntry,
    ReviewForm,
    prefill,
)
from stepwise.withdrawal.admission_reads import (
    SOURCE,
    admission_page_read,
    admission_to_replace,
    admission_to_review,
    created_by,
)
from stepwise.withdrawal.models import MedicalAdmission
from stepwise.withdrawal.rules import admission as rules
from stepwise.withdrawal.services.admissions import (
    medical_admission_record,
    medical_admission_review,
)
from stepwise.withdrawal.services.common import OBSERVATIONS

FORM_NAME = "medical_admission"


def _show_times_in(patient: Patient, stay: Stay | None) -> str:
    """Show and read this request's times in the facility zone of the patient's stay
    (or as patient_time_zone says when there is none); returns the zone's name."""
    zone = stay.program.facility.time_zone if stay else patient_time_zone(patient)
    timezone.activate(zoneinfo.ZoneInfo(zone))
    return zone


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}" if n else f"no new {many}"


def _recorded_message(problems: int, tasks: int) -> str:
    return (
        "Medical admission recorded: "
        f"{_count(problems, 'problem', 'problems')} added to the problem list, "
        f"{_count(tasks, 'follow-up task', 'follow-up tasks')} opened."
    )


@staff_view(Permission.MEDICAL_WRITE)
@require_http_methods(["GET", "POST"])
def admission_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "POST":
        return _admission_post(request, actor, public_id)
    patient, basis = patient_access(actor, public_id, permission=Permission.MEDICAL_WRITE)
    stay, current = admission_to_replace(patient)
    zone = _show_times_in(patient, stay)
    # What the page shows is read, as patient_for_form audits it: the header, and the
    # current assessment's answers when the form is filled from them.
    for category, object_type, object_id in (
        ("demographics", "patient", patient.public_id),
        *([(OBSERVATIONS, SOURCE, current.public_id)] if current else []),
    ):
        record_read(
            actor,
            patient,
            basis,
            category=category,
            object_type=object_type,
            object_id=object_id,
            detail={"form": FORM_NAME},
        )
    entry = AdmissionEntry(time_zone=zone, **(prefill(current.parsed(), zone) if current else {}))
    return _form_page(request, patient, entry, stay, current, 200)


def _admission_post(request: HttpRequest, actor: Actor, public_id: uuid.UUID) -> HttpResponse:
    patient = patient_for(actor, public_id, permission=Permission.MEDICAL_WRITE)
    stay, current = admission_to_replace(patient)
    zone = _show_times_in(patient, stay)
    entry = AdmissionEntry(request.POST, time_zone=zone)
    status = 200
    if entry.is_valid():
        data = entry.values()
        try:
            row = medical_admission_record(actor, patient, data, recorded_at=entry.when())
        except ValidationFailed as exc:
            entry.apply_errors(exc.errors)
            status = 422
        except Conflict as exc:
            entry.form.add_error(None, exc.message)
            status = 409
        else:
            messages.success(request, _recorded_message(*created_by(row)))
            urgent = row.findings.get("urgent") or []
            if urgent:
                messages.error(request, "Needs a physician today: " + ", ".join(urgent) + ".")
            return redirect("withdrawal:admission", public_id=patient.public_id)
    else:
        entry.check_rest(timezone.now())
    if status == 200 and entry.has_errors:
        status = 422
    return _form_page(request, patient, entry, stay, current, status)


def _form_page(
    request: HttpRequest,
    patient: Patient,
    entry: AdmissionEntry,
    stay: Stay | None,
    current: MedicalAdmission | None,
    status: int,
) -> HttpResponse:
    context = {"patient": patient, "entry": entry, "stay": stay, "current": current}
    return render(request, "withdrawal/admission_form.html", context, status=status)


@dataclass(frozen=True)
class SubstanceRow:
    label: str
    routes: str
    form: str
    amount: str
    frequency: str
    last_use_at: datetime | None
    opioid: bool


def _labels(codes: tuple[str, ...] | list[str], labels: dict[str, str]) -> str:
    return ", ".join(labels.get(c, c) for c in codes)


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def substance_rows(data: rules.MedicalAdmissionData) -> list[SubstanceRow]:
    return [
        SubstanceRow(
            label=SUBSTANCE_LABELS.get(use.substance, use.substance),
            routes=_labels(use.routes, ROUTE_LABELS),
            form=rules.FORMS.get(use.form, use.form),
            amount=use.amount,
            frequency=rules.FREQUENCIES.get(use.frequency, use.frequency),
            last_use_at=use.last_use_at,
            opioid=use.substance in rules.SUBSTANCES_BY_CODE and use.info.opioid is not None,
        )
        for use in data.substances
    ]


def answers(data: rules.MedicalAdmissionData) -> list[tuple[str, str]]:
    """Every answer other than the substances, by its question's label."""
    none = "None recorded"
    tests = [
        (
            LABELS[f"test_{test}"],
            TEST_LABELS.get(data.tests.get(test, ""), "Not offered"),
        )
        for test in rules.TESTS
    ]
    return [
        (LABELS["past_overdoses"], str(data.past_overdoses)),
        (
            LABELS["last_overdose_on"],
            data.last_overdose_on.isoformat() if data.last_overdose_on else "Not recorded",
        ),
        (
            LABELS["fentanyl_exposure"],
            rules.YES_NO_UNKNOWN.get(data.fentanyl_exposure, data.fentanyl_exposure),
        ),
        (LABELS["complications"], _labels(data.complications, rules.COMPLICATIONS) or "None"),
        (LABELS["nasal_damage"], _yes(data.nasal_damage)),
        *tests,
        (
            LABELS["hbv_vaccinated"],
            rules.YES_NO_UNKNOWN.get(data.hbv_vaccinated, data.hbv_vaccinated),
        ),
        (LABELS["liver_concern"], data.liver_concern or none),
        (LABELS["kidney_concern"], data.kidney_concern or none),
        (LABELS["heart_concern"], data.heart_concern or none),
        (LABELS["pregnancy"], rules.PREGNANCY.get(data.pregnancy, data.pregnancy)),
        (
            LABELS["allergies"],
            "No known allergies" if data.no_known_allergies else data.allergies or none,
        ),
        (LABELS["current_medications"], data.current_medications or none),
        (LABELS["on_buprenorphine"], _yes(data.on_buprenorphine)),
        (LABELS["on_methadone"], _yes(data.on_methadone)),
    ]


@staff_view(Permission.CHART_READ)
@require_GET
def admission_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    page = admission_page_read(actor, public_id)
    timezone.activate(page.zone)
    data = page.data
    row = page.admission
    context = {
        "patient": page.patient,
        "page": page,
        "admission": row,
        "substances": substance_rows(data) if data else [],
        "answers": answers(data) if data else [],
        "findings": row.findings if row else {},
        "review_form": ReviewForm(initial={"admission": row.public_id}) if row else None,
    }
    return render(request, "withdrawal/admission_detail.html", context)


@staff_view(Permission.MEDICAL_REVIEW)
@require_POST
def admission_review(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.MEDICAL_REVIEW)
    row = admission_to_review(patient)
    if row is None:
        raise Http404
    row.patient = patient
    form = ReviewForm(request.POST)
    if form.is_valid():
        if form.cleaned_data["admission"] != row.public_id:
            messages.error(
                request,
                "A newer assessment was recorded after the page was opened: "
                "read it, then review it.",
            )
            return redirect("withdrawal:admission", public_id=patient.public_id)
        note = form.cleaned_data["note"]
        done, _status = submit(form, lambda: medical_admission_review(actor, row, note=note))
        if done is not None:
            messages.success(request, "Medical admission reviewed.")
            return redirect("withdrawal:admission", public_id=patient.public_id)
    messages.error(request, form_errors_text(form))
    return redirect("withdrawal:admission", public_id=patient.public_id)
