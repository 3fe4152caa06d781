"""AUDIT-C, the three consumption questions of the AUDIT (Bush et al. 1998).

Each item 0-4, total 0-12. The positive threshold depends on sex (4 or more for
men, 3 or more for women), so the patient's sex is a context field that picks the
band set. When sex is not recorded the lower (female) threshold is used, so that a
screen is never called negative only because a field was left blank. A positive
screen whose every point comes from item 1 (how often) suggests drinking below
recommended limits; that is reported as a finding, not a different band.
"""

from __future__ import annotations

from stepwise.instruments.engine import (
    Anchor,
    Band,
    Context,
    ContextField,
    Finding,
    Instrument,
    Item,
    Responses,
)

FREQUENCY = "drinking_frequency"
TYPICAL_QUANTITY = "typical_day_drinks"
HEAVY_EPISODES = "six_or_more_frequency"


def _anchors(*labels: str) -> tuple[Anchor, ...]:
    return tuple(Anchor(value, label) for value, label in enumerate(labels))


def _screen(low_positive: int, *, published: bool = True, note: str = "") -> tuple[Band, ...]:
    return (
        Band(0, low_positive - 1, "negative", f"Negative{note}", published=published),
        Band(low_positive, 12, "positive", f"Positive{note}", published=published),
    )


def below_limits(
    instrument: Instrument, responses: Responses, context: Context, total: int
) -> tuple[Finding, ...]:
    """A positive screen made up only of item 1 points: drinking is often, but in the
    quantities the other two items ask about, not heavy."""
    band = instrument.band_of(total, context)
    if band is None or band.code != "positive" or responses.get(FREQUENCY, 0) != total:
        return ()
    return (
        Finding(
            "likely_below_limits",
            "Every point comes from how often the patient drinks: drinking is likely below "
            "recommended limits. Review the patient's intake over the past few months.",
            "yes",
        ),
    )


AUDITC = Instrument(
    code="auditc",
    name="Alcohol Use Disorders Identification Test - Consumption (AUDIT-C)",
    version="1998",
    source="Bush K, Kivlahan DR, McDonell MB, Fihn SD, Bradley KA. The AUDIT alcohol "
    "consumption questions (AUDIT-C). Arch Intern Med. 1998;158(16):1789-1795.",
    licence="Free to use (derived from the WHO AUDIT); item wording paraphrased.",
    loinc="75626-2",
    items=(
        Item(
            FREQUENCY,
            "How often do you have a drink containing alcohol?",
            _anchors(
                "never",
                "monthly or less",
                "2-4 times a month",
                "2-3 times a week",
                "4 or more times a week",
            ),
        ),
        Item(
            TYPICAL_QUANTITY,
            "On a typical day when you drink, how many drinks containing alcohol do you have?",
            _anchors("1 or 2", "3 or 4", "5 or 6", "7 to 9", "10 or more"),
        ),
        Item(
            HEAVY_EPISODES,
            "How often do you have six or more drinks on one occasion?",
            _anchors(
                "never",
                "less than monthly",
                "monthly",
                "weekly",
                "daily or almost daily",
            ),
        ),
    ),
    context_fields=(
        ContextField(
            "sex",
            "Sex",
            choices=(("female", "Female"), ("male", "Male"), ("unknown", "Not recorded")),
            help="Sets the positive threshold: 4 or more for men, 3 or more for women. "
            "When not recorded, the lower threshold (3) is used.",
        ),
    ),
    band_context="sex",
    band_sets={
        "male": _screen(4),
        "female": _screen(3),
        # Not a published rule: the authors give thresholds by sex only. The lower one
        # is used so that a missing sex never turns a positive screen negative.
        "unknown": _screen(
            3, published=False, note=" (sex not recorded: the lower, female threshold of 3)"
        ),
    },
    findings_rule=below_limits,
)
