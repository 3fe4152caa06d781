"""The sections of a released chart summary, one builder per information category.

Today Stepwise records demographics and episodes with their stays. Diagnoses,
assessments, medications and the rest plug in here as their apps arrive: add a
builder to SECTION_BUILDERS; until then the document says nothing is recorded.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from stepwise.care.rules import DISCHARGE_REASONS
from stepwise.care.selectors import episodes_for_patient
from stepwise.core.actor import Actor
from stepwise.patients.models import Patient
from stepwise.privacy import rules


@dataclass(frozen=True)
class SummarySection:
    category: rules.InfoCategory
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    headers: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = field(default_factory=list)
    empty_text: str = ""


SectionBuilder = Callable[[Actor, Patient], SummarySection]

_DISCHARGE_LABELS = dict(DISCHARGE_REASONS)


def _local_day(at: datetime | None, zone: str) -> str:
    if at is None:
        return "ongoing"
    return f"{at.astimezone(zoneinfo.ZoneInfo(zone)):%Y-%m-%d}"


def _demographics(actor: Actor, patient: Patient) -> SummarySection:
    return SummarySection(
        rules.InfoCategory.DEMOGRAPHICS,
        rules.CATEGORY_LABELS[rules.InfoCategory.DEMOGRAPHICS],
        facts=[
            ("Name", f"{patient.given_name} {patient.family_name}"),
            ("Preferred name", patient.preferred_name),
            ("Date of birth", f"{patient.date_of_birth:%Y-%m-%d}"),
            ("Record number", patient.mrn),
            ("Sex", patient.get_sex_display()),
            ("Race", patient.get_race_display()),
            ("Ethnicity", patient.get_ethnicity_display()),
            ("Education", patient.get_education_display()),
            ("Employment", patient.get_employment_display()),
            ("Living arrangement", patient.get_living_arrangement_display()),
            ("Phone", patient.phone),
            ("Email", patient.email),
        ],
    )


def _episodes(actor: Actor, patient: Patient) -> SummarySection:
    rows: list[tuple[str, ...]] = []
    for episode in episodes_for_patient(actor, patient):
        stays = list(episode.stays.all())
        zone = stays[0].program.facility.time_zone if stays else "UTC"
        outcome = (
            _DISCHARGE_LABELS.get(episode.discharge_reason, "")
            if episode.discharge_reason
            else "in care"
        )
        rows.append(
            (
                f"Episode from {_local_day(episode.admitted_at, zone)}",
                "",
                "",
                _local_day(episode.admitted_at, zone),
                _local_day(episode.discharged_at, zone),
                outcome,
            )
        )
        for stay in stays:
            place = stay.program.facility.time_zone
            rows.append(
                (
                    f"  {stay.sequence}. {stay.program.name}",
                    stay.program.level_display,
                    stay.get_entry_kind_display(),
                    _local_day(stay.started_at, place),
                    _local_day(stay.ended_at, place),
                    "",
                )
            )
    return SummarySection(
        rules.InfoCategory.EPISODES,
        rules.CATEGORY_LABELS[rules.InfoCategory.EPISODES],
        headers=("Episode / program", "Level of care", "Entry", "From", "To", "Discharge"),
        rows=rows,
        empty_text="No episode of treatment is recorded.",
    )


SECTION_BUILDERS: dict[rules.InfoCategory, SectionBuilder] = {
    rules.InfoCategory.DEMOGRAPHICS: _demographics,
    rules.InfoCategory.EPISODES: _episodes,
}

# The order sections print in, whatever order they were asked in.
SECTION_ORDER = [c for c in rules.InfoCategory if c != rules.InfoCategory.ALL_SUD]


def summary_sections(
    actor: Actor, patient: Patient, categories: Iterable[rules.InfoCategory]
) -> list[SummarySection]:
    wanted = rules.expand_categories(categories)
    sections = []
    for category in SECTION_ORDER:
        if category not in wanted:
            continue
        builder = SECTION_BUILDERS.get(category)
        if builder is not None:
            sections.append(builder(actor, patient))
        else:
            sections.append(
                SummarySection(
                    category,
                    rules.CATEGORY_LABELS[category],
                    # Not "none": a reader must never take a gap in Stepwise for a
                    # patient on no medication or with no diagnosis.
                    empty_text=(
                        "Not included: Stepwise does not hold this information yet. "
                        "Contact the program for it; do not read this as none."
                    ),
                )
            )
    return sections
