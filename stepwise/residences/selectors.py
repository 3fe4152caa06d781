"""Reads of sober living. Occupancy and vacancies are counts (no names) for anyone
with RESIDENCE_READ; reads that name residents are for residence staff
(RESIDENCE_MANAGE) or the patient's chart readers, and are audited. Each read costs a
fixed number of queries however many residences, beds or residents there are."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from stepwise.care.panels import ChartPanel
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction, DataClass
from stepwise.core.roles import Permission, role_can, sees_all_patients
from stepwise.patients.access import cared_for, require_patient_access
from stepwise.patients.models import Patient
from stepwise.patients.selectors import patient_search
from stepwise.residences import rules
from stepwise.residences.models import (
    Bed,
    CurfewCheckIn,
    House,
    HouseFor,
    Residence,
    ResidenceRules,
    Residency,
    RulesAcceptance,
)
from stepwise.residences.sections import residency_sections
from stepwise.residences.services.common import CATEGORY, same_org
from stepwise.residences.services.curfew import NightCurfew, night_curfew, tonight

# ---------------------------------------------------------------------------
# Occupancy: counts only.


@dataclass(frozen=True)
class BedRow:
    bed: Bed
    state: rules.BedState
    # Who lives there: only in reads that may name residents.
    residency: Residency | None = None

    @property
    def needs_rules(self) -> bool:
        """The resident accepted an earlier version of the house rules than the one in force."""
        r = self.residency
        return r is not None and r.rules_version < self.bed.house.residence.rules_version


@dataclass(frozen=True)
class HouseOccupancy:
    house: House
    counts: rules.Counts
    beds: list[BedRow] = field(default_factory=list)

    @property
    def vacant_beds(self) -> list[Bed]:
        return [row.bed for row in self.beds if row.state is rules.BedState.VACANT]


@dataclass(frozen=True)
class ResidenceOccupancy:
    residence: Residence
    houses: list[HouseOccupancy]

    @property
    def counts(self) -> rules.Counts:
        return rules.total(h.counts for h in self.houses)


def _spans_at(bed_ids: list[int], at: datetime) -> list[rules.Span]:
    rows = (
        Residency.objects.filter(bed_id__in=bed_ids, moved_in_at__lte=at)
        .filter(Q(moved_out_at__isnull=True) | Q(moved_out_at__gt=at))
        .values_list("pk", "bed_id", "patient_id", "moved_in_at", "moved_out_at")
    )
    return [rules.Span(bed, patient, start, end, key=pk) for pk, bed, patient, start, end in rows]


def occupancy(
    actor: Actor,
    at: datetime,
    *,
    residence: Residence | None = None,
    with_retired: bool = False,
) -> list[ResidenceOccupancy]:
    """Each residence's houses with their occupied, vacant and out-of-service beds at
    `at` (a move-out frees the bed at that instant). Retired residences and houses are
    left out unless `with_retired`. Four queries, whatever the numbers."""
    require_permission(actor, Permission.RESIDENCE_READ, category=CATEGORY)
    if residence is not None:
        same_org(actor, residence)
    residences = Residence.objects.filter(organization_id=actor.organization_id)
    houses = House.objects.filter(organization_id=actor.organization_id)
    if residence is not None:
        residences = residences.filter(pk=residence.pk)
        houses = houses.filter(residence=residence)
    if not with_retired:
        residences = residences.filter(is_active=True)
        houses = houses.filter(is_active=True, residence__is_active=True)
    found = list(residences.order_by("name", "id"))
    by_residence: dict[int, list[House]] = defaultdict(list)
    for house in houses.order_by("name", "id"):
        by_residence[house.residence_id].append(house)
    house_ids = [h.pk for hs in by_residence.values() for h in hs]
    beds = list(
        Bed.objects.filter(organization_id=actor.organization_id, house_id__in=house_ids).order_by(
            "label", "id"
        )
    )
    spans = _spans_at([b.pk for b in beds], at)
    states = rules.bed_states(
        [rules.BedSpan(b.pk, b.house_id, b.created_at, b.retired_at) for b in beds], spans, at
    )
    beds_of: dict[int, list[BedRow]] = defaultdict(list)
    for bed in beds:
        state = states.get(bed.pk)
        if state is not None:
            beds_of[bed.house_id].append(BedRow(bed, state))
    result = []
    for row in found:
        listed = []
        for house in by_residence.get(row.pk, []):
            house.residence = row  # loaded already; no query per house
            counts = rules.Counts()
            for bed_row in beds_of.get(house.pk, []):
                bed_row.bed.house = house
                counts = counts.add(bed_row.state)
            listed.append(HouseOccupancy(house, counts, beds_of.get(house.pk, [])))
        result.append(ResidenceOccupancy(row, listed))
    return result


def vacancies(actor: Actor, at: datetime) -> list[ResidenceOccupancy]:
    """Active residences and houses with their vacant beds (counts and labels, no names)."""
    return occupancy(actor, at)


@dataclass(frozen=True)
class BoardHouse:
    residence: str
    residence_id: Any
    house: str
    house_for: str
    vacant: int
    in_service: int


def board_vacancies(organization_id: int) -> list[BoardHouse]:
    """Vacant beds now per active house, for beside the bed board: one query, counts only."""
    occupied = Residency.objects.filter(bed_id=OuterRef("pk"), moved_out_at__isnull=True)
    rows = (
        Bed.objects.filter(
            organization_id=organization_id,
            is_active=True,
            house__is_active=True,
            house__residence__is_active=True,
        )
        .annotate(taken=Exists(occupied))
        .values_list(
            "house_id",
            "house__name",
            "house__house_for",
            "house__residence__name",
            "house__residence__public_id",
            "taken",
        )
        .order_by("house__residence__name", "house__name", "house_id")
    )
    houses: dict[int, dict[str, Any]] = {}
    for house_id, name, house_for, residence, residence_id, taken in rows:
        entry = houses.setdefault(
            house_id,
            {
                "residence": residence,
                "residence_id": residence_id,
                "house": name,
                "house_for": HouseFor(house_for).label,
                "vacant": 0,
                "in_service": 0,
            },
        )
        entry["in_service"] += 1
        entry["vacant"] += 0 if taken else 1
    return [BoardHouse(**entry) for entry in houses.values()]


# ---------------------------------------------------------------------------
# Residence and house pages.


def may_see_residents(actor: Actor) -> bool:
    """Residence staff see who lives where; others see counts and vacancies."""
    return role_can(actor.role, Permission.RESIDENCE_MANAGE)


def _audit_residents(actor: Actor, object_type: str, obj: Any, patients: list[Patient]) -> None:
    """A read that named these residents: one row listing each patient, Part 2 data."""
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category=CATEGORY,
            object_type=object_type,
            object_id=obj.public_id,
            detail={"patients": [str(p.public_id) for p in patients]},
            data_class=DataClass.PART2,
        )


@dataclass(frozen=True)
class ResidencePage:
    occupancy: ResidenceOccupancy
    rules: list[ResidenceRules]

    @property
    def current_rules(self) -> ResidenceRules | None:
        return self.rules[0] if self.rules else None


def residence_page(actor: Actor, residence: Residence, now: datetime) -> ResidencePage:
    """A residence's houses with their counts (retired ones too), its house rules in
    force and earlier versions. No names."""
    found = occupancy(actor, now, residence=residence, with_retired=True)[0]
    versions = list(
        ResidenceRules.objects.filter(residence=residence)
        .select_related("adopted_by")
        .order_by("-version")
    )
    return ResidencePage(found, versions)


@dataclass(frozen=True)
class HousePage:
    house: House
    counts: rules.Counts
    beds: list[BedRow]
    names_shown: bool


def house_page(actor: Actor, house: House, now: datetime) -> HousePage:
    """A house's beds now: occupied, vacant or out of service. Residence staff also see
    who lives in each bed (audited as a read of each resident); others only counts."""
    require_permission(actor, Permission.RESIDENCE_READ, category=CATEGORY)
    same_org(actor, house)
    beds = list(Bed.objects.filter(house=house).order_by("label", "id"))
    names = may_see_residents(actor)
    open_rows = Residency.objects.filter(bed__house=house, moved_out_at__isnull=True)
    living: dict[int, Residency | None]
    if names:
        living = {r.bed_id: r for r in open_rows.select_related("patient", "stay__program")}
    else:
        living = {bed_id: None for bed_id in open_rows.values_list("bed_id", flat=True)}
    rows = []
    counts = rules.Counts()
    for bed in beds:
        bed.house = house
        if bed.pk in living:
            state = rules.BedState.OCCUPIED
        elif bed.is_active:
            state = rules.BedState.VACANT
        else:
            state = rules.BedState.OUT_OF_SERVICE
        counts = counts.add(state)
        rows.append(BedRow(bed, state, living.get(bed.pk)))
    if names:
        shown = [r.patient for r in living.values() if r is not None]
        if shown:
            _audit_residents(actor, "house_residents", house, shown)
    return HousePage(house, counts, rows, names)


# ---------------------------------------------------------------------------
# Curfew.


@dataclass(frozen=True)
class CurfewRow:
    residency: Residency
    check_in: CurfewCheckIn | None

    @property
    def still_out(self) -> bool:
        return self.check_in is None or self.check_in.status == "missed"


@dataclass(frozen=True)
class CurfewNight:
    house: House
    curfew: NightCurfew
    rows: list[CurfewRow]
    past_curfew: bool

    @property
    def out(self) -> list[CurfewRow]:
        return [r for r in self.rows if r.still_out]


def curfew_night(actor: Actor, house: House, night: date, now: datetime) -> CurfewNight:
    """Who lived in the house that night (there at the curfew, or moved in after it)
    and their check-in, for residence staff. Audited, naming each resident."""
    require_permission(actor, Permission.RESIDENCE_MANAGE, category=CATEGORY)
    same_org(actor, house)
    window = night_curfew(house, night)
    residencies = list(
        Residency.objects.filter(bed__house=house, moved_in_at__lt=window.ends_at)
        .filter(Q(moved_out_at__isnull=True) | Q(moved_out_at__gt=window.curfew_at))
        .select_related("patient", "bed")
        .order_by("patient__family_name", "patient__given_name", "id")
    )
    checks = {
        c.patient_id: c
        for c in CurfewCheckIn.objects.filter(
            organization_id=actor.organization_id,
            night=night,
            patient_id__in=[r.patient_id for r in residencies],
        ).select_related("recorded_by")
    }
    # One row per patient (a bed move that night leaves two residencies: the later wins).
    by_patient: dict[int, Residency] = {}
    for row in sorted(residencies, key=lambda r: r.moved_in_at):
        by_patient[row.patient_id] = row
    listed = sorted(
        by_patient.values(), key=lambda r: (r.patient.family_name, r.patient.given_name, r.pk)
    )
    if listed:
        _audit_residents(actor, "curfew_night", house, [r.patient for r in listed])
    return CurfewNight(
        house,
        window,
        [CurfewRow(r, checks.get(r.patient_id)) for r in listed],
        now >= window.curfew_at,
    )


# ---------------------------------------------------------------------------
# A residency, and a patient's residences.

# How far back the pages list curfew marks.
CURFEW_HISTORY_NIGHTS = 90


@dataclass(frozen=True)
class ResidencyPage:
    residency: Residency
    check_ins: list[CurfewCheckIn]
    acceptances: list[RulesAcceptance]
    sections: list[ChartPanel]
    moved_to: Residency | None

    @property
    def needs_rules(self) -> bool:
        r = self.residency
        return r.is_open and r.rules_version < r.bed.house.residence.rules_version


def residency_page(actor: Actor, residency: Residency) -> ResidencyPage:
    """A residency for residence staff: the bed, linked stay, the house rules accepted,
    curfew marks while in this bed, and the sections other apps add. Audited."""
    require_permission(
        actor,
        Permission.RESIDENCE_MANAGE,
        patient_public_id=residency.patient.public_id,
        category=CATEGORY,
    )
    same_org(actor, residency)
    check_ins = CurfewCheckIn.objects.filter(
        organization_id=actor.organization_id, residency=residency
    ).select_related("recorded_by")
    acceptances = (
        RulesAcceptance.objects.filter(
            organization_id=actor.organization_id,
            patient_id=residency.patient_id,
            rules__residence_id=residency.bed.house.residence_id,
        )
        .select_related("rules", "recorded_by")
        .order_by("-accepted_at", "-id")
    )
    moved_to = (
        Residency.objects.filter(moved_from=residency).select_related("bed__house").first()
        if residency.moved_out_at is not None
        else None
    )
    page = ResidencyPage(
        residency,
        list(check_ins.order_by("-night")[:CURFEW_HISTORY_NIGHTS]),
        list(acceptances[:50]),
        residency_sections(actor, residency),
        moved_to,
    )
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            patient_public_id=residency.patient.public_id,
            category=CATEGORY,
            object_type="residency",
            object_id=residency.public_id,
        )
    return page


@dataclass(frozen=True)
class PatientResidences:
    patient: Patient
    residencies: list[Residency]
    check_ins: list[CurfewCheckIn]
    acceptances: list[RulesAcceptance]

    @property
    def current(self) -> Residency | None:
        first = self.residencies[0] if self.residencies else None
        return first if first is not None and first.is_open else None


def patient_residences(actor: Actor, patient: Patient) -> PatientResidences:
    """The patient's residencies (current first), curfew marks of the last 90 nights
    and the house rules they accepted. For chart readers (the care team); audited."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.CHART_READ, patient, category=CATEGORY)
    residencies = list(
        Residency.objects.filter(organization_id=actor.organization_id, patient=patient)
        .select_related("bed__house__residence", "stay__program", "moved_from")
        .order_by(F("moved_out_at").desc(nulls_first=True), "-moved_in_at", "-id")[:100]
    )
    check_ins: list[CurfewCheckIn] = []
    if residencies:  # a curfew mark belongs to a residency: none without one
        # Nights are local dates of the residence: count back from tonight on the
        # clock of the latest residence (the UTC date runs a night ahead in the evening).
        since = tonight(residencies[0].bed.house) - timedelta(days=CURFEW_HISTORY_NIGHTS)
        check_ins = list(
            CurfewCheckIn.objects.filter(
                organization_id=actor.organization_id, patient=patient, night__gte=since
            )
            .select_related("residency__bed__house", "recorded_by")
            .order_by("-night")
        )
    acceptances = list(
        RulesAcceptance.objects.filter(organization_id=actor.organization_id, patient=patient)
        .select_related("rules__residence", "recorded_by")
        .order_by("-accepted_at", "-id")[:50]
    )
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="patient_residences",
            object_id=patient.public_id,
            detail={"residencies": len(residencies), "check_ins": len(check_ins)},
        )
    return PatientResidences(patient, residencies, check_ins, acceptances)


