"""The named writes of assessment: record a response, mark one entered in error,
decide on a placement. Each checks access, runs in one transaction and is audited."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from stepwise.care import rules as care_rules
from stepwise.care.models import Episode, Program, Stay
from stepwise.care.selectors import open_episode_of, open_stay, patient_time_zone
from stepwise.care.services import stay_transition
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.instruments import placement
from stepwise.instruments.alerts import alerts_after_error, alerts_for_assessment
from stepwise.instruments.context import context_with_defaults
from stepwise.instruments.engine import Instrument, InvalidResponses, Score
from stepwise.instruments.models import (
    Assessment,
    AssessmentStatus,
    PlacementChoice,
    PlacementDecision,
)
from stepwise.instruments.registry import UnknownInstrument, instrument_for
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient

CATEGORY = "assessments"


def instrument_or_error(code: str, field: str = "instrument") -> Instrument:
    try:
        return instrument_for(code)
    except UnknownInstrument as exc:
        raise ValidationFailed({field: str(exc)}) from None


def score_or_error(
    instrument: Instrument,
    answers: Mapping[str, Any],
    context: Mapping[str, str],
    *,
    partial: bool = False,
) -> Score:
    """Score a response (complete unless `partial`); every fault named by item (422
    upstream)."""
    try:
        return instrument.score(answers, context, partial=partial)
    except InvalidResponses as exc:
        raise ValidationFailed(exc.errors) from None


def _episode_for(patient: Patient, episode: Episode | None) -> Episode | None:
    if episode is None:
        return open_episode_of(patient)
    if episode.patient_id != patient.pk:
        raise ValidationFailed({"episode": "That episode belongs to another patient."})
    return episode


def _check_correction(patient: Patient, code: str, replaces: Assessment | None) -> None:
    """A correction names a mistaken response of the same patient and instrument,
    already marked entered in error, and not corrected before."""
    if replaces is None:
        return
    if replaces.patient_id != patient.pk or replaces.instrument != code:
        raise ValidationFailed(
            {
                "replaces": "A correction replaces the same patient's response to the same instrument."
            }
        )
    if not replaces.in_error:
        raise ValidationFailed(
            {"replaces": "Mark that response entered in error first, with the reason."}
        )
    if Assessment.objects.filter(
        organization_id=patient.organization_id, replaces=replaces
    ).exists():
        raise ValidationFailed({"replaces": "That response has already been corrected."})


def assessment_record(
    actor: Actor,
    patient: Patient,
    instrument_code: str,
    answers: Mapping[str, Any],
    *,
    context: Mapping[str, str] | None = None,
    observed_at: datetime | None = None,
    episode: Episode | None = None,
    replaces: Assessment | None = None,
) -> Assessment:
    """Score and store one complete response with the instrument version that scored
    it; open (or clear) the safety alerts its signals call for."""
    if patient.organization_id != actor.organization_id:
        raise NotFound()
    require_patient_access(actor, Permission.CARE_WRITE, patient, category=CATEGORY)
    instrument = instrument_or_error(instrument_code)
    observed = event_time(observed_at, "observed_at")
    episode = _episode_for(patient, episode)
    full_context = context_with_defaults(
        instrument, patient, observed, context or {}, zone=patient_time_zone(patient)
    )
    score = score_or_error(instrument, answers, full_context)
    _check_correction(patient, instrument.code, replaces)
    with transaction.atomic():
        assessment = Assessment.objects.create(
            organization_id=actor.organization_id,
            patient=patient,
            episode=episode,
            instrument=instrument.code,
            instrument_version=instrument.version,
            answers=dict(answers),
            context=dict(full_context),
            total=score.total,
            band_code=score.band.code if score.band else "",
            band_label=score.band.label if score.band else "",
            findings=[{"code": f.code, "label": f.label, "value": f.value} for f in score.findings],
            signals=[{"code": s.code, "message": s.message} for s in score.signals],
            observed_at=observed,
            entered_by_id=actor.user_id,
            replaces=replaces,
        )
        raised = alerts_for_assessment(assessment, score)
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="assessment",
            object_id=assessment.public_id,
            detail={
                "instrument": instrument.code,
                "version": instrument.version,
                **({"alerts": raised} if raised else {}),
                **({"replaces": str(replaces.public_id)} if replaces else {}),
            },
        )
    return assessment


def assessment_mark_in_error(actor: Actor, assessment: Assessment, *, reason: str) -> Assessment:
    """Withdraw a mistaken response from trends and alerts; it stays in the record."""
    patient = assessment.patient
    if assessment.organization_id != actor.organization_id:
        raise NotFound()
    require_patient_access(actor, Permission.CARE_WRITE, patient, category=CATEGORY)
    if not reason.strip():
        raise ValidationFailed({"reason": "Say what was wrong; the reason stays in the record."})
    with transaction.atomic():
        locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if locked.status == AssessmentStatus.ENTERED_IN_ERROR:
            raise Conflict("This response is already marked entered in error.")
        now = timezone.now()
        locked.status = AssessmentStatus.ENTERED_IN_ERROR
        locked.error_reason = reason.strip()
        locked.error_marked_at = now
        locked.error_marked_by_id = actor.user_id
        locked.save(
            update_fields=[
                "status",
                "error_reason",
                "error_marked_at",
                "error_marked_by",
                "updated_at",
            ]
        )
        alerts = alerts_after_error(locked, now)
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="assessment",
            object_id=locked.public_id,
            detail={
                "status": AssessmentStatus.ENTERED_IN_ERROR.value,
                **({"alerts": alerts} if alerts else {}),
            },
        )
    return locked


def placement_decide(
    actor: Actor,
    assessment: Assessment,
    facts: placement.Facts,
    *,
    confirm: bool,
    chosen_level: str = "",
    override_reason: str = "",
    move_to: Program | None = None,
    move_reason: str = "",
    shown_level: str | None = None,
) -> PlacementDecision:
    """Store the recommendation made from an ASAM assessment with the clinician's
    decision; optionally move the patient to a program at the chosen level, through
    the same transition every move uses."""
    patient = assessment.patient
    if assessment.organization_id != actor.organization_id:
        raise NotFound()
    require_patient_access(actor, Permission.CARE_WRITE, patient, category=CATEGORY)
    if assessment.instrument != "asam3" or assessment.in_error:
        raise ValidationFailed(
            {"assessment": "Placement is decided on a current ASAM dimensional assessment."}
        )
    recommendation = placement.recommend(
        placement.PlacementInput.from_answers(assessment.answers, facts)
    )
    errors: dict[str, str] = {}
    level_codes = care_rules.LEVELS_BY_EDITION[3]
    if confirm and shown_level is not None and shown_level != recommendation.level:
        # The facts changed after the page showed its recommendation (no script ran).
        raise ValidationFailed(
            {
                "decision": f"With these facts the recommendation is {recommendation.level}, "
                f"not the {shown_level} shown: review it before confirming."
            }
        )
    if confirm:
        chosen = recommendation.level
    else:
        chosen = chosen_level.strip()
        if chosen not in level_codes:
            errors["chosen_level"] = f"Allowed values: {', '.join(level_codes)}."
        elif chosen == recommendation.level:
            errors["chosen_level"] = "That is the recommendation; confirm it instead."
        if not override_reason.strip():
            errors["override_reason"] = "Say why another level is chosen; the reason is kept."
    if move_to is not None:
        if move_to.organization_id != actor.organization_id:
            raise NotFound()
        # Confirming a recommendation with withdrawal management may start in detox.
        fitting = [chosen]
        if confirm and recommendation.withdrawal_level:
            fitting.append(recommendation.withdrawal_level)
        if move_to.asam_edition != 3 or move_to.asam_level not in fitting:
            errors["move_to"] = (
                f"{move_to.name} is at level {move_to.asam_level}; choose a program at "
                f"{' or '.join(fitting)} (ASAM 3rd edition)."
            )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        # Lock the assessment: two decisions at once, or one racing an entered-in-error
        # mark, must not both pass the checks.
        locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if locked.in_error:
            raise Conflict("This assessment was marked entered in error; record a new one.")
        if PlacementDecision.objects.filter(
            organization_id=actor.organization_id, assessment=assessment
        ).exists():
            raise Conflict("A placement was already decided on this assessment.")
        started: Stay | None = None
        if move_to is not None:
            started = _move(actor, assessment, move_to, move_reason or _default_move_reason(chosen))
        decision = PlacementDecision.objects.create(
            organization_id=actor.organization_id,
            assessment=assessment,
            facts=facts.as_dict(),
            rules_version=placement.RULES_VERSION,
            recommended_level=recommendation.level,
            recommended_withdrawal_level=recommendation.withdrawal_level or "",
            rationale=[
                {"dimension": line.dimension, "rule": line.rule_id, "text": line.text}
                for line in recommendation.rationale
            ],
            cautions=list(recommendation.cautions),
            choice=PlacementChoice.CONFIRMED if confirm else PlacementChoice.OVERRIDDEN,
            chosen_level=chosen,
            override_reason="" if confirm else override_reason.strip(),
            decided_by_id=actor.user_id,
            decided_at=timezone.now(),
            started_stay=started,
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="placement",
            object_id=decision.public_id,
            detail={
                "recommended": recommendation.level,
                "chosen": chosen,
                "choice": decision.choice,
            },
        )
    return decision


def _default_move_reason(level: str) -> str:
    return f"Placement decision: ASAM level {level}."


def _move(actor: Actor, assessment: Assessment, to_program: Program, reason: str) -> Stay:
    episode = open_episode_of(assessment.patient)
    if episode is None:
        raise Conflict("The patient is not in care; admit them to the program instead.")
    current = open_stay(episode)
    kind = care_rules.transition_kind_between(current.program.level, to_program.level).value
    return stay_transition(actor, episode, to_program, kind=kind, reason=reason)
