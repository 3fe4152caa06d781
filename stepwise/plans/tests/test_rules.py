"""The plan's pure rules: what changed between versions (matched by key), one change
at a time to a draft, what a draft needs before signing, when a review is due and an
objective's progress from notes. Hypothesis over generated plans."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stepwise.plans.rules import content as c
from stepwise.plans.rules import diff, edits, progress, review
from stepwise.plans.rules.content import Content, Goal, Intervention, Objective, Problem

words = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=30).filter(
    lambda s: s.strip() != ""
)
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
roles = st.sampled_from(sorted(c.RESPONSIBLE_ROLES))

interventions = st.one_of(
    st.builds(
        Intervention,
        kind=st.just("session"),
        responsible_role=roles,
        session_type=st.sampled_from(["group_therapy", "individual_therapy"]),
        sessions_per_week=st.integers(c.PER_WEEK_MIN, c.PER_WEEK_MAX),
        key=st.uuids(),
    ),
    st.builds(
        Intervention,
        kind=st.just("medication"),
        responsible_role=roles,
        medication=words,
        key=st.uuids(),
    ),
    st.builds(
        Intervention,
        kind=st.just("referral"),
        responsible_role=roles,
        referral_to=words,
        referral_for=words,
        key=st.uuids(),
    ),
    st.builds(
        Intervention, kind=st.just("other"), responsible_role=roles, detail=words, key=st.uuids()
    ),
)
objectives = st.builds(
    Objective,
    statement=words,
    target_on=days,
    status=st.sampled_from(sorted(c.OBJECTIVE_STATUSES)),
    key=st.uuids(),
)
goals = st.builds(
    Goal,
    statement=words,
    objectives=st.lists(objectives, max_size=3).map(tuple),
    interventions=st.lists(interventions, max_size=2).map(tuple),
    key=st.uuids(),
)
problems = st.builds(
    Problem,
    dimension=st.integers(1, 6),
    statement=words,
    goals=st.lists(goals, max_size=3).map(tuple),
    interventions=st.lists(interventions, max_size=2).map(tuple),
    key=st.uuids(),
)
contents = st.builds(
    Content, problems=st.lists(problems, max_size=4).map(tuple), patient_words=words
)


def _count(lines: list[str], start: str) -> int:
    return sum(1 for line in lines if line.startswith(start))


def _keys(content: Content) -> list[uuid.UUID]:
    return list(diff.placed(content))


# --- what changed -------------------------------------------------------------------


@given(contents)
def test_a_version_compared_with_itself_has_no_change(content):
    assert diff.changes(content, content) == []
    assert diff.summary(content, content) == [diff.NO_CHANGE]


@given(contents, contents)
def test_what_one_side_added_the_other_side_removed(before, after):
    forward, backward = diff.changes(before, after), diff.changes(after, before)
    assert _count(forward, "Added") == _count(backward, "Removed")
    assert _count(forward, "Removed") == _count(backward, "Added")
    assert all(line.strip() and line.endswith(".") for line in forward)


@given(contents, st.data())
def test_a_target_date_moved_is_one_plain_line_with_both_dates(content, data):
    found = list(content.objectives())
    if not found:
        return
    objective = data.draw(st.sampled_from(found))
    later = objective.target_on + timedelta(days=data.draw(st.integers(1, 90)))
    changed = edits.change_item(content, replace(objective, target_on=later))
    lines = diff.changes(content, changed)
    assert len(lines) == 1
    assert objective.target_on.isoformat() in lines[0] and later.isoformat() in lines[0]
    assert lines[0].startswith("Objective ")


@given(contents, st.data())
def test_removing_an_item_is_one_line_that_names_what_went_with_it(content, data):
    keys = _keys(content)
    if not keys:
        return
    key = data.draw(st.sampled_from(keys))
    kind = diff.placed(content)[key].kind
    lines = diff.changes(content, edits.remove_item(content, key))
    assert len(lines) == 1 and lines[0].startswith(f"Removed {kind}")


def test_changes_read_as_plain_sentences():
    meetings = Objective("Attends 3 meetings a week", date(2026, 12, 1))
    group = Intervention(
        kind="session",
        session_type="group_therapy",
        session_type_name="Group therapy",
        sessions_per_week=2,
        responsible_role="counselor",
    )
    goal = Goal("Stay abstinent", objectives=(meetings,), interventions=(group,))
    before = Content((Problem(5, "Cravings after work", goals=(goal,)),), "I want my job back.")
    after_goal = replace(
        goal,
        objectives=(
            replace(meetings, status="met"),
            Objective("Sponsor by December", date(2026, 12, 15)),
        ),
        interventions=(replace(group, sessions_per_week=3),),
    )
    after = Content(
        (
            replace(before.problems[0], dimension=4, goals=(after_goal,)),
            Problem(6, "No safe place to live"),
        ),
        "I want my job back and my own place.",
    )
    assert diff.changes(before, after) == [
        'Added problem 2 (dimension 6): "No safe place to live".',
        'Problem 1 "Cravings after work": dimension from 5 to 4.',
        'Added objective 1.1.2: "Sponsor by December", target 2026-12-15.',
        'Objective 1.1.1 "Attends 3 meetings a week": status from open to met.',
        "Intervention under goal 1.1 changed from Group therapy, twice a week (Counselor) "
        "to Group therapy, 3 times a week (Counselor).",
        "The patient's own words changed.",
    ]
    removed = diff.changes(after, before)
    assert 'Removed problem "No safe place to live" (was problem 2).' in removed
    assert diff.summary(None, before) == [
        "First version of the plan: 1 problem, 1 goal, 1 objective, 1 intervention."
    ]


def test_an_added_problem_is_told_with_its_goals_and_objectives():
    goal = Goal("Housing", objectives=(Objective("Visit two houses", date(2026, 12, 1)),))
    lines = diff.changes(Content(), Content((Problem(6, "Unsafe home", goals=(goal,)),)))
    assert lines == ['Added problem 1 (dimension 6): "Unsafe home", with 1 goal and 1 objective.']


def test_a_goal_moved_to_another_problem_says_so():
    goal = Goal("Housing")
    before = Content((Problem(6, "Unsafe home", goals=(goal,)), Problem(5, "Cravings")))
    after = Content(
        (replace(before.problems[0], goals=()), replace(before.problems[1], goals=(goal,)))
    )
    assert diff.changes(before, after) == ['Goal 2.1 "Housing": moved from problem 1 to problem 2.']


# --- one change at a time -----------------------------------------------------------


@given(contents, problems)
def test_adding_then_removing_a_problem_gives_the_plan_back(content, problem):
    added = edits.add_problem(content, problem)
    assert edits.find(added, problem.key) == problem
    assert edits.remove_item(added, problem.key) == content


@given(contents, st.data())
def test_changing_an_item_to_itself_changes_nothing(content, data):
    keys = _keys(content)
    if not keys:
        return
    item = edits.find(content, data.draw(st.sampled_from(keys)))
    assert item is not None
    assert edits.change_item(content, item) == content


@given(contents, goals, objectives, interventions, st.data())
def test_items_go_under_the_parent_named(content, goal, objective, item, data):
    if not content.problems:
        return
    problem = data.draw(st.sampled_from(content.problems))
    with_goal = edits.add_goal(content, problem.key, goal)
    assert edits.parent_of(with_goal, goal.key) == edits.find(with_goal, problem.key)
    with_objective = edits.add_objective(with_goal, goal.key, objective)
    assert edits.find(with_objective, objective.key) == objective
    with_item = edits.add_intervention(with_objective, goal.key, item)
    parent = edits.parent_of(with_item, item.key)
    assert isinstance(parent, Goal) and parent.key == goal.key


def test_an_unknown_parent_or_key_is_refused():
    content = Content((Problem(1, "Withdrawal"),))
    goal = Goal("Comfort")
    changes: list[Callable[[], object]] = [
        lambda: edits.add_goal(content, uuid.uuid4(), goal),
        lambda: edits.add_objective(content, content.problems[0].key, Objective("x", None)),
        lambda: edits.remove_item(content, uuid.uuid4()),
        lambda: edits.change_item(content, goal),
    ]
    for change in changes:
        try:
            change()
        except edits.UnknownItem:
            continue
        raise AssertionError("accepted an unknown item")


# --- what a draft may hold and needs to be signed ------------------------------------


@given(contents)
def test_generated_plans_are_valid_drafts(content):
    assert c.content_errors(c.cleaned(content)) == {}


@given(contents)
def test_a_key_used_twice_is_refused(content):
    found = list(content.objectives())
    if len(found) < 1 or not content.problems:
        return
    twin = replace(content.problems[0], key=found[0].key)
    errors = c.content_errors(replace(content, problems=(twin, *content.problems[1:])))
    assert any(path.endswith(".key") for path in errors)


def test_each_field_is_named_when_wrong():
    bad = Content(
        (
            Problem(
                9,
                " ",
                goals=(Goal("", objectives=(Objective("x" * 1001, None, "lost"),)),),
                interventions=(
                    Intervention(kind="session", responsible_role="janitor"),
                    Intervention(kind="referral", responsible_role="counselor"),
                    Intervention(kind="other", responsible_role="patient"),
                    Intervention(kind="medication", responsible_role="physician"),
                ),
            ),
        )
    )
    errors = c.content_errors(bad)
    assert errors["problems.0.dimension"].startswith("Allowed values: 1 (Acute Intoxication")
    assert errors["problems.0.statement"] == "Write the problem."
    assert errors["problems.0.goals.0.statement"] == "Write the goal."
    objective = "problems.0.goals.0.objectives.0"
    assert errors[f"{objective}.statement"] == "The objective is at most 1000 characters."
    assert errors[f"{objective}.target_on"] == "Give the target date."
    assert errors[f"{objective}.status"].startswith("Allowed values: open (Open)")
    assert errors["problems.0.interventions.0.session_type"] == "Choose the session type."
    assert errors["problems.0.interventions.0.sessions_per_week"].startswith("Give how many")
    assert errors["problems.0.interventions.0.responsible_role"].startswith("Allowed values:")
    assert errors["problems.0.interventions.1.referral_to"] == "Write the referral's recipient."
    assert errors["problems.0.interventions.2.detail"] == "Write the description."
    assert errors["problems.0.interventions.3.medication"] == "Write the medication."


def test_signing_needs_a_whole_plan_and_the_patients_words():
    assert c.sign_errors(Content()) == {
        "patient_words": "Write what the patient wants from treatment, in their own words, "
        "before signing.",
        "problems": "Add at least one problem before signing.",
    }
    half = Content((Problem(5, "Cravings", goals=(Goal("Abstinence"),)),), "My words")
    assert c.sign_errors(half) == {
        "problems.0.interventions": "Problem 1 needs at least one intervention (sessions, "
        "medication, a referral or another).",
        "problems.0.goals.0.objectives": "Goal 1.1 needs at least one measurable objective.",
    }


@given(contents)
def test_a_review_copies_every_item_with_its_key(content):
    copied = c.copy_for_review(content)
    assert _keys(copied) == _keys(content)
    assert not any(o.status == "revised" for o in copied.objectives())
    for line in diff.changes(content, copied):
        assert "status from revised to open" in line


def test_an_intervention_keeps_only_its_kinds_fields():
    mixed = Intervention(
        kind="referral",
        responsible_role="case_manager",
        referral_to=" Harbor ",
        medication="buprenorphine",
        sessions_per_week=3,
        session_type="group_therapy",
    )
    kept = c.normalized(mixed)
    assert (kept.referral_to, kept.medication, kept.sessions_per_week, kept.session_type) == (
        "Harbor",
        "",
        None,
        "",
    )
    assert kept.describe() == "Referral to Harbor (Case manager)"


# --- when the review is due -----------------------------------------------------------

# Hypothesis takes naive bounds and adds the zone itself.
moments = st.datetimes(
    min_value=datetime(2025, 1, 1),  # noqa: DTZ001
    max_value=datetime(2027, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(
    moments, st.integers(review.INTERVAL_MIN, review.INTERVAL_MAX), st.lists(moments, max_size=4)
)
def test_a_review_is_due_after_the_interval_or_at_the_first_change_of_level(
    signed_at, interval, changes
):
    signed_on = signed_at.date()
    level_changes = [(when, when.date()) for when in changes]
    due = review.review_due_on(
        signed_at=signed_at,
        signed_on=signed_on,
        interval_days=interval,
        level_changes=level_changes,
    )
    after = [day for when, day in level_changes if when > signed_at]
    assert due == min([signed_on + timedelta(days=interval), *after])
    shuffled = random.sample(level_changes, len(level_changes))
    assert due == review.review_due_on(
        signed_at=signed_at, signed_on=signed_on, interval_days=interval, level_changes=shuffled
    )
    assert due <= signed_on + timedelta(days=interval)


def test_a_change_of_level_before_the_signing_is_already_in_the_plan():
    signed_at = datetime(2026, 11, 2, 15, tzinfo=UTC)
    before = [(signed_at - timedelta(hours=1), date(2026, 11, 2))]
    later = [(signed_at + timedelta(days=3), date(2026, 11, 5))]
    kwargs: dict[str, Any] = {
        "signed_at": signed_at,
        "signed_on": date(2026, 11, 2),
        "interval_days": 30,
    }
    assert review.review_due_on(**kwargs, level_changes=before) == date(2026, 12, 2)
    assert review.review_due_on(**kwargs, level_changes=later) == date(2026, 11, 5)


@given(st.one_of(st.none(), days), days)
def test_a_due_day_is_upcoming_due_or_overdue(due_on, today):
    state = review.due_state(due_on, today)
    if due_on is None:
        assert state is None
    else:
        assert state == ("overdue" if due_on < today else "due" if due_on == today else "upcoming")


def test_intervals_in_force_and_their_range():
    assert review.interval_for(None, None) == review.INTERVAL_DEFAULT == 30
    assert review.interval_for(45, None) == 45 and review.interval_for(45, 14) == 14
    assert review.interval_error(30) is None
    assert review.interval_error(True) == (
        "Review interval: give a whole number of days, 7 to 180."
    )
    assert review.interval_error(6) == "Review interval: allowed 7 to 180 days."


# --- progress from notes -------------------------------------------------------------

ratings = st.sampled_from(["progressing", "no_change", "regressed", "met"])
entries = st.lists(st.tuples(moments, ratings), max_size=12)


@given(entries, st.randoms())
def test_progress_is_the_same_in_any_order(found, rng):
    summary = progress.summarize(found)
    shuffled = list(found)
    rng.shuffle(shuffled)
    assert progress.summarize(shuffled) == summary
    assert summary.count == len(found) == sum(n for _, n in summary.by_rating)
    if found:
        assert summary.last_at == max(when for when, _ in found)
        assert summary.latest in {r for when, r in found if when == summary.last_at}
    else:
        assert summary.latest is None and summary.last_at is None


def test_the_latest_rating_wins_and_a_tie_shows_the_more_cautious():
    monday = datetime(2026, 11, 2, 18, tzinfo=UTC)
    found = [(monday, "progressing"), (monday + timedelta(days=2), "met")]
    assert progress.summarize(found).latest_label == "Met"
    tie = [(monday, "met"), (monday, "regressed")]
    assert progress.summarize(tie).latest == "regressed"
    assert progress.summarize([]).latest_label == ""
