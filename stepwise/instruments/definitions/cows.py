"""COWS, the Clinical Opiate Withdrawal Scale (Wesson & Ling 2003).

Eleven clinician-rated signs; the total is a plain sum (0-48). The allowed values
are not contiguous (pulse takes 0, 1, 2 or 4), so each item has its own set.
Rate only what is due to opioid withdrawal (a pulse raised by exertion does not count).
"""

from __future__ import annotations

from stepwise.instruments.engine import (
    Anchor,
    Band,
    Context,
    Instrument,
    Item,
    Responses,
    Signal,
)

# Moderate withdrawal or worse: the care team should see it and act (comfort
# medication, a buprenorphine induction check) without waiting for rounds.
MODERATE_WITHDRAWAL = 13


def moderate_withdrawal(responses: Responses, context: Context) -> Signal | None:
    total = sum(responses.values())
    if total >= MODERATE_WITHDRAWAL:
        return Signal(
            "withdrawal_moderate",
            f"COWS {total}: moderate or worse withdrawal. Review comfort medication and "
            "the withdrawal plan.",
        )
    return None


def _anchors(*pairs: tuple[int, str]) -> tuple[Anchor, ...]:
    return tuple(Anchor(value, label) for value, label in pairs)


COWS = Instrument(
    code="cows",
    name="Clinical Opiate Withdrawal Scale (COWS)",
    version="2003",
    source="Wesson DR, Ling W. The Clinical Opiate Withdrawal Scale (COWS). "
    "J Psychoactive Drugs. 2003;35(2):253-259.",
    licence="Published for clinical use; anchors here are paraphrased.",
    local_code="stepwise-cows-total",  # no LOINC code for the COWS total was found
    items=(
        Item(
            "pulse",
            "Resting pulse rate",
            _anchors((0, "80 or below"), (1, "81-100"), (2, "101-120"), (4, "above 120")),
            guidance="Beats per minute after the patient has sat or lain for one minute.",
        ),
        Item(
            "sweating",
            "Sweating",
            _anchors(
                (0, "none; no chills or flushing reported"),
                (1, "chills or flushing reported"),
                (2, "flushed or visible moisture on the face"),
                (3, "beads of sweat on brow or face"),
                (4, "sweat streaming off the face"),
            ),
            guidance="Past 30 minutes, not explained by room temperature or activity.",
        ),
        Item(
            "restlessness",
            "Restlessness",
            _anchors(
                (0, "sits still"),
                (1, "says sitting still is hard, but manages"),
                (3, "frequent shifting or extra movement of the limbs"),
                (5, "cannot stay seated more than a few seconds"),
            ),
            guidance="Observed during the assessment.",
        ),
        Item(
            "pupils",
            "Pupil size",
            _anchors(
                (0, "pinned or normal for room light"),
                (1, "possibly larger than normal"),
                (2, "moderately dilated"),
                (5, "so dilated only the rim of the iris shows"),
            ),
        ),
        Item(
            "bone_joint_aches",
            "Bone or joint aches",
            _anchors(
                (0, "none"),
                (1, "mild diffuse discomfort"),
                (2, "reports severe diffuse aching of joints or muscles"),
                (4, "rubbing joints or muscles, cannot sit still from discomfort"),
            ),
            guidance="Count only the increase over any pain the patient had before.",
        ),
        Item(
            "rhinorrhea_lacrimation",
            "Runny nose or tearing",
            _anchors(
                (0, "none"),
                (1, "nasal stuffiness or unusually moist eyes"),
                (2, "nose running or tearing"),
                (4, "nose constantly running or tears streaming"),
            ),
            guidance="Not explained by a cold or allergies.",
        ),
        Item(
            "gi_upset",
            "Stomach upset",
            _anchors(
                (0, "none"),
                (1, "stomach cramps"),
                (2, "nausea or loose stool"),
                (3, "vomiting or diarrhea"),
                (5, "repeated vomiting or diarrhea"),
            ),
            guidance="Past 30 minutes.",
        ),
        Item(
            "tremor",
            "Tremor",
            _anchors(
                (0, "none"),
                (1, "can be felt, not seen"),
                (2, "slight visible tremor"),
                (4, "gross tremor or muscle twitching"),
            ),
            guidance="Observed with the hands held out.",
        ),
        Item(
            "yawning",
            "Yawning",
            _anchors(
                (0, "none"),
                (1, "once or twice"),
                (2, "three or more times"),
                (4, "several times a minute"),
            ),
            guidance="Observed during the assessment.",
        ),
        Item(
            "anxiety_irritability",
            "Anxiety or irritability",
            _anchors(
                (0, "none"),
                (1, "reports rising irritability or anxiety"),
                (2, "visibly irritable or anxious"),
                (4, "so irritable or anxious that the assessment is hard"),
            ),
        ),
        Item(
            "gooseflesh",
            "Gooseflesh skin",
            _anchors(
                (0, "smooth skin"),
                (3, "piloerection can be felt, or arm hairs stand up"),
                (5, "prominent piloerection"),
            ),
        ),
    ),
    bands=(
        # The published form has no band below 5; many programs say "minimal".
        Band(0, 4, "below_mild", "Below mild", published=False),
        Band(5, 12, "mild", "Mild"),
        Band(13, 24, "moderate", "Moderate"),
        Band(25, 36, "moderately_severe", "Moderately severe"),
        Band(37, None, "severe", "Severe"),
    ),
    signal_rules=(moderate_withdrawal,),
)
