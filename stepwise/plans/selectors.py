"""Reads of treatment plans: scoped to the organization, behind the care team,
audited, in a fixed number of queries however many versions, items or notes.

An objective's progress comes from the signed notes that rated it (read through
the notes app's selector), matched by the objective's key, which stays the same
through the plan's versions."""

from __future__ import annotations

import uuid
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from stepwise.care.chart import patient_access, record_read
from stepwise.care.models import EpisodeStatus, Program, Stay
from stepwise.care.selectors import (
    open_episode_of,
    patient_time_zone,
    programs_of,
)
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound
from stepwise.core.ids import public_id_or_404
from stepwise.core.models import Facility
from stepwise.core.roles import Permission, sees_all_patients
from stepwise.notes.objectives import ObjectiveOption
from stepwise.notes.selectors import ProgressNote, objective_progress
from stepwise.patients.access import AccessBasis, cared_for
from stepwise.patients.models import Patient
from stepwise.plans.models import (
    PlanObjective,
    PlanSettings,
    PlanVersion,
    ProgramReviewInterval,
    TreatmentPlan,
    VersionStatus,
)
from stepwise.plans.rules import review
from stepwise.plans.rules.content import (
    IN_PROGRESS,
    Content,
    Goal,
    Intervention,
    Objective,
    Problem,
    sign_errors,
)
from stepwise.plans.rules.diff import quote, summary
from stepwise.plans.rules.progress import ProgressSummary, summarize
from stepwise.plans.services.common import CATEGORY, interval_for_patient, local_day
from stepwise.plans.store import content_of, contents_of
from stepwise.scheduling.models import SessionType

# The most plans the worklist section lists.
WORKLIST_LIMIT = 200
_SIGNATURES = ("author", "signed_by", "patient_signature_by")


# --- the plan as pages show it ------------------------------------------------------


@dataclass(frozen=True)
class ObjectiveRow:
    objective: Objective
    number: str
    progress: ProgressSummary
    notes: list[ProgressNote]
    overdue: bool


@dataclass(frozen=True)
class GoalRow:
    goal: Goal
    number: str
    objectives: list[ObjectiveRow]
    interventions: tuple[Intervention, ...]


@dataclass(frozen=True)
class ProblemRow:
    problem: Problem
    number: str
    goals: list[GoalRow]
    interventions: tuple[Intervention, ...]


@dataclass(frozen=True)
class PlanTree:
    """A version with its contents numbered, each objective with its progress."""

    version: PlanVersion
    content: Content
    problems: list[ProblemRow]

    def objectives(self) -> list[ObjectiveRow]:
        return [o for p in self.problems for g in p.goals for o in g.objectives]


def plan_tree(
    version: PlanVersion, content: Content, progress: Sequence[ProgressNote], today: date
) -> PlanTree:
    notes_by_key: dict[uuid.UUID, list[ProgressNote]] = defaultdict(list)
    for note in progress:
        notes_by_key[note.objective_key].append(note)
    problems = []
    for i, problem in enumerate(content.problems, 1):
        goals = []
        for j, goal in enumerate(problem.goals, 1):
            objectives = []
            for k, objective in enumerate(goal.objectives, 1):
                notes = notes_by_key.get(objective.key, [])
                objectives.append(
                    ObjectiveRow(
                        objective,
                        f"{i}.{j}.{k}",
                        summarize((n.at, n.rating) for n in notes),
                        sorted(notes, key=lambda n: n.at, reverse=True),
                        objective.overdue(today),
                    )
                )
            goals.append(GoalRow(goal, f"{i}.{j}", objectives, goal.interventions))
        problems.append(ProblemRow(problem, str(i), goals, problem.interventions))
    return PlanTree(version, content, problems)


def _versions(plan: TreatmentPlan) -> list[PlanVersion]:
    return _versions_of([plan]).get(plan.pk, [])


