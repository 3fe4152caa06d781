"""The treatment plan's tables: the plan and its versions (plan), what a version
holds (content), and how often plans are reviewed (settings)."""

from stepwise.plans.models.content import (
    InterventionKind,
    ObjectiveStatus,
    PlanGoal,
    PlanIntervention,
    PlanItem,
    PlanObjective,
    PlanProblem,
)
from stepwise.plans.models.plan import (
    IMMUTABLE,
    PatientSignature,
    PlanVersion,
    ReviewTrigger,
    SignedPlanChanged,
    TreatmentPlan,
    VersionStatus,
)
from stepwise.plans.models.settings import PlanSettings, ProgramReviewInterval

__all__ = [
    "IMMUTABLE",
    "InterventionKind",
    "ObjectiveStatus",
    "PatientSignature",
    "PlanGoal",
    "PlanIntervention",
    "PlanItem",
    "PlanObjective",
    "PlanProblem",
    "PlanSettings",
    "PlanVersion",
    "ProgramReviewInterval",
    "ReviewTrigger",
    "SignedPlanChanged",
    "TreatmentPlan",
    "VersionStatus",
]
