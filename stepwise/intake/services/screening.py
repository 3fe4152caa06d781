"""The pre-admission screen of a call: the worker's estimate of withdrawal, the six
ASAM dimension ratings, red flags and payer, and the program the placement decision
support suggests with its reasons. It suggests; people decide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from stepwise.care import rules as care_rules
from stepwise.care.models import Program
from stepwise.care.selectors import places_board
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, ValidationFailed, allowed_values
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.instruments import placement
from stepwise.instruments.engine import InvalidResponses
from stepwise.intake.models import (
    CLOSED_OUTCOMES,
    Authorization,
    Inquiry,
    Outcome,
    PayerType,
    Pregnancy,
    Screening,
    WithdrawalEstimate,
)
from stepwise.intake.rules import screening as screen_rules
from stepwise.intake.rules import suggest
from stepwise.intake.rules.triage import Sign
from stepwise.intake.services.common import CATEGORY, audit_inquiry, length_errors, same_org


@dataclass
class ScreenAnswers:
    withdrawal_estimate: str
    ratings: Sequence[int]  # dimensions 1 to 6, each 0-4
    payer_type: str
    medical_flags: Sequence[str] = field(default_factory=list)
    psychiatric_flags: Sequence[str] = field(default_factory=list)
    payer_name: str = ""
    payer_member_id: str = ""
    authorization: str = Authorization.UNKNOWN
    authorization_ref: str = ""
    note: str = ""


def _answer_errors(answers: ScreenAnswers) -> dict[str, str]:
    errors: dict[str, str] = {}
    if answers.withdrawal_estimate not in WithdrawalEstimate.values:
        errors["withdrawal_estimate"] = (
            f"Allowed values: {allowed_values(WithdrawalEstimate.choices)}."
        )
    if answers.payer_type not in PayerType.values:
        errors["payer_type"] = f"Allowed values: {allowed_values(PayerType.choices)}."
    if answers.authorization not in Authorization.values:
        errors["authorization"] = f"Allowed values: {allowed_values(Authorization.choices)}."
    for name, given, allowed in (
        ("medical_flags", answers.medical_flags, screen_rules.MEDICAL_FLAGS),
        ("psychiatric_flags", answers.psychiatric_flags, screen_rules.PSYCHIATRIC_FLAGS),
    ):
        unknown = screen_rules.unknown_flags(given, allowed)
        if unknown:
            errors[name] = (
                f"Unknown {', '.join(map(repr, unknown))}; allowed: {allowed_values(allowed)}."
            )
    if len(answers.ratings) != 6:
        errors["ratings"] = "Rate all six ASAM dimensions, each 0-4."
    else:
        for number, rating in enumerate(answers.ratings, start=1):
            if isinstance(rating, bool) or rating not in placement.RATINGS:
                errors[f"d{number}"] = (
                    f"Dimension {number}: {rating!r} is not allowed; allowed: 0, 1, 2, 3, 4."
                )
    errors |= length_errors(
        Screening,
        {"payer_name": answers.payer_name, "authorization_ref": answers.authorization_ref},
    )
    if len(answers.payer_member_id.strip()) > 40:
        errors["payer_member_id"] = "A payer member number has at most 40 characters."
    return errors


@dataclass(frozen=True)
class Suggested:
    recommendation: placement.Recommendation
    program: Program | None
    reasons: tuple[str, ...]


def suggest_program(
    actor: Actor, inquiry: Inquiry, answers: ScreenAnswers, now: datetime
) -> Suggested:
    """Run the placement rules on the screen and match a program with places now."""
    facts = screen_rules.facts_from_screen(
        withdrawal_estimate=answers.withdrawal_estimate,
        medical_flags=answers.medical_flags,
        psychiatric_flags=answers.psychiatric_flags,
        pregnant=inquiry.pregnancy == Pregnancy.YES,
        suicidal_on_call=Sign.SUICIDAL.value in inquiry.crisis_signs,
    )
    d1, d2, d3, d4, d5, d6 = answers.ratings
    try:
        ratings = placement.PlacementInput(
            d1,
            d2,
            d3,
            d4,
            d5,
            d6,
            imminent_danger=facts.imminent_danger,
            unstable_vitals_or_severe_withdrawal=facts.unstable_vitals_or_severe_withdrawal,
            pregnant=facts.pregnant,
        )
    except InvalidResponses as exc:
        raise ValidationFailed(exc.errors) from None
    recommendation = placement.recommend(ratings)
    wm = recommendation.withdrawal_level
    code = wm or recommendation.level
    target = suggest.Target(
        level_code=code,
        rank=care_rules.level(placement.EDITION, code).rank,
        withdrawal_management=wm is not None,
    )
    rows = places_board(actor, now)
    options = [
        suggest.ProgramOption(
            key=row.program.pk,
            name=row.program.name,
            level_code=row.program.asam_level,
            rank=row.program.level.rank,
            withdrawal_management=row.program.is_withdrawal_management,
            available=row.places.available_now,
        )
        for row in rows
    ]
    chosen = suggest.suggest(target, options)
    by_key = {row.program.pk: row.program for row in rows}
    program = by_key[chosen.program.key] if chosen.program else None
    return Suggested(recommendation, program, chosen.reasons)


def screening_record(actor: Actor, inquiry: Inquiry, answers: ScreenAnswers) -> Screening:
    """Keep the screen and its suggestion; the call is then screened (unless it is
    already further along: scheduled or waitlisted)."""
    same_org(actor, inquiry)
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    errors = _answer_errors(answers)
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    suggested = suggest_program(actor, inquiry, answers, now)
    recommendation = suggested.recommendation
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        if locked.outcome == Outcome.ADMITTED:
            raise Conflict("This caller has been admitted; assess them in the chart instead.")
        if locked.outcome in CLOSED_OUTCOMES:
            raise Conflict(
                f"This call has ended ({locked.get_outcome_display().lower()}); log a new call."
            )
        d1, d2, d3, d4, d5, d6 = answers.ratings
        screening = Screening.objects.create(
            organization_id=actor.organization_id,
            inquiry=locked,
            screened_at=now,
            screened_by_id=actor.user_id,
            withdrawal_estimate=answers.withdrawal_estimate,
            d1=d1,
            d2=d2,
            d3=d3,
            d4=d4,
            d5=d5,
            d6=d6,
            medical_flags=list(dict.fromkeys(answers.medical_flags)),
            psychiatric_flags=list(dict.fromkeys(answers.psychiatric_flags)),
            payer_type=answers.payer_type,
            payer_name=answers.payer_name.strip(),
            payer_member_id=answers.payer_member_id.strip(),
            authorization=answers.authorization,
            authorization_ref=answers.authorization_ref.strip(),
            note=answers.note.strip(),
            recommended_level=recommendation.level,
            withdrawal_level=recommendation.withdrawal_level or "",
            rationale=[line.text for line in recommendation.rationale],
            cautions=list(recommendation.cautions),
            rules_version=placement.RULES_VERSION,
            suggested_program=suggested.program,
            suggestion_reasons=list(suggested.reasons),
        )
        if locked.outcome in ("", Outcome.SCREENED):
            locked.outcome = Outcome.SCREENED
            locked.outcome_at = now
            locked.save(update_fields=["outcome", "outcome_at", "updated_at"])
        audit_inquiry(
            actor,
            AuditAction.CREATE,
            locked,
            object_type="screening",
            object_id=screening.public_id,
            detail={
                "recommended_level": screening.recommended_level,
                "withdrawal_level": screening.withdrawal_level or None,
                "suggested_program": (
                    str(suggested.program.public_id) if suggested.program else None
                ),
            },
        )
    return screening