# How many recent curfew marks the chart shows.
CHART_CURFEW_MARKS = 7


@dataclass(frozen=True)
class ChartResidence:
    residency: Residency
    check_ins: list[CurfewCheckIn]

    @property
    def needs_rules(self) -> bool:
        r = self.residency
        return r.is_open and r.rules_version < r.bed.house.residence.rules_version


def chart_residence(actor: Actor, patient: Patient) -> ChartResidence | None:
    """The chart's view: the current (or last) residency and the latest curfew marks.
    One query for a patient who never lived in a residence, two otherwise; the chart
    read's audit row covers it."""
    residency = (
        Residency.objects.filter(organization_id=actor.organization_id, patient=patient)
        .select_related("bed__house__residence", "stay__program")
        .order_by(F("moved_out_at").desc(nulls_first=True), "-moved_in_at", "-id")
        .first()
    )
    if residency is None:
        return None
    marks = list(
        CurfewCheckIn.objects.filter(
            organization_id=actor.organization_id, patient=patient
        ).order_by("-night")[:CHART_CURFEW_MARKS]
    )
    return ChartResidence(residency, marks)


# ---------------------------------------------------------------------------
# Choices of the move forms.


def vacant_beds(actor: Actor, *, for_sex: str | None = None) -> QuerySet[Bed]:
    """Beds in service in active houses with nobody in them now, for the forms; with
    `for_sex`, only in houses that take a patient of that recorded sex (all of them when
    it is not recorded), so the list offers no bed the move would be refused."""
    occupied = Residency.objects.filter(bed_id=OuterRef("pk"), moved_out_at__isnull=True)
    beds = Bed.objects.filter(
        organization_id=actor.organization_id,
        is_active=True,
        house__is_active=True,
        house__residence__is_active=True,
    )
    allowed = rules.houses_allowed(for_sex) if for_sex is not None else None
    if allowed is not None:
        beds = beds.filter(house__house_for__in=allowed)
    return (
        beds.exclude(Exists(occupied))
        .select_related("house__residence")
        .order_by("house__residence__name", "house__name", "label", "id")
    )


