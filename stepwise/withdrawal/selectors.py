"""Reads the withdrawal rules and pages need: settings, the current medical
admission, and the rule inputs gathered from the record."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cached_property
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, QuerySet, Subquery, Sum

from stepwise.care.models import Episode, Program, Stay
from stepwise.care.selectors import program_get
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound
from stepwise.instruments.selectors import totals_between
from stepwise.patients.models import Patient
from stepwise.withdrawal.models import (
    Administration,
    AdministrationOutcome,
    ChallengeResult,
    LastUseReport,
    MedicalAdmission,
    MedicationOrder,
    NaloxoneChallenge,
    RecordStatus,
    SafetySettings,
    UnitSettings,
)
from stepwise.withdrawal.rules import admission as admission_rules
from stepwise.withdrawal.rules import formulary
from stepwise.withdrawal.rules.safety import CowsReading, LastUse, OpioidKind
from stepwise.withdrawal.rules.thresholds import SafetyThresholds, UnitSchedule

AGONIST_KIND = {
    formulary.SafetyGroup.BUPRENORPHINE: OpioidKind.BUPRENORPHINE,
    formulary.SafetyGroup.METHADONE: OpioidKind.METHADONE,
}


def thresholds_for(organization_id: int) -> SafetyThresholds:
    row = SafetySettings.objects.filter(organization_id=organization_id).first()
    return row.thresholds() if row else SafetyThresholds()


def withdrawal_program(actor: Actor, program_id: uuid.UUID | str) -> Program:
    """A withdrawal-management program of the actor's organization, or NotFound."""
    program = program_get(actor, program_id)
    if not program.is_withdrawal_management:
        raise NotFound()
    return program


def unit_schedule_for(program: Program) -> UnitSchedule:
    row = UnitSettings.objects.filter(program=program).first()
    return row.schedule() if row else UnitSchedule()


def current_admission(episode: Episode) -> MedicalAdmission | None:
    """The episode's medical admission assessment that no later entry replaced (a
    correction may give an earlier assessment time than the entry it corrects)."""
    return (
        MedicalAdmission.objects.filter(
            organization_id=episode.organization_id,
            episode=episode,
            status=RecordStatus.FINAL,
            replaced_by__isnull=True,
        )
        .select_related("recorded_by", "reviewed_by")
        .order_by("-recorded_at", "-id")
        .first()
    )


def admission_speaks_for(admission: MedicalAdmission, stay: Stay) -> bool:
    """Whether the admission's last use holds in this stay: back in withdrawal
    management after a relapse, one recorded before the stay began says nothing
    about the use since."""
    return not (stay.program.is_withdrawal_management and admission.recorded_at < stay.started_at)


def stay_last_use(
    stay: Stay, admission: MedicalAdmission | None, reports: Iterable[LastUseReport]
) -> LastUse | None:
    """The latest known opioid use of a stay, as the board shows it: from the episode's
    admission (when it speaks for the stay) and the stay's final last-use reports."""
    uses = _admission_uses(admission) if admission and admission_speaks_for(admission, stay) else []
    uses += [r.as_rule_input() for r in reports if r.status == RecordStatus.FINAL]
    return max(uses, key=lambda u: u.at, default=None)


def last_use_reports_of_stay(stay: Stay) -> QuerySet[LastUseReport]:
    """The last-use reports that speak for a stay, entries in error included (the rules
    read the final ones): in withdrawal management only the stay's own (an earlier
    stay's says nothing after a relapse, as the admission), elsewhere the episode's."""
    reports = LastUseReport.objects.filter(organization_id=stay.organization_id)
    if stay.program.is_withdrawal_management:
        return reports.filter(stay=stay)
    return reports.filter(stay__episode_id=stay.episode_id)


def last_use_subqueries(organization_id: int) -> tuple[Subquery, Subquery]:
    """Annotations of a withdrawal-management Stay query with its known last uses: from
    the episode's current admission when it was recorded in the stay, and from the
    stay's latest final last-use report."""
    admission_use = (
        MedicalAdmission.objects.filter(
            organization_id=organization_id,
            episode_id=OuterRef("episode_id"),
            status=RecordStatus.FINAL,
            replaced_by__isnull=True,
            recorded_at__gte=OuterRef("started_at"),
        )
        .order_by("-recorded_at", "-id")
        .values("last_opioid_use_at")[:1]
    )
    reported_use = (
        LastUseReport.objects.filter(
            organization_id=organization_id, stay_id=OuterRef("pk"), status=RecordStatus.FINAL
        )
        .order_by("-last_use_at")
        .values("last_use_at")[:1]
    )
    return Subquery(admission_use), Subquery(reported_use)


def last_use_by_stay(organization_id: int, stays: list[Stay]) -> dict[int, datetime]:
    """The latest known opioid use of each withdrawal-management stay, in one query
    however many stays (the unit board)."""
    admission_use, reported_use = last_use_subqueries(organization_id)
    rows = (
        Stay.objects.filter(organization_id=organization_id, pk__in=[s.pk for s in stays])
        .annotate(admission_use=admission_use, reported_use=reported_use)
        .values_list("pk", "admission_use", "reported_use")
    )
    found: dict[int, datetime] = {}
    for stay_id, *times in rows:
        known = [t for t in times if t is not None]
        if known:
            found[stay_id] = max(known)
    return found


def _drugs_of(group: formulary.SafetyGroup) -> list[str]:
    return [d.code for d in formulary.DRUGS if d.safety is group]


def given_doses(episode: Episode, group: formulary.SafetyGroup) -> list[Administration]:
    """Doses of one safety group given in the episode, oldest first."""
    return list(
        Administration.objects.filter(
            organization_id=episode.organization_id,
            order__episode=episode,
            order__drug__in=_drugs_of(group),
            outcome=AdministrationOutcome.GIVEN,
            status=RecordStatus.FINAL,
        ).order_by("at", "id")
    )


