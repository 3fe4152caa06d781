"""Every instrument Stepwise ships, by the code used in URLs and data."""

from __future__ import annotations

from stepwise.instruments.definitions.alcohol import AUDITC
from stepwise.instruments.definitions.asam import ASAM3
from stepwise.instruments.definitions.cows import COWS
from stepwise.instruments.definitions.dsm5 import DSM5_OUD
from stepwise.instruments.definitions.mood import GAD7, PHQ9
from stepwise.instruments.definitions.sows import SOWS
from stepwise.instruments.definitions.substance import CRAVING, DAST10
from stepwise.instruments.engine import Instrument

# In the order a program meets them: withdrawal, diagnosis, placement, screens.
INSTRUMENTS: dict[str, Instrument] = {
    instrument.code: instrument
    for instrument in (COWS, SOWS, DSM5_OUD, ASAM3, PHQ9, GAD7, DAST10, AUDITC, CRAVING)
}


class UnknownInstrument(LookupError):
    pass


def instrument_for(code: str) -> Instrument:
    try:
        return INSTRUMENTS[code]
    except KeyError:
        raise UnknownInstrument(
            f"No instrument {code!r}; known: {', '.join(INSTRUMENTS)}."
        ) from None
