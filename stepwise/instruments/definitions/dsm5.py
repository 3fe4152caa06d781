"""The DSM-5(-TR) opioid use disorder checklist: the eleven criteria, the count after
exemptions, the severity, the remission and other specifiers, and a suggested
ICD-10-CM code.

How the checklist expresses remission: the eleven answers are the pattern that met
(or did not meet) the diagnosis within a 12-month period, which for a patient in
remission is the past pattern, so the severity still says how severe the disorder
was. The context date `last_criterion_met_on` is the last time any criterion other
than A4 craving was met; craving since then does not move it (it is the only
criterion allowed during remission), any other criterion met since does. Remission
is the whole calendar months from that date to `observed_on`: 3 to under 12 early,
12 or more sustained. Tolerance (A10) and withdrawal (A11) do not count when the
opioids are taken solely under appropriate medical supervision; the two exemption
items record that. Derived results are suggestions for the clinician to confirm.
"""

from __future__ import annotations

from datetime import date

from stepwise.instruments.engine import (
    Anchor,
    Band,
    Context,
    ContextField,
    Finding,
    Instrument,
    InvalidResponses,
    Item,
    Responses,
    Signal,
)

YES_NO = (Anchor(0, "no"), Anchor(1, "yes"))
YES_NO_CHOICES = (("yes", "Yes"), ("no", "No"))

TOLERANCE = "a10_tolerance"
WITHDRAWAL = "a11_withdrawal"
TOLERANCE_SUPERVISED = "a10_under_medical_supervision"
WITHDRAWAL_SUPERVISED = "a11_under_medical_supervision"
WITHDRAWAL_NOW = "withdrawal_present_now"
# A criterion answered "yes" does not count while its exemption is answered "yes".
EXEMPTIONS = {TOLERANCE: TOLERANCE_SUPERVISED, WITHDRAWAL: WITHDRAWAL_SUPERVISED}

CRITERIA: tuple[tuple[str, str], ...] = (
    ("a1_larger_amounts", "Opioids often taken in larger amounts or for longer than intended"),
    ("a2_cut_down", "A persistent wish, or failed efforts, to cut down or control opioid use"),
    ("a3_time_spent", "Much time spent getting opioids, using them or recovering from them"),
    ("a4_craving", "Craving: a strong desire or urge to use opioids"),
    (
        "a5_role_obligations",
        "Use that leads to failing major obligations at work, school or home",
    ),
    (
        "a6_social_problems",
        "Use continued despite lasting or recurring social or relationship problems "
        "caused or made worse by opioids",
    ),
    (
        "a7_activities_given_up",
        "Important social, work or leisure activities given up or cut back because of use",
    ),
    ("a8_hazardous_use", "Repeated use in situations where it is physically dangerous"),
    (
        "a9_physical_or_psychological_problem",
        "Use continued despite knowing of a lasting physical or psychological problem "
        "likely caused or made worse by opioids",
    ),
    (
        TOLERANCE,
        "Tolerance: needing much more opioid for the same effect, or much less effect "
        "from the same amount",
    ),
    (
        WITHDRAWAL,
        "Withdrawal: the typical opioid withdrawal syndrome, or opioids taken to relieve "
        "or avoid withdrawal",
    ),
)
CRITERION_IDS = tuple(item_id for item_id, _ in CRITERIA)

MILD, MODERATE, SEVERE, NOT_MET = "mild", "moderate", "severe", "not_met"
MODERATE_OR_SEVERE = "moderate_or_severe"
EARLY, SUSTAINED = "early", "sustained"

