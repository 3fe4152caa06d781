"""The plan's writes: started, sections saved with their history kept, reviewed with
the patient, ended by the patient and restarted; check-ins recorded. Who may do each."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from stepwise.aftercare.models import (
    AftercarePlan,
    ChangeKind,
    Checkin,
    CheckinStatus,
    PlanChange,
)
from stepwise.aftercare.rules.checkin import Report
from stepwise.aftercare.rules.plan import DEFAULT_CRISIS_STEPS
from stepwise.aftercare.rules.schedule import HORIZON, due_dates, missed_after
from stepwise.aftercare.services.checkins import checkin_record
from stepwise.aftercare.services.plans import (
    plan_activate,
    plan_end,
    plan_restart,
    plan_sections_save,
    plan_start,
)
from stepwise.aftercare.services.sweep import aftercare_sweep
from stepwise.aftercare.tests.support import (
    NA_GROUP,
    active_plan,
    admitted,
    facility_noon,
    written_plan,
)
from stepwise.aftercare.tests.support import facility_today as local_today
from stepwise.core.errors import AccessDenied, Conflict, NotFound, OutsideCareTeam, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.patients.models import Task

FINE = Report(wellbeing=4, craving=1, used=False, supports_attended=("NA Tuesday night",))


def audits(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(category="aftercare", **filters).order_by("id"))


def test_a_plan_starts_as_a_draft_with_the_usual_crisis_steps(cast):
    plan = plan_start(cast.actors["owner"], cast.patient)
    assert plan.status == "draft" and plan.checkins_from is None
    assert plan.crisis_steps == list(DEFAULT_CRISIS_STEPS)
    assert plan.time_zone == "America/New_York"
    (change,) = PlanChange.objects.filter(plan=plan)
    assert change.kind == ChangeKind.STARTED and change.by == cast.users["owner"]
    (row,) = audits(action="create")
    assert row.object_type == "aftercare_plan" and row.patient_public_id == cast.patient.public_id
    with pytest.raises(Conflict, match="already has an aftercare plan"):
        plan_start(cast.actors["owner"], cast.patient)


def test_who_may_start_a_plan(cast):
    with pytest.raises(OutsideCareTeam):
        plan_start(cast.actors["colleague"], cast.patient)
    with pytest.raises(AccessDenied):
        plan_start(cast.actors["readonly"], cast.patient)
    with pytest.raises(NotFound):
        plan_start(cast.actors["outsider"], cast.patient)
    assert plan_start(cast.actors["director"], cast.patient).status == "draft"
    assert not AftercarePlan.objects.filter(patient=cast.other_patient).exists()


def test_edits_keep_every_earlier_text(cast):
    owner = cast.actors["owner"]
    plan = plan_start(owner, cast.patient)
    plan = plan_sections_save(owner, plan, {"triggers": ["Payday"]})
    plan = plan_sections_save(owner, plan, {"triggers": ["Payday", "Friday nights"]})
    plan = plan_sections_save(owner, plan, {"triggers": []})
    assert plan.triggers == []
    saved = PlanChange.objects.filter(plan=plan, kind=ChangeKind.SECTION).order_by("sequence")
    assert [c.content for c in saved] == [["Payday"], ["Payday", "Friday nights"], []]
    assert plan.revision == 4  # started + three saves
    assert [a.detail["sections"] for a in audits(action="update")] == [["triggers"]] * 3


def test_an_unchanged_section_adds_nothing(cast):
    owner = cast.actors["owner"]
    plan = written_plan(cast)
    before = plan.revision
    again = plan_sections_save(owner, plan, {"supports": plan.supports, "triggers": plan.triggers})
    assert again.revision == before
    assert PlanChange.objects.filter(plan=plan).count() == before


def test_history_rows_are_append_only(cast):
    plan = written_plan(cast)
    change = PlanChange.objects.filter(plan=plan)[0]
    change.note = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        change.save()
    with pytest.raises(ValueError, match="append-only"):
        change.delete()


def test_bad_entries_are_named_and_nothing_is_saved(cast):
    plan = written_plan(cast)
    with pytest.raises(ValidationFailed) as refused:
        plan_sections_save(
            cast.actors["owner"],
            plan,
            {"supports": [NA_GROUP, {"kind": "therapist", "name": ""}], "triggers": [7]},
        )
    assert set(refused.value.errors) == {"supports[1].name", "triggers[0]"}
    assert AftercarePlan.objects.get(pk=plan.pk).supports == plan.supports


def test_a_save_over_someone_elses_change_is_refused(cast):
    owner, director = cast.actors["owner"], cast.actors["director"]
    plan = plan_start(owner, cast.patient)
    opened = plan.revision
    plan_sections_save(director, plan, {"coping_strategies": ["Walk"]}, expected_revision=opened)
    with pytest.raises(Conflict, match="Director changed this plan since you opened it"):
        plan_sections_save(owner, plan, {"coping_strategies": ["Run"]}, expected_revision=opened)
    assert AftercarePlan.objects.get(pk=plan.pk).coping_strategies == ["Walk"]


def test_who_may_change_a_plan(cast):
    plan = written_plan(cast)
    for who, error in [
        ("colleague", OutsideCareTeam),
        ("readonly", AccessDenied),
        ("admin", AccessDenied),
    ]:
        with pytest.raises(error):
            plan_sections_save(cast.actors[who], plan, {"triggers": ["x"]})
        with pytest.raises(error):
            plan_activate(cast.actors[who], plan)
    with pytest.raises(NotFound):
        plan_sections_save(cast.actors["outsider"], plan, {"triggers": ["x"]})


def test_the_review_needs_a_support(cast):
    plan = plan_start(cast.actors["owner"], cast.patient)
    with pytest.raises(ValidationFailed) as refused:
        plan_activate(cast.actors["owner"], plan)
    assert "Add at least one support" in refused.value.errors["supports"]


def test_a_review_in_care_activates_without_check_ins_yet(cast):
    admitted(cast)
    plan = active_plan(cast)
    assert plan.status == "active" and plan.reviewed_by == cast.users["owner"]
    assert plan.review_note == "With Ana"
    assert plan.checkins_from is None
    assert not Checkin.objects.filter(plan=plan).exists()


def test_a_review_out_of_care_starts_the_check_ins_from_its_day(clock, cast):
    plan = active_plan(cast)
    today = local_today()
    assert plan.checkins_from == today
    first = Checkin.objects.filter(plan=plan).order_by("due_on")[0]
    assert first.due_on == today + timedelta(days=7) and first.method == "phone"
    assert first.status == CheckinStatus.DUE


def reviewed_days_ago(cast: Any, days: int, *, backfill: bool) -> AftercarePlan:
    """Gone through with the patient, out of care, at noon `days` days ago on the
    facility's calendar (recorded now)."""
    owner = cast.actors["owner"]
    at = facility_noon(days)
    plan = plan_start(owner, cast.patient, at=at - timedelta(hours=1))
    plan = plan_sections_save(owner, plan, {"supports": [NA_GROUP]}, at=at)
    return plan_activate(owner, plan, reviewed_at=at, backfill_checkins=backfill)


