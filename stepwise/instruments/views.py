"""Assessment pages: the entry form with its live score, a response, the trend."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.care.chart import patient_for, patient_for_form, record_read
from stepwise.care.selectors import open_episode_of, patient_time_zone
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_errors_text, form_page_status, staff_view, submit
from stepwise.instruments.context import context_with_defaults
from stepwise.instruments.definitions.asam import ASAM3, DIMENSIONS
from stepwise.instruments.engine import Instrument, InvalidResponses, Score
from stepwise.instruments.forms import MarkInErrorForm, ResponseForm
from stepwise.instruments.models import Assessment
from stepwise.instruments.selectors import (
    assessment_read,
    baseline_for,
    history_read,
    instrument_or_404,
    latest_by_instrument,
    patient_assessments_access,
)
from stepwise.instruments.services import assessment_mark_in_error, assessment_record
from stepwise.instruments.trend_view import trend_chart_for
from stepwise.patients.models import Patient, Problem
from stepwise.patients.problems import active_problems


def show_times_for(patient: Patient) -> str:
    """Show this request's times in the patient's facility time zone, as the forms
    take them; returns the zone's name."""
    zone = patient_time_zone(patient)
    timezone.activate(zoneinfo.ZoneInfo(zone))
    return zone


@staff_view(Permission.CHART_READ)
@require_GET
def assessments_index(request: HttpRequest, public_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient, basis = patient_assessments_access(actor, public_id)
    show_times_for(patient)
    summaries = latest_by_instrument(patient)
    record_read(
        actor,
        patient,
        basis,
        category="assessments",
        object_type="assessment_summary",
        object_id=patient.public_id,
    )
    return render(request, "instruments/index.html", {"patient": patient, "summaries": summaries})


@dataclass(frozen=True)
class LiveScore:
    """What the score box shows while answers are chosen: nothing is stored."""

    instrument: Instrument
    score: Score | None
    answered: int
    required: int
    # Totals without bands (SOWS, craving) are read against the patient's first
    # response of the episode.
    baseline: Assessment | None = None
    change: int | None = None


def _live_score(form: ResponseForm, patient: Patient) -> LiveScore:
    instrument = form.instrument
    answers = form.answers_so_far()
    valid = form.is_bound and form.is_valid()
    observed = (form.observed() if valid else None) or timezone.now()
    given = form.context() if valid else {}
    context = context_with_defaults(instrument, patient, observed, given, zone=form.time_zone)
    try:
        score: Score | None = instrument.score(answers, context, partial=True)
    except InvalidResponses:
        score = None
    required = [i for i in instrument.items if i.required]
    answered = sum(1 for i in required if i.id in answers)
    if not instrument.reads_against_baseline:
        return LiveScore(instrument, score, answered, len(required))
    episode = open_episode_of(patient)
    baseline = baseline_for(patient, instrument.code, episode.pk if episode else None)
    change = None
    # A partial total is no change from baseline: it shows once all are answered.
    if (
        baseline is not None
        and baseline.total is not None
        and score
        and score.complete
        and score.total is not None
    ):
        change = score.total - baseline.total
    return LiveScore(instrument, score, answered, len(required), baseline, change)


@staff_view(Permission.CARE_WRITE)
@require_http_methods(["GET", "POST"])
def assessment_new(request: HttpRequest, public_id: str, code: str) -> HttpResponse:
    actor = actor_of(request)
    instrument = instrument_or_404(code)
    if request.method == "GET":
        patient = patient_for_form(
            actor, public_id, permission=Permission.CARE_WRITE, form=f"assessment:{code}"
        )
    else:
        patient = patient_for(actor, public_id, permission=Permission.CARE_WRITE)
    form = ResponseForm(
        request.POST or None, instrument=instrument, time_zone=show_times_for(patient)
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        assessment, status = submit(
            form,
            lambda: assessment_record(
                actor,
                patient,
                instrument.code,
                form.answers(),
                context=form.context(),
                observed_at=form.observed(),
            ),
        )
        if assessment is not None:
            messages.success(request, _saved_message(assessment))
            return redirect(
                "instruments:detail",
                public_id=patient.public_id,
                assessment_id=assessment.public_id,
            )
    noted = _problems_by_item(instrument, patient)
    context = {
        "patient": patient,
        "instrument": instrument,
        "form": form,
        "rows": [(item, field, noted.get(item.id, [])) for item, field in form.item_rows()],
        "live": _live_score(form, patient),
    }
    return render(request, "instruments/new.html", context, status=form_page_status(form, status))


def _problems_by_item(instrument: Instrument, patient: Patient) -> dict[str, list[Problem]]:
    """For the ASAM ratings: the active problems noted against each dimension (the
    medical admission's biomedical findings for dimension 2), beside the rating."""
    if instrument.code != ASAM3.code:
        return {}
    by_item: dict[str, list[Problem]] = {}
    for problem in active_problems(patient):
        if problem.asam_dimension:
            by_item.setdefault(DIMENSIONS[problem.asam_dimension - 1], []).append(problem)
    return by_item


def _saved_message(assessment: Assessment) -> str:
    total = "" if assessment.total is None else f" {assessment.total}"
    band = f" ({assessment.band_label})" if assessment.band_label else ""
    name = instrument_or_404(assessment.instrument).short_name
    return f"{name}{total}{band} recorded."


@staff_view(Permission.CARE_WRITE)
@require_POST
def assessment_score(request: HttpRequest, public_id: str, code: str) -> HttpResponse:
    """The live total and band as answers are chosen (htmx). It stores nothing and
    writes no audit row: what it shows beside the answers typed (the baseline) is what
    the form page showed, and that page's read is audited."""
    actor = actor_of(request)
    instrument = instrument_or_404(code)
    patient = patient_for(actor, public_id, permission=Permission.CARE_WRITE)
    form = ResponseForm(request.POST, instrument=instrument, time_zone=show_times_for(patient))
    live = _live_score(form, patient)
    return render(request, "instruments/_score.html", {"live": live, "patient": patient})


@staff_view(Permission.CHART_READ)
@require_GET
def assessment_detail(request: HttpRequest, public_id: str, assessment_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient, assessment = assessment_read(actor, public_id, assessment_id)
    show_times_for(patient)
    instrument = instrument_or_404(assessment.instrument)
    answers = []
    for item in instrument.items:
        value = assessment.answers.get(item.id)
        answers.append((item, value, item.label_of(value)))
    context = {
        "patient": patient,
        "assessment": assessment,
        "instrument": instrument,
        "answers": answers,
        "facts": _facts(instrument, assessment),
        "error_form": MarkInErrorForm(),
        "version_differs": assessment.instrument_version != instrument.version,
        **_against_baseline(instrument, assessment),
    }
    return render(request, "instruments/detail.html", context)


def _against_baseline(instrument: Instrument, assessment: Assessment) -> dict[str, object]:
    """A total without bands (SOWS, craving) read against the first response of its
    episode, as the entry form shows it."""
    if not instrument.reads_against_baseline or assessment.total is None:
        return {}
    baseline = baseline_for(assessment.patient, instrument.code, assessment.episode_id)
    if baseline is None or baseline.total is None or baseline.pk == assessment.pk:
        return {"baseline": baseline}
    return {"baseline": baseline, "change": assessment.total - baseline.total}


def _facts(instrument: Instrument, assessment: Assessment) -> list[tuple[str, str]]:
    """The context facts by their labels, choices shown as their labels."""
    shown = []
    for context_field in instrument.context_fields:
        value = assessment.context.get(context_field.id)
        if value in ("", None):
            continue
        label = dict(context_field.choices).get(value, value)
        shown.append((context_field.label, label))
    return shown


@staff_view(Permission.CARE_WRITE)
@require_POST
def assessment_error(request: HttpRequest, public_id: str, assessment_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient, assessment = assessment_read(actor, public_id, assessment_id)
    form = MarkInErrorForm(request.POST)
    if form.is_valid():
        done, _status = submit(
            form,
            lambda: assessment_mark_in_error(actor, assessment, reason=form.cleaned_data["reason"]),
        )
        if done is not None:
            messages.success(
                request,
                "Marked entered in error. It stays in the record, struck through, and leaves "
                "the trend. Record the correct response if there is one.",
            )
            return redirect(
                "instruments:detail",
                public_id=patient.public_id,
                assessment_id=assessment.public_id,
            )
    messages.error(request, form_errors_text(form))
    return redirect(
        "instruments:detail", public_id=patient.public_id, assessment_id=assessment.public_id
    )


@staff_view(Permission.CHART_READ)
@require_GET
def trend(request: HttpRequest, public_id: str, code: str) -> HttpResponse:
    actor = actor_of(request)
    patient, instrument, rows = history_read(actor, public_id, code)
    zone = show_times_for(patient)
    chart = trend_chart_for(instrument, rows, zone) if instrument.totalled and rows else None
    context = {"patient": patient, "instrument": instrument, "rows": rows, "chart": chart}
    return render(request, "instruments/trend.html", context)