def _versions_of(plans: Sequence[TreatmentPlan]) -> dict[int, list[PlanVersion]]:
    """Each plan's versions, newest first: one query for any number of plans."""
    if not plans:
        return {}
    by_id = {p.pk: p for p in plans}
    found: dict[int, list[PlanVersion]] = defaultdict(list)
    for version in (
        PlanVersion.objects.filter(organization_id=plans[0].organization_id, plan__in=list(by_id))
        .select_related(*_SIGNATURES)
        .order_by("plan_id", "-number")
    ):
        version.plan = by_id[version.plan_id]
        found[version.plan_id].append(version)
    return found


def _plans_of(actor: Actor, patient: Patient) -> list[TreatmentPlan]:
    found = list(
        TreatmentPlan.objects.filter(organization_id=actor.organization_id, patient=patient)
        .select_related("episode")
        .order_by("-episode__admitted_at", "-id")
    )
    for plan in found:
        plan.patient = patient
    return found


def _tree_of(version: PlanVersion | None, patient: Patient, today: date) -> PlanTree | None:
    """The version's tree with the notes' progress (five queries), or None."""
    if version is None:
        return None
    content = content_of(version)
    keys = [o.key for o in content.objectives()]
    return plan_tree(version, content, objective_progress(patient, keys), today)


@dataclass
class PlanPage:
    """A patient's plan page: the plan in force (active version) with progress, the
    draft being written, the history of versions, and plans of earlier episodes."""

    patient: Patient
    plan: TreatmentPlan | None
    active: PlanTree | None
    draft: PlanVersion | None
    versions: list[PlanVersion]
    # The newest version of each plan of an earlier episode.
    earlier: list[PlanVersion]
    can_start: bool
    today: date
    zone: str

    @property
    def due_state(self) -> str | None:
        return review.due_state(self.plan.review_due_on if self.plan else None, self.today)

    @property
    def is_open(self) -> bool:
        return self.plan is not None and self.plan.episode.status == EpisodeStatus.OPEN


def _current(plans: list[TreatmentPlan]) -> TreatmentPlan | None:
    """The open episode's plan, else the newest one."""
    return next((p for p in plans if p.episode.status == EpisodeStatus.OPEN), None) or (
        plans[0] if plans else None
    )


def plan_page(actor: Actor, public_id: uuid.UUID | str) -> PlanPage:
    """Everything the plan page shows, audited: a fixed number of queries."""
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=CATEGORY
    )
    plans = _plans_of(actor, patient)
    plan = _current(plans)
    episode = open_episode_of(patient)
    all_versions = _versions_of(plans)
    versions = all_versions.get(plan.pk, []) if plan else []
    active = next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    zone = patient_time_zone(patient)
    today = datetime.now(zoneinfo.ZoneInfo(zone)).date()
    page = PlanPage(
        patient=patient,
        plan=plan,
        active=_tree_of(active, patient, today),
        draft=draft,
        versions=versions,
        earlier=[all_versions[p.pk][0] for p in plans if p is not plan and all_versions.get(p.pk)],
        can_start=episode is not None and not any(p.episode_id == episode.pk for p in plans),
        today=today,
        zone=zone,
    )
    _audit(actor, patient, basis, "plan", plan.public_id if plan else patient.public_id, versions)
    return page


def _audit(
    actor: Actor,
    patient: Patient,
    basis: AccessBasis,
    object_type: str,
    object_id: uuid.UUID,
    versions: Sequence[PlanVersion] = (),
) -> None:
    detail = {"versions": ",".join(str(v.number) for v in versions)} if versions else {}
    record_read(
        actor,
        patient,
        basis,
        category=CATEGORY,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )


@dataclass
class VersionPage:
    patient: Patient
    tree: PlanTree
    today: date
    zone: str
    # The version this one replaced, and the one that replaced it (history links).
    previous: PlanVersion | None = None
    following: PlanVersion | None = None