def test_a_back_dated_review_leaves_no_trail_of_missed_check_ins(clock, cast):
    plan = reviewed_days_ago(cast, 20, backfill=False)
    today = local_today()
    assert plan.checkins_from == today - timedelta(days=20)
    assert not Checkin.objects.filter(plan=plan, due_on__lt=today).exists()
    assert aftercare_sweep(cast.org.pk).missed == 0
    (row,) = audits(object_id=str(plan.public_id), detail__status=["draft", "active"])
    assert "checkins_backfilled" not in row.detail


def test_a_backfilled_review_makes_its_check_ins_from_its_day_and_the_sweep_misses_them(
    clock, cast
):
    plan = reviewed_days_ago(cast, 20, backfill=True)
    today = local_today()
    start = today - timedelta(days=20)
    days = list(
        Checkin.objects.filter(plan=plan).order_by("due_on").values_list("due_on", flat=True)
    )
    assert days[:3] == [
        start + timedelta(weeks=1),
        start + timedelta(weeks=2),
        today + timedelta(1),
    ]
    (row,) = audits(object_id=str(plan.public_id), detail__status=["draft", "active"])
    assert row.detail["checkins_backfilled"] is True
    # The next sweep finds the two gone by past their grace, as on any day after them.
    assert aftercare_sweep(cast.org.pk).missed == 2
    missed = Checkin.objects.filter(plan=plan, status=CheckinStatus.MISSED).order_by("due_on")
    assert [c.due_on for c in missed] == days[:2]
    tasks = Task.objects.filter(kind="aftercare_outreach", patient=cast.patient, status="open")
    assert {t.source_id for t in tasks} == {c.public_id for c in missed}


def test_a_backfill_reaches_back_as_far_as_the_horizon_and_makes_the_whole_span(clock, cast):
    """From the furthest day allowed, the review makes every check-in up to today's
    horizon and counts them; the sweep adds none and misses only those gone by."""
    plan = reviewed_days_ago(cast, HORIZON.days, backfill=True)
    today = local_today()
    made = list(Checkin.objects.filter(plan=plan).order_by("due_on"))
    assert [c.due_on for c in made] == due_dates(today - HORIZON, plan.taper, today + HORIZON)
    (row,) = audits(object_id=str(plan.public_id), detail__status=["draft", "active"])
    assert row.detail["checkins_made"] == len(made)
    gone_by = [c for c in made if timezone.now() >= missed_after(c.due_on, plan.time_zone, 24)]
    assert len(gone_by) >= 5
    result = aftercare_sweep(cast.org.pk)
    assert (result.made, result.missed) == (0, len(gone_by))


