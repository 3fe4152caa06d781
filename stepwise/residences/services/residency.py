"""Who lives where: moving a patient in (with the house rules accepted), out (with a
reason), to another bed, and accepting house rules that changed meanwhile.

Each bed is locked while a move touches it, so two staff placing two people cannot
put both in one bed; the database's one-open-residency-per-bed and per-patient
constraints stand behind the lock."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from stepwise.care.models import Stay
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, ValidationFailed, allowed_values
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission, needs_care_relationship, role_can
from stepwise.patients.access import care_basis, require_patient_access
from stepwise.patients.models import Patient
from stepwise.residences import rules
from stepwise.residences.models import (
    Bed,
    MoveOutReason,
    ResidenceRules,
    Residency,
    RulesAcceptance,
)
from stepwise.residences.services.common import (
    CATEGORY,
    clean_text,
    local_text,
    same_org,
    zone_of,
)
from stepwise.residences.services.house_for import house_for_check

NOTE_LIMIT = 4000
# Reasons a member of staff gives; a move to another bed sets its own.
MOVE_OUT_REASONS = [(c.value, c.label) for c in MoveOutReason if c != MoveOutReason.BED_MOVE]
# An expected move-out further ahead than this is a typing mistake.
LONGEST_EXPECTED = timedelta(days=3 * 366)


def _require(actor: Actor, patient: Patient) -> None:
    require_permission(
        actor, Permission.RESIDENCE_MANAGE, patient_public_id=patient.public_id, category=CATEGORY
    )


def _spans(residencies: list[Residency]) -> list[rules.Span]:
    return [
        rules.Span(r.bed_id, r.patient_id, r.moved_in_at, r.moved_out_at, key=r.pk)
        for r in residencies
    ]


def _bed_span(bed: Bed) -> rules.BedSpan:
    return rules.BedSpan(bed.pk, bed.house_id, bed.created_at, bed.retired_at)


def _may_name(actor: Actor, patient: Patient) -> bool:
    """Whether the actor may see this patient's name: chart access (facility-wide, the
    care team, or an emergency access)."""
    if not role_can(actor.role, Permission.CHART_READ):
        return False
    if not needs_care_relationship(actor.role, Permission.CHART_READ):
        return True
    return care_basis(actor, patient, timezone.now()) is not None


class _BedTaken(Exception):
    def __init__(self, bed: Bed, blocking_id: int) -> None:
        super().__init__("bed taken")
        self.bed = bed
        self.blocking_id = blocking_id


def _taken_message(actor: Actor, taken: _BedTaken) -> str:
    """Who is in the bed, by name only for those with access to that patient (and that
    naming is a read of the patient's record, audited)."""
    blocking = Residency.objects.select_related("patient").get(pk=taken.blocking_id)
    zone = zone_of(taken.bed.house.residence)
    who = "another resident"
    if _may_name(actor, blocking.patient):
        who = blocking.patient.display_name
        with transaction.atomic():
            audit_record(
                action=AuditAction.READ,
                actor=actor,
                patient_public_id=blocking.patient.public_id,
                category=CATEGORY,
                object_type="residency",
                object_id=blocking.public_id,
                detail={"shown": "occupant of a bed asked for"},
            )
    return (
        f"{taken.bed.label} of {taken.bed.house.name} is taken: {who} lives there from "
        f"{local_text(blocking.moved_in_at, zone)}. Choose a vacant bed."
    )


def _lock_beds(*beds: Bed) -> dict[int, Bed]:
    """The beds locked in key order (two moves never wait on each other in a circle),
    with their house and residence as they are now."""
    ids = sorted({b.pk for b in beds})
    locked = Bed.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    found = {b.pk: b for b in locked}
    # select_for_update with joins would also lock the house rows on PostgreSQL; read
    # them apart.
    for bed in Bed.objects.filter(pk__in=ids).select_related("house__residence"):
        found[bed.pk].house = bed.house
    return found


def _check_bed_in_use(bed: Bed) -> None:
    if not bed.house.residence.is_active:
        raise Conflict(f"{bed.house.residence.name} is retired; choose a bed elsewhere.")
    if not bed.house.is_active:
        raise Conflict(f"{bed.house.name} is retired; choose a bed in another house.")


def _check_rules(field: str, bed: Bed, rules_version: int | None) -> None:
    residence = bed.house.residence
    if rules_version is None:
        raise ValidationFailed(
            {
                field: f"The resident must accept the house rules of {residence.name} "
                f"(version {residence.rules_version}) to move in."
            }
        )
    if rules_version != residence.rules_version:
        raise ValidationFailed(
            {
                field: f"The house rules of {residence.name} changed (now version "
                f"{residence.rules_version}); show the resident the rules in force and confirm "
                "again."
            }
        )


def _check_place(
    actor: Actor, patient: Patient, bed: Bed, when: datetime, *, besides: int | None = None
) -> None:
    """Refuse when the bed or the patient is not free from `when` on."""
    touching = Residency.objects.filter(Q(moved_out_at__isnull=True) | Q(moved_out_at__gt=when))
    if besides is not None:
        touching = touching.exclude(pk=besides)
    bed_rows = list(touching.filter(bed=bed))
    patient_rows = list(touching.filter(patient=patient).select_related("bed__house"))
    check = rules.move_in_refusal(_bed_span(bed), _spans(bed_rows), _spans(patient_rows), when)
    if check is None:
        return
    zone = zone_of(bed.house.residence)
    if check.refusal is rules.Refusal.BED_OUT_OF_SERVICE:
        raise Conflict(f"{bed.label} of {bed.house.name} is out of service; choose another bed.")
    assert check.blocking is not None
    if check.refusal is rules.Refusal.PATIENT_HOUSED:
        row = next(r for r in patient_rows if r.pk == check.blocking.key)
        raise Conflict(
            f"{patient.display_name} lives at {row.bed.house.name}, {row.bed.label} from "
            f"{local_text(row.moved_in_at, zone)}; move them out or to another bed instead."
        )
    raise _BedTaken(bed, check.blocking.key)


def _linked_stay(patient: Patient, start: datetime, end: datetime | None = None) -> Stay | None:
    """The PHP or IOP stay a residency over [start, end) points at: the latest such stay
    within it (the one the patient was in at the move-in, or one begun since, for a
    back-dated move-in), as if each stay start had found the residency
    (services.stay_links)."""
    stays = Stay.objects.filter(
        organization_id=patient.organization_id,
        episode__patient=patient,
        program__asam_level__in=rules.LINKED_LEVELS,
    ).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
    if end is not None:
        stays = stays.filter(started_at__lt=end)
    return stays.select_related("program").order_by("-started_at").first()


def _end_link(row: Residency, end: datetime) -> list[str]:
    """At a move-out, the link within the residency's own span: a back-dated move-out
    drops a stay begun after it. The fields to save."""
    if row.stay_id is None:
        return []
    stay = _linked_stay(row.patient, row.moved_in_at, end)
    if stay is not None and stay.pk == row.stay_id:
        return []
    row.stay = stay
    return ["stay"]


def _expected(day: date | None, when: datetime, zone_day: date) -> date | None:
    if day is None:
        return None
    if day <= zone_day:
        raise ValidationFailed(
            {"expected_move_out_on": "The expected move-out is a day after the move-in."}
        )
    if day > (when + LONGEST_EXPECTED).date():
        raise ValidationFailed(
            {"expected_move_out_on": "The expected move-out is within three years."}
        )
    return day


def _accept(actor: Actor, residency: Residency, rules_row: ResidenceRules, at: datetime) -> None:
    RulesAcceptance.objects.create(
        organization_id=actor.organization_id,
        residency=residency,
        patient_id=residency.patient_id,
        rules=rules_row,
        accepted_at=at,
        recorded_by_id=actor.user_id,
    )


def _audit(
    actor: Actor, action: str, residency: Residency, patient: Patient, detail: dict[str, object]
) -> None:
    audit_record(
        action=action,
        actor=actor,
        patient_public_id=patient.public_id,
        category=CATEGORY,
        object_type="residency",
        object_id=residency.public_id,
        detail=detail,
    )


def residency_move_in(
    actor: Actor,
    patient: Patient,
    bed: Bed,
    *,
    rules_version: int | None,
    at: datetime | None = None,
    expected_move_out_on: date | None = None,
    house_for_reason: str | None = None,
) -> Residency:
    """Move the patient into a vacant bed from `at` (default now).

    `rules_version` is the version of the residence's house rules the resident accepted
    (required; it must be the one in force). The patient's PHP (2.5) or IOP (2.1) stay
    at that time, if any, is linked. A bed in a house for the other sex than the one
    recorded needs `house_for_reason` (see services.house_for). Needs RESIDENCE_MANAGE
    and the care relationship (CARE_WRITE) to the patient."""
    same_org(actor, patient, bed)
    _require(actor, patient)
    require_patient_access(actor, Permission.CARE_WRITE, patient, category=CATEGORY)
    when = event_time(at, "moved_in_at")
    try:
        with transaction.atomic():
            locked = _lock_beds(bed)[bed.pk]
            # The patient's row as it is now (its recorded sex is checked).
            patient = Patient.objects.select_for_update().get(pk=patient.pk)
            _check_bed_in_use(locked)
            override = house_for_check(patient, locked, house_for_reason)
            residence = locked.house.residence
            zone = zone_of(residence)
            expected = _expected(expected_move_out_on, when, when.astimezone(zone).date())
            _check_rules("rules_accepted", locked, rules_version)
            _check_place(actor, patient, locked, when)
            stay = _linked_stay(patient, when)
            try:
                with transaction.atomic():
                    residency = Residency.objects.create(
                        organization_id=actor.organization_id,
                        patient=patient,
                        bed=locked,
                        moved_in_at=when,
                        expected_move_out_on=expected,
                        stay=stay,
                        rules_version=residence.rules_version,
                        rules_accepted_at=when,
                        moved_in_by_id=actor.user_id,
                    )
            except IntegrityError:
                raise Conflict(
                    "The bed or the patient was placed by someone else just now; reload and "
                    "choose again."
                ) from None
            rules_row = ResidenceRules.objects.get(
                residence=residence, version=residence.rules_version
            )
            _accept(actor, residency, rules_row, when)
            _audit(
                actor,
                AuditAction.CREATE,
                residency,
                patient,
                {
                    "bed": str(locked.public_id),
                    "house": str(locked.house.public_id),
                    "residence": str(residence.public_id),
                    "rules_version": residence.rules_version,
                    "stay": str(stay.public_id) if stay else None,
                    **override,
                },
            )
    except _BedTaken as taken:
        raise Conflict(_taken_message(actor, taken)) from None
    residency.bed = locked
    return residency


def residency_move_out(
    actor: Actor,
    residency: Residency,
    *,
    reason: str,
    note: str = "",
    at: datetime | None = None,
) -> Residency:
    """End a residency at `at` (default now) with a reason; the bed is free from then."""
    same_org(actor, residency)
    _require(actor, residency.patient)
    errors: dict[str, str] = {}
    if reason not in dict(MOVE_OUT_REASONS):
        errors["reason"] = f"Allowed values: {allowed_values(MOVE_OUT_REASONS)}."
    text = clean_text(errors, "note", note, "Note", NOTE_LIMIT)
    if reason == MoveOutReason.OTHER and not text and "note" not in errors:
        errors["note"] = "Say why the resident moved out."
    if errors:
        raise ValidationFailed(errors)
    when = event_time(at, "moved_out_at")
    with transaction.atomic():
        _lock_beds(residency.bed)
        row = Residency.objects.select_for_update().select_related("patient").get(pk=residency.pk)
        problem = rules.move_out_error(row.moved_in_at, row.moved_out_at, when)
        if problem == "already moved out":
            raise Conflict("This resident has already moved out of this bed.")
        if problem:
            raise ValidationFailed({"moved_out_at": "The move-out must come after the move-in."})
        row.moved_out_at = when
        row.move_out_reason = reason
        row.move_out_note = text
        row.moved_out_by_id = actor.user_id
        relinked = _end_link(row, when)
        row.save(
            update_fields=[
                "moved_out_at",
                "move_out_reason",
                "move_out_note",
                "moved_out_by",
                "updated_at",
                *relinked,
            ]
        )
        detail: dict[str, object] = {"moved_out": reason}
        if relinked:
            detail["stay"] = str(row.stay.public_id) if row.stay else None
        _audit(actor, AuditAction.UPDATE, row, row.patient, detail)
    return row


def residency_move_bed(
    actor: Actor,
    residency: Residency,
    bed: Bed,
    *,
    at: datetime | None = None,
    rules_version: int | None = None,
    house_for_reason: str | None = None,
) -> Residency:
    """Move a resident to another bed at `at` (default now): this residency ends there
    and a new one starts in the new bed. Within the same residence the accepted house
    rules carry over; a bed in another residence needs its rules accepted
    (`rules_version`). A bed in a house for the other sex needs `house_for_reason`.

    The audit row names the new row's stay and, when the ended row's link changed (a
    back-dated move drops a stay begun after it), that row's stay now."""
    same_org(actor, residency, bed)
    _require(actor, residency.patient)
    when = event_time(at, "moved_at")
    try:
        with transaction.atomic():
            beds = _lock_beds(residency.bed, bed)
            target = beds[bed.pk]
            # As at move-in: a stay starting meanwhile waits, then finds the new row.
            list(
                Patient.objects.select_for_update()
                .filter(pk=residency.patient_id)
                .values_list("pk")
            )
            row = (
                Residency.objects.select_for_update().select_related("patient").get(pk=residency.pk)
            )
            patient = row.patient
            if row.moved_out_at is not None:
                raise Conflict("This resident has already moved out of this bed.")
            if target.pk == row.bed_id:
                raise ValidationFailed({"bed": "Choose another bed than the one they are in."})
            if when <= row.moved_in_at:
                raise ValidationFailed({"moved_at": "The move must come after the move-in."})
            _check_bed_in_use(target)
            override = house_for_check(patient, target, house_for_reason)
            residence = target.house.residence
            same_residence = residence.pk == beds[row.bed_id].house.residence_id
            if not same_residence:
                _check_rules("rules_accepted", target, rules_version)
            _check_place(actor, patient, target, when, besides=row.pk)
            row.moved_out_at = when
            row.move_out_reason = MoveOutReason.BED_MOVE
            row.moved_out_by_id = actor.user_id
            relinked = _end_link(row, when)
            row.save(
                update_fields=[
                    "moved_out_at",
                    "move_out_reason",
                    "moved_out_by",
                    "updated_at",
                    *relinked,
                ]
            )
            stay = _linked_stay(patient, when)
            moved = Residency.objects.create(
                organization_id=actor.organization_id,
                patient=patient,
                bed=target,
                moved_in_at=when,
                expected_move_out_on=row.expected_move_out_on,
                stay=stay,
                moved_from=row,
                rules_version=row.rules_version if same_residence else residence.rules_version,
                rules_accepted_at=row.rules_accepted_at if same_residence else when,
                moved_in_by_id=actor.user_id,
            )
            if not same_residence:
                rules_row = ResidenceRules.objects.get(
                    residence=residence, version=residence.rules_version
                )
                _accept(actor, moved, rules_row, when)
            detail: dict[str, object] = {
                "moved_from": str(row.public_id),
                "bed": str(target.public_id),
                "house": str(target.house.public_id),
                "stay": str(stay.public_id) if stay else None,
                **override,
            }
            if relinked:
                detail["moved_from_stay"] = str(row.stay.public_id) if row.stay else None
            _audit(actor, AuditAction.CREATE, moved, patient, detail)
    except _BedTaken as taken:
        raise Conflict(_taken_message(actor, taken)) from None
    moved.bed = target
    return moved


def rules_accept(
    actor: Actor, residency: Residency, *, rules_version: int | None, at: datetime | None = None
) -> RulesAcceptance:
    """The resident accepts the house rules now in force (after they changed during
    the residency). `rules_version` is the version shown to them."""
    same_org(actor, residency)
    _require(actor, residency.patient)
    when = event_time(at, "accepted_at")
    with transaction.atomic():
        row = (
            Residency.objects.select_for_update()
            .select_related("patient", "bed__house__residence")
            .get(pk=residency.pk)
        )
        if row.moved_out_at is not None:
            raise Conflict("This resident has moved out of this bed.")
        residence = row.bed.house.residence
        _check_rules("rules_accepted", row.bed, rules_version)
        if row.rules_version == residence.rules_version:
            raise Conflict(
                f"The resident has already accepted version {residence.rules_version} of "
                "the house rules."
            )
        if when < row.moved_in_at:
            raise ValidationFailed({"accepted_at": "The acceptance comes after the move-in."})
        rules_row = ResidenceRules.objects.get(residence=residence, version=residence.rules_version)
        acceptance = RulesAcceptance(
            organization_id=actor.organization_id,
            residency=row,
            patient_id=row.patient_id,
            rules=rules_row,
            accepted_at=when,
            recorded_by_id=actor.user_id,
        )
        acceptance.save()
        row.rules_version = residence.rules_version
        row.rules_accepted_at = when
        row.save(update_fields=["rules_version", "rules_accepted_at", "updated_at"])
        _audit(
            actor, AuditAction.UPDATE, row, row.patient, {"rules_version": residence.rules_version}
        )
    return acceptance