def version_page(
    actor: Actor, public_id: uuid.UUID | str, version_id: uuid.UUID | str
) -> VersionPage:
    """One version of one of the patient's plans, as it reads, audited."""
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=CATEGORY
    )
    version = (
        PlanVersion.objects.filter(
            organization_id=actor.organization_id,
            plan__patient=patient,
            public_id=public_id_or_404(version_id),
        )
        .select_related("plan__episode", *_SIGNATURES)
        .first()
    )
    if version is None:
        raise NotFound()
    version.plan.patient = patient
    siblings = list(
        PlanVersion.objects.filter(
            plan_id=version.plan_id, number__in=[version.number - 1, version.number + 1]
        ).only("public_id", "number", "status", "plan_id")
    )
    zone = patient_time_zone(patient)
    today = datetime.now(zoneinfo.ZoneInfo(zone)).date()
    tree = _tree_of(version, patient, today)
    assert tree is not None
    _audit(actor, patient, basis, "plan_version", version.public_id)
    return VersionPage(
        patient,
        tree,
        today,
        zone,
        previous=next((v for v in siblings if v.number < version.number), None),
        following=next((v for v in siblings if v.number > version.number), None),
    )


@dataclass
class DraftPage:
    """The draft editor: the draft's contents numbered (no progress), the version it
    was copied from, and the patient's day."""

    patient: Patient
    plan: TreatmentPlan
    draft: PlanVersion
    tree: PlanTree
    active: PlanVersion | None
    today: date
    zone: str


def draft_page(actor: Actor, public_id: uuid.UUID | str) -> DraftPage | None:
    """The patient's current plan's draft for those who write it, audited; None when
    there is no draft (or no plan)."""
    patient, basis = patient_access(
        actor, public_id, permission=Permission.PLAN_WRITE, category=CATEGORY
    )
    plan = _current(_plans_of(actor, patient))
    if plan is None:
        return None
    versions = _versions(plan)
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    if draft is None:
        return None
    zone = patient_time_zone(patient)
    today = datetime.now(zoneinfo.ZoneInfo(zone)).date()
    tree = plan_tree(draft, content_of(draft), [], today)
    _audit(actor, patient, basis, "plan_version", draft.public_id)
    active = next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
    return DraftPage(patient, plan, draft, tree, active, today, zone)


@dataclass
class PlanForWrite:
    """The patient's current plan with its versions, for a write (read with the
    permission the write needs; the service checks again under its lock)."""

    patient: Patient
    plan: TreatmentPlan | None
    versions: list[PlanVersion] = field(default_factory=list)

    @property
    def active(self) -> PlanVersion | None:
        return next((v for v in self.versions if v.status == VersionStatus.ACTIVE), None)

    @property
    def draft(self) -> PlanVersion | None:
        return next((v for v in self.versions if v.status == VersionStatus.DRAFT), None)

    def version(self, version_id: uuid.UUID | str) -> PlanVersion:
        key = public_id_or_404(version_id)
        found = next((v for v in self.versions if v.public_id == key), None)
        if found is None:
            raise NotFound()
        return found


def plan_for_write(
    actor: Actor, public_id: uuid.UUID | str, permission: Permission = Permission.PLAN_WRITE
) -> PlanForWrite:
    """Audited as a read: the pages that write show the patient and the plan."""
    patient, basis = patient_access(actor, public_id, permission=permission, category=CATEGORY)
    plan = _current(_plans_of(actor, patient))
    versions = _versions(plan) if plan else []
    _audit(actor, patient, basis, "plan", plan.public_id if plan else patient.public_id, versions)
    return PlanForWrite(patient, plan, versions)


@dataclass
class PlanRead:
    """The patient's current plan for the API: the version in force with progress, the
    draft, and every version's summary."""

    patient: Patient
    plan: TreatmentPlan | None
    versions: list[PlanVersion]
    active: PlanTree | None
    draft: PlanTree | None
    today: date


def plan_read(actor: Actor, public_id: uuid.UUID | str) -> PlanRead:
    """A fixed number of queries, audited (the API's plan)."""
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=CATEGORY
    )
    plan = _current(_plans_of(actor, patient))
    versions = _versions(plan) if plan else []
    active = next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
    draft = next((v for v in versions if v.status == VersionStatus.DRAFT), None)
    contents = contents_of([v for v in (active, draft) if v is not None])
    today = local_day(patient)
    active_tree = draft_tree = None
    if active is not None:
        keys = [o.key for o in contents[active.pk].objectives()]
        progress = objective_progress(patient, keys)
        active_tree = plan_tree(active, contents[active.pk], progress, today)
    if draft is not None:
        draft_tree = plan_tree(draft, contents[draft.pk], [], today)
    _audit(actor, patient, basis, "plan", plan.public_id if plan else patient.public_id, versions)
    return PlanRead(patient, plan, versions, active_tree, draft_tree, today)


