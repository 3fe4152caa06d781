"""The named writes of sober living: set-up (residences, rules versions, houses, beds),
move-in with the house rules accepted and the PHP/IOP stay linked, refusals of a bed
that is taken or out of service, move-out, moves between beds, re-acceptance of
changed rules, and curfew check-ins; each audited, each behind its permission."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from stepwise.care.models import Program
from stepwise.care.services import episode_admit
from stepwise.core.errors import AccessDenied, Conflict, NotFound, OutsideCareTeam, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.patients.models import CareTeamMember
from stepwise.residences import rules, selectors
from stepwise.residences.models import (
    CurfewCheckIn,
    MoveOutReason,
    ResidenceRules,
    Residency,
    RulesAcceptance,
)
from stepwise.residences.services.common import house_get
from stepwise.residences.services.curfew import curfew_record
from stepwise.residences.services.residency import (
    residency_move_bed,
    residency_move_in,
    residency_move_out,
    rules_accept,
)
from stepwise.residences.services.setup import (
    HouseData,
    ResidenceData,
    bed_create,
    bed_reinstate,
    bed_retire,
    house_create,
    house_reinstate,
    house_retire,
    residence_create,
    residence_reinstate,
    residence_retire,
    residence_update,
    rules_update,
)
from stepwise.residences.tests.support import RULES, move_in, sober_living

NY = ZoneInfo("America/New_York")
# Thursday 5 November 2026, 18:00 in New York (a weekday night: curfew 22:00).
THURSDAY_EVENING = datetime(2026, 11, 5, 18, 0, tzinfo=NY)


@pytest.fixture
def evening() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(THURSDAY_EVENING, tick=False) as traveller:
        yield traveller


def last_audit(**filters: object) -> AuditEvent:
    return AuditEvent.objects.filter(**filters).latest("id")


# --- Set-up ----------------------------------------------------------------------


def test_a_residence_starts_with_version_1_of_its_rules_audited_without_a_patient(cast):
    s = sober_living(cast)
    assert s.residence.rules_version == 1
    assert ResidenceRules.objects.get(residence=s.residence).text == RULES
    row = last_audit(object_type="residence")
    assert row.patient_public_id is None and row.data_class == "system"
    assert row.actor_username == "director" and row.category == "residences"


def test_set_up_refusals_name_the_field(cast):
    director = cast.actors["director"]
    with pytest.raises(ValidationFailed) as refused:
        residence_create(director, ResidenceData(name="", operator_name=""), rules_text=" ")
    assert set(refused.value.errors) == {"name", "operator_name", "rules_text"}
    with pytest.raises(ValidationFailed) as refused:
        residence_create(
            director,
            ResidenceData(name="X", operator_name="Y", time_zone="Mars/Base"),
            rules_text="r",
        )
    assert "IANA" in refused.value.errors["time_zone"]
    s = sober_living(cast)
    with pytest.raises(Conflict, match="already a residence named"):
        sober_living(cast)
    with pytest.raises(ValidationFailed) as refused:
        house_create(director, s.residence, HouseData(name="Pine", house_for="kids"))
    assert "men (Men), women (Women), any (Anyone)" in refused.value.errors["house_for"]
    with pytest.raises(Conflict, match="already has a bed labelled Bed 1"):
        bed_create(director, s.oak, label=" Bed 1 ")


def test_only_residence_staff_set_up_and_other_organizations_find_nothing(cast):
    with pytest.raises(AccessDenied):
        sober_living(cast, by="colleague")
    s = sober_living(cast, by="owner")  # a counselor manages residences
    with pytest.raises(NotFound):
        residence_update(
            cast.actors["outsider"], s.residence, ResidenceData(name="Mine", operator_name="Me")
        )
    with pytest.raises(NotFound):
        bed_create(cast.actors["outsider"], s.oak, label="Bed 9")


def test_changing_the_rules_makes_a_new_version_and_keeps_the_old(cast):
    s = sober_living(cast)
    director = cast.actors["director"]
    with pytest.raises(ValidationFailed, match="rules in force"):
        rules_update(director, s.residence, text=RULES)
    made = rules_update(director, s.residence, text=RULES + "\nNo visitors after 21:00.")
    assert made.version == 2
    s.residence.refresh_from_db()
    assert s.residence.rules_version == 2
    assert list(
        ResidenceRules.objects.filter(residence=s.residence).values_list("version", flat=True)
    ) == [2, 1]


def test_retiring_what_has_residents_is_refused_without_names(cast):
    s = sober_living(cast)
    move_in(cast, cast.patient, s.oak_beds[0])
    director = cast.actors["director"]
    with pytest.raises(Conflict) as refused:
        bed_retire(director, s.oak_beds[0])
    assert "Bed 1 has a resident" in refused.value.message and "Rivera" not in refused.value.message
    with pytest.raises(Conflict, match="1 resident still lives in"):
        house_retire(director, s.oak)
    with pytest.raises(Conflict, match="1 resident still lives at"):
        residence_retire(director, s.residence)
    retired = bed_retire(director, s.oak_beds[1])
    assert not retired.is_active and retired.retired_at is not None
    assert bed_reinstate(director, retired).is_active


def test_no_bed_is_added_to_a_house_of_a_retired_residence(cast):
    s = sober_living(cast)
    director = cast.actors["director"]
    residence_retire(director, s.residence)
    audited = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        bed_create(director, s.oak, label="Cot")
    assert refused.value.errors == {
        "house": "Riverside Sober Living is retired; reinstate it before adding beds."
    }
    assert not s.oak.beds.filter(label="Cot").exists()
    assert AuditEvent.objects.count() == audited
    # The page keeps the label typed and says why.
    page = cast.client_for("director").post(
        f"/residences/houses/{s.oak.public_id}/beds/", {"label": "Cot"}
    )
    assert page.status_code == 422
    html = page.content.decode()
    assert "Riverside Sober Living is retired" in html and 'value="Cot"' in html
    residence_reinstate(director, s.residence)
    assert bed_create(director, s.oak, label="Cot").is_active


def test_nothing_is_added_to_or_put_back_in_a_retired_house_or_residence(cast):
    """Refused on the field naming what is retired, as bed_reinstate is."""
    s = sober_living(cast)
    director = cast.actors["director"]
    house_retire(director, s.oak)
    house_retire(director, s.elm)
    residence_retire(director, s.residence)
    audited = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        bed_create(director, s.oak, label="Cot")
    assert refused.value.errors == {  # the residence is named first
        "house": "Riverside Sober Living is retired; reinstate it before adding beds."
    }
    with pytest.raises(ValidationFailed) as refused:
        house_reinstate(director, s.oak)
    assert refused.value.errors == {
        "residence": "Riverside Sober Living is retired; reinstate it before putting Oak "
        "House Riv back in use."
    }
    with pytest.raises(ValidationFailed) as refused:
        house_create(director, s.residence, HouseData(name="Pine"))
    assert refused.value.errors == {
        "residence": "Riverside Sober Living is retired; reinstate it before adding houses."
    }
    assert AuditEvent.objects.count() == audited
    s.oak.refresh_from_db()
    assert not s.oak.is_active and not s.oak.beds.filter(label="Cot").exists()
    # The pages say why and keep what was typed.
    client = cast.client_for("director")
    page = client.post(f"/residences/houses/{s.oak.public_id}/retire/", {"action": "reinstate"})
    assert page.status_code == 302
    shown = client.get(page["Location"]).content.decode()
    assert "Riverside Sober Living is retired; reinstate it before putting Oak House Riv" in shown
    page = client.post(
        f"/residences/{s.residence.public_id}/houses/new/",
        {"name": "Pine", "house_for": "any", "curfew_weekday": "22:00", "curfew_weekend": "23:00"},
    )
    assert page.status_code == 422
    html = page.content.decode()
    assert "reinstate it before adding houses" in html and 'value="Pine"' in html
    residence_reinstate(director, s.residence)
    with pytest.raises(ValidationFailed) as refused:
        bed_create(director, s.oak, label="Cot")
    assert refused.value.errors == {
        "house": "Oak House Riv is retired; reinstate the house before adding beds."
    }
    page = client.post(f"/residences/houses/{s.oak.public_id}/beds/", {"label": "Cot"})
    assert page.status_code == 422
    html = page.content.decode()
    assert "Oak House Riv is retired; reinstate the house before adding beds." in html
    assert 'value="Cot"' in html
    assert house_reinstate(director, s.oak).is_active
    assert bed_create(director, s.oak, label="Cot").is_active


def test_no_bed_is_put_back_in_service_in_a_retired_house_or_residence(cast):
    s = sober_living(cast)
    director = cast.actors["director"]
    oak_bed, elm_bed = bed_retire(director, s.oak_beds[0]), bed_retire(director, s.elm_beds[0])
    house_retire(director, s.oak)
    audited = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        bed_reinstate(director, oak_bed)
    assert refused.value.errors == {
        "house": "Oak House Riv is retired; reinstate the house before putting Bed 1 back in "
        "service."
    }
    assert AuditEvent.objects.count() == audited
    residence_retire(director, s.residence)  # Elm House itself stays in use
    audited = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        bed_reinstate(director, elm_bed)
    assert refused.value.errors == {
        "house": "Riverside Sober Living is retired; reinstate it before putting Bed 1 back in "
        "service."
    }
    assert AuditEvent.objects.count() == audited
    oak_bed.refresh_from_db()
    elm_bed.refresh_from_db()
    assert not oak_bed.is_active and not elm_bed.is_active
    # The house page says why, and nothing changed.
    client = cast.client_for("director")
    page = client.post(f"/residences/beds/{elm_bed.public_id}/", {"action": "reinstate"})
    assert page.status_code == 302
    shown = client.get(page["Location"]).content.decode()
    assert "Riverside Sober Living is retired; reinstate it before putting Bed 1" in shown
    residence_reinstate(director, s.residence)
    assert bed_reinstate(director, elm_bed).is_active


# --- Move-in ---------------------------------------------------------------------


def test_move_in_records_the_rules_accepted_and_the_audit_row(cast):
    s = sober_living(cast)
    residency = move_in(cast, cast.patient, s.oak_beds[0])
    assert residency.rules_version == 1 and residency.stay is None
    acceptance = RulesAcceptance.objects.get(residency=residency)
    assert acceptance.rules.version == 1 and acceptance.patient_id == cast.patient.pk
    row = last_audit(object_type="residency", action="create")
    assert row.patient_public_id == cast.patient.public_id and row.data_class == "part2"
    assert row.detail["bed"] == str(s.oak_beds[0].public_id)


def test_move_in_needs_the_rules_in_force_accepted(cast):
    s = sober_living(cast)
    owner = cast.actors["owner"]
    with pytest.raises(ValidationFailed) as refused:
        residency_move_in(owner, cast.patient, s.oak_beds[0], rules_version=None)
    assert "must accept the house rules" in refused.value.errors["rules_accepted"]
    rules_update(cast.actors["director"], s.residence, text="New rules")
    with pytest.raises(ValidationFailed) as refused:
        residency_move_in(owner, cast.patient, s.oak_beds[0], rules_version=1)
    assert "now version 2" in refused.value.errors["rules_accepted"]
    assert not Residency.objects.exists()


@pytest.mark.parametrize(
    ("level", "edition", "linked"), [("2.5", 3, True), ("2.1", 4, True), ("3.5", 3, False)]
)
def test_the_php_or_iop_stay_at_move_in_is_linked(cast, level, edition, linked):
    program = Program.objects.create(
        organization=cast.org,
        facility=cast.facility,
        name=f"Program {level}",
        asam_level=level,
        asam_edition=edition,
        teds_service=6 if level != "3.5" else 4,
        is_24_hour=level == "3.5",
        bed_capacity=5 if level == "3.5" else None,
    )
    episode_admit(
        cast.actors["owner"], cast.patient, program, at=timezone.now() - timedelta(days=3)
    )
    s = sober_living(cast)
    residency = move_in(cast, cast.patient, s.oak_beds[0])
    if linked:
        assert residency.stay is not None and residency.stay.program == program
    else:
        assert residency.stay is None


def test_the_stay_linked_is_one_within_the_residency(cast):
    start = timezone.now() - timedelta(days=20)
    with time_machine.travel(start, tick=False):
        s = sober_living(cast)
    episode_admit(cast.actors["owner"], cast.patient, cast.iop, at=start + timedelta(days=10))
    # Back-dated to before the IOP admission and open: the IOP stay begun since is
    # linked, as it would have been had the move-in been recorded on time.
    early = move_in(cast, cast.patient, s.oak_beds[0], at=start + timedelta(days=5))
    assert early.stay is not None and early.stay.program == cast.iop
    # Moved out before the IOP admission: nothing of the residency's own span to link.
    residency_move_out(
        cast.actors["owner"], early, reason="completed", at=start + timedelta(days=6)
    )
    early.refresh_from_db()
    assert early.stay is None
    assert last_audit(object_type="residency").detail == {"moved_out": "completed", "stay": None}
    residency = move_in(cast, cast.patient, s.oak_beds[0])
    assert residency.stay is not None and residency.stay.program == cast.iop
    assert residency.stay.episode.patient == cast.patient


def test_a_taken_bed_is_refused_naming_the_occupant_only_to_those_with_access(cast):
    s = sober_living(cast)
    move_in(cast, cast.patient, s.oak_beds[0])
    ben = cast.new_patient("RR-2", "Ben", "Ortiz")
    with pytest.raises(Conflict) as refused:
        move_in(cast, ben, s.oak_beds[0])
    assert "Bed 1 of Oak House Riv is taken: Ana Rivera lives there" in refused.value.message
    assert (
        last_audit(action="read", object_type="residency").patient_public_id
        == cast.patient.public_id
    )
    # A case manager on Ben's care team, not on Ana's, learns only that the bed is taken.
    manager = cast.new_member("case_manager", "cm")
    CareTeamMember.objects.create(
        organization=cast.org, patient=ben, user=cast.users["cm"], team_role="case_manager"
    )
    with pytest.raises(Conflict) as refused:
        move_in(cast, ben, s.oak_beds[0], by="cm")
    assert "taken: another resident lives there" in refused.value.message
    assert "Rivera" not in refused.value.message and "Ana" not in refused.value.message
    assert manager.role == "case_manager"
    assert Residency.objects.filter(bed=s.oak_beds[0]).count() == 1


def test_a_patient_lives_in_one_bed_at_a_time(cast):
    s = sober_living(cast)
    move_in(cast, cast.patient, s.oak_beds[0])
    with pytest.raises(Conflict, match="Ana Rivera lives at Oak House Riv, Bed 1"):
        move_in(cast, cast.patient, s.oak_beds[1])


def test_an_out_of_service_bed_or_retired_house_is_refused(cast):
    s = sober_living(cast)
    bed_retire(cast.actors["director"], s.oak_beds[2])
    with pytest.raises(Conflict, match="Bed 3 of Oak House Riv is out of service"):
        move_in(cast, cast.patient, s.oak_beds[2])
    house_retire(cast.actors["director"], s.elm)
    with pytest.raises(Conflict, match="is retired"):
        move_in(cast, cast.patient, s.elm_beds[0])


def test_move_in_needs_residence_staff_and_the_care_relationship(cast):
    s = sober_living(cast)
    bed = s.oak_beds[0]
    with pytest.raises(AccessDenied):  # a nurse does not manage residences
        residency_move_in(cast.actors["colleague"], cast.patient, bed, rules_version=1)
    cast.new_member("case_manager", "cm")
    with pytest.raises(OutsideCareTeam):  # manages residences, not on Ana's care team
        residency_move_in(cast.actors["cm"], cast.patient, bed, rules_version=1)
    with pytest.raises(NotFound):
        residency_move_in(cast.actors["outsider"], cast.patient, bed, rules_version=1)
    # The director's work spans the facility.
    assert residency_move_in(cast.actors["director"], cast.patient, bed, rules_version=1)


def test_a_back_dated_move_in_cannot_slip_under_a_later_resident(cast):
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=False):
        s = sober_living(cast)
    later = move_in(cast, cast.patient, s.oak_beds[0], at=timezone.now() - timedelta(days=2))
    ben = cast.new_patient("RR-2", "Ben", "Ortiz")
    with pytest.raises(Conflict, match="is taken"):
        move_in(cast, ben, s.oak_beds[0], at=timezone.now() - timedelta(days=5))
    residency_move_out(cast.actors["owner"], later, reason="completed")
    with pytest.raises(Conflict, match="is taken"):  # still overlaps the later stay
        move_in(cast, ben, s.oak_beds[0], at=timezone.now() - timedelta(days=5))


# --- Move-out and bed moves ---------------------------------------------------------


def test_a_move_out_frees_the_bed_at_that_instant(cast):
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=False):
        s = sober_living(cast)
    owner = cast.actors["owner"]
    residency = move_in(cast, cast.patient, s.oak_beds[0], at=timezone.now() - timedelta(days=5))
    out_at = timezone.now() - timedelta(days=1)
    with pytest.raises(ValidationFailed) as refused:
        residency_move_out(owner, residency, reason="bed_move")
    assert "completed (Completed the stay)" in refused.value.errors["reason"]
    assert "bed_move" not in refused.value.errors["reason"]
    with pytest.raises(ValidationFailed, match="Say why"):
        residency_move_out(owner, residency, reason="other")
    with pytest.raises(ValidationFailed, match="after the move-in"):
        residency_move_out(owner, residency, reason="completed", at=residency.moved_in_at)
    done = residency_move_out(owner, residency, reason="rule_violation", note="Used", at=out_at)
    assert done.move_out_reason == MoveOutReason.RULE_VIOLATION
    with pytest.raises(Conflict, match="already moved out"):
        residency_move_out(owner, residency, reason="completed")
    ben = cast.new_patient("RR-2", "Ben", "Ortiz")
    assert move_in(cast, ben, s.oak_beds[0], at=out_at)
    counts = selectors.occupancy(owner, out_at - timedelta(seconds=1))[0].houses[1].counts
    assert counts.occupied == 1  # Ana, still in until the very instant
    assert selectors.occupancy(owner, out_at)[0].houses[1].counts.occupied == 1  # Ben


def test_a_move_within_the_residence_keeps_the_rules_accepted(cast):
    owner = cast.actors["owner"]
    with time_machine.travel(timezone.now() - timedelta(hours=2), tick=False):
        s = sober_living(cast)
        first = move_in(cast, cast.patient, s.oak_beds[0])
    with pytest.raises(ValidationFailed, match="another bed than"):
        residency_move_bed(owner, first, s.oak_beds[0])
    moved = residency_move_bed(owner, first, s.oak_beds[1])
    first.refresh_from_db()
    assert (
        first.move_out_reason == MoveOutReason.BED_MOVE and first.moved_out_at == moved.moved_in_at
    )
    assert moved.moved_from == first and moved.bed == s.oak_beds[1]
    assert (moved.rules_version, moved.rules_accepted_at) == (1, first.rules_accepted_at)
    assert RulesAcceptance.objects.filter(patient=cast.patient).count() == 1


def test_a_move_to_another_residence_needs_its_rules(cast):
    owner = cast.actors["owner"]
    with time_machine.travel(timezone.now() - timedelta(hours=2), tick=False):
        s = sober_living(cast)
        other = sober_living(cast, name="Harbor Way")
        first = move_in(cast, cast.patient, s.oak_beds[0])
    with pytest.raises(ValidationFailed, match="must accept the house rules of Harbor Way"):
        residency_move_bed(owner, first, other.elm_beds[0])
    moved = residency_move_bed(owner, first, other.elm_beds[0], rules_version=1)
    assert RulesAcceptance.objects.filter(patient=cast.patient).count() == 2
    assert moved.bed.house.residence == other.residence


# --- Changed rules ---------------------------------------------------------------------


def test_when_the_rules_change_the_resident_accepts_again(cast):
    s = sober_living(cast)
    owner = cast.actors["owner"]
    residency = move_in(cast, cast.patient, s.oak_beds[0])
    with pytest.raises(Conflict, match="already accepted version 1"):
        rules_accept(owner, residency, rules_version=1)
    rules_update(cast.actors["director"], s.residence, text="Version two")
    page = selectors.house_page(owner, house_get(owner, s.oak.public_id), timezone.now())
    assert [row.needs_rules for row in page.beds] == [True, False, False, False]
    with pytest.raises(ValidationFailed, match="now version 2"):
        rules_accept(owner, residency, rules_version=1)
    with pytest.raises(ValidationFailed, match="must accept"):
        rules_accept(owner, residency, rules_version=None)
    acceptance = rules_accept(owner, residency, rules_version=2)
    assert acceptance.rules.text == "Version two"
    residency.refresh_from_db()
    assert residency.rules_version == 2
    assert not selectors.house_page(owner, s.oak, timezone.now()).beds[0].needs_rules
    assert last_audit(object_type="house_residents").detail["patients"] == [
        str(cast.patient.public_id)
    ]
    assert last_audit(object_type="residency").detail == {"rules_version": 2}


# --- Curfew ---------------------------------------------------------------------------


def test_curfew_marks_on_time_late_missed_and_excused(cast, evening):
    s = sober_living(cast)
    owner = cast.actors["owner"]
    ana = move_in(cast, cast.patient, s.oak_beds[0])
    ben = move_in(cast, cast.new_patient("RR-2", "Ben", "Ortiz"), s.oak_beds[1])
    cara = move_in(cast, cast.new_patient("RR-3", "Cara", "Lim"), s.oak_beds[2])
    evening.move_to(datetime(2026, 11, 5, 21, 40, tzinfo=NY))
    on_time = curfew_record(owner, ana, mark="arrived")
    assert (on_time.status, on_time.minutes_late) == ("on_time", None)
    assert on_time.curfew_at.astimezone(NY).time() == time(22, 0)
    with pytest.raises(Conflict, match="curfew is at 22:00"):
        curfew_record(owner, ben, mark="missed")
    with pytest.raises(ValidationFailed, match="Say why"):
        curfew_record(owner, cara, mark="excused")
    excused = curfew_record(owner, cara, mark="excused", reason="Night shift")
    assert excused.status == "excused"
    evening.move_to(
        datetime(2026, 11, 6, 0, 30, tzinfo=NY)
    )  # after midnight: still Thursday's night
    late = curfew_record(
        owner, ben, mark="arrived", arrived_at=datetime(2026, 11, 5, 22, 17, 40, tzinfo=NY)
    )
    assert (late.status, late.minutes_late) == ("late", 17)
    assert str(late.night) == "2026-11-05"
    # A correction replaces the night's mark, and the audit says what it was.
    missed = curfew_record(owner, ben, mark="missed")
    assert missed.pk == late.pk and missed.status == "missed" and missed.arrived_at is None
    assert last_audit(object_type="curfew_check_in").detail["was"] == "late"
    assert CurfewCheckIn.objects.filter(patient=ben.patient).count() == 1


def test_a_corrected_curfew_mark_keeps_what_it_replaced_in_the_audit(cast, evening):
    s = sober_living(cast)
    ben = move_in(cast, cast.new_patient("RR-2", "Ben", "Ortiz"), s.oak_beds[1])
    evening.move_to(datetime(2026, 11, 6, 0, 30, tzinfo=NY))
    arrived = datetime(2026, 11, 5, 22, 17, 40, tzinfo=NY)
    first = curfew_record(
        cast.actors["owner"], ben, mark="excused", arrived_at=arrived, reason="Late shift"
    )
    recorded_at = first.recorded_at
    evening.move_to(datetime(2026, 11, 6, 0, 45, tzinfo=NY))
    # Another member corrects it: the row now holds the director's mark only.
    missed = curfew_record(cast.actors["director"], ben, mark="missed")
    assert missed.pk == first.pk
    assert (missed.arrived_at, missed.reason) == (None, "")
    assert missed.recorded_by_id == cast.users["director"].pk
    row = last_audit(object_type="curfew_check_in")
    assert row.action == "update" and row.actor_username == "director"
    assert row.detail["was"] == "excused"
    assert row.detail["previous"] == {
        "status": "excused",
        "arrived_at": arrived.astimezone(UTC).isoformat(),
        "minutes_late": None,
        "reason": "Late shift",
        "residency": str(ben.public_id),
        "recorded_by": cast.users["owner"].pk,
        "recorded_by_username": "owner",
        "recorded_at": recorded_at.astimezone(UTC).isoformat(),
    }
    # A late arrival corrected keeps its minutes late too.
    late = curfew_record(cast.actors["owner"], ben, mark="arrived", arrived_at=arrived)
    assert late.minutes_late == 17
    curfew_record(cast.actors["owner"], ben, mark="excused", reason="Bus broke down")
    previous = last_audit(object_type="curfew_check_in").detail["previous"]
    assert previous["status"] == "late" and previous["minutes_late"] == 17
    assert previous["recorded_by_username"] == "owner" and previous["reason"] == ""
    # A first mark has nothing before it.
    ana = move_in(cast, cast.patient, s.oak_beds[0])
    curfew_record(cast.actors["owner"], ana, mark="missed")
    created = last_audit(object_type="curfew_check_in")
    assert created.action == "create" and "previous" not in created.detail


def test_the_patients_curfew_history_counts_nights_on_the_residences_clock(cast, evening):
    """90 nights back from tonight in the residence's zone: at 21:00 in New York it is
    already tomorrow in UTC, which must not drop the oldest night."""
    from datetime import date

    s = sober_living(cast)
    ana = move_in(cast, cast.patient, s.oak_beds[0], at=datetime(2026, 8, 1, 12, tzinfo=NY))
    evening.move_to(datetime(2026, 11, 5, 21, 0, tzinfo=NY))  # 02:00 on the 6th in UTC
    tonight = date(2026, 11, 5)
    oldest = tonight - timedelta(days=selectors.CURFEW_HISTORY_NIGHTS)
    for night in (oldest - timedelta(days=1), oldest, tonight):
        curfew_record(cast.actors["owner"], ana, mark="excused", reason="Work", night=night)
    found = selectors.patient_residences(cast.actors["owner"], cast.patient)
    assert [c.night for c in found.check_ins] == [tonight, oldest]
    # No residency, no curfew marks.
    other = cast.new_patient("RR-9", "Dee", "Noor")
    assert selectors.patient_residences(cast.actors["owner"], other).check_ins == []


def test_curfew_refusals(cast, evening):
    s = sober_living(cast)
    owner = cast.actors["owner"]
    ana = move_in(cast, cast.patient, s.oak_beds[0])
    tonight = rules.night_of(timezone.now(), NY)
    with pytest.raises(ValidationFailed, match="not later"):
        curfew_record(owner, ana, mark="excused", reason="x", night=tonight + timedelta(days=1))
    with pytest.raises(ValidationFailed, match="did not live in this bed"):
        curfew_record(owner, ana, mark="excused", reason="x", night=tonight - timedelta(days=3))
    with pytest.raises(ValidationFailed, match="between noon that day and noon the next"):
        curfew_record(owner, ana, mark="arrived", arrived_at=timezone.now() - timedelta(hours=8))
    with pytest.raises(ValidationFailed) as refused:
        curfew_record(owner, ana, mark="present")
    assert "arrived" in refused.value.errors["mark"]
    with pytest.raises(AccessDenied):
        curfew_record(cast.actors["colleague"], ana, mark="arrived")
    with pytest.raises(NotFound):
        curfew_record(cast.actors["outsider"], ana, mark="arrived")


def test_the_weekend_curfew_applies_on_friday_night(cast, evening):
    s = sober_living(cast)
    ana = move_in(cast, cast.patient, s.oak_beds[0])
    evening.move_to(datetime(2026, 11, 6, 22, 45, tzinfo=NY))  # Friday: curfew 23:00
    mark = curfew_record(cast.actors["owner"], ana, mark="arrived")
    assert mark.status == "on_time" and mark.curfew_at.astimezone(NY).hour == 23


def test_tonights_list_shows_who_is_still_out(cast, evening):
    s = sober_living(cast)
    owner = cast.actors["owner"]
    ana = move_in(cast, cast.patient, s.oak_beds[0])
    move_in(cast, cast.new_patient("RR-2", "Ben", "Ortiz"), s.oak_beds[1])
    evening.move_to(datetime(2026, 11, 5, 22, 30, tzinfo=NY))
    curfew_record(owner, ana, mark="arrived", arrived_at=datetime(2026, 11, 5, 21, 0, tzinfo=NY))
    night = selectors.curfew_night(owner, s.oak, rules.night_of(timezone.now(), NY), timezone.now())
    assert night.past_curfew
    assert [r.residency.patient.given_name for r in night.out] == ["Ben"]
    row = last_audit(object_type="curfew_night")
    assert len(row.detail["patients"]) == 2 and row.data_class == "part2"
