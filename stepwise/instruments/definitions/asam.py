"""ASAM Criteria, 3rd edition (2013): the six dimensional risk ratings.

A profile, not a scale: each dimension is rated 0-4 on its own (0 none, 1 mild,
2 moderate, 3 significant, 4 severe or imminent danger), from the history and the
here and now. The ratings are never added up or averaged (`totalled=False`); they
feed the placement rules in `stepwise.instruments.placement`, where the clinician
confirms or overrides the level.

The ASAM Criteria text is copyrighted. Stepwise stores only the numeric ratings;
the anchor labels, guidance and prompts below are Stepwise's own short wording.
"""

from __future__ import annotations

from stepwise.instruments.engine import Anchor, Context, Instrument, Item, Responses, Signal

D1 = "d1_intoxication_withdrawal"
D2 = "d2_biomedical"
D3 = "d3_emotional_behavioral_cognitive"
D4 = "d4_readiness_to_change"
D5 = "d5_relapse_potential"
D6 = "d6_recovery_environment"
# Item ids in dimension order: DIMENSIONS[0] is dimension 1.
DIMENSIONS = (D1, D2, D3, D4, D5, D6)

SEVERITY = ("none", "mild", "moderate", "significant", "severe/imminent")


def _ratings(*labels: str) -> tuple[Anchor, ...]:
    """Five labels for ratings 0-4, each led by its severity word."""
    return tuple(
        Anchor(value, f"{word}: {label}")
        for value, (word, label) in enumerate(zip(SEVERITY, labels, strict=True))
    )


def imminent_risk(responses: Responses, context: Context) -> Signal | None:
    rated_4 = [number for number, item in enumerate(DIMENSIONS, 1) if responses.get(item) == 4]
    if not rated_4:
        return None
    named = ", ".join(str(number) for number in rated_4)
    plural = "s" if len(rated_4) > 1 else ""
    return Signal(
        "imminent_risk",
        f"Dimension{plural} {named} rated 4 (imminent danger): act now. Do not wait for "
        "placement or a bed; arrange urgent medical or psychiatric evaluation and keep the "
        "person safe meanwhile.",
    )


