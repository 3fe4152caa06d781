"""Care's stay-start hook: an open residency points at the patient's PHP or IOP stay.

At move-in the stay the patient is in then is linked (services.residency). A PHP or
IOP stay that starts later (an admission, a step into the day program) is linked to
the open residency when it has no link, and a link to a stay that has ended (a move
to another program, a discharge) follows to it. A link to a stay still open is kept,
and nothing here moves anyone out: a step up to residential leaves the residency open
with its ended link, for the case manager to decide."""

from __future__ import annotations

from typing import Any

from stepwise.care.exits import StayStart
from stepwise.care.models import Stay
from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction
from stepwise.patients.models import Patient
from stepwise.residences import rules
from stepwise.residences.models import Residency
from stepwise.residences.services.common import CATEGORY


def link_on_stay_start(start: StayStart) -> dict[str, Any] | None:
    """Runs inside care's transaction that opens the stay; returns what care's audit row
    adds (the residency linked), and writes the residency's own audit row."""
    stay = start.stay
    if not rules.links_stay(stay.program.asam_level):
        return None
    episode = stay.episode
    # A move-in or a move to another bed locks the patient's row too, so neither can
    # slip a residency past this hook (or read the stay before it is there).
    list(Patient.objects.select_for_update().filter(pk=episode.patient_id).values_list("pk"))
    residency = (
        Residency.objects.select_for_update()
        .filter(
            organization_id=stay.organization_id,
            patient_id=episode.patient_id,
            moved_out_at__isnull=True,
        )
        .first()
    )
    if residency is None:
        return None
    linked_open: bool | None = None
    if residency.stay_id is not None:
        ended = Stay.objects.filter(pk=residency.stay_id).values_list("ended_at", flat=True)
        linked_open = ended.first() is None
    if not rules.link_on_stay_start(stay.program.asam_level, linked_open):
        return None
    previous = residency.stay_id
    residency.stay = stay
    residency.save(update_fields=["stay", "updated_at"])
    audit_record(
        action=AuditAction.UPDATE,
        actor=start.actor,
        patient_public_id=episode.patient.public_id,
        category=CATEGORY,
        object_type="residency",
        object_id=residency.public_id,
        detail={
            "stay": str(stay.public_id),
            "linked": "followed" if previous else "started",
        },
    )
    return {"residency_linked": str(residency.public_id)}