def active_residences(actor: Actor) -> list[Residence]:
    return list(
        Residence.objects.filter(organization_id=actor.organization_id, is_active=True).order_by(
            "name", "id"
        )
    )


def rules_in_force(actor: Actor) -> list[ResidenceRules]:
    """The house rules in force of each active residence (to show at move-in)."""
    rows = ResidenceRules.objects.filter(
        organization_id=actor.organization_id, residence__is_active=True
    ).select_related("residence")
    return sorted(
        (r for r in rows if r.version == r.residence.rules_version),
        key=lambda r: (r.residence.name, r.residence_id),
    )


# The most patients a move-in form lists (narrow with a search).
CANDIDATES = 200


def move_in_candidates(actor: Actor, query: str) -> list[Patient]:
    """Patients the actor may move in (their care team's, or all for facility-wide
    roles) who live in no residence now, matching a search. The list names patients,
    so it is audited like the patient list."""
    require_permission(actor, Permission.RESIDENCE_MANAGE, category=CATEGORY)
    found = patient_search(actor, query)
    if not sees_all_patients(actor.role):
        found = cared_for(actor, found, timezone.now())
    housed = Residency.objects.filter(patient_id=OuterRef("pk"), moved_out_at__isnull=True)
    patients = list(found.exclude(Exists(housed))[:CANDIDATES])
    with transaction.atomic():
        audit_record(
            action=AuditAction.SEARCH if query.strip() else AuditAction.READ,
            actor=actor,
            category="patient_list",
            object_type="residence_move_in",
            detail={"query": query.strip()[:100], "shown": len(patients)},
        )
    return patients


def current_rules(residence: Residence) -> ResidenceRules | None:
    return ResidenceRules.objects.filter(
        residence=residence, version=residence.rules_version
    ).first()


def tonight_of(house: House, now: datetime | None = None) -> date:
    """The night now is part of, in the residence's zone."""
    return tonight(house, now)


def record_form_read(actor: Actor, residency: Residency, form: str) -> None:
    """A form page showing a resident's name in its header: a read, audited."""
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            patient_public_id=residency.patient.public_id,
            category=CATEGORY,
            object_type="residency",
            object_id=residency.public_id,
            detail={"form": form},
        )