ASAM3 = Instrument(
    code="asam3",
    name="ASAM Criteria, 3rd edition: dimensional risk ratings",
    version="2013",
    source="Mee-Lee D, et al., eds. The ASAM Criteria: Treatment Criteria for Addictive, "
    "Substance-Related, and Co-Occurring Conditions. 3rd ed. Carson City, NV: "
    "The Change Companies; 2013.",
    licence="The ASAM Criteria text is copyrighted: Stepwise records only the 0-4 ratings, "
    "with its own anchor labels and prompts. The proprietary ASAM software algorithm "
    "(CONTINUUM) is not reproduced.",
    local_code="stepwise-asam3-dimensions",  # no LOINC panel for the dimension ratings
    totalled=False,
    items=(
        Item(
            D1,
            "Dimension 1: Acute intoxication and/or withdrawal potential",
            _ratings(
                "not intoxicated; no withdrawal signs or risk",
                "mild intoxication or withdrawal; little risk of complications",
                "moderate withdrawal; manageable with daily monitoring",
                "severe withdrawal, or a history of complicated withdrawal; "
                "needs 24-hour monitoring",
                "incapacitated, unstable vital signs, seizures or delirium",
            ),
            guidance="Current intoxication and the risk of severe or complicated withdrawal, "
            "judged from what was used, how much, how recently, past withdrawals and "
            "the signs and scores today. A withdrawal scale informs this rating; it does "
            "not replace it.",
            prompts=(
                "What was used, how much, by which route, and when was the last use of each?",
                "Past withdrawals: any seizures, delirium, hallucinations or hospital "
                "admission for withdrawal?",
                "The latest withdrawal score (COWS, SOWS or CIWA-Ar) and vital signs: "
                "rising, steady or settling?",
                "Is there mixed use (alcohol, benzodiazepines, other sedatives) that makes "
                "withdrawal riskier?",
                "Can the person get through withdrawal and stay in care without 24-hour support?",
            ),
        ),
        Item(
            D2,
            "Dimension 2: Biomedical conditions and complications",
            _ratings(
                "no physical health problems, or stable and self-managed",
                "mild or stable conditions that outpatient care can follow",
                "some difficulty managing a condition; needs medical follow-up",
                "poorly controlled conditions that need medical monitoring",
                "severe or unstable medical problems that need acute care now",
            ),
            guidance="Physical illness, pain, injury or pregnancy that complicates treatment, "
            "or that withdrawal or continued use makes worse.",
            prompts=(
                "Which physical conditions, pain and medications are there, and are they stable?",
                "Does withdrawal or continued use threaten a condition (heart, liver, lungs, "
                "infection)?",
                "Is the person pregnant, or could they be?",
                "Injection-related harm: abscesses, endocarditis, HIV or hepatitis C?",
                "Can the person manage their own medical care and medications?",
            ),
        ),
        Item(
            D3,
            "Dimension 3: Emotional, behavioral or cognitive conditions and complications",
            _ratings(
                "no mental health problems, or stable with good coping",
                "mild symptoms; no danger; little effect on recovery",
                "symptoms get in the way of recovery or daily life; no immediate danger",
                "severe symptoms or impulses to harm, safe only in a 24-hour setting",
                "acute danger to self or others, psychosis, or unable to care for self",
            ),
            guidance="Psychiatric, emotional, behavioral and cognitive problems, rated across "
            "five risk areas: dangerousness or lethality, interference with recovery, "
            "social functioning, ability to care for self, and the course of the illness. "
            "The highest-risk area drives the rating.",
            prompts=(
                "Dangerousness or lethality: thoughts, plans or acts of harm to self or "
                "others, now and in the past?",
                "Interference with recovery: do mental health symptoms keep the person from "
                "taking part in treatment?",
                "Social functioning: can the person manage relationships, work or school?",
                "Self-care: can the person meet basic needs (food, hygiene, shelter, medications)?",
                "Course of illness: past psychiatric admissions, current diagnoses and "
                "treatment, adherence; stable or worsening?",
                "Cognition: any confusion, memory or learning problems that affect participation?",
            ),
        ),
        Item(
            D4,
            "Dimension 4: Readiness to change",
            _ratings(
                "engaged and committed to change",
                "willing, but ambivalent about some of the changes",
                "ambivalent; reluctant to accept treatment or the need to change",
                "does not see a need to change; little follow-through",
                "refuses or cannot engage while use puts them in imminent danger",
            ),
            guidance="Awareness of the problem, motivation and stage of change, and the "
            "person's willingness to take part. Low readiness is a reason to engage, "
            "never a reason to refuse care.",
            prompts=(
                "Does the person see their use as a problem, and what do they want to change?",
                "Why now: what brought them in (self, family, court, employer, health)?",
                "How willing are they to take part in treatment and to take medication?",
                "How did they follow through in past treatment?",
                "Stage of change: not yet considering, considering, preparing, acting or "
                "maintaining?",
            ),
        ),
        Item(
            D5,
            "Dimension 5: Relapse, continued use or continued problem potential",
            _ratings(
                "little risk of further use; strong coping skills",
                "some risk; coping skills mostly work",
                "triggers poorly recognised; coping skills only partly work",
                "little recognition or control of use; repeated return to use",
                "no ability to stop; continued use with imminent dangerous consequences",
            ),
            guidance="How likely use or problems are to continue or return without support: "
            "relapse history, craving, triggers and coping skills.",
            prompts=(
                "Longest time without use; what led to the last return to use?",
                "Current craving and triggers: does the person recognise them?",
                "Which coping skills does the person use, and do they work?",
                "What happens if use continues now (overdose, injecting, driving, caring "
                "for children)?",
                "Medication for addiction: taking it, taking it as prescribed, or wanting it?",
            ),
        ),
        Item(
            D6,
            "Dimension 6: Recovery/living environment",
            _ratings(
                "supportive environment; copes well",
                "some conflict or little active support; copes",
                "unsupportive environment; copes with clinical support",
                "environment works against recovery; hard to cope even with support",
                "environment dangerous to safety or recovery; immediate threat",
            ),
            guidance="Housing, family, friends and peers, work or school, money, legal "
            "matters, safety and supports: whether the person's surroundings help or "
            "harm recovery.",
            prompts=(
                "Where will the person live, and is it safe and stable?",
                "Does anyone at home use, or is there violence or abuse?",
                "Who supports recovery: family, friends, peer or mutual-help groups?",
                "Work, school, money, transport or childcare: any barrier to attending?",
                "Court, probation or child-protection obligations that affect treatment?",
            ),
        ),
    ),
    signal_rules=(imminent_risk,),
)
