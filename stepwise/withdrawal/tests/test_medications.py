"""The eMAR through its services: who may order and give, the first-dose rules with
their audited overrides, as-needed limits and scheduled doses."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from stepwise.core.errors import AccessDenied, Conflict, ValidationFailed
from stepwise.core.models import AuditEvent, AuditOutcome
from stepwise.withdrawal.models import Administration, SafetyOverride, SafetySettings
from stepwise.withdrawal.services.medications import (
    OrderInput,
    SafetyBlocked,
    administration_record,
    order_create,
    order_set_apply,
    override_record,
)
from stepwise.withdrawal.services.observations import challenge_record
from stepwise.withdrawal.tests.support import admit_to_detox, cows, heroin_admission, staff

pytestmark = pytest.mark.django_db

BUP = OrderInput(
    drug="buprenorphine",
    dose_mg=Decimal(4),
    route="sublingual",
    frequency="q2h_prn",
    prn_indication="COWS 8 or more",
    max_daily_mg=Decimal(12),
    bup_start="standard",
)


@pytest.fixture
def unit(cast: Any) -> Any:
    nurse, physician = staff(cast)
    admit_to_detox(cast, hours_ago=20)
    now = timezone.now()
    heroin_admission(nurse, cast.patient, now - timedelta(hours=14))
    return cast, nurse, physician, now


def test_only_physicians_order_and_only_nurses_give(unit):
    cast, nurse, physician, _ = unit
    with pytest.raises(AccessDenied):
        order_create(nurse, cast.patient, BUP)
    order = order_create(physician, cast.patient, BUP)
    with pytest.raises(AccessDenied):
        administration_record(physician, order, outcome="given")
    assert AuditEvent.objects.filter(action="order", object_id=str(order.public_id)).exists()


def test_first_buprenorphine_dose_waits_for_objective_withdrawal(unit):
    cast, nurse, physician, now = unit
    order = order_create(physician, cast.patient, BUP)
    cows(nurse, cast.patient, 7, now - timedelta(minutes=10))
    with pytest.raises(SafetyBlocked) as blocked:
        administration_record(nurse, order, outcome="given")
    verdict = blocked.value.verdicts[0]
    assert verdict.rule == "R-BUP-1"
    assert any("COWS 7" in line for line in verdict.saw)
    assert any("8 or more" in line for line in verdict.needs)
    refused = AuditEvent.objects.get(action="administer", outcome=AuditOutcome.DENIED)
    assert refused.detail == {"blocked_by": ["R-BUP-1"]}
    assert not Administration.objects.exists()

    cows(nurse, cast.patient, 9, now - timedelta(minutes=1))
    dose = administration_record(nurse, order, outcome="given")
    assert dose.dose_mg == Decimal(4)
    assert dose.safety["R-BUP-1"]["allowed"] is True
    assert dose.followup_due_at == dose.at + timedelta(minutes=60)


def test_the_threshold_is_the_organizations_setting(unit):
    cast, nurse, physician, now = unit
    SafetySettings.objects.create(organization=cast.org, bup_cows_threshold=12)
    order = order_create(physician, cast.patient, BUP)
    cows(nurse, cast.patient, 11, now - timedelta(minutes=5))
    with pytest.raises(SafetyBlocked):
        administration_record(nurse, order, outcome="given")
    cows(nurse, cast.patient, 12, now - timedelta(minutes=1))
    administration_record(nurse, order, outcome="given")


def test_too_soon_after_last_use_is_blocked_whatever_the_cows(cast):
    nurse, physician = staff(cast)
    admit_to_detox(cast, hours_ago=20)
    now = timezone.now()
    heroin_admission(nurse, cast.patient, now - timedelta(hours=11, minutes=59))
    order = order_create(physician, cast.patient, BUP)
    cows(nurse, cast.patient, 15, now - timedelta(minutes=5))
    with pytest.raises(SafetyBlocked) as blocked:
        administration_record(nurse, order, outcome="given")
    assert any(line.startswith("Wait until") for line in blocked.value.verdicts[0].needs)


def test_a_physician_override_is_audited_and_lets_the_nurse_give(unit):
    cast, nurse, physician, now = unit
    order = order_create(
        physician,
        cast.patient,
        OrderInput(**{**BUP.__dict__, "starts_at": now - timedelta(hours=5)}),
    )
    with pytest.raises(AccessDenied):
        override_record(nurse, order, rule="R-BUP-1", reason="x")
    with pytest.raises(ValidationFailed) as missing:
        override_record(physician, order, rule="R-BUP-1", reason=" ")
    assert "reason" in missing.value.errors
    override = override_record(
        physician,
        order,
        rule="R-BUP-1",
        reason="Clear withdrawal on exam; patient distressed",
        at=now - timedelta(hours=4, minutes=5),
    )
    assert override.saw and override.needs
    assert AuditEvent.objects.filter(
        action="safety_override", object_id=str(override.public_id)
    ).exists()
    dose = administration_record(nurse, order, outcome="given", at=now - timedelta(hours=4))
    assert dose.override == override
    assert dose.safety["R-BUP-1"]["override"] == str(override.public_id)
    # Only the first dose of the episode is guarded.
    second = administration_record(nurse, order, outcome="given", at=dose.at + timedelta(hours=2))
    assert second.safety == {} and second.override is None


def test_an_override_is_refused_when_the_rule_does_not_block(unit):
    cast, nurse, physician, now = unit
    order = order_create(physician, cast.patient, BUP)
    cows(nurse, cast.patient, 10, now - timedelta(minutes=2))
    with pytest.raises(Conflict):
        override_record(physician, order, rule="R-BUP-1", reason="just in case")
    assert not SafetyOverride.objects.exists()


def test_low_dose_induction_does_not_wait(unit):
    cast, nurse, physician, _ = unit
    order = order_create(
        physician,
        cast.patient,
        OrderInput(
            **{
                **BUP.__dict__,
                "bup_start": "low_dose",
                "dose_mg": Decimal("0.5"),
                "rationale": "Low-dose protocol: fentanyl use",
            }
        ),
    )
    dose = administration_record(nurse, order, outcome="given")
    assert dose.safety["R-BUP-1"]["allowed"] is True


def test_as_needed_doses_keep_their_interval_and_daily_maximum(unit):
    cast, nurse, physician, now = unit
    order = order_create(
        physician,
        cast.patient,
        OrderInput(
            drug="loperamide",
            dose_mg=Decimal(2),
            route="oral",
            frequency="q4h_prn",
            prn_indication="Loose stools",
            max_daily_mg=Decimal(4),
            starts_at=now - timedelta(hours=10),
        ),
    )
    first = now - timedelta(hours=9)
    administration_record(nurse, order, outcome="given", at=first)
    with pytest.raises(ValidationFailed) as too_soon:
        administration_record(nurse, order, outcome="given", at=first + timedelta(hours=3))
    assert "at" in too_soon.value.errors
    administration_record(nurse, order, outcome="given", at=first + timedelta(hours=4))
    with pytest.raises(ValidationFailed) as too_much:
        administration_record(nurse, order, outcome="given", at=first + timedelta(hours=8))
    assert "maximum of 4 mg" in too_much.value.errors["dose_mg"]


def test_a_held_or_refused_dose_needs_a_reason_and_gives_nothing(unit):
    cast, nurse, physician, _ = unit
    order = order_create(physician, cast.patient, BUP)
    with pytest.raises(ValidationFailed) as missing:
        administration_record(nurse, order, outcome="refused")
    assert "reason" in missing.value.errors
    row = administration_record(nurse, order, outcome="refused", reason="Patient asleep")
    assert row.dose_mg is None and row.followup_due_at is None
    assert row.safety == {}


def test_methadone_needs_a_certified_program_or_an_override(unit):
    cast, _nurse, physician, _ = unit
    methadone = OrderInput(drug="methadone", dose_mg=Decimal(20), route="oral", frequency="daily")
    with pytest.raises(SafetyBlocked) as blocked:
        order_create(physician, cast.patient, methadone)
    assert blocked.value.verdicts[0].rule == "R-MTD-1"
    assert AuditEvent.objects.filter(action="order", outcome=AuditOutcome.DENIED).exists()
    order = order_create(
        physician,
        cast.patient,
        methadone,
        overrides={"R-MTD-1": "Emergency bridge while OTP intake is arranged (3 days)"},
    )
    assert order.overrides.get().rule == "R-MTD-1"


def test_a_first_day_methadone_total_above_the_cap_needs_a_rationale(unit):
    cast, _nurse, physician, _ = unit
    cast.detox.otp_certified = True
    cast.detox.save()
    big = OrderInput(drug="methadone", dose_mg=Decimal(30), route="oral", frequency="bid")
    with pytest.raises(SafetyBlocked) as blocked:
        order_create(physician, cast.patient, big)
    assert "rationale" in blocked.value.verdicts[0].needs[0]
    order_create(
        physician,
        cast.patient,
        OrderInput(**{**big.__dict__, "rationale": "High fentanyl tolerance, observed dosing"}),
    )


def test_naltrexone_waits_for_the_opioid_free_interval_or_a_negative_challenge(unit):
    cast, nurse, physician, _ = unit
    order = order_create(
        physician,
        cast.patient,
        OrderInput(
            drug="naltrexone_xr", dose_mg=Decimal(380), route="intramuscular", frequency="once"
        ),
    )
    with pytest.raises(SafetyBlocked) as blocked:
        administration_record(nurse, order, outcome="given", scheduled_for=order.starts_at)
    assert blocked.value.verdicts[0].rule == "R-NTX-1"
    challenge_record(nurse, cast.patient, result="negative")
    dose = administration_record(nurse, order, outcome="given", scheduled_for=order.starts_at)
    assert dose.safety["R-NTX-1"]["allowed"] is True


def test_a_scheduled_dose_is_charted_once(unit):
    cast, nurse, physician, now = unit
    order = order_create(
        physician,
        cast.patient,
        OrderInput(
            drug="clonidine",
            dose_mg=Decimal("0.1"),
            route="oral",
            frequency="q6h",
            starts_at=now - timedelta(hours=13),
        ),
    )
    with pytest.raises(ValidationFailed) as which:
        administration_record(nurse, order, outcome="given")
    assert "scheduled_for" in which.value.errors
    from zoneinfo import ZoneInfo

    from stepwise.withdrawal.rules.schedule import scheduled_doses

    due = scheduled_doses(
        frequency_code="q6h",
        dose_mg=order.dose_mg,
        taper=[],
        starts_at=order.starts_at,
        ends_at=None,
        window_start=now - timedelta(hours=12),
        window_end=now,
        zone=ZoneInfo("America/New_York"),
    )[0]
    administration_record(nurse, order, outcome="given", scheduled_for=due.due_at, at=due.due_at)
    with pytest.raises(Conflict):
        administration_record(
            nurse, order, outcome="held", scheduled_for=due.due_at, reason="BP 88/50"
        )


def test_the_comfort_set_orders_every_line_at_once(unit):
    cast, _, physician, _ = unit
    orders = order_set_apply(physician, cast.patient).orders
    assert {o.drug for o in orders} == {
        "clonidine",
        "loperamide",
        "ondansetron",
        "ibuprofen",
        "hydroxyzine",
        "trazodone",
    }
    assert all(o.is_prn and o.prn_indication for o in orders)
    assert AuditEvent.objects.filter(action="order").count() == 6


def test_an_override_when_ordering_is_only_for_the_rule_checked_then(unit):
    cast, _nurse, physician, _ = unit
    with pytest.raises(ValidationFailed) as refused:
        order_create(physician, cast.patient, BUP, overrides={"R-BUP-1": "Urgent"})
    assert "Only R-MTD-1 is checked when ordering" in refused.value.errors["overrides"]


def test_order_times_need_a_zone_and_a_sane_length(unit):
    cast, _nurse, physician, now = unit
    naive = OrderInput(**{**BUP.__dict__, "starts_at": now.replace(tzinfo=None)})
    with pytest.raises(ValidationFailed) as missing:
        order_create(physician, cast.patient, naive)
    assert missing.value.errors == {"starts_at": "Give the time with its time zone."}
    endless = OrderInput(**{**BUP.__dict__, "ends_at": now + timedelta(days=400)})
    with pytest.raises(ValidationFailed) as long:
        order_create(physician, cast.patient, endless)
    assert "at most a year" in long.value.errors["ends_at"]


def test_a_later_positive_naloxone_challenge_outweighs_an_earlier_negative(unit):
    cast, nurse, physician, now = unit
    order = order_create(
        physician,
        cast.patient,
        OrderInput(
            drug="naltrexone",
            dose_mg=Decimal(50),
            route="oral",
            frequency="q8h_prn",
            prn_indication="Start",
        ),
    )
    challenge_record(nurse, cast.patient, result="negative", performed_at=now - timedelta(hours=3))
    challenge_record(nurse, cast.patient, result="positive", performed_at=now - timedelta(hours=1))
    with pytest.raises(SafetyBlocked) as blocked:
        administration_record(nurse, order, outcome="given")
    assert "Positive naloxone challenge" in blocked.value.verdicts[0].saw[0]


def test_a_course_interrupted_for_three_days_starts_again_under_the_rule(unit):
    cast, nurse, physician, now = unit
    order = order_create(
        physician,
        cast.patient,
        OrderInput(**{**BUP.__dict__, "starts_at": now - timedelta(hours=19)}),
    )
    override_record(
        physician,
        order,
        rule="R-BUP-1",
        reason="Induction at arrival",
        at=now - timedelta(hours=18, minutes=5),
    )
    administration_record(nurse, order, outcome="given", at=now - timedelta(hours=18))
    # A dose charted back before the first one is a first dose itself.
    second = order_create(
        physician,
        cast.patient,
        OrderInput(
            **{
                **BUP.__dict__,
                "drug": "buprenorphine_naloxone",
                "starts_at": now - timedelta(hours=20),
            }
        ),
    )
    with pytest.raises(SafetyBlocked):
        administration_record(nurse, second, outcome="given", at=now - timedelta(hours=19))


def test_a_low_dose_induction_starts_small_and_names_its_protocol(unit):
    cast, _nurse, physician, _ = unit
    big = OrderInput(**{**BUP.__dict__, "bup_start": "low_dose"})
    with pytest.raises(ValidationFailed) as refused:
        order_create(physician, cast.patient, big)
    assert set(refused.value.errors) == {"dose_mg", "rationale"}
    order = order_create(
        physician,
        cast.patient,
        OrderInput(
            **{
                **BUP.__dict__,
                "bup_start": "low_dose",
                "dose_mg": Decimal("0.5"),
                "rationale": "Bernese method: fentanyl",
            }
        ),
    )
    assert (
        AuditEvent.objects.get(action="order", object_id=str(order.public_id)).detail["bup_start"]
        == "low_dose"
    )


def test_methadone_taken_now_needs_its_last_dose_time(cast):
    from stepwise.withdrawal.rules.admission import MedicalAdmissionData, SubstanceUse
    from stepwise.withdrawal.services.admissions import medical_admission_record

    nurse, _ = staff(cast)
    admit_to_detox(cast)
    now = timezone.now()
    data = MedicalAdmissionData(
        substances=(SubstanceUse("heroin", ("iv",), last_use_at=now - timedelta(hours=14)),),
        on_methadone=True,
        no_known_allergies=True,
    )
    with pytest.raises(ValidationFailed) as refused:
        medical_admission_record(nurse, cast.patient, data)
    assert "time of the last dose" in refused.value.errors["on_methadone"]


def test_a_back_dated_correction_of_the_admission_is_the_one_that_counts(unit):
    from stepwise.withdrawal.selectors import current_admission

    cast, nurse, _physician, now = unit
    first = current_admission(cast.patient.episodes.get())
    assert first is not None
    heroin_admission(nurse, cast.patient, now - timedelta(hours=3))  # corrected last use
    current = current_admission(cast.patient.episodes.get())
    assert current is not None and current.replaces == first
    assert current.last_opioid_use_at is not None
    assert now - current.last_opioid_use_at < timedelta(hours=4)


def test_a_first_dose_override_does_not_cover_a_restart_days_later(unit):
    cast, nurse, physician, now = unit
    order = order_create(
        physician,
        cast.patient,
        OrderInput(**{**BUP.__dict__, "starts_at": now - timedelta(hours=19)}),
    )
    override_record(
        physician, order, rule="R-BUP-1", reason="Induction", at=now - timedelta(hours=18)
    )
    # Within the day the override was given for: covered.
    administration_record(nurse, order, outcome="given", at=now - timedelta(hours=17))
    from stepwise.withdrawal.services.medications import standing_overrides

    assert "R-BUP-1" not in standing_overrides(order, now + timedelta(hours=7))


def test_back_in_detox_after_a_relapse_the_last_use_must_be_recorded_again(cast):
    from stepwise.care.exits import prepare_exit
    from stepwise.care.services import stay_transition

    nurse, physician = staff(cast)
    owner = cast.actors["owner"]
    episode = admit_to_detox(cast, hours_ago=60)
    now = timezone.now()
    heroin_admission(
        nurse, cast.patient, now - timedelta(hours=70), recorded_at=now - timedelta(hours=59)
    )
    prepare_exit(owner, episode, cast.detox, now - timedelta(hours=40), ends_episode=False)
    stay_transition(
        owner,
        episode,
        cast.residential,
        kind="step_down",
        reason="Settled",
        at=now - timedelta(hours=40),
    )
    stay_transition(
        owner,
        episode,
        cast.detox,
        kind="step_up",
        reason="Relapse on fentanyl",
        at=now - timedelta(hours=2),
    )
    order = order_create(physician, cast.patient, BUP)
    cows(nurse, cast.patient, 12, now - timedelta(minutes=5))
    with pytest.raises(SafetyBlocked) as blocked:
        administration_record(nurse, order, outcome="given")
    assert "No time of last full-agonist opioid use is recorded." in blocked.value.verdicts[0].saw
