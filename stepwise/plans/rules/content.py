"""What a treatment plan says, as plain data: problems (each tied to an ASAM
dimension), goals, measurable objectives with target dates, and interventions; the
codes each field takes, the limits on text, and what a draft needs before it is
signed. No Django imports.

Every item carries a `key` that a review copies into the next version, so an item
is followed through revisions (progress from notes follows an objective's key)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

# ASAM Criteria, 3rd edition (2013): the six dimensions a problem is tied to.
DIMENSIONS: dict[int, str] = {
    1: "Acute Intoxication and/or Withdrawal Potential",
    2: "Biomedical Conditions and Complications",
    3: "Emotional, Behavioral, or Cognitive Conditions and Complications",
    4: "Readiness to Change",
    5: "Relapse, Continued Use, or Continued Problem Potential",
    6: "Recovery/Living Environment",
}

OBJECTIVE_STATUSES: dict[str, str] = {
    "open": "Open",
    "met": "Met",
    # Changed at this review (wording or target); worked on like an open one.
    "revised": "Revised",
    "discontinued": "Discontinued",
}
# Objectives still worked on: offered to notes, and overdue past their target date.
IN_PROGRESS = ("open", "revised")

INTERVENTION_KINDS: dict[str, str] = {
    "session": "Sessions",
    "medication": "Medication",
    "referral": "Referral",
    "other": "Other",
}
RESPONSIBLE_ROLES: dict[str, str] = {
    "counselor": "Counselor",
    "case_manager": "Case manager",
    "nurse": "Nurse",
    "physician": "Physician",
    "director": "Clinical director",
    "patient": "The patient",
}

# Limits on what a plan holds: long enough for real plans, short enough for a page.
STATEMENT_MAX = 1000
SHORT_MAX = 200
WORDS_MAX = 4000
PER_WEEK_MIN, PER_WEEK_MAX = 1, 28
MAX_PROBLEMS = 20
MAX_GOALS = 10  # per problem
MAX_OBJECTIVES = 10  # per goal
MAX_INTERVENTIONS = 15  # per problem or goal
DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2100, 12, 31)


def clean_text(value: Any) -> str:
    """Text as stored: stripped, Windows line ends made plain."""
    return str(value).replace("\r\n", "\n").strip() if value is not None else ""


def allowed(choices: dict[Any, str]) -> str:
    return ", ".join(f"{code} ({label})" for code, label in choices.items())


def new_key() -> uuid.UUID:
    return uuid.uuid4()


@dataclass(frozen=True)
class Intervention:
    kind: str
    responsible_role: str
    # Sessions: the session type's code and name, and how many a week.
    session_type: str = ""
    session_type_name: str = ""
    sessions_per_week: int | None = None
    medication: str = ""  # "buprenorphine continued with the prescriber"
    referral_to: str = ""
    referral_for: str = ""
    detail: str = ""  # what an "other" intervention is; a note on the others
    key: uuid.UUID = field(default_factory=new_key)

    def describe(self) -> str:
        """One line: "Group therapy, 3 times a week (Counselor)"."""
        if self.kind == "session":
            what = (
                f"{self.session_type_name or self.session_type}, {per_week(self.sessions_per_week)}"
            )
        elif self.kind == "medication":
            what = f"Medication: {self.medication}"
        elif self.kind == "referral":
            what = f"Referral to {self.referral_to}"
            if self.referral_for:
                what += f" for {self.referral_for}"
        else:
            what = self.detail
        if self.detail and self.kind != "other":
            what += f"; {self.detail}"
        role = RESPONSIBLE_ROLES.get(self.responsible_role, self.responsible_role)
        return f"{what} ({role})" if role else what


def per_week(times: int | None) -> str:
    if times is None:
        return "frequency not set"
    if times == 1:
        return "once a week"
    if times == 2:
        return "twice a week"
    return f"{times} times a week"


@dataclass(frozen=True)
class Objective:
    statement: str
    target_on: date | None
    status: str = "open"
    key: uuid.UUID = field(default_factory=new_key)

    @property
    def in_progress(self) -> bool:
        return self.status in IN_PROGRESS

    @property
    def status_label(self) -> str:
        return OBJECTIVE_STATUSES.get(self.status, self.status)

    def overdue(self, today: date) -> bool:
        return self.in_progress and self.target_on is not None and self.target_on < today


@dataclass(frozen=True)
class Goal:
    statement: str
    objectives: tuple[Objective, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    key: uuid.UUID = field(default_factory=new_key)


@dataclass(frozen=True)
class Problem:
    dimension: int
    statement: str
    goals: tuple[Goal, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    key: uuid.UUID = field(default_factory=new_key)

    @property
    def dimension_name(self) -> str:
        return DIMENSIONS.get(self.dimension, "")

    def all_interventions(self) -> Iterator[Intervention]:
        yield from self.interventions
        for goal in self.goals:
            yield from goal.interventions


@dataclass(frozen=True)
class Content:
    """A version's contents: the problems tree and the patient's own words."""

    problems: tuple[Problem, ...] = ()
    patient_words: str = ""

    def objectives(self) -> Iterator[Objective]:
        for problem in self.problems:
            for goal in problem.goals:
                yield from goal.objectives

    def counts(self) -> tuple[int, int, int, int]:
        """Problems, goals, objectives, interventions."""
        goals = sum(len(p.goals) for p in self.problems)
        interventions = sum(len(list(p.all_interventions())) for p in self.problems)
        return len(self.problems), goals, len(list(self.objectives())), interventions


def copy_for_review(content: Content) -> Content:
    """The contents a review starts from: the same items with the same keys; an
    objective revised at the last review is simply open again."""
    return replace(
        content,
        problems=tuple(
            replace(
                p,
                goals=tuple(
                    replace(
                        g,
                        objectives=tuple(
                            replace(o, status="open") if o.status == "revised" else o
                            for o in g.objectives
                        ),
                    )
                    for g in p.goals
                ),
            )
            for p in content.problems
        ),
    )


# --- checking what a draft holds ------------------------------------------------------


def _text_error(value: str, label: str, limit: int, *, required: bool = True) -> str | None:
    text = clean_text(value)
    if required and not text:
        return f"Write the {label}."
    if len(text) > limit:
        return f"The {label} is at most {limit} characters."
    return None


def _date_error(value: date | None, label: str) -> str | None:
    if value is None:
        return f"Give the {label}."
    if not DATE_MIN <= value <= DATE_MAX:
        return f"Give a {label} between {DATE_MIN.year} and {DATE_MAX.year}."
    return None


def _put(errors: dict[str, str], name: str, message: str | None) -> None:
    if message:
        errors[name] = message


def problem_errors(problem: Problem) -> dict[str, str]:
    errors: dict[str, str] = {}
    if problem.dimension not in DIMENSIONS:
        errors["dimension"] = f"Allowed values: {allowed(DIMENSIONS)}."
    _put(errors, "statement", _text_error(problem.statement, "problem", STATEMENT_MAX))
    return errors


def goal_errors(goal: Goal) -> dict[str, str]:
    errors: dict[str, str] = {}
    _put(errors, "statement", _text_error(goal.statement, "goal", STATEMENT_MAX))
    return errors


def objective_errors(objective: Objective) -> dict[str, str]:
    errors: dict[str, str] = {}
    _put(errors, "statement", _text_error(objective.statement, "objective", STATEMENT_MAX))
    _put(errors, "target_on", _date_error(objective.target_on, "target date"))
    if objective.status not in OBJECTIVE_STATUSES:
        errors["status"] = f"Allowed values: {allowed(OBJECTIVE_STATUSES)}."
    return errors


def intervention_errors(item: Intervention) -> dict[str, str]:
    """What is wrong with one intervention, by field: each kind needs its own fields."""
    errors: dict[str, str] = {}
    if item.kind not in INTERVENTION_KINDS:
        errors["kind"] = f"Allowed values: {allowed(INTERVENTION_KINDS)}."
    if item.responsible_role not in RESPONSIBLE_ROLES:
        errors["responsible_role"] = f"Allowed values: {allowed(RESPONSIBLE_ROLES)}."
    if item.kind == "session":
        if not item.session_type:
            errors["session_type"] = "Choose the session type."
        per = item.sessions_per_week
        if per is None or isinstance(per, bool) or not PER_WEEK_MIN <= per <= PER_WEEK_MAX:
            errors["sessions_per_week"] = (
                f"Give how many sessions a week, {PER_WEEK_MIN} to {PER_WEEK_MAX}."
            )
    if item.kind == "medication":
        _put(errors, "medication", _text_error(item.medication, "medication", SHORT_MAX))
    if item.kind == "referral":
        _put(
            errors, "referral_to", _text_error(item.referral_to, "referral's recipient", SHORT_MAX)
        )
        _put(
            errors,
            "referral_for",
            _text_error(item.referral_for, "referral's purpose", SHORT_MAX, required=False),
        )
    _put(
        errors,
        "detail",
        _text_error(item.detail, "description", STATEMENT_MAX, required=item.kind == "other"),
    )
    return errors


def normalized(item: Intervention) -> Intervention:
    """The intervention with its text cleaned and only the fields of its kind kept
    (a referral keeps no number of sessions a week)."""
    kind = item.kind
    return replace(
        item,
        session_type=item.session_type if kind == "session" else "",
        session_type_name=item.session_type_name if kind == "session" else "",
        sessions_per_week=item.sessions_per_week if kind == "session" else None,
        medication=clean_text(item.medication) if kind == "medication" else "",
        referral_to=clean_text(item.referral_to) if kind == "referral" else "",
        referral_for=clean_text(item.referral_for) if kind == "referral" else "",
        detail=clean_text(item.detail),
    )


def _prefixed(prefix: str, errors: dict[str, str]) -> dict[str, str]:
    return {f"{prefix}.{name}": message for name, message in errors.items()}


def _interventions_errors(prefix: str, items: Iterable[Intervention]) -> dict[str, str]:
    found = list(items)
    errors: dict[str, str] = {}
    if len(found) > MAX_INTERVENTIONS:
        errors[f"{prefix}.interventions"] = f"At most {MAX_INTERVENTIONS} interventions."
    for n, item in enumerate(found):
        errors.update(_prefixed(f"{prefix}.interventions.{n}", intervention_errors(item)))
    return errors


def content_errors(content: Content) -> dict[str, str]:
    """Every fault of a draft's contents, keyed by its path
    ("problems.0.goals.1.objectives.0.target_on"); empty when it may be saved."""
    errors: dict[str, str] = {}
    _put(
        errors,
        "patient_words",
        _text_error(content.patient_words, "patient's words", WORDS_MAX, required=False),
    )
    if len(content.problems) > MAX_PROBLEMS:
        errors["problems"] = f"At most {MAX_PROBLEMS} problems."
    seen: set[uuid.UUID] = set()
    for i, problem in enumerate(content.problems):
        at = f"problems.{i}"
        errors.update(_prefixed(at, problem_errors(problem)))
        _once(errors, seen, problem.key, at)
        errors.update(_interventions_errors(at, problem.interventions))
        for item_n, item in enumerate(problem.interventions):
            _once(errors, seen, item.key, f"{at}.interventions.{item_n}")
        if len(problem.goals) > MAX_GOALS:
            errors[f"{at}.goals"] = f"At most {MAX_GOALS} goals per problem."
        for j, goal in enumerate(problem.goals):
            at_goal = f"{at}.goals.{j}"
            errors.update(_prefixed(at_goal, goal_errors(goal)))
            _once(errors, seen, goal.key, at_goal)
            errors.update(_interventions_errors(at_goal, goal.interventions))
            for item_n, item in enumerate(goal.interventions):
                _once(errors, seen, item.key, f"{at_goal}.interventions.{item_n}")
            if len(goal.objectives) > MAX_OBJECTIVES:
                errors[f"{at_goal}.objectives"] = f"At most {MAX_OBJECTIVES} objectives per goal."
            for k, objective in enumerate(goal.objectives):
                at_objective = f"{at_goal}.objectives.{k}"
                errors.update(_prefixed(at_objective, objective_errors(objective)))
                _once(errors, seen, objective.key, at_objective)
    return errors


def _once(errors: dict[str, str], seen: set[uuid.UUID], key: uuid.UUID, at: str) -> None:
    """Keys name one item each: a key given twice would merge two items' histories."""
    if key in seen:
        errors[f"{at}.key"] = "This key is used by another item of the plan; leave it empty."
    seen.add(key)