def test_a_backfill_from_further_back_than_the_horizon_is_refused(cast):
    earliest = local_today() - HORIZON
    with pytest.raises(ValidationFailed) as refused:
        reviewed_days_ago(cast, HORIZON.days + 1, backfill=True)
    message = refused.value.errors["reviewed_at"]
    assert f"at most {HORIZON.days} days back" in message
    assert f"from {earliest:%Y-%m-%d} to now" in message
    plan = AftercarePlan.objects.get(patient=cast.patient)
    assert plan.status == "draft" and plan.checkins_from is None
    assert not Checkin.objects.filter(plan=plan).exists()
    # Without making the earlier check-ins, a review that far back is recorded.
    plan = plan_activate(cast.actors["owner"], plan, reviewed_at=facility_noon(HORIZON.days + 1))
    assert plan.status == "active"
    assert not Checkin.objects.filter(plan=plan, due_on__lt=local_today()).exists()


def test_the_patient_ends_the_plan_with_a_reason_and_check_ins_stop(cast):
    owner = cast.actors["owner"]
    plan = active_plan(cast)
    assert Checkin.objects.filter(plan=plan, status="due").exists()
    with pytest.raises(ValidationFailed) as refused:
        plan_end(owner, plan, reason=" ", ended_on=local_today() + timedelta(days=3))
    assert set(refused.value.errors) == {"reason", "ended_on"}
    ended = plan_end(owner, plan, reason="I have my meetings and my sponsor.")
    assert ended.status == "ended" and ended.end_reason == "I have my meetings and my sponsor."
    assert ended.checkins_from is None
    assert not Checkin.objects.filter(plan=plan, status="due").exists()
    assert Checkin.objects.filter(plan=plan, status="cancelled").exists()
    with pytest.raises(Conflict, match="ended this plan"):
        plan_sections_save(owner, ended, {"triggers": ["x"]})
    with pytest.raises(Conflict, match="already ended"):
        plan_end(owner, ended, reason="again")


def test_an_ended_plan_restarts_as_a_draft_keeping_its_sections_and_history(cast):
    owner = cast.actors["owner"]
    plan = plan_end(owner, active_plan(cast), reason="Moving away")
    with pytest.raises(Conflict, match="restart"):
        plan_start(owner, cast.patient)
    again = plan_restart(owner, plan, note="Back in town")
    assert again.status == "draft" and again.ended_on is None and again.end_reason == ""
    assert again.supports == plan.supports
    kinds = list(PlanChange.objects.filter(plan=plan).values_list("kind", flat=True))
    assert kinds[-3:] == [ChangeKind.ENDED, ChangeKind.SCHEDULE, ChangeKind.RESTARTED]
    assert PlanChange.objects.get(plan=plan, kind=ChangeKind.ENDED).note == "Moving away"
    with pytest.raises(Conflict, match="Only a plan the patient ended"):
        plan_restart(owner, again)


# Check-ins


def test_a_due_check_in_is_recorded_with_how_the_patient_is_doing(cast):
    plan = active_plan(cast)
    due = Checkin.objects.filter(plan=plan).order_by("due_on")[0]
    done = checkin_record(cast.actors["owner"], plan, FINE, method="portal", checkin=due)
    assert done.pk == due.pk and done.status == "done" and done.method == "portal"
    assert (done.wellbeing, done.craving, done.used) == (4, 1, False)
    assert done.supports_attended == ["NA Tuesday night"]
    assert done.recorded_by == cast.users["owner"]
    with pytest.raises(Conflict, match="already recorded by Owner"):
        checkin_record(cast.actors["owner"], plan, FINE, method="phone", checkin=due)
    (row,) = audits(object_type="aftercare_checkin")
    assert row.detail == {"status": ["due", "done"], "used": False}


def test_an_unscheduled_check_in_is_its_own_row(cast):
    plan = active_plan(cast)
    made = Checkin.objects.filter(plan=plan).count()
    extra = checkin_record(cast.actors["owner"], plan, FINE, method="phone")
    assert not extra.scheduled and extra.status == "done"
    assert Checkin.objects.filter(plan=plan).count() == made + 1


def test_a_check_in_far_ahead_waits_for_its_day(cast):
    plan = active_plan(cast)
    later = Checkin.objects.filter(plan=plan).order_by("-due_on")[0]
    with pytest.raises(ValidationFailed, match="record it nearer the day"):
        checkin_record(cast.actors["owner"], plan, FINE, method="phone", checkin=later)