# Suggested ICD-10-CM codes (domain reference §3.1) by severity group, remission and
# current withdrawal. A withdrawal combination code replaces the plain code; the two
# are never listed together. F11.93 (withdrawal without OUD) is unverified and is not
# suggested: when criteria are not met, no code is.
ICD10CM: dict[tuple[str, str], tuple[str, str]] = {
    (MILD, "plain"): ("F11.10", "Opioid abuse, uncomplicated"),
    (MILD, "remission"): ("F11.11", "Opioid abuse, in remission"),
    (MILD, "withdrawal"): ("F11.13", "Opioid abuse with withdrawal"),
    (MODERATE_OR_SEVERE, "plain"): ("F11.20", "Opioid dependence, uncomplicated"),
    (MODERATE_OR_SEVERE, "remission"): ("F11.21", "Opioid dependence, in remission"),
    (MODERATE_OR_SEVERE, "withdrawal"): ("F11.23", "Opioid dependence with withdrawal"),
}


def add_months(start: date, months: int) -> date:
    """The same day `months` calendar months later, or the month's last day when it is
    shorter (31 January + 1 month = 28 or 29 February)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    last_day = (following - date(year, month, 1)).days
    return date(year, month, min(start.day, last_day))


def whole_months(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end` (not 30-day blocks): the largest n
    with add_months(start, n) on or before `end`. 2026-01-31 to 2026-04-30 is 3."""
    if end < start:
        raise ValueError(f"{end} is before {start}.")
    months = (end.year - start.year) * 12 + end.month - start.month
    return months if add_months(start, months) <= end else months - 1


def criteria_met(instrument: Instrument, responses: Responses) -> int:
    """Criteria answered "yes", less A10 and A11 when taken solely under appropriate
    medical supervision."""
    return sum(
        1
        for item in instrument.items
        if item.scored
        and responses.get(item.id, 0) == 1
        and not (item.id in EXEMPTIONS and responses.get(EXEMPTIONS[item.id], 0) == 1)
    )


def _date(context: Context, field_id: str) -> date | None:
    value = context.get(field_id)
    return date.fromisoformat(value) if value else None


def remission(context: Context) -> str | None:
    """EARLY, SUSTAINED or None, from the whole months since the last criterion other
    than craving. Whether the full criteria were met before is the caller's check."""
    last_met, observed = _date(context, "last_criterion_met_on"), _date(context, "observed_on")
    if last_met is None or observed is None:
        return None
    if last_met > observed:
        # The engine has no cross-field check, so this is refused when scoring.
        raise InvalidResponses(
            {"last_criterion_met_on": f"{last_met} is after the assessment date {observed}."}
        )
    months = whole_months(last_met, observed)
    if months >= 12:
        return SUSTAINED
    if months >= 3:
        return EARLY
    return None


# Six or more criteria: severe.
SEVERE_FROM = 6
SEVERE_OUD_NEEDS_PLAN = (
    "DSM-5 opioid use disorder, severe: write a treatment plan and offer medication for OUD."
)


def needs_treatment_plan(responses: Responses, context: Context) -> Signal | None:
    """Severe and active: not in remission and not already on maintenance therapy,
    where "offer medication" would be wrong. (Until treatment plans exist, the alert
    this raises is resolved by a clinician's note.)"""
    if criteria_met(DSM5_OUD, responses) < SEVERE_FROM:
        return None
    if remission(context) is not None or context.get("on_maintenance_therapy") == "yes":
        return None
    return Signal("oud_severe_no_plan", SEVERE_OUD_NEEDS_PLAN)


