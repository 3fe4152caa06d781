"""DAST-10 (drug use, past 12 months) and the 0-10 opioid craving scale."""

from __future__ import annotations

from stepwise.instruments.engine import Anchor, Band, Instrument, Item, Responses

YES_NO = (Anchor(0, "no"), Anchor(1, "yes"))
# Item 3 asks whether the person can always stop when they want to: "no" scores.
ABLE_TO_STOP = "able_to_stop"


def dast_total(instrument: Instrument, responses: Responses) -> int:
    """One point per "yes", except the able-to-stop item, where "no" is the point.
    The answer is stored as given (1 = yes); only the score is reversed."""
    return sum(
        (1 - value) if item_id == ABLE_TO_STOP else value
        for item_id, value in responses.items()
        if item_id in {i.id for i in instrument.items}
    )


DAST10 = Instrument(
    code="dast10",
    name="Drug Abuse Screening Test (DAST-10)",
    version="1982/2006",
    source="Skinner HA. The Drug Abuse Screening Test. Addict Behav. 1982;7(4):363-371 "
    "(10-item version).",
    licence="Free for clinical use; item wording paraphrased.",
    loinc="82667-7",
    items=tuple(
        Item(item_id, text, YES_NO)
        for item_id, text in (
            ("used_non_medically", "Used drugs other than those needed for medical reasons"),
            ("more_than_one_at_a_time", "Used more than one drug at a time"),
            (ABLE_TO_STOP, "Always able to stop using drugs when you want to"),
            ("blackouts_flashbacks", "Had blackouts or flashbacks from drug use"),
            ("guilty", "Felt bad or guilty about your drug use"),
            ("family_complains", "Spouse or parents complained about your drug use"),
            ("neglected_family", "Neglected your family because of drug use"),
            ("illegal_activities", "Did something illegal to get drugs"),
            ("withdrawal", "Felt sick (withdrawal) when you stopped taking drugs"),
            ("medical_problems", "Had medical problems from drug use"),
        )
    ),
    bands=(
        Band(0, 0, "none", "No problems reported"),
        Band(1, 2, "low", "Low level"),
        Band(3, 5, "moderate", "Moderate level"),
        Band(6, 8, "substantial", "Substantial level"),
        Band(9, 10, "severe", "Severe level"),
    ),
    total_rule=dast_total,
    max_total=10,
)

# No published norms or cut-offs: the total is read against the patient's own baseline.
CRAVING = Instrument(
    code="craving",
    name="Opioid craving (0-10)",
    version="1",
    source="Numeric rating variant of the craving visual analogue scale (Kleykamp et al. 2019).",
    licence="Public domain.",
    local_code="stepwise-craving-nrs",
    items=(
        Item(
            "craving",
            "How strong is your craving for opioids right now?",
            (
                Anchor(0, "not at all"),
                *(Anchor(v, str(v)) for v in range(1, 10)),
                Anchor(10, "extremely"),
            ),
        ),
    ),
)