def _admission_uses(admission: MedicalAdmission) -> list[LastUse]:
    return admission_rules.last_uses(admission.parsed())


def cows_readings(patient: Patient, since: datetime, until: datetime) -> list[CowsReading]:
    return [CowsReading(total, at) for total, at in totals_between(patient, "cows", since, until)]


def latest_challenge(episode: Episode, before: datetime) -> tuple[datetime, bool] | None:
    """The latest naloxone challenge before `before`: its time and whether it was
    negative (a later positive one outweighs an earlier negative)."""
    row = (
        NaloxoneChallenge.objects.filter(
            organization_id=episode.organization_id,
            stay__episode=episode,
            status=RecordStatus.FINAL,
            performed_at__lte=before,
        )
        .order_by("-performed_at", "-id")
        .values_list("performed_at", "result")
        .first()
    )
    return None if row is None else (row[0], row[1] == ChallengeResult.NEGATIVE)


def first_day_of(doses: list[Administration], zone: ZoneInfo, at: datetime) -> tuple[bool, Decimal]:
    """Whether `at` falls on the first local day of these doses (methadone in the
    episode), and how much was given that day before `at`."""
    if not doses:
        return True, Decimal(0)
    first_day = doses[0].at.astimezone(zone).date()
    day = at.astimezone(zone).date()
    if day < first_day:
        return True, Decimal(0)  # charted back before the first dose: that day is the first
    if day != first_day:
        return False, Decimal(0)
    given = sum(
        (
            d.dose_mg or Decimal(0)
            for d in doses
            if d.at <= at and d.at.astimezone(zone).date() == first_day
        ),
        Decimal(0),
    )
    return True, given


def given_in_last_day(order: MedicationOrder, at: datetime) -> Decimal:
    total = Administration.objects.filter(
        order=order,
        outcome=AdministrationOutcome.GIVEN,
        status=RecordStatus.FINAL,
        at__gt=at - timedelta(hours=24),
        at__lte=at,
    ).aggregate(total=Sum("dose_mg"))["total"]
    return total or Decimal(0)


def last_given(order: MedicationOrder, before: datetime) -> Administration | None:
    return (
        Administration.objects.filter(
            order=order,
            outcome=AdministrationOutcome.GIVEN,
            status=RecordStatus.FINAL,
            at__lte=before,
        )
        .order_by("-at", "-id")
        .first()
    )


def next_given(order: MedicationOrder, after: datetime) -> Administration | None:
    """The first dose of the order charted after `after` (a dose charted late)."""
    return (
        Administration.objects.filter(
            order=order,
            outcome=AdministrationOutcome.GIVEN,
            status=RecordStatus.FINAL,
            at__gt=after,
        )
        .order_by("at", "id")
        .first()
    )


def stay_with_program(stay_id: int) -> Stay:
    return Stay.objects.select_related("program__facility", "episode__patient").get(pk=stay_id)


class RuleReads:
    """What the safety rules read from the record for one stay at one moment, read
    once: the eMAR checks every medication order of the stay with the same reads."""

    def __init__(self, stay: Stay, at: datetime) -> None:
        self.stay = stay
        self.at = at
        self._given: dict[formulary.SafetyGroup, list[Administration]] = {}

    @cached_property
    def thresholds(self) -> SafetyThresholds:
        return thresholds_for(self.stay.organization_id)

    def given(self, group: formulary.SafetyGroup) -> list[Administration]:
        if group not in self._given:
            self._given[group] = given_doses(self.stay.episode, group)
        return self._given[group]

    @cached_property
    def admission(self) -> MedicalAdmission | None:
        """The episode's current medical admission; back in withdrawal management after
        a relapse, one from an earlier stay says nothing about the last use now."""
        found = current_admission(self.stay.episode)
        if found is not None and not admission_speaks_for(found, self.stay):
            return None
        return found

    def _reports(self) -> list[LastUseReport]:
        """The final last-use reports the rules read (see last_use_reports_of_stay)."""
        return list(last_use_reports_of_stay(self.stay).filter(status=RecordStatus.FINAL))

    @cached_property
    def last_uses(self) -> list[LastUse]:
        uses = [] if self.admission is None else _admission_uses(self.admission)
        uses += [r.as_rule_input() for r in self._reports()]
        for group, kind in AGONIST_KIND.items():
            doses = [d for d in self.given(group) if d.at <= self.at]
            if doses:
                uses.append(LastUse(kind, doses[-1].at, "given on the unit"))
        return uses

    @cached_property
    def fentanyl_exposure(self) -> bool:
        """Whether the induction rule cautions about fentanyl: the medical admission says
        so (when it speaks for the stay), or a last use it counts was fentanyl (a report
        after a relapse, when the admission no longer counts)."""
        if self.admission is not None and admission_rules.fentanyl_exposure(
            self.admission.parsed()
        ):
            return True
        return any(use.fentanyl for use in self.last_uses)

    @cached_property
    def cows(self) -> list[CowsReading]:
        """COWS scores of the last six hours (the widest window a rule looks back)."""
        return cows_readings(self.stay.episode.patient, self.at - timedelta(hours=6), self.at)

    @cached_property
    def challenge(self) -> tuple[datetime, bool] | None:
        return latest_challenge(self.stay.episode, self.at)

    def methadone_first_day(self) -> tuple[bool, Decimal]:
        zone = ZoneInfo(self.stay.program.facility.time_zone)
        return first_day_of(self.given(formulary.SafetyGroup.METHADONE), zone, self.at)