def test_check_ins_need_an_active_plan(cast):
    plan = written_plan(cast)
    with pytest.raises(Conflict, match="record the review first"):
        checkin_record(cast.actors["owner"], plan, FINE, method="phone")


def test_bad_check_in_values_are_named(cast):
    plan = active_plan(cast)
    with pytest.raises(ValidationFailed) as refused:
        checkin_record(
            cast.actors["owner"],
            plan,
            Report(wellbeing=9, craving=11, used=True),
            method="carrier pigeon",
        )
    assert set(refused.value.errors) == {"wellbeing", "craving", "substances", "method"}


def test_who_may_record_a_check_in(cast):
    plan = active_plan(cast)
    with pytest.raises(OutsideCareTeam):
        checkin_record(cast.actors["colleague"], plan, FINE, method="phone")
    with pytest.raises(AccessDenied):
        checkin_record(cast.actors["readonly"], plan, FINE, method="phone")
    with pytest.raises(NotFound):
        checkin_record(cast.actors["outsider"], plan, FINE, method="phone")


def test_a_report_of_use_proposes_a_relapse_in_the_same_write(cast):
    from stepwise.recovery.models import RelapseEvent

    plan = active_plan(cast)
    due = Checkin.objects.filter(plan=plan).order_by("due_on")[0]
    used_on = local_today() - timedelta(days=2)
    done = checkin_record(
        cast.actors["owner"],
        plan,
        Report(
            wellbeing=2, craving=8, used=True, substances=(7,), used_on=used_on, note="At a party"
        ),
        method="phone",
        checkin=due,
    )
    event = RelapseEvent.objects.get(source_type="aftercare_checkin", source_id=done.public_id)
    assert event.status == "proposed" and event.source == "checkin"
    assert event.substances == [7] and event.used_on == used_on
    assert "Reported at the aftercare check-in" in event.proposal and "At a party" in event.proposal
    assert done.relapse_id == event.public_id
    (row,) = audits(object_type="aftercare_checkin")
    assert row.detail["relapse_proposed"] == str(event.public_id)


def test_a_refused_relapse_proposal_records_nothing(cast, monkeypatch):
    """The check-in and its proposal are one write: if the proposal fails, so does the
    check-in."""
    from stepwise.aftercare.services import checkins

    def refuse(*args, **kwargs):
        raise ValidationFailed({"source": "refused"})

    monkeypatch.setattr(checkins, "relapse_propose", refuse)
    plan = active_plan(cast)
    due = Checkin.objects.filter(plan=plan).order_by("due_on")[0]
    with pytest.raises(ValidationFailed):
        checkin_record(
            cast.actors["owner"],
            plan,
            Report(wellbeing=2, craving=8, used=True, substances=(5,)),
            method="phone",
            checkin=due,
        )
    due.refresh_from_db()
    assert due.status == "due" and due.recorded_at is None


# The organization's settings


def test_the_director_sets_the_taper_and_it_applies_to_schedules_started_later(cast):
    from stepwise.aftercare.services.configuration import aftercare_settings_save

    saved = aftercare_settings_save(
        cast.actors["director"],
        weekly_checkins=2,
        monthly_interval=3,
        grace_hours=12,
        default_method="portal",
        crisis_line_name="Riverside 24/7 line",
        crisis_line_phone=" 555-0111 ",
    )
    assert (saved.weekly_checkins, saved.monthly_interval, saved.crisis_line_phone) == (
        2,
        3,
        "555-0111",
    )
    (row,) = AuditEvent.objects.filter(action="settings_change", object_type="aftercare_settings")
    assert row.detail["weekly_checkins"] == [4, 2] and row.category == "system"
    plan = active_plan(cast)
    assert (plan.taper_weeks, plan.taper_months, plan.checkin_method) == (2, 3, "portal")
    days = list(
        Checkin.objects.filter(plan=plan).order_by("due_on").values_list("due_on", flat=True)
    )
    assert days[1] - days[0] == timedelta(weeks=1) and days[2] - days[1] > timedelta(weeks=4)


def test_settings_refuse_out_of_range_values_and_other_roles(cast):
    from stepwise.aftercare.services.configuration import aftercare_settings_save

    with pytest.raises(ValidationFailed) as refused:
        aftercare_settings_save(
            cast.actors["director"],
            weekly_checkins=13,
            monthly_interval=0,
            grace_hours=True,
            default_method="fax",
            crisis_line_phone="call us",
            colour="blue",
        )
    assert set(refused.value.errors) == {
        "weekly_checkins",
        "monthly_interval",
        "grace_hours",
        "default_method",
        "crisis_line_phone",
        "colour",
    }
    assert "0 to 12 weeks" in refused.value.errors["weekly_checkins"]
    for who in ("owner", "readonly", "admin"):
        with pytest.raises(AccessDenied):
            aftercare_settings_save(cast.actors[who], grace_hours=12)
