"""The placement page: the recommendation from an ASAM assessment with its reasons,
and the clinician's decision (confirm, or override with a reason, optionally moving
the patient)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from stepwise.care.selectors import current_stay_of, programs_of
from stepwise.core.errors import NotFound
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, form_page_status, is_htmx, staff_view, submit
from stepwise.instruments import placement
from stepwise.instruments.models import PlacementDecision
from stepwise.instruments.placement_forms import CONFIRM, PlacementForm
from stepwise.instruments.selectors import (
    assessment_read,
    latest_withdrawal_score,
)
from stepwise.instruments.services import placement_decide
from stepwise.instruments.views import show_times_for


@staff_view(Permission.CARE_WRITE)
@require_http_methods(["GET", "POST"])
def placement_page(request: HttpRequest, public_id: str, assessment_id: str) -> HttpResponse:
    actor = actor_of(request)
    patient, assessment = assessment_read(actor, public_id, assessment_id)
    show_times_for(patient)
    if assessment.instrument != "asam3" or assessment.in_error:
        raise NotFound()
    if PlacementDecision.objects.filter(
        organization_id=actor.organization_id, assessment=assessment
    ).exists():
        return redirect(
            "instruments:detail", public_id=patient.public_id, assessment_id=assessment.public_id
        )
    cows = latest_withdrawal_score(patient, assessment.observed_at)
    score = ("cows", cows.total) if cows is not None and cows.total is not None else None
    form = PlacementForm(
        request.POST or None,
        initial={"use_withdrawal_score": score is not None, "decision": CONFIRM},
        programs=programs_of(actor),
    )
    facts = form.facts(score) if form.is_bound else placement.Facts(withdrawal_score=score)
    recommendation = placement.recommend(
        placement.PlacementInput.from_answers(assessment.answers, facts)
    )
    context = {
        "patient": patient,
        "assessment": assessment,
        "form": form,
        "recommendation": recommendation,
        "cows": cows,
        "current_stay": current_stay_of(patient),
    }
    if is_htmx(request) and "decide" not in request.POST:
        return render(request, "instruments/_recommendation.html", context)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        decision, status = submit(
            form,
            lambda: placement_decide(
                actor,
                assessment,
                facts,
                confirm=data["decision"] == CONFIRM,
                chosen_level=data["chosen_level"],
                override_reason=data["override_reason"],
                move_to=data["move_to"],
                shown_level=data["shown_level"] or None,
            ),
        )
        if decision is not None:
            moved = (
                f" {patient.display_name} moved to {data['move_to'].name}."
                if decision.started_stay_id
                else ""
            )
            messages.success(
                request, f"Placement at level {decision.chosen_level} recorded.{moved}"
            )
            return redirect(
                "instruments:detail",
                public_id=patient.public_id,
                assessment_id=assessment.public_id,
            )
    return render(
        request, "instruments/placement.html", context, status=form_page_status(form, status)
    )
