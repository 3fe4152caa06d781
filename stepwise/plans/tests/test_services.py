"""Plan versioning through the services: start, write and sign version 1; a review
copies it into a draft version 2 (same keys) while version 1 stays in force and
unchanged; signing version 2 supersedes version 1 and stores what changed and why;
a signed version refuses every change (services and save()); the patient's
signature; the review interval; who may write."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from stepwise.care.exits import prepare_exit
from stepwise.care.models import Stay
from stepwise.care.services import episode_admit, episode_discharge
from stepwise.core.errors import AccessDenied, Conflict, NotFound, OutsideCareTeam, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.plans.models import (
    PatientSignature,
    PlanObjective,
    PlanProblem,
    PlanVersion,
    SignedPlanChanged,
    TreatmentPlan,
    VersionStatus,
)
from stepwise.plans.rules.content import Goal, Objective, Problem
from stepwise.plans.services.drafts import (
    ReviewReason,
    draft_details_save,
    draft_item_add,
    draft_item_change,
    draft_item_remove,
    draft_save,
    plan_start,
)
from stepwise.plans.services.settings import plan_settings_save
from stepwise.plans.services.versions import (
    patient_signature_record,
    review_start,
    version_sign,
)
from stepwise.plans.store import content_of
from stepwise.plans.tests.support import (
    TODAY,
    WORDS,
    admitted,
    drafted,
    full_content,
    relapse_of,
    signed,
)

WHY = "Cravings are down; housing is the main risk now."


def review(cast: Any, plan: TreatmentPlan, **kwargs: Any) -> PlanVersion:
    kwargs.setdefault("trigger", "scheduled")
    kwargs.setdefault("why", WHY)
    return review_start(cast.actors["owner"], plan, **kwargs)


def test_a_plan_is_started_written_and_signed(cast, episode):
    owner = cast.actors["owner"]
    draft = plan_start(owner, cast.patient)
    assert (draft.number, draft.status, draft.plan.episode) == (1, "draft", episode)
    with pytest.raises(Conflict, match="already has its treatment plan"):
        plan_start(owner, cast.patient)
    with pytest.raises(ValidationFailed) as refused:
        version_sign(owner, draft)
    assert set(refused.value.errors) == {"patient_words", "problems"}
    content = full_content()
    draft_save(owner, draft, content)
    v1 = version_sign(owner, draft)
    assert v1.status == VersionStatus.ACTIVE and v1.signed_by_id == cast.users["owner"].pk
    assert v1.change_summary == [
        "First version of the plan: 2 problems, 2 goals, 3 objectives, 3 interventions."
    ]
    assert v1.review_interval_days == 30 and v1.review_due_on == TODAY + timedelta(days=30)
    plan = TreatmentPlan.objects.get()
    assert plan.review_due_on == v1.review_due_on and plan.last_signed_at == v1.signed_at
    stored = content_of(v1)
    assert [o.key for o in stored.objectives()] == [o.key for o in content.objectives()]
    assert stored.problems[0].goals[0].interventions[0].describe() == (
        "Group therapy, 3 times a week (Counselor)"
    )
    actions = list(
        AuditEvent.objects.filter(category="plans")
        .order_by("id")
        .values_list("action", "detail__status")
    )
    assert actions == [("create", "draft"), ("update", "draft"), ("update", "active")]


def test_a_review_copies_version_1_and_version_1_stays_as_it_was(cast, episode):
    v1 = signed(cast)
    before = content_of(v1)
    v2 = review(cast, v1.plan)
    assert (v2.number, v2.status, v2.based_on_id, v2.trigger, v2.why) == (
        2,
        "draft",
        v1.pk,
        "scheduled",
        WHY,
    )
    assert v2.patient_words == WORDS and v2.patient_signature == PatientSignature.NOT_YET
    copied = content_of(v2)
    assert copied == before  # the same items with the same keys
    with pytest.raises(Conflict, match="already in progress"):
        review(cast, v1.plan)

    # The review changes the draft; version 1, in force meanwhile, does not move.
    meetings = next(iter(copied.objectives()))
    owner = cast.actors["owner"]
    draft_item_change(owner, v2, replace(meetings, status="met"))
    housing = copied.problems[1].goals[0]
    draft_item_add(
        owner,
        v2,
        Objective("Moves into sober living", TODAY + timedelta(days=45)),
        parent=housing.key,
    )
    draft_item_remove(owner, v2, copied.problems[0].interventions[0].key)
    assert content_of(v1) == before
    v1.refresh_from_db()
    assert v1.status == VersionStatus.ACTIVE

    v2 = version_sign(owner, v2)
    v1.refresh_from_db()
    assert (v1.status, v2.status) == (VersionStatus.SUPERSEDED, VersionStatus.ACTIVE)
    assert v1.superseded_at == v2.signed_at
    assert content_of(v1) == before
    assert v2.change_summary == [
        'Added objective 2.1.2: "Moves into sober living", target 2026-12-17.',
        'Objective 1.1.1 "Attends 3 mutual-help meetings a week, shown by signed cards": '
        "status from open to met.",
        "Removed intervention Medication: Buprenorphine continued with the prescriber "
        "(Physician) (was under problem 1).",
    ]
    # The objective is the same one in both versions: its key followed it.
    assert PlanObjective.objects.filter(key=meetings.key).count() == 2


def test_a_signed_version_is_never_changed(cast, episode):
    v1 = signed(cast)
    owner = cast.actors["owner"]
    message = "A signed plan version is not changed; start a review to make a new version."
    writes: list[Callable[[], object]] = [
        lambda: draft_save(owner, v1, full_content("Other words")),
        lambda: draft_item_add(owner, v1, Problem(3, "Low mood")),
        lambda: draft_item_remove(owner, v1, content_of(v1).problems[0].key),
        lambda: draft_details_save(owner, v1, patient_words="Changed"),
        lambda: version_sign(owner, v1),
    ]
    for write in writes:
        with pytest.raises(Conflict) as refused:
            write()
        assert refused.value.message == message
    # Not even a direct save gets through.
    v1.patient_words = "Changed behind the services' back"
    with pytest.raises(SignedPlanChanged, match="start a review"):
        v1.save()
    v1.refresh_from_db()
    v1.status = VersionStatus.DRAFT
    with pytest.raises(SignedPlanChanged, match="cannot become draft"):
        v1.save()
    problem = PlanProblem.objects.filter(version=v1).order_by("position").first()
    assert problem is not None
    problem.statement = "Rewritten"
    with pytest.raises(SignedPlanChanged):
        problem.save()
    with pytest.raises(SignedPlanChanged):
        problem.delete()
    with pytest.raises(SignedPlanChanged, match="never deleted"):
        PlanVersion.objects.get(pk=v1.pk).delete()
    assert PlanVersion.objects.get(pk=v1.pk).patient_words == WORDS


def test_a_review_needs_its_reason_and_a_signed_plan(cast, episode):
    draft = drafted(cast)
    with pytest.raises(Conflict, match="no signed version to review"):
        review(cast, draft.plan)
    v1 = version_sign(cast.actors["owner"], draft)
    with pytest.raises(ValidationFailed) as refused:
        review(cast, v1.plan, trigger="whim", why="  ")
    assert refused.value.errors == {
        "trigger": "Allowed values: scheduled (Scheduled review), level_of_care (Change of "
        "level of care), relapse (Relapse), patient_request (Patient request), other (Other).",
        "why": "Say why the plan is revised; the reason is kept with the version.",
    }
    v2 = review(cast, v1.plan, trigger="patient_request")
    with pytest.raises(ValidationFailed) as emptied:
        draft_details_save(
            cast.actors["owner"], v2, patient_words=WORDS, reason=ReviewReason("other", "")
        )
    assert set(emptied.value.errors) == {"why"}
    # The database keeps a review's reason too.
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanVersion.objects.filter(pk=v2.pk).update(why="")


def test_a_relapse_review_keeps_its_source(cast, episode):
    v1 = signed(cast)
    event = relapse_of(cast)
    v2 = review(cast, v1.plan, trigger="relapse", source_id=event)
    assert (v2.source_type, v2.source_id) == ("relapse_event", event)
    v2b = PlanVersion.objects.get(pk=v2.pk)
    assert v2b.source_type == "relapse_event"
    with pytest.raises(ValidationFailed) as refused:
        review_start(cast.actors["owner"], v1.plan, trigger="other", why=WHY, source_id=event)
    assert "source_type" in refused.value.errors


def test_a_level_of_care_review_names_a_stay_of_the_plans_own_episode(cast, episode):
    owner = cast.actors["owner"]
    v1 = signed(cast)
    other = cast.new_patient("RR-2", "Ben", "Ortiz")
    admitted(cast, other)
    elsewhere = episode_admit(cast.actors["outsider"], cast.other_patient, cast.other_program)
    refusal = {"source_id": "That stay is not one of this episode's stays."}
    # Another patient's stay, another organization's (found like an id naming nothing).
    for stay in (
        Stay.objects.get(episode__patient=other),
        Stay.objects.get(episode=elsewhere),
    ):
        with pytest.raises(ValidationFailed) as refused:
            review(cast, v1.plan, trigger="level_of_care", source_id=stay.public_id)
        assert refused.value.errors == refusal
    with pytest.raises(ValidationFailed) as unknown:
        review(cast, v1.plan, trigger="level_of_care", source_id=uuid.uuid4())
    assert unknown.value.errors == refusal
    # Named as a stay under another trigger, it is checked the same way.
    with pytest.raises(ValidationFailed):
        review_start(
            owner,
            v1.plan,
            trigger="other",
            why=WHY,
            source_type="stay",
            source_id=elsewhere.stays.get().public_id,
        )
    assert PlanVersion.objects.filter(plan=v1.plan).count() == 1
    own = Stay.objects.get(episode=episode)
    v2 = review(cast, v1.plan, trigger="level_of_care", source_id=own.public_id)
    assert (v2.source_type, v2.source_id) == ("stay", own.public_id)


def test_a_stay_of_the_patients_earlier_episode_is_not_this_plans(cast, episode):
    owner = cast.actors["owner"]
    signed(cast)
    earlier = Stay.objects.get(episode=episode)
    left = timezone.now() - timedelta(hours=2)
    prepare_exit(owner, episode, cast.iop, left, ends_episode=True)
    episode_discharge(owner, episode, reason=1, at=left)
    again = episode_admit(owner, cast.patient, cast.iop, at=left + timedelta(hours=1))
    plan = version_sign(owner, draft_save(owner, plan_start(owner, cast.patient), full_content()))
    assert plan.plan.episode_id == again.pk
    with pytest.raises(ValidationFailed) as refused:
        review(cast, plan.plan, trigger="level_of_care", source_id=earlier.public_id)
    assert list(refused.value.errors) == ["source_id"]


def test_at_most_one_draft_and_one_active_version(cast, episode):
    v1 = signed(cast)
    review(cast, v1.plan)
    for status in ("draft", "active"):
        with pytest.raises(IntegrityError), transaction.atomic():
            PlanVersion.objects.create(
                organization=cast.org,
                plan=v1.plan,
                number=9,
                author=cast.users["owner"],
                trigger="other",
                why="x",
                status=status,
                **(
                    {
                        "signed_at": v1.signed_at,
                        "signed_by": cast.users["owner"],
                        "review_due_on": TODAY,
                        "review_interval_days": 30,
                    }
                    if status == "active"
                    else {}
                ),
            )


def test_draft_items_are_checked_field_by_field(cast, episode):
    owner = cast.actors["owner"]
    draft = plan_start(owner, cast.patient)
    with pytest.raises(ValidationFailed) as refused:
        draft_item_add(owner, draft, Problem(7, ""))
    assert set(refused.value.errors) == {"dimension", "statement"}
    draft = draft_item_add(owner, draft, Problem(5, "Cravings"))
    with pytest.raises(Conflict, match="no longer in the draft"):
        draft_item_add(owner, draft, Goal("Sleep"), parent=uuid.uuid4())
    full = full_content()
    goal = full.problems[0].goals[0]
    yoga = replace(goal.interventions[0], session_type="yoga")
    problem = replace(full.problems[0], goals=(replace(goal, interventions=(yoga,)),))
    bad = replace(full, problems=(problem,))
    with pytest.raises(ValidationFailed) as unknown:
        draft_save(owner, draft, bad)
    assert unknown.value.errors["problems.0.goals.0.interventions.0.session_type"].startswith(
        "Allowed values: "
    )


def test_the_patients_signature(cast, episode):
    owner = cast.actors["owner"]
    draft = drafted(cast)
    with pytest.raises(ValidationFailed) as refused:
        patient_signature_record(owner, draft, signature="signed", on=TODAY + timedelta(days=1))
    assert set(refused.value.errors) == {"name", "on"}
    with pytest.raises(ValidationFailed) as declined:
        patient_signature_record(owner, draft, signature="declined")
    assert set(declined.value.errors) == {"reason"}
    v1 = version_sign(owner, draft)
    assert v1.patient_signature == PatientSignature.NOT_YET
    # Signed by the clinician first, the patient's signature is added once.
    v1 = patient_signature_record(owner, v1, signature="signed", name="Ana Rivera", on=TODAY)
    assert (v1.patient_signature, v1.patient_signed_name, v1.patient_signed_on) == (
        "signed",
        "Ana Rivera",
        TODAY,
    )
    with pytest.raises(Conflict, match="already recorded"):
        patient_signature_record(owner, v1, signature="declined", reason="Changed mind")
    v2 = review(cast, v1.plan)
    v2 = patient_signature_record(owner, v2, signature="declined", reason="Wants to read it first")
    v2 = patient_signature_record(owner, v2, signature="not_yet")
    assert v2.patient_declined_reason == "" and v2.patient_signature_by is None
    version_sign(owner, v2)
    with pytest.raises(Conflict, match="replaced by a later one"):
        patient_signature_record(owner, v1, signature="declined", reason="x")


def test_the_review_interval_comes_from_the_program_or_the_organization(cast, episode):
    director = cast.actors["director"]
    plan_settings_save(director, review_interval_days=45, programs={cast.iop: 14})
    assert signed(cast).review_due_on == TODAY + timedelta(days=14)
    plan_settings_save(director, review_interval_days=45, programs={cast.iop: None})
    other = cast.new_patient("RR-2", "Ben", "Ortiz")
    admitted(cast, other)
    assert signed(cast, other).review_due_on == TODAY + timedelta(days=45)
    with pytest.raises(ValidationFailed) as refused:
        plan_settings_save(director, review_interval_days=3, programs={cast.iop: 500})
    assert refused.value.errors == {
        "review_interval_days": "Review interval: allowed 7 to 180 days.",
        f"program_{cast.iop.public_id}": "Evening IOP: allowed 7 to 180 days.",
    }
    with pytest.raises(AccessDenied):
        plan_settings_save(cast.actors["owner"], review_interval_days=20)
    with pytest.raises(NotFound):
        plan_settings_save(director, review_interval_days=20, programs={cast.other_program: 20})
    changes = AuditEvent.objects.filter(action="settings_change", object_type="plan_settings")
    assert changes.count() == 2


def test_who_may_write_a_plan(cast, episode):
    with pytest.raises(OutsideCareTeam):
        plan_start(cast.actors["colleague"], cast.patient)
    with pytest.raises(AccessDenied):
        plan_start(cast.actors["readonly"], cast.patient)
    with pytest.raises(NotFound):
        plan_start(cast.actors["outsider"], cast.patient)
    v1 = plan_start(cast.actors["director"], cast.patient)
    with pytest.raises(OutsideCareTeam):
        draft_save(cast.actors["colleague"], v1, full_content())
    assert AuditEvent.objects.filter(category="plans", outcome="denied").count() >= 3


def test_no_plan_without_an_open_episode_and_none_changed_after_discharge(cast):
    with pytest.raises(Conflict, match="no open episode"):
        plan_start(cast.actors["owner"], cast.patient)
    episode = admitted(cast)
    v1 = signed(cast)
    now = timezone.now()
    prepare_exit(cast.actors["owner"], episode, cast.iop, now, ends_episode=True)
    episode_discharge(cast.actors["owner"], episode, reason=1, at=now)
    with pytest.raises(Conflict, match="discharged"):
        review(cast, v1.plan)