def oud_findings(
    instrument: Instrument, responses: Responses, context: Context, total: int
) -> tuple[Finding, ...]:
    """Severity always; when criteria are met, the remission and other specifiers and
    the suggested ICD-10-CM code."""
    in_remission = remission(context)
    band = instrument.band_of(total, context)
    if band is None:  # not reached: the bands cover 0-11
        return ()
    if band.code == NOT_MET:
        return (Finding("severity", f"{band.label} ({total} of 11 criteria met)", NOT_MET),)
    findings = [
        Finding(
            "severity",
            f"{band.label} opioid use disorder ({total} of 11 criteria met)",
            band.code,
        )
    ]
    if in_remission is not None:
        label = (
            "In early remission: no criterion but craving for 3 to under 12 months"
            if in_remission == EARLY
            else "In sustained remission: no criterion but craving for 12 months or more"
        )
        findings.append(Finding("remission", label, in_remission))
    if context.get("on_maintenance_therapy") == "yes":
        findings.append(Finding("on_maintenance_therapy", "On maintenance therapy", "yes"))
    if context.get("controlled_environment") == "yes":
        findings.append(Finding("controlled_environment", "In a controlled environment", "yes"))
    # Withdrawal now takes the combination code even when the dates say remission (that
    # fits only when A11 is exempt); the clinician confirms which applies.
    if responses.get(WITHDRAWAL_NOW, 0) == 1:
        kind = "withdrawal"
    elif in_remission is not None:
        kind = "remission"
    else:
        kind = "plain"
    code, title = ICD10CM[(MILD if band.code == MILD else MODERATE_OR_SEVERE, kind)]
    findings.append(Finding("icd10cm", f"Suggested ICD-10-CM {code}: {title}", code))
    return tuple(findings)


def _optional_yes_no(item_id: str, text: str, guidance: str) -> Item:
    return Item(item_id, text, YES_NO, guidance=guidance, required=False, scored=False)


DSM5_OUD = Instrument(
    code="dsm5-oud",
    name="DSM-5 opioid use disorder criteria",
    version="DSM-5-TR (2022)",
    source="American Psychiatric Association. Diagnostic and Statistical Manual of Mental "
    "Disorders, Fifth Edition, Text Revision (DSM-5-TR). 2022. Opioid use disorder.",
    licence="Criteria paraphrased for clinical documentation; the DSM text is copyright APA.",
    local_code="stepwise-dsm5-oud-count",
    items=(
        *(
            Item(
                item_id,
                text,
                YES_NO,
                guidance="Within the same 12-month period as the other criteria.",
            )
            for item_id, text in CRITERIA
        ),
        _optional_yes_no(
            TOLERANCE_SUPERVISED,
            "Opioids taken solely under appropriate medical supervision (tolerance)",
            "If yes, tolerance (A10) is not counted.",
        ),
        _optional_yes_no(
            WITHDRAWAL_SUPERVISED,
            "Opioids taken solely under appropriate medical supervision (withdrawal)",
            "If yes, withdrawal (A11) is not counted.",
        ),
        _optional_yes_no(
            WITHDRAWAL_NOW,
            "Opioid withdrawal present now",
            "Not a criterion: selects the withdrawal combination code.",
        ),
    ),
    bands=(
        Band(0, 1, NOT_MET, "Criteria for opioid use disorder not met"),
        Band(2, 3, MILD, "Mild"),
        Band(4, 5, MODERATE, "Moderate"),
        Band(SEVERE_FROM, 11, SEVERE, "Severe"),
    ),
    total_rule=criteria_met,
    max_total=11,
    context_fields=(
        ContextField("observed_on", "Date of this assessment", kind="date", required=False),
        ContextField(
            "last_criterion_met_on",
            "Date a criterion other than craving was last met",
            kind="date",
            required=False,
            help="Craving may continue during remission; any other criterion restarts "
            "the remission clock.",
        ),
        ContextField(
            "on_maintenance_therapy",
            "On maintenance therapy",
            choices=YES_NO_CHOICES,
            required=False,
            help="A prescribed agonist, partial agonist, agonist/antagonist or antagonist, "
            "with no criteria met for that class other than tolerance or withdrawal.",
        ),
        ContextField(
            "controlled_environment",
            "In a controlled environment",
            choices=YES_NO_CHOICES,
            required=False,
            help="Where access to opioids is restricted, such as a locked unit or jail.",
        ),
    ),
    findings_rule=oud_findings,
    signal_rules=(needs_treatment_plan,),
)