def sign_errors(content: Content) -> dict[str, str]:
    """What a draft still lacks before it is signed: at least one problem, each with
    a goal and an intervention, each goal with an objective, and the patient's words."""
    errors: dict[str, str] = {}
    if not clean_text(content.patient_words):
        errors["patient_words"] = (
            "Write what the patient wants from treatment, in their own words, before signing."
        )
    if not content.problems:
        errors["problems"] = "Add at least one problem before signing."
    for i, problem in enumerate(content.problems):
        number = i + 1
        if not problem.goals:
            errors[f"problems.{i}.goals"] = f"Problem {number} needs at least one goal."
        if not any(True for _ in problem.all_interventions()):
            errors[f"problems.{i}.interventions"] = (
                f"Problem {number} needs at least one intervention (sessions, medication, "
                "a referral or another)."
            )
        for j, goal in enumerate(problem.goals):
            if not goal.objectives:
                errors[f"problems.{i}.goals.{j}.objectives"] = (
                    f"Goal {number}.{j + 1} needs at least one measurable objective."
                )
    return errors


def cleaned(content: Content) -> Content:
    """The contents as stored: texts stripped, interventions keeping their kind's fields."""

    def goal(g: Goal) -> Goal:
        return replace(
            g,
            statement=clean_text(g.statement),
            objectives=tuple(replace(o, statement=clean_text(o.statement)) for o in g.objectives),
            interventions=tuple(normalized(i) for i in g.interventions),
        )

    return Content(
        problems=tuple(
            replace(
                p,
                statement=clean_text(p.statement),
                goals=tuple(goal(g) for g in p.goals),
                interventions=tuple(normalized(i) for i in p.interventions),
            )
            for p in content.problems
        ),
        patient_words=clean_text(content.patient_words),
    )
