"""PHQ-9 (depression) and GAD-7 (anxiety): self-report over the past two weeks,
each item 0-3. PHQ-9 item 9 (thoughts of death or self-harm) above 0 raises a
suicide-risk signal whatever the total."""

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

FREQUENCY = (
    Anchor(0, "not at all"),
    Anchor(1, "several days"),
    Anchor(2, "more than half the days"),
    Anchor(3, "nearly every day"),
)


def _items(*pairs: tuple[str, str]) -> tuple[Item, ...]:
    return tuple(Item(item_id, text, FREQUENCY) for item_id, text in pairs)


SELF_HARM_ITEM = "thoughts_of_death_or_self_harm"


def suicide_risk(responses: Responses, context: Context) -> Signal | None:
    if responses.get(SELF_HARM_ITEM, 0) > 0:
        return Signal(
            "suicide_risk",
            "Thoughts of death or self-harm reported: start the suicide-risk assessment now, "
            "whatever the total.",
        )
    return None


PHQ9 = Instrument(
    code="phq9",
    name="Patient Health Questionnaire (PHQ-9)",
    version="1999",
    source="Kroenke K, Spitzer RL, Williams JB. The PHQ-9. J Gen Intern Med. 2001;16(9):606-613.",
    licence="Free to use without permission (Pfizer); item wording paraphrased.",
    loinc="44261-6",
    items=_items(
        ("little_interest", "Little interest or pleasure in doing things"),
        ("feeling_down", "Feeling down, depressed or hopeless"),
        ("sleep", "Trouble falling or staying asleep, or sleeping too much"),
        ("tired", "Feeling tired or having little energy"),
        ("appetite", "Poor appetite or overeating"),
        ("feeling_bad_about_self", "Feeling bad about yourself, or that you have let people down"),
        ("concentration", "Trouble concentrating, for example reading or watching television"),
        ("moving_slowly_or_restless", "Moving or speaking slowly, or being unusually restless"),
        (SELF_HARM_ITEM, "Thoughts that you would be better off dead, or of hurting yourself"),
    ),
    bands=(
        Band(0, 4, "minimal", "None or minimal"),
        Band(5, 9, "mild", "Mild"),
        Band(10, 14, "moderate", "Moderate"),
        Band(15, 19, "moderately_severe", "Moderately severe"),
        Band(20, 27, "severe", "Severe"),
    ),
    signal_rules=(suicide_risk,),
)

GAD7 = Instrument(
    code="gad7",
    name="Generalized Anxiety Disorder scale (GAD-7)",
    version="2006",
    source="Spitzer RL, Kroenke K, Williams JB, Lowe B. Arch Intern Med. 2006;166(10):1092-1097.",
    licence="Free to use without permission (Pfizer); item wording paraphrased.",
    loinc="70274-6",
    items=_items(
        ("nervous", "Feeling nervous, anxious or on edge"),
        ("cannot_stop_worrying", "Not being able to stop or control worrying"),
        ("worrying_too_much", "Worrying too much about different things"),
        ("trouble_relaxing", "Trouble relaxing"),
        ("restless", "Being so restless that it is hard to sit still"),
        ("irritable", "Becoming easily annoyed or irritable"),
        ("afraid", "Feeling afraid, as if something awful might happen"),
    ),
    bands=(
        Band(0, 4, "minimal", "Minimal"),
        Band(5, 9, "mild", "Mild"),
        Band(10, 14, "moderate", "Moderate"),
        Band(15, 21, "severe", "Severe"),
    ),
)
