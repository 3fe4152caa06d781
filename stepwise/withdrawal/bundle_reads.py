"""The read of the safe-discharge bundle page: each item of the patient's current
withdrawal stay as recorded, what would still stop a transition or a discharge now,
and how the stay closed, with the audit row of the read."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.utils import timezone

from stepwise.care.chart import patient_access, record_read
from stepwise.care.models import Stay
from stepwise.core.actor import Actor
from stepwise.core.roles import Permission
from stepwise.patients.models import Patient
from stepwise.withdrawal.flowsheet import stay_for_flowsheet
from stepwise.withdrawal.models import BundleClosure, BundleItem
from stepwise.withdrawal.rules import bundle as rules
from stepwise.withdrawal.services.common import OBSERVATIONS
from stepwise.withdrawal.services.discharge import bundle_records


@dataclass(frozen=True)
class ItemRow:
    item: rules.Item
    label: str
    row: BundleItem | None


@dataclass(frozen=True)
class BundlePage:
    stay: Stay | None
    rows: list[ItemRow]
    gaps_transition: list[str]
    gaps_discharge: list[str]
    closure: BundleClosure | None


def _page(stay: Stay | None) -> BundlePage:
    if stay is None or not stay.program.is_withdrawal_management:
        return BundlePage(stay, [], [], [], None)
    stored = {
        r.item: r
        for r in BundleItem.objects.filter(
            organization_id=stay.organization_id, stay=stay
        ).select_related("recorded_by")
    }
    rows = [ItemRow(i, rules.ITEM_LABELS[i], stored.get(i.value)) for i in rules.Item]
    records = bundle_records(stay)
    now = timezone.now()
    return BundlePage(
        stay,
        rows,
        rules.bundle_gaps(records, rules.Leaving(now, to_next_program=True)),
        rules.bundle_gaps(records, rules.Leaving(now, to_next_program=False, discharge_reason=1)),
        BundleClosure.objects.filter(stay=stay).first(),
    )


def bundle_page_read(actor: Actor, public_id: uuid.UUID | str) -> tuple[Patient, BundlePage]:
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=OBSERVATIONS
    )
    found = _page(stay_for_flowsheet(patient))
    record_read(
        actor,
        patient,
        basis,
        category=OBSERVATIONS,
        object_type="discharge_bundle",
        object_id=found.stay.public_id if found.stay else patient.public_id,
    )
    return patient, found