def version_tree(version: PlanVersion, patient: Patient) -> PlanTree:
    """A version just written, as a write's answer shows it (the write's audit row
    covers it): its contents and, once signed, its objectives' progress."""
    today = local_day(patient)
    content = content_of(version)
    progress: list[ProgressNote] = []
    if not version.is_draft:
        progress = objective_progress(patient, [o.key for o in content.objectives()])
    return plan_tree(version, content, progress, today)


# --- the chart and the worklist ------------------------------------------------------


@dataclass
class ChartPlan:
    patient: Patient
    plan: TreatmentPlan | None
    active: PlanVersion | None
    draft: PlanVersion | None
    objectives: list[ObjectiveRow]
    today: date | None

    @property
    def due_state(self) -> str | None:
        if self.plan is None or self.today is None:
            return None
        return review.due_state(self.plan.review_due_on, self.today)


def chart_plan(actor: Actor, patient: Patient) -> ChartPlan:
    """The chart's plan panel: status, review due, the objectives in progress with
    their progress. One query without a signed plan; four (five for a patient not
    in care now) with one, however many objectives and notes. Audited by the chart
    read that calls it."""
    versions = list(
        PlanVersion.objects.filter(
            organization_id=actor.organization_id,
            plan__patient=patient,
            status__in=[VersionStatus.ACTIVE, VersionStatus.DRAFT],
        )
        .select_related("plan__episode", "signed_by")
        .order_by("-plan__episode__admitted_at", "-plan_id", "-number")
    )
    plan = versions[0].plan if versions else None
    mine = [v for v in versions if plan is not None and v.plan_id == plan.pk]
    active = next((v for v in mine if v.status == VersionStatus.ACTIVE), None)
    draft = next((v for v in mine if v.status == VersionStatus.DRAFT), None)
    if active is None:
        return ChartPlan(patient, plan, None, draft, [], None)
    rows = list(
        PlanObjective.objects.filter(organization_id=actor.organization_id, version=active)
        .select_related("goal__problem")
        .order_by("goal__problem__position", "goal__position", "position")
    )
    progress = objective_progress(patient, [r.key for r in rows])
    today = local_day(patient)
    by_key: dict[uuid.UUID, list[ProgressNote]] = defaultdict(list)
    for note in progress:
        by_key[note.objective_key].append(note)
    objectives = []
    for row in rows:
        objective = Objective(row.statement, row.target_on, row.status, row.key)
        if not objective.in_progress:
            continue
        notes = by_key.get(row.key, [])
        objectives.append(
            ObjectiveRow(
                objective,
                _number(row),
                summarize((n.at, n.rating) for n in notes),
                notes,
                objective.overdue(today),
            )
        )
    return ChartPlan(patient, plan, active, draft, objectives, today)


def _number(row: PlanObjective) -> str:
    return f"{row.goal.problem.position + 1}.{row.goal.position + 1}.{row.position + 1}"


@dataclass(frozen=True)
class DueReview:
    plan: TreatmentPlan
    state: str

    @property
    def patient(self) -> Patient:
        return self.plan.patient


