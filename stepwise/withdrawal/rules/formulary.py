"""The unit's formulary: which drugs may be ordered, how, and what each one is for
the safety rules (domain §6)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DrugClass(StrEnum):
    MOUD = "moud"
    RESCUE = "rescue"
    COMFORT = "comfort"


class Route(StrEnum):
    SUBLINGUAL = "sublingual"
    ORAL = "oral"
    INTRAMUSCULAR = "intramuscular"
    SUBCUTANEOUS = "subcutaneous"
    INTRANASAL = "intranasal"
    INTRAVENOUS = "intravenous"


ROUTE_LABELS = {
    Route.SUBLINGUAL: "Sublingual",
    Route.ORAL: "Oral",
    Route.INTRAMUSCULAR: "Intramuscular",
    Route.SUBCUTANEOUS: "Subcutaneous",
    Route.INTRANASAL: "Intranasal",
    Route.INTRAVENOUS: "Intravenous",
}


class SafetyGroup(StrEnum):
    """Which rule guards a drug's start: buprenorphine (R-BUP-1), methadone
    (R-MTD-1), naltrexone (R-NTX-1), or none."""

    BUPRENORPHINE = "buprenorphine"
    METHADONE = "methadone"
    NALTREXONE = "naltrexone"
    NONE = "none"


@dataclass(frozen=True)
class Drug:
    code: str
    name: str
    drug_class: DrugClass
    routes: tuple[Route, ...]
    safety: SafetyGroup = SafetyGroup.NONE
    # A usual single dose in mg, offered as the form's starting value.
    usual_dose_mg: str = ""
    note: str = ""

    @property
    def is_opioid_agonist(self) -> bool:
        return self.safety in (SafetyGroup.BUPRENORPHINE, SafetyGroup.METHADONE)


DRUGS: tuple[Drug, ...] = (
    Drug(
        "buprenorphine",
        "Buprenorphine",
        DrugClass.MOUD,
        (Route.SUBLINGUAL,),
        SafetyGroup.BUPRENORPHINE,
        "4",
        "Partial agonist: a first dose while full agonists occupy the receptors "
        "precipitates withdrawal.",
    ),
    Drug(
        "buprenorphine_naloxone",
        "Buprenorphine-naloxone",
        DrugClass.MOUD,
        (Route.SUBLINGUAL,),
        SafetyGroup.BUPRENORPHINE,
        "4",
    ),
    Drug(
        "buprenorphine_xr",
        "Buprenorphine extended-release injection",
        DrugClass.MOUD,
        (Route.SUBCUTANEOUS,),
        SafetyGroup.BUPRENORPHINE,
        "300",
    ),
    Drug(
        "methadone",
        "Methadone",
        DrugClass.MOUD,
        (Route.ORAL,),
        SafetyGroup.METHADONE,
        "30",
        "OUD treatment only in a certified opioid treatment program (42 CFR 8.11/8.12).",
    ),
    Drug(
        "naltrexone",
        "Naltrexone (oral)",
        DrugClass.MOUD,
        (Route.ORAL,),
        SafetyGroup.NALTREXONE,
        "50",
    ),
    Drug(
        "naltrexone_xr",
        "Naltrexone extended-release injection",
        DrugClass.MOUD,
        (Route.INTRAMUSCULAR,),
        SafetyGroup.NALTREXONE,
        "380",
        "Every 4 weeks; a missed injection raises overdose risk.",
    ),
    Drug(
        "naloxone",
        "Naloxone",
        DrugClass.RESCUE,
        (Route.INTRANASAL, Route.INTRAMUSCULAR, Route.INTRAVENOUS),
        usual_dose_mg="4",
        note="Acts for 30-90 minutes, shorter than many opioids: repeat doses may be needed.",
    ),
    Drug(
        "clonidine",
        "Clonidine",
        DrugClass.COMFORT,
        (Route.ORAL,),
        usual_dose_mg="0.1",
        note="Hold for low blood pressure or a slow pulse.",
    ),
    Drug(
        "lofexidine",
        "Lofexidine",
        DrugClass.COMFORT,
        (Route.ORAL,),
        usual_dose_mg="0.54",
        note="Hold for low blood pressure or a slow pulse.",
    ),
    Drug("loperamide", "Loperamide", DrugClass.COMFORT, (Route.ORAL,), usual_dose_mg="2"),
    Drug(
        "ondansetron",
        "Ondansetron",
        DrugClass.COMFORT,
        (Route.ORAL, Route.INTRAVENOUS),
        usual_dose_mg="4",
    ),
    Drug("ibuprofen", "Ibuprofen", DrugClass.COMFORT, (Route.ORAL,), usual_dose_mg="400"),
    Drug("hydroxyzine", "Hydroxyzine", DrugClass.COMFORT, (Route.ORAL,), usual_dose_mg="25"),
    Drug("trazodone", "Trazodone", DrugClass.COMFORT, (Route.ORAL,), usual_dose_mg="50"),
)

DRUGS_BY_CODE = {d.code: d for d in DRUGS}
# What an order set may hold: comfort and rescue medication. MOUD is ordered one drug
# at a time, so the physician sees its safety check for this patient first.
ORDER_SET_DRUGS = tuple(d for d in DRUGS if d.drug_class is not DrugClass.MOUD)
# Two alpha-2 agonists together add up their lowering of blood pressure and pulse.
ALPHA2_AGONISTS = frozenset({"clonidine", "lofexidine"})


def drug(code: str) -> Drug:
    return DRUGS_BY_CODE[code]


def drug_choices() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in DRUGS]


@dataclass(frozen=True)
class OrderSetLine:
    drug: str
    dose_mg: str
    route: Route
    frequency: str
    prn_indication: str = ""
    max_daily_mg: str = ""


# Stepwise's default opioid-withdrawal comfort set: the adjuncts the reference names
# (domain §6), as-needed with their indications. A program may define its own.
DEFAULT_COMFORT_SET: tuple[OrderSetLine, ...] = (
    OrderSetLine(
        "clonidine", "0.1", Route.ORAL, "q6h_prn", "Sweating, restlessness, anxiety", "0.6"
    ),
    OrderSetLine("loperamide", "2", Route.ORAL, "q4h_prn", "Loose stools", "16"),
    OrderSetLine("ondansetron", "4", Route.ORAL, "q8h_prn", "Nausea or vomiting", "16"),
    OrderSetLine("ibuprofen", "400", Route.ORAL, "q6h_prn", "Muscle or bone aches", "2400"),
    OrderSetLine("hydroxyzine", "25", Route.ORAL, "q6h_prn", "Anxiety or restlessness", "100"),
    OrderSetLine("trazodone", "50", Route.ORAL, "qhs_prn", "Sleeplessness", "100"),
)


def _check_order_set(lines: tuple[OrderSetLine, ...]) -> None:
    for line in lines:
        entry = DRUGS_BY_CODE[line.drug]
        assert line.route in entry.routes, line


_check_order_set(DEFAULT_COMFORT_SET)
