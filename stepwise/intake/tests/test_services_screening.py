"""The pre-admission screen: the ratings and answers as given, the placement
recommendation with its rules version, and the program suggested from the bed board."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from stepwise.care.services import episode_admit
from stepwise.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from stepwise.instruments import placement
from stepwise.intake.models import Inquiry, Outcome, Screening
from stepwise.intake.rules import screening as screen_rules
from stepwise.intake.services.admission import inquiry_admit
from stepwise.intake.services.places import place_hold
from stepwise.intake.services.screening import ScreenAnswers, screening_record
from stepwise.intake.services.waitlist import waitlist_add

from .support import admissions, call, intake_events, screen


def test_moderate_withdrawal_with_d1_at_3_suggests_the_detox_program(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    screening = screen(
        worker,
        inquiry,
        withdrawal="moderate",
        ratings=(3, 1, 2, 1, 2, 1),
        medical_flags=["infection", "infection"],
        psychiatric_flags=["severe_depression_or_anxiety"],
        payer_name=" Medicaid MCO ",
        payer_member_id=" MC-123 ",
        authorization="pending",
        authorization_ref="PA-9",
        note=" Ready today ",
    )
    stored = Screening.objects.get(pk=screening.pk)
    assert stored.ratings == (3, 1, 2, 1, 2, 1)
    assert stored.withdrawal_estimate == "moderate"
    assert stored.medical_flags == ["infection"]
    assert stored.psychiatric_flags == ["severe_depression_or_anxiety"]
    assert (stored.payer_type, stored.payer_name, stored.payer_member_id) == (
        "medicaid",
        "Medicaid MCO",
        "MC-123",
    )
    assert (stored.authorization, stored.authorization_ref, stored.note) == (
        "pending",
        "PA-9",
        "Ready today",
    )
    assert stored.screened_by == cast.users["admissions"]
    assert stored.recommended_level == "3.7"
    assert stored.withdrawal_level == "3.7-WM"
    assert stored.rules_version == placement.RULES_VERSION
    assert stored.rationale and all(isinstance(line, str) for line in stored.rationale)
    assert stored.suggested_program == cast.detox
    assert stored.suggestion_reasons == [
        "Detox offers withdrawal management at level 3.7-WM.",
        "2 places are open now.",
    ]
    inquiry.refresh_from_db()
    assert inquiry.outcome == Outcome.SCREENED and inquiry.outcome_at is not None
    [event] = intake_events(object_type="screening")
    assert event.object_id == str(stored.public_id)
    assert event.detail == {
        "inquiry": str(inquiry.public_id),
        "recommended_level": "3.7",
        "withdrawal_level": "3.7-WM",
        "suggested_program": str(cast.detox.public_id),
    }


def test_severe_withdrawal_is_hospital_withdrawal_management_and_a_referral_here(cast):
    """A severe estimate counts as severe withdrawal for the placement rules (4-WM);
    no program here is that intensive, so none is suggested and the reason says why."""
    worker = admissions(cast)
    screening = screen(worker, call(worker), withdrawal="severe", ratings=(4, 0, 0, 0, 0, 0))
    assert screening.withdrawal_level == "4-WM"
    assert screening.recommended_level == "4"
    assert screening.suggested_program is None
    assert screening.suggestion_reasons == [
        "No program here offers withdrawal management at level 4-WM or a more intensive "
        "one: refer elsewhere, saying why."
    ]
    assert any("hospital" in caution for caution in screening.cautions)


def test_a_full_detox_is_still_suggested_with_the_reason_it_is_full(cast):
    worker = admissions(cast)
    episode_admit(worker, cast.new_patient("D1"), cast.detox)
    episode_admit(worker, cast.new_patient("D2"), cast.detox)
    screening = screen(worker, call(worker))
    assert screening.suggested_program == cast.detox
    assert screening.suggestion_reasons[-1] == (
        "Detox is full now: add the person to its waitlist, or refer elsewhere."
    )


def test_a_held_place_counts_against_the_suggestion(cast):
    worker = admissions(cast)
    episode_admit(worker, cast.new_patient("D1"), cast.detox)
    place_hold(worker, call(worker), cast.detox, expected_at=timezone.now() + timedelta(hours=1))
    screening = screen(worker, call(worker))
    assert "Detox is full now" in screening.suggestion_reasons[-1]


@pytest.mark.parametrize(
    ("ratings", "level", "program"),
    [
        ((0, 0, 3, 0, 0, 0), "3.5", "residential"),
        ((0, 0, 0, 2, 0, 0), "2.1", "iop"),  # both IOPs at 2.1, uncapped: by name
        ((0, 0, 0, 0, 0, 3), "3.1", "residential"),  # nearest more intensive
    ],
)
def test_treatment_levels_get_a_treatment_program(cast, ratings, level, program):
    worker = admissions(cast)
    screening = screen(worker, call(worker), withdrawal="none", ratings=ratings)
    assert screening.recommended_level == level
    assert screening.withdrawal_level == ""
    assert screening.suggested_program == getattr(cast, program)


def test_pregnancy_with_withdrawal_risk_needs_medical_monitoring(cast):
    worker = admissions(cast)
    inquiry = call(worker, pregnancy="yes")
    screening = screen(worker, inquiry, withdrawal="mild", ratings=(2, 0, 0, 0, 0, 0))
    assert screening.withdrawal_level == "3.7-WM"
    assert screening.suggested_program == cast.detox


def test_suicidal_thoughts_on_the_call_are_imminent_danger(cast):
    worker = admissions(cast)
    inquiry = call(worker, signs=["suicidal"])
    screening = screen(worker, inquiry, withdrawal="none", ratings=(0, 0, 0, 0, 0, 0))
    assert screening.recommended_level == "4"
    assert screening.suggested_program is None
    assert "refer elsewhere" in screening.suggestion_reasons[0]


def test_a_later_screen_keeps_the_call_further_along(cast):
    worker = admissions(cast)
    waiting = call(worker)
    waitlist_add(worker, waiting, cast.residential)
    screen(worker, waiting)
    assert Inquiry.objects.get(pk=waiting.pk).outcome == Outcome.WAITLISTED
    scheduled = call(worker)
    place_hold(worker, scheduled, cast.residential, expected_at=timezone.now())
    screen(worker, scheduled)
    assert Inquiry.objects.get(pk=scheduled.pk).outcome == Outcome.SCHEDULED
    # A new screen supersedes, the first is kept as screened.
    screen(worker, scheduled, withdrawal="none", ratings=(0, 0, 3, 0, 0, 0))
    assert scheduled.screenings.count() == 2


def _refused(cast, **answers) -> dict[str, str]:
    worker = admissions(cast)
    inquiry = call(worker)
    values = {"withdrawal_estimate": "mild", "ratings": [1, 0, 0, 0, 0, 0], "payer_type": "none"}
    with pytest.raises(ValidationFailed) as refused:
        screening_record(worker, inquiry, ScreenAnswers(**(values | answers)))
    assert not Screening.objects.exists()
    assert Inquiry.objects.get(pk=inquiry.pk).outcome == ""
    return refused.value.errors


@pytest.mark.parametrize(
    ("answers", "field", "allowed"),
    [
        (
            {"withdrawal_estimate": "awful"},
            "withdrawal_estimate",
            ["none", "mild", "moderate", "severe"],
        ),
        ({"payer_type": "cash"}, "payer_type", ["medicaid", "self_pay", "unknown"]),
        ({"authorization": "maybe"}, "authorization", ["not_required", "approved", "denied"]),
        (
            {"medical_flags": ["infection", "broken_leg"]},
            "medical_flags",
            [code for code, _ in screen_rules.MEDICAL_FLAGS],
        ),
        (
            {"psychiatric_flags": ["sad"]},
            "psychiatric_flags",
            [code for code, _ in screen_rules.PSYCHIATRIC_FLAGS],
        ),
        ({"ratings": [1, 0, 0, 0, 5, 0]}, "d5", ["0, 1, 2, 3, 4"]),
        ({"ratings": [-1, 0, 0, 0, 0, 0]}, "d1", ["0, 1, 2, 3, 4"]),
    ],
)
def test_bad_answers_are_refused_naming_the_field_and_the_allowed_values(
    cast, answers, field, allowed
):
    errors = _refused(cast, **answers)
    assert set(errors) == {field}
    for value in allowed:
        assert value in errors[field]


def test_unknown_flags_are_named(cast):
    errors = _refused(cast, medical_flags=["broken_leg"], psychiatric_flags=["sad"])
    assert "'broken_leg'" in errors["medical_flags"]
    assert "'sad'" in errors["psychiatric_flags"]


def test_six_ratings_and_a_short_member_number(cast):
    assert set(_refused(cast, ratings=[1, 0, 0])) == {"ratings"}
    assert set(_refused(cast, payer_member_id="9" * 41)) == {"payer_member_id"}


def test_an_admitted_caller_is_assessed_in_the_chart(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    inquiry_admit(worker, inquiry, cast.residential)
    with pytest.raises(Conflict, match="assess them in the chart"):
        screen(worker, inquiry)
    assert not Screening.objects.exists()


def test_who_screens(cast):
    inquiry = call(admissions(cast))
    with pytest.raises(AccessDenied):
        screen(cast.actors["readonly"], inquiry)
    with pytest.raises(NotFound):
        screen(cast.actors["outsider"], inquiry)
    # Any clinician on the line at night screens.
    assert screen(cast.actors["colleague"], inquiry).screened_by == cast.users["colleague"]