def reviews_due(actor: Actor, now: datetime) -> list[DueReview]:
    """Plans of open episodes whose review is due today or overdue, of the actor's
    patients (everyone's for facility-wide roles), soonest due first: one query.
    "Today" is the day where the plan's episode is treated: the facility of its latest
    stay (the open one), read in the same query; the organization's first facility
    only for an episode without a stay."""
    stay_zone = (
        Stay.objects.filter(
            organization_id=OuterRef("organization_id"), episode_id=OuterRef("episode_id")
        )
        .order_by("-sequence")
        .values("program__facility__time_zone")[:1]
    )
    first_zone = (
        Facility.objects.filter(organization_id=OuterRef("organization_id"))
        .order_by("name", "id")
        .values("time_zone")[:1]
    )
    # Every zone's today is at most one day after UTC's: the rest is decided per row.
    latest = now.astimezone(UTC).date() + timedelta(days=1)
    plans: QuerySet[TreatmentPlan] = TreatmentPlan.objects.filter(
        organization_id=actor.organization_id,
        review_due_on__lte=latest,
        episode__status=EpisodeStatus.OPEN,
    )
    if not sees_all_patients(actor.role):
        mine = cared_for(actor, Patient.objects.filter(organization_id=actor.organization_id), now)
        plans = plans.filter(patient__in=mine)
    found = (
        plans.annotate(zone=Coalesce(Subquery(stay_zone), Subquery(first_zone)))
        .select_related("patient")
        .order_by("review_due_on", "id")[:WORKLIST_LIMIT]
    )
    due: list[DueReview] = []
    for plan in found:
        today = now.astimezone(zoneinfo.ZoneInfo(plan.zone or "UTC")).date()
        state = review.due_state(plan.review_due_on, today)
        if state in ("due", "overdue"):
            due.append(DueReview(plan, state))
    return due


# --- the objectives notes rate -------------------------------------------------------


def current_objectives(
    organization_id: int, patient_ids: Sequence[int]
) -> dict[int, list[ObjectiveOption]]:
    """The objectives still worked on in each patient's plan in force (the active
    version of their open episode's plan), in plan order: one query for any number
    of patients. The notes app offers them to its forms (notes.objectives)."""
    rows = (
        PlanObjective.objects.filter(
            organization_id=organization_id,
            version__status=VersionStatus.ACTIVE,
            version__plan__patient_id__in=list(patient_ids),
            version__plan__episode__status=EpisodeStatus.OPEN,
            status__in=list(IN_PROGRESS),
        )
        .select_related("goal__problem", "version__plan")
        .order_by(
            "version__plan__patient_id", "goal__problem__position", "goal__position", "position"
        )
    )
    found: dict[int, list[ObjectiveOption]] = defaultdict(list)
    for row in rows:
        goal, problem = row.goal, row.goal.problem
        context = (
            f"Problem {problem.position + 1}: {quote(problem.statement)} · "
            f"Goal {problem.position + 1}.{goal.position + 1}: {quote(goal.statement)}"
        )
        found[row.version.plan.patient_id].append(
            ObjectiveOption(row.key, row.statement, _number(row), context, row.target_on)
        )
    return dict(found)


# --- settings ------------------------------------------------------------------------


@dataclass
class SettingsPage:
    settings: PlanSettings
    programs: list[tuple[Program, int | None]]


def settings_read(actor: Actor) -> SettingsPage:
    """The organization's review interval and each active program's own (three
    queries); organization configuration, no patient data."""
    require_permission(actor, Permission.CLINICAL_SETTINGS, category="system")
    row = PlanSettings.objects.filter(organization_id=actor.organization_id).first()
    programs = list(programs_of(actor))
    own = dict(
        ProgramReviewInterval.objects.filter(organization_id=actor.organization_id).values_list(
            "program_id", "review_interval_days"
        )
    )
    return SettingsPage(
        row or PlanSettings(organization_id=actor.organization_id),
        [(p, own.get(p.pk)) for p in programs],
    )


# --- signing -------------------------------------------------------------------------


@dataclass
class SignPreview:
    """What signing the draft would do: what changed since the active version, what
    is still missing, and when the next review would be due."""

    page: DraftPage
    changes: list[str]
    errors: dict[str, str]
    interval: int
    due_on: date


def sign_preview(actor: Actor, public_id: uuid.UUID | str) -> SignPreview | None:
    page = draft_page(actor, public_id)
    if page is None:
        return None
    content = page.tree.content
    before = content_of(page.active) if page.active is not None else None
    interval = interval_for_patient(page.patient)
    return SignPreview(
        page,
        summary(before, content),
        sign_errors(content),
        interval,
        review.review_due_on(
            signed_at=timezone.now(), signed_on=page.today, interval_days=interval
        ),
    )


def active_session_types(organization_id: int) -> list[SessionType]:
    """The session types an intervention may name (organization configuration)."""
    return list(SessionType.objects.filter(organization_id=organization_id, is_active=True))
