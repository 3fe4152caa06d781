"""The problem list: conditions and risks noted by the apps above from what they
found (the medical admission's findings), one active entry per key."""

from __future__ import annotations

import uuid
from datetime import datetime

from stepwise.core.actor import Actor
from stepwise.patients.models import Patient, Problem, ProblemStatus


def problem_note(
    actor: Actor,
    patient: Patient,
    *,
    key: str,
    title: str,
    code: str = "",
    asam_dimension: int | None = None,
    at: datetime,
    source_type: str,
    source_id: uuid.UUID,
) -> tuple[Problem, bool]:
    """Add a problem unless one with the key is active; returns it and whether it is
    new. Call inside the caller's transaction; its audit row covers it."""
    existing = Problem.objects.filter(
        organization_id=patient.organization_id,
        patient=patient,
        key=key,
        status=ProblemStatus.ACTIVE,
    ).first()
    if existing is not None:
        return existing, False
    problem = Problem.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        key=key,
        title=title,
        code=code,
        asam_dimension=asam_dimension,
        noted_at=at,
        noted_by_id=actor.user_id,
        source_type=source_type,
        source_id=source_id,
    )
    return problem, True


def active_problems(patient: Patient, *, dimension: int | None = None) -> list[Problem]:
    problems = Problem.objects.filter(
        organization_id=patient.organization_id, patient=patient, status=ProblemStatus.ACTIVE
    )
    if dimension is not None:
        problems = problems.filter(asam_dimension=dimension)
    return list(problems)
