"""Facts an instrument's score depends on, filled from the record when not given:
the patient's recorded sex for AUDIT-C, the observation date for DSM-5 remission."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import datetime

from stepwise.instruments.engine import Instrument
from stepwise.patients.models import Patient

# TEDS sex codes (patients.teds.SEX) to the instrument's choice codes.
_SEX = {"1": "male", "2": "female"}


def context_with_defaults(
    instrument: Instrument,
    patient: Patient,
    observed_at: datetime,
    given: Mapping[str, str],
    *,
    zone: str,
) -> dict[str, str]:
    declared = {f.id for f in instrument.context_fields}
    defaults: dict[str, str] = {}
    if "sex" in declared:
        defaults["sex"] = _SEX.get(patient.sex, "unknown")
    filled = {key: value for key, value in given.items() if value not in ("", None)}
    context = defaults | filled
    if "observed_on" in declared:
        # Always the date observed, in the patient's facility zone: a typed date could
        # claim a remission the observation does not support.
        local = observed_at.astimezone(zoneinfo.ZoneInfo(zone))
        context["observed_on"] = local.date().isoformat()
    return context
