"""SOWS, the Subjective Opiate Withdrawal Scale (Handelsman et al. 1987).

Sixteen symptoms the patient rates for how they feel now, each 0-4; the total is a
plain sum (0-64). The paper publishes no severity bands, so none are given here: the
bands seen on clinic forms (1-10 mild, 11-20 moderate, 21-30 severe) are not
Handelsman's, and a self-rated total means most as change from the patient's own
baseline. Not to be confused with Gossop's 1990 Short Opiate Withdrawal Scale, also
called "SOWS" (10 items, 0-30): a different instrument, kept under its own code.
"""

from __future__ import annotations

from stepwise.instruments.engine import Anchor, Instrument, Item

HOW_MUCH = (
    Anchor(0, "not at all"),
    Anchor(1, "a little"),
    Anchor(2, "moderately"),
    Anchor(3, "quite a bit"),
    Anchor(4, "extremely"),
)

SOWS = Instrument(
    code="sows",
    name="Subjective Opiate Withdrawal Scale (SOWS, Handelsman)",
    version="1987",
    source="Handelsman L, Cochrane KJ, Aronson MJ, et al. Two new rating scales for opiate "
    "withdrawal. Am J Drug Alcohol Abuse. 1987;13(3):293-308.",
    licence="Published for clinical use; item wording paraphrased.",
    local_code="stepwise-sows-total",  # no LOINC code for the SOWS total was found
    items=tuple(
        Item(item_id, text, HOW_MUCH, guidance="How you feel right now.")
        for item_id, text in (
            ("anxious", "I feel anxious"),
            ("yawning", "I feel like yawning"),
            ("sweating", "I am sweating"),
            ("eyes_tearing", "My eyes are watering"),
            ("nose_running", "My nose is running"),
            ("gooseflesh", "I have gooseflesh"),
            ("shaking", "I am shaking"),
            ("hot_flushes", "I have hot flushes"),
            ("cold_flushes", "I have cold flushes"),
            ("bones_muscles_ache", "My bones and muscles ache"),
            ("restless", "I feel restless"),
            ("nauseous", "I feel sick to my stomach"),
            ("like_vomiting", "I feel as if I might vomit"),
            ("muscles_twitch", "My muscles are twitching"),
            ("stomach_cramps", "I have stomach cramps"),
            ("urge_to_use", "I feel like using opioids right now"),
        )
    ),
    bands=(),
    interpretation="SOWS has no published severity bands: read the total against the "
    "patient's own baseline and earlier ratings, not against a cut-off.",
)
