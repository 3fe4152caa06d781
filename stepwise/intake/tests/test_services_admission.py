"""Admission from a call: a new patient from the call (or the matched one the worker
confirms), everything the call captured carried over, all or nothing; two admissions
racing for the last bed, exactly one wins."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connections
from django.utils import timezone

from conftest import Cast
from stepwise.care.models import (
    BedReservation,
    Episode,
    EpisodeSubstance,
    ReservationStatus,
    Stay,
)
from stepwise.care.selectors import places_board
from stepwise.care.services import episode_admit
from stepwise.core.audit import audit_verify
from stepwise.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.intake.models import Inquiry, Outcome, WaitlistEntry
from stepwise.intake.services.admission import contact_relationship, inquiry_admit
from stepwise.intake.services.places import place_hold
from stepwise.intake.services.waitlist import waitlist_add
from stepwise.patients.models import Contact, Patient
from stepwise.patients.selectors import patient_matches
from stepwise.patients.services import PatientData, patient_create

from .support import (
    BENZOS_ORAL,
    FENTANYL_SMOKED,
    HEROIN_INJECTED,
    admissions,
    board_as_recount,
    call,
    intake_events,
    recount,
    screen,
)

BORN = date(1992, 3, 4)  # PERSON's
DETOX_FULL = "Detox is full: 2 of 2 beds are occupied. Choose another program or discharge first."


def _yesterday_utc_midnight() -> datetime:
    return datetime.combine(timezone.now().date() - timedelta(days=1), time(), tzinfo=UTC)


def test_everything_the_call_captured_carries_over(cast):
    worker = admissions(cast)
    base = _yesterday_utc_midnight()
    # Called at 02:00 UTC, which is the evening before in New York; admitted at 14:00
    # UTC (morning in New York) four New York days later, three UTC days later.
    called_at = base - timedelta(days=3) + timedelta(hours=2)
    admitted_at = base + timedelta(hours=14)
    with time_machine.travel(called_at, tick=False):
        inquiry = call(
            worker,
            received_at=called_at,
            caller_kind="family",
            caller_name="Maria Lee",
            caller_relationship="mother",
            caller_phone="555-0199",
            callback_ok=True,
            substances=[HEROIN_INJECTED, FENTANYL_SMOKED, BENZOS_ORAL],
            prior_treatment=1,
            referral_source=3,
            referring_organization="St Luke's ED",
        )
        screen(worker, inquiry, payer_member_id="MC-OLD")
        screen(worker, inquiry, payer_member_id=" MC-123 ")
        entry = waitlist_add(worker, inquiry, cast.detox)
    with time_machine.travel(admitted_at - timedelta(hours=1), tick=False):
        place_hold(worker, inquiry, cast.detox, expected_at=admitted_at)
    patients_before = Patient.objects.count()
    with time_machine.travel(admitted_at + timedelta(minutes=5), tick=False):
        admitted = inquiry_admit(worker, inquiry, cast.detox, at=admitted_at)

    # A new patient, from the call.
    assert admitted.created_patient
    assert Patient.objects.count() == patients_before + 1
    patient = Patient.objects.get(pk=admitted.patient.pk)
    assert (patient.given_name, patient.family_name, patient.date_of_birth) == (
        "Jordan",
        "Lee",
        BORN,
    )
    assert patient.phone == "555-0100"
    assert patient.payer_member_id == "MC-123"  # from the latest screening
    assert patient.mrn.startswith("A") and len(patient.mrn) == 9
    # The episode, with the TEDS admission fields of the call.
    episode = Episode.objects.get(pk=admitted.episode.pk)
    assert episode.patient == patient
    assert episode.admitted_at == admitted_at
    assert episode.referral_source == 3
    assert episode.prior_treatment == 1
    assert episode.days_waiting == 4  # New York days, not UTC days (3)
    assert list(
        EpisodeSubstance.objects.filter(episode=episode)
        .order_by("rank")
        .values_list("rank", "substance", "route", "frequency")
    ) == [(1, 5, 4, "daily"), (2, 7, 2, "3_6_week"), (3, 13, 1, "1_2_week")]
    stay = Stay.objects.get(episode=episode)
    assert stay.program == cast.detox and stay.bed_number == 1
    # The family caller who may be called back is now the patient's contact, with the
    # relationship they gave ("mother").
    [contact] = Contact.objects.filter(patient=patient)
    assert (contact.name, contact.relationship, contact.phone) == (
        "Maria Lee",
        "parent",
        "555-0199",
    )
    # The held place became the admission.
    reservation = BedReservation.objects.get()
    assert reservation.status == ReservationStatus.ADMITTED
    assert reservation.episode == episode
    # The waitlist entry left as admitted.
    entry.refresh_from_db()
    assert entry.left_at == admitted_at
    assert entry.exit == "admitted" and entry.exit_reason == "Admitted to Detox"
    # The call ends admitted, linked to the patient and episode.
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert stored.outcome == Outcome.ADMITTED and not stored.is_open
    assert stored.patient == patient and stored.episode == episode
    assert stored.follow_up_due_at is None
    # The audit: the call's admit row and care's own.
    [call_row] = intake_events(action="admit")
    assert call_row.patient_public_id == patient.public_id
    assert call_row.object_id == str(inquiry.public_id)
    assert call_row.detail == {
        "inquiry": str(inquiry.public_id),
        "episode": str(episode.public_id),
        "patient_matched": False,
        "contact": str(contact.public_id),
        "waitlist_left": [str(entry.public_id)],
    }
    [care_row] = AuditEvent.objects.filter(category="episodes", action="admit")
    assert care_row.object_id == str(episode.public_id)
    assert care_row.detail["reservation"] == str(reservation.public_id)
    assert audit_verify() == []
    # The bed board: one bed occupied, none held.
    detox = next(r for r in places_board(worker, timezone.now()) if r.program == cast.detox)
    assert (detox.places.occupied, detox.places.reserved, detox.places.available_now) == (1, 0, 1)


def test_the_record_number_given_is_used_and_nothing_else_is_invented(cast):
    worker = admissions(cast)
    inquiry = call(worker, phone="")
    admitted = inquiry_admit(worker, inquiry, cast.iop, mrn=" RR-77 ")
    assert admitted.patient.mrn == "RR-77"
    assert admitted.patient.payer_member_id == ""  # no screening
    assert admitted.patient.phone == ""
    episode = admitted.episode
    assert (episode.referral_source, episode.prior_treatment, episode.days_waiting) == (-9, -9, 0)
    assert not EpisodeSubstance.objects.filter(episode=episode).exists()
    # A self-caller is no contact of their own.
    assert not Contact.objects.filter(patient=admitted.patient).exists()


@pytest.mark.parametrize(
    ("changes", "contact"),
    [
        (
            {
                "caller_kind": "friend",
                "caller_name": "Sam",
                "caller_phone": "1",
                "callback_ok": True,
            },
            "friend",
        ),
        (
            {"caller_kind": "family", "caller_name": "Sam", "caller_phone": "1"},
            None,
        ),  # no call back
        (
            {
                "caller_kind": "referrer",
                "caller_name": "Dr K",
                "caller_phone": "1",
                "callback_ok": True,
            },
            None,
        ),
        ({"caller_kind": "family", "caller_name": "Sam", "callback_ok": True}, None),  # no number
    ],
)
def test_only_a_family_member_or_friend_who_may_be_called_back_becomes_a_contact(
    cast, changes, contact
):
    worker = admissions(cast)
    admitted = inquiry_admit(worker, call(worker, **changes), cast.iop)
    found = list(
        Contact.objects.filter(patient=admitted.patient).values_list("relationship", flat=True)
    )
    assert found == ([contact] if contact else [])


def test_patient_matches_by_family_name_and_birth_date(cast):
    owner = cast.actors["owner"]
    nickname = cast.new_patient("RR-2", "Jo", "Lee", BORN)
    exact = cast.new_patient("RR-3", "Jordan", "LEE", BORN)
    preferred = patient_create(
        owner,
        PatientData(
            mrn="RR-4",
            given_name="Benjamin",
            preferred_name="jordan",
            family_name="Lee",
            date_of_birth=BORN,
        ),
    )
    cast.new_patient("RR-5", "Jordan", "Lee", date(1992, 3, 5))  # another birthday
    cast.new_patient("RR-6", "Jordan", "Leeds", BORN)  # another family
    patient_create(
        cast.actors["outsider"],
        PatientData(mrn="HL-2", given_name="Jordan", family_name="Lee", date_of_birth=BORN),
    )
    found = patient_matches(
        admissions(cast), given_name=" JORDAN ", family_name=" lee ", date_of_birth=BORN
    )
    assert found[:2] in ([preferred, exact], [exact, preferred])
    assert found[2:] == [nickname]
    assert patient_matches(
        cast.actors["outsider"], given_name="Jordan", family_name="Lee", date_of_birth=BORN
    ) == [Patient.objects.get(mrn="HL-2")]


def test_the_confirmed_patient_is_admitted_not_a_new_one(cast):
    worker = admissions(cast)
    existing = cast.new_patient("RR-2", "Jordan", "Lee", BORN)
    inquiry = call(
        worker,
        caller_kind="family",
        caller_name="Maria Lee",
        caller_phone="555-0199",
        callback_ok=True,
        phone="555-0999",
        substances=[HEROIN_INJECTED],
    )
    screen(worker, inquiry, payer_member_id="MC-9")
    [match] = patient_matches(worker, given_name="Jordan", family_name="Lee", date_of_birth=BORN)
    assert match == existing
    patients_before = Patient.objects.count()
    admitted = inquiry_admit(worker, inquiry, cast.residential, patient=match)
    assert not admitted.created_patient
    assert admitted.patient == existing
    assert Patient.objects.count() == patients_before
    existing.refresh_from_db()
    assert existing.phone == "" and existing.payer_member_id == ""  # the chart is not rewritten
    assert not Contact.objects.filter(patient=existing).exists()
    assert admitted.episode.patient == existing
    assert EpisodeSubstance.objects.filter(episode=admitted.episode).count() == 1
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert stored.patient == existing and stored.outcome == Outcome.ADMITTED
    [row] = intake_events(action="admit")
    assert row.detail["patient_matched"] is True
    assert row.patient_public_id == existing.public_id


def test_a_patient_of_another_organization_is_never_admitted(cast):
    worker = admissions(cast)
    with pytest.raises(NotFound):
        inquiry_admit(worker, call(worker), cast.residential, patient=cast.other_patient)
    with pytest.raises(NotFound):
        inquiry_admit(worker, call(worker), cast.other_program)
    assert not Episode.objects.filter(patient__organization=cast.org).exists()


def test_a_name_and_birth_date_are_needed_to_register(cast):
    worker = admissions(cast)
    inquiry = call(worker, given_name=" ", family_name="", date_of_birth=None)
    patients_before = Patient.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        inquiry_admit(worker, inquiry, cast.residential)
    assert set(refused.value.errors) == {"given_name", "family_name", "date_of_birth"}
    assert Patient.objects.count() == patients_before
    assert Inquiry.objects.get(pk=inquiry.pk).outcome == ""
    # A "confirmed" patient must be one the match would show: the same family name and
    # date of birth as the call (a wrong pick would file the caller in another chart).
    existing = cast.new_patient("RR-2", "Jordan", "Lee", BORN)
    with pytest.raises(ValidationFailed) as refused:
        inquiry_admit(worker, inquiry, cast.residential, patient=existing)
    assert set(refused.value.errors) == {"patient"}
    named = call(worker, given_name="Jo", family_name="LEE", date_of_birth=BORN)
    with pytest.raises(ValidationFailed) as refused:
        inquiry_admit(worker, named, cast.residential, patient=existing, mrn="X-1")
    assert set(refused.value.errors) == {"mrn"}  # a record number only for a new patient
    assert inquiry_admit(worker, named, cast.residential, patient=existing).patient == existing


def _everything(cast) -> dict[str, int]:
    return {
        "patients": Patient.objects.count(),
        "episodes": Episode.objects.count(),
        "stays": Stay.objects.count(),
        "substances": EpisodeSubstance.objects.count(),
        "contacts": Contact.objects.count(),
        "audit": AuditEvent.objects.count(),
        "open_waitlist": WaitlistEntry.objects.filter(left_at__isnull=True).count(),
        "held": BedReservation.objects.filter(status=ReservationStatus.HELD).count(),
    }


def test_a_full_program_refuses_and_nothing_is_written(cast):
    worker = admissions(cast)
    episode_admit(worker, cast.new_patient("D1"), cast.detox)
    episode_admit(worker, cast.new_patient("D2"), cast.detox)
    inquiry = call(
        worker,
        caller_kind="family",
        caller_name="Maria Lee",
        caller_phone="555-0199",
        callback_ok=True,
        substances=[HEROIN_INJECTED],
    )
    screen(worker, inquiry, payer_member_id="MC-1")
    waitlist_add(worker, inquiry, cast.detox)
    before = _everything(cast)
    with pytest.raises(Conflict) as refused:
        inquiry_admit(worker, inquiry, cast.detox)
    assert refused.value.message == DETOX_FULL
    assert _everything(cast) == before
    assert not Patient.objects.filter(given_name="Jordan").exists()
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert (stored.outcome, stored.patient, stored.episode) == (Outcome.WAITLISTED, None, None)
    assert audit_verify() == []


def test_the_caller_with_the_last_bed_held_is_admitted_into_it(cast):
    worker = admissions(cast)
    episode_admit(worker, cast.new_patient("D1"), cast.detox)
    inquiry = call(worker)
    place_hold(worker, inquiry, cast.detox, expected_at=timezone.now())
    with pytest.raises(Conflict):
        episode_admit(worker, cast.new_patient("D2"), cast.detox)
    admitted = inquiry_admit(worker, inquiry, cast.detox)
    assert Stay.objects.get(episode=admitted.episode).bed_number == 2
    assert BedReservation.objects.get().status == ReservationStatus.ADMITTED


def test_a_place_held_elsewhere_must_be_used_or_given_back(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    place_hold(worker, inquiry, cast.detox, expected_at=timezone.now())
    before = _everything(cast)
    with pytest.raises(ValidationFailed) as refused:
        inquiry_admit(worker, inquiry, cast.residential)
    assert "A place is held for this caller in Detox" in refused.value.errors["program"]
    assert _everything(cast) == before


def test_no_admission_before_the_call_and_no_second_admission(cast):
    worker = admissions(cast)
    inquiry = call(worker, received_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(ValidationFailed) as refused:
        inquiry_admit(worker, inquiry, cast.iop, at=timezone.now() - timedelta(hours=2))
    assert set(refused.value.errors) == {"admitted_at"}
    inquiry_admit(worker, inquiry, cast.iop)
    with pytest.raises(Conflict, match="already been admitted"):
        inquiry_admit(worker, inquiry, cast.iop_east)
    assert Episode.objects.filter(inquiry=inquiry).count() == 1


def test_who_admits_from_a_call(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    with pytest.raises(AccessDenied):
        inquiry_admit(cast.actors["readonly"], inquiry, cast.iop)
    assert intake_events(outcome="denied")[-1].detail == {"permission": "intake.write"}
    # A nurse on the line at night registers and admits the caller (and so cares for them).
    admitted = inquiry_admit(cast.actors["colleague"], inquiry, cast.iop)
    assert admitted.created_patient


def test_a_matched_patient_outside_a_clinicians_care_is_refused_and_the_refusal_kept(cast):
    nurse = cast.actors["colleague"]
    inquiry = call(
        nurse, given_name="Ana", family_name="Rivera", date_of_birth=cast.patient.date_of_birth
    )
    before = _everything(cast)
    with pytest.raises(AccessDenied):
        inquiry_admit(nurse, inquiry, cast.iop, patient=cast.patient)
    assert not Episode.objects.filter(patient=cast.patient).exists()
    refusals = AuditEvent.objects.filter(outcome="denied", patient_public_id=cast.patient.public_id)
    assert refusals.count() == 1
    assert _everything(cast) == before | {"audit": before["audit"] + 1}


# Two admissions from two calls racing for the last detox bed, in two threads.


@pytest.fixture
def live_cast(live_db, django_user_model) -> Cast:
    return Cast(django_user_model)


def test_only_one_of_two_racing_admissions_from_calls_gets_the_last_bed(live_cast):
    cast = live_cast
    worker = admissions(cast)
    episode_admit(worker, cast.new_patient("A"), cast.detox)  # 1 of 2 beds taken
    callers = [call(worker, given_name=f"Racer{n}", substances=[HEROIN_INJECTED]) for n in range(2)]
    patients_before = Patient.objects.count()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def admit(inquiry: Inquiry) -> None:
        try:
            start.wait()
            inquiry_admit(worker, inquiry, cast.detox)
            outcomes.append("admitted")
        except Conflict as refused:
            outcomes.append(refused.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=admit, args=(c,)) for c in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes, key=len) == ["admitted", DETOX_FULL]
    assert Stay.objects.filter(program=cast.detox, ended_at__isnull=True).count() == 2
    # The loser left nothing behind: no patient, no episode, the call still open.
    assert Patient.objects.count() == patients_before + 1
    assert sorted(Inquiry.objects.values_list("outcome", flat=True)) == ["", "admitted"]
    assert EpisodeSubstance.objects.count() == 1
    assert len(intake_events(action="admit")) == 1
    now = timezone.now()
    board = board_as_recount(places_board(worker, now))
    assert board == {
        p.name: recount(p, now) for p in (cast.detox, cast.residential, cast.iop, cast.iop_east)
    }
    assert board["Detox"].available_now == 0
    assert audit_verify() == []


@pytest.mark.parametrize(
    ("kind", "said", "expected"),
    [
        ("family", "Mother", "parent"),
        ("family", " husband ", "spouse"),
        ("family", "sister", "sibling"),
        ("family", "son", "child"),
        ("family", "aunt", "other_family"),
        ("friend", "roommate", "friend"),
        ("referrer", "ED nurse", None),
        ("self", "", None),
    ],
)
def test_a_caller_becomes_a_contact_with_the_relationship_they_gave(kind, said, expected):
    assert contact_relationship(kind, said) == expected


def test_a_former_patient_back_after_an_overdose_brings_a_relapse_to_confirm(cast):
    from stepwise.care.exits import prepare_exit
    from stepwise.care.services import episode_discharge
    from stepwise.recovery.models import RelapseEvent

    worker = admissions(cast)
    owner = cast.actors["owner"]
    existing = cast.new_patient("RR-2", "Jordan", "Lee", BORN)
    first = episode_admit(owner, existing, cast.iop, at=timezone.now() - timedelta(days=90))
    left = timezone.now() - timedelta(days=30)
    prepare_exit(owner, first, cast.iop, left, ends_episode=True)
    episode_discharge(owner, first, reason=1, at=left)
    overdose_on = timezone.localdate() - timedelta(days=3)
    inquiry = call(
        worker, phone="555-0999", substances=[FENTANYL_SMOKED], last_overdose_on=overdose_on
    )
    screen(worker, inquiry)
    admitted = inquiry_admit(worker, inquiry, cast.residential, patient=existing)
    event = RelapseEvent.objects.get(patient=existing)
    assert (event.status, event.source, event.used_on, event.substances) == (
        "proposed",
        "overdose",
        overdose_on,
        [7],
    )
    assert event.overdose and event.episode == admitted.episode
    [row] = intake_events(action="admit")
    assert row.detail["relapse_proposed"] == str(event.public_id)


def test_an_overdose_before_the_first_admission_is_history_not_a_relapse(cast):
    from stepwise.recovery.models import RelapseEvent

    worker = admissions(cast)
    inquiry = call(worker, last_overdose_on=timezone.localdate() - timedelta(days=3))
    screen(worker, inquiry)
    inquiry_admit(worker, inquiry, cast.residential)
    assert not RelapseEvent.objects.exists()
