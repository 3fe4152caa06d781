"""Safety alerts on a patient: raised by other apps' services inside their own
transaction, cleared by a later result, resolved by a clinician with a note."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission, sees_all_patients
from stepwise.patients.access import cared_for, require_patient_access
from stepwise.patients.models import Alert, AlertSeverity, AlertStatus, Patient

CATEGORY = "chart"


@dataclass(frozen=True)
class AlertSource:
    """What raised an alert: a row of another app, named without importing it."""

    type: str
    public_id: uuid.UUID


def alert_raise(
    patient: Patient,
    *,
    kind: str,
    severity: AlertSeverity,
    message: str,
    source: AlertSource,
    at: datetime,
) -> Alert:
    """Open the alert, or count a repeat on the one already open. Call inside the
    transaction of the write that found the signal; that write's audit row covers it."""
    # Lock the patient first: with no alert open yet there is no row to lock, and two
    # results at once must not both open one (one open alert per kind).
    Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk").first()
    existing = (
        Alert.objects.select_for_update()
        .filter(
            organization_id=patient.organization_id,
            patient=patient,
            kind=kind,
            status=AlertStatus.OPEN,
        )
        .first()
    )
    if existing is not None:
        # A result entered late counts, but only a newer one speaks for "now": the
        # alert keeps the time, message and source of its most recent result.
        changes: dict[str, object] = {"times_raised": F("times_raised") + 1}
        if at >= existing.last_raised_at:
            changes |= {
                "last_raised_at": at,
                "message": message,
                "source_type": source.type,
                "source_id": source.public_id,
            }
        Alert.objects.filter(pk=existing.pk).update(**changes)
        existing.refresh_from_db()
        return existing
    return Alert.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        kind=kind,
        severity=severity,
        message=message,
        source_type=source.type,
        source_id=source.public_id,
        raised_at=at,
        last_raised_at=at,
    )


def alert_clear(patient: Patient, *, kind: str, note: str, at: datetime) -> int:
    """Close an open alert that a later result has made untrue (a COWS below the
    threshold). Only for kinds that a result can clear; a suicide-risk alert waits
    for a clinician. A result observed before the alert was last raised (entered
    late) clears nothing. Returns how many were closed."""
    return Alert.objects.filter(
        organization_id=patient.organization_id,
        patient=patient,
        kind=kind,
        status=AlertStatus.OPEN,
        last_raised_at__lte=at,
    ).update(status=AlertStatus.RESOLVED, resolved_at=at, resolution_note=note)


def has_open_alert(patient: Patient, kind: str) -> bool:
    return Alert.objects.filter(
        organization_id=patient.organization_id,
        patient=patient,
        kind=kind,
        status=AlertStatus.OPEN,
    ).exists()


def open_alerts_from_source(patient: Patient, source: AlertSource) -> list[Alert]:
    return list(
        Alert.objects.select_for_update().filter(
            organization_id=patient.organization_id,
            patient=patient,
            source_type=source.type,
            source_id=source.public_id,
            status=AlertStatus.OPEN,
        )
    )


def alert_close(alert: Alert, *, note: str, at: datetime) -> None:
    """Close an alert whose source no longer stands (entered in error)."""
    Alert.objects.filter(pk=alert.pk, status=AlertStatus.OPEN).update(
        status=AlertStatus.RESOLVED, resolved_at=at, resolution_note=note
    )


def alert_repoint(alert: Alert, *, source: AlertSource, at: datetime, message: str) -> None:
    """Keep an alert open on an earlier result that still calls for it, when the result
    it last named turned out to be a mistake."""
    Alert.objects.filter(pk=alert.pk).update(
        source_type=source.type, source_id=source.public_id, last_raised_at=at, message=message
    )


def alert_resolve(actor: Actor, alert: Alert, *, note: str) -> Alert:
    """A clinician closes an alert, saying what was done (e.g. the risk assessment)."""
    require_patient_access(actor, Permission.CARE_WRITE, alert.patient, category=CATEGORY)
    if not note.strip():
        raise ValidationFailed({"note": "Say what was done about this alert."})
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status != AlertStatus.OPEN:
            raise Conflict("This alert is already resolved.")
        locked.status = AlertStatus.RESOLVED
        locked.resolved_at = timezone.now()
        locked.resolved_by_id = actor.user_id
        locked.resolution_note = note.strip()
        locked.save(
            update_fields=["status", "resolved_at", "resolved_by", "resolution_note", "updated_at"]
        )
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=alert.patient.public_id,
            category=CATEGORY,
            object_type="alert",
            object_id=locked.public_id,
            detail={"kind": locked.kind, "status": "resolved"},
        )
    return locked


def alert_get(actor: Actor, public_id: uuid.UUID | str) -> Alert:
    try:
        return Alert.objects.select_related("patient").get(
            organization_id=actor.organization_id, public_id=public_id
        )
    except (Alert.DoesNotExist, ValueError):
        raise NotFound() from None


# How to link an alert to what raised it: registered by the app that owns the source
# (instruments registers "assessment"), so this app imports none of them.
SourceLink = Callable[[Alert], str]
_SOURCE_LINKS: dict[str, SourceLink] = {}


def register_alert_source(source_type: str, link: SourceLink) -> None:
    _SOURCE_LINKS[source_type] = link


@dataclass(frozen=True)
class AlertView:
    alert: Alert
    source_url: str


def _view(alert: Alert) -> AlertView:
    link = _SOURCE_LINKS.get(alert.source_type)
    return AlertView(alert, link(alert) if link else "")


def open_alerts_for_patient(patient: Patient) -> list[AlertView]:
    # Critical first; the model's ordering then puts the newest first.
    alerts = sorted(
        Alert.objects.filter(patient=patient, status=AlertStatus.OPEN).select_related("patient"),
        key=lambda a: a.severity != AlertSeverity.CRITICAL,
    )
    return [_view(a) for a in alerts]


def worklist_alerts(actor: Actor, now: datetime) -> list[AlertView]:
    """Open alerts of the patients the actor looks after; the whole organization for
    roles that oversee it (director). One query with the patient joined."""
    patients = Patient.objects.filter(organization_id=actor.organization_id)
    if not sees_all_patients(actor.role):
        patients = cared_for(actor, patients, now)
    alerts = (
        Alert.objects.filter(
            organization_id=actor.organization_id,
            status=AlertStatus.OPEN,
            patient__in=patients,
        )
        .select_related("patient")
        .order_by("severity", "-last_raised_at", "-id")
    )
    return [_view(a) for a in alerts]
