"""No one leaves withdrawal management without the safe-discharge bundle, and
everyone who leaves carries the 30-day lost-tolerance flag."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from stepwise.aftercare.tests.support import active_plan
from stepwise.care.services import episode_discharge, stay_transition
from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.patients.flags import LOST_TOLERANCE, active_flags
from stepwise.patients.models import RiskFlag, Task
from stepwise.withdrawal.models import BundleClosure
from stepwise.withdrawal.services.discharge import bundle_item_record
from stepwise.withdrawal.tests.support import admit_to_detox, staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _aftercare_plan(cast: Any) -> None:
    """Every leaving also needs an aftercare plan (aftercare's own rule, tested there)."""
    active_plan(cast)


def complete_bundle(cast: Any, actor: Any, *, with_appointment: bool = False) -> None:
    patient = cast.patient
    bundle_item_record(actor, patient, item="naloxone_kit", state="done")
    bundle_item_record(actor, patient, item="overdose_education", state="done")
    bundle_item_record(actor, patient, item="moud_offer", state="done", moud_answer="accepted")
    if with_appointment:
        bundle_item_record(
            actor,
            patient,
            item="next_care",
            state="done",
            appointment_at=timezone.now() + timedelta(days=3),
            appointment_with="Evening IOP intake",
        )


def test_a_transition_out_of_detox_waits_for_the_bundle(cast):
    nurse, _ = staff(cast)
    episode = admit_to_detox(cast)
    with pytest.raises(ValidationFailed) as refused:
        stay_transition(cast.actors["owner"], episode, cast.iop, kind="step_down", reason="Stable")
    message = refused.value.errors["discharge_bundle"]
    assert "Naloxone kit dispensed" in message and "Medication for OUD offered" in message
    # The next program is the next level of care: no appointment needed.
    assert "aftercare appointment" not in message
    complete_bundle(cast, nurse)
    stay_transition(cast.actors["owner"], episode, cast.iop, kind="step_down", reason="Stable")
    flag = RiskFlag.objects.get(patient=cast.patient)
    assert flag.kind == LOST_TOLERANCE
    assert flag.ends_at - flag.starts_at == timedelta(days=30)
    assert active_flags(cast.patient, timezone.now()) == [flag]
    transition = AuditEvent.objects.get(action="transition")
    assert transition.detail["discharge_bundle"] == "required"
    assert "risk_flag_until" in transition.detail


def test_leaving_the_episode_needs_an_appointment_within_seven_days(cast):
    nurse, _ = staff(cast)
    episode = admit_to_detox(cast)
    complete_bundle(cast, nurse)
    bundle_item_record(
        nurse,
        cast.patient,
        item="next_care",
        state="done",
        appointment_at=timezone.now() + timedelta(days=8),
        appointment_with="Dr. Lee, community clinic",
    )
    with pytest.raises(ValidationFailed) as refused:
        episode_discharge(cast.actors["owner"], episode, reason=1)
    assert "more than 7 days" in refused.value.errors["discharge_bundle"]
    bundle_item_record(
        nurse,
        cast.patient,
        item="next_care",
        state="done",
        appointment_at=timezone.now() + timedelta(days=6),
        appointment_with="Dr. Lee, community clinic",
    )
    episode_discharge(cast.actors["owner"], episode, reason=1)
    assert RiskFlag.objects.filter(patient=cast.patient).count() == 1
    assert Task.objects.get(patient=cast.patient, kind="aftercare_attendance")


def test_each_item_may_be_declined_with_a_reason(cast):
    nurse, _ = staff(cast)
    episode = admit_to_detox(cast)
    with pytest.raises(ValidationFailed) as missing:
        bundle_item_record(nurse, cast.patient, item="naloxone_kit", state="declined")
    assert "reason" in missing.value.errors
    for item in ("naloxone_kit", "overdose_education", "moud_offer", "next_care"):
        bundle_item_record(
            nurse, cast.patient, item=item, state="declined", reason="Patient refused everything"
        )
    episode_discharge(cast.actors["owner"], episode, reason=1)
    assert RiskFlag.objects.filter(patient=cast.patient).exists()


def test_leaving_against_advice_records_what_was_missing_and_still_flags(cast):
    nurse, _ = staff(cast)
    episode = admit_to_detox(cast)
    bundle_item_record(nurse, cast.patient, item="naloxone_kit", state="done")
    episode_discharge(cast.actors["owner"], episode, reason=2, note="Left against advice at 02:00")
    closure = BundleClosure.objects.get()
    assert closure.policy == "record_only"
    assert len(closure.gaps) == 3
    assert RiskFlag.objects.filter(patient=cast.patient).exists()
    kinds = set(Task.objects.filter(patient=cast.patient).values_list("kind", flat=True))
    assert {"outreach_overdose_education", "outreach_moud_offer", "outreach_next_care"} <= kinds
    assert "outreach_naloxone_kit" not in kinds


def test_a_death_is_recorded_without_the_bundle_or_a_flag(cast):
    staff(cast)
    episode = admit_to_detox(cast)
    episode_discharge(cast.actors["owner"], episode, reason=6)
    assert not RiskFlag.objects.exists()
    assert BundleClosure.objects.get().policy == "exempt"


def test_other_programs_are_not_gated(cast):
    from stepwise.care.services import episode_admit

    episode = episode_admit(cast.actors["owner"], cast.patient, cast.iop)
    episode_discharge(cast.actors["owner"], episode, reason=1)
    assert not RiskFlag.objects.exists() and not BundleClosure.objects.exists()


def test_bundle_items_are_only_for_withdrawal_management(cast):
    from stepwise.care.services import episode_admit

    nurse, _ = staff(cast)
    episode_admit(cast.actors["owner"], cast.patient, cast.iop)
    with pytest.raises(ValidationFailed) as refused:
        bundle_item_record(nurse, cast.patient, item="naloxone_kit", state="done")
    assert "not a withdrawal-management program" in refused.value.errors["patient"]


def test_bundle_items_name_their_allowed_values(cast):
    nurse, _ = staff(cast)
    admit_to_detox(cast)
    with pytest.raises(ValidationFailed) as refused:
        bundle_item_record(nurse, cast.patient, item="hug", state="maybe")
    assert "naloxone_kit" in refused.value.errors["item"]
    assert "done, declined" in refused.value.errors["state"]
    with pytest.raises(ValidationFailed) as moud:
        bundle_item_record(nurse, cast.patient, item="moud_offer", state="done")
    assert "accepted or declined" in moud.value.errors["moud_answer"]


def test_the_flag_is_renewed_when_the_patient_leaves_24_hour_care(cast):
    from stepwise.care.exits import prepare_exit

    nurse, _ = staff(cast)
    owner = cast.actors["owner"]
    episode = admit_to_detox(cast, hours_ago=24 * 29)
    now = timezone.now()
    complete_bundle(cast, nurse)
    stay_transition(
        owner,
        episode,
        cast.residential,
        kind="step_down",
        reason="Settled",
        at=now - timedelta(days=27),
    )
    first = RiskFlag.objects.get()
    assert first.ends_at < now + timedelta(days=4)  # nearly run out in residential
    prepare_exit(owner, episode, cast.residential, now, ends_episode=True)
    episode_discharge(owner, episode, reason=1)
    renewed = RiskFlag.objects.exclude(pk=first.pk).get()
    assert renewed.ends_at - renewed.starts_at == timedelta(days=30)
    assert renewed.starts_at > now - timedelta(minutes=1)


def test_bundle_items_are_the_care_teams_to_record(cast):
    from stepwise.core.errors import AccessDenied

    staff(cast)
    admit_to_detox(cast)
    clerk = cast.new_member("admissions", "clerk")
    with pytest.raises(AccessDenied):
        bundle_item_record(clerk, cast.patient, item="naloxone_kit", state="done")
