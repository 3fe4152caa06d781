"""Every band boundary of every banded instrument, entered through the page as a
clinician would: the stored total and band are the published ones."""

from __future__ import annotations

from typing import Any

import pytest

from stepwise.instruments.definitions.substance import ABLE_TO_STOP
from stepwise.instruments.engine import Instrument
from stepwise.instruments.models import Assessment
from stepwise.instruments.registry import INSTRUMENTS

# The patient's recorded sex for AUDIT-C (TEDS code) and the band set it selects.
SEXES = {"1": "male", "2": "female"}


def answers_totalling(instrument: Instrument, target: int) -> dict[str, int]:
    """A complete response whose total is `target`: scored items filled greedily with
    the largest allowed value that still fits; the rest at their no-point answer."""
    answers: dict[str, int] = {}
    remaining = target
    if instrument.code == "dast10":
        # Reverse scored: "no, not always able to stop" (0) is the point.
        answers[ABLE_TO_STOP] = 0 if target == instrument.maximum else 1
        remaining -= 1 - answers[ABLE_TO_STOP]
    for item in instrument.items:
        if not item.required or item.id in answers:
            continue
        pick = max(v for v in item.allowed if v <= remaining)
        answers[item.id] = pick
        remaining -= pick
    assert remaining == 0, (instrument.code, target)
    return answers


def boundaries() -> list[tuple[str, str, int, str]]:
    cases: list[tuple[str, str, int, str]] = []
    for code, instrument in INSTRUMENTS.items():
        band_sets = (
            {sex: instrument.band_sets[name] for sex, name in SEXES.items()}
            if instrument.band_context
            else {"-9": instrument.bands}
        )
        for sex, bands in band_sets.items():
            for band in bands:
                high = band.high if band.high is not None else instrument.maximum
                assert high is not None
                cases.extend((code, sex, total, band.code) for total in sorted({band.low, high}))
    return cases


@pytest.mark.parametrize(("code", "sex", "total", "band"), boundaries())
def test_each_band_boundary_through_the_entry_page(
    cast: Any, code: str, sex: str, total: int, band: str
) -> None:
    cast.patient.sex = sex
    cast.patient.save(update_fields=["sex"])
    instrument = INSTRUMENTS[code]
    response = cast.client_for("owner").post(
        f"/patients/{cast.patient.public_id}/assessments/new/{code}/",
        answers_totalling(instrument, total),
    )
    assert response.status_code == 302, response.content.decode()[:500]
    stored = Assessment.objects.get()
    assert (stored.total, stored.band_code, stored.instrument_version) == (
        total,
        band,
        instrument.version,
    )


def test_every_banded_instrument_is_covered() -> None:
    covered = {code for code, *_ in boundaries()}
    assert covered == {code for code, i in INSTRUMENTS.items() if i.bands or i.band_sets}
    assert {"cows", "dsm5-oud", "phq9", "gad7", "dast10", "auditc"} <= covered
