"""The medical admission assessment on arrival: what is asked, what each answer
allows, and what the answers mean for ASAM dimension 2, the problem list and
follow-up tasks. Pure data and functions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from stepwise.withdrawal.rules.safety import LastUse, OpioidKind


@dataclass(frozen=True)
class Substance:
    code: str
    label: str
    teds: int  # TEDS SUB code (domain §7.2)
    opioid: OpioidKind | None = None
    fentanyl: bool = False


SUBSTANCES: tuple[Substance, ...] = (
    Substance("heroin", "Heroin", 5, OpioidKind.SHORT_ACTING),
    Substance("fentanyl", "Fentanyl (illicit)", 7, OpioidKind.SHORT_ACTING, fentanyl=True),
    Substance("rx_opioid_ir", "Prescription opioid, immediate-release", 7, OpioidKind.SHORT_ACTING),
    Substance(
        "rx_opioid_er", "Prescription opioid, extended-release", 7, OpioidKind.EXTENDED_RELEASE
    ),
    Substance("methadone", "Methadone", 6, OpioidKind.METHADONE),
    Substance("buprenorphine", "Buprenorphine", 7, OpioidKind.BUPRENORPHINE),
    Substance("alcohol", "Alcohol", 2),
    Substance("cocaine", "Cocaine or crack", 3),
    Substance("methamphetamine", "Methamphetamine", 10),
    Substance("benzodiazepines", "Benzodiazepines", 13),
    Substance("cannabis", "Marijuana or hashish", 4),
    Substance("xylazine", "Xylazine (known or suspected)", 19),
    Substance("other", "Other", 19),
)
SUBSTANCES_BY_CODE = {s.code: s for s in SUBSTANCES}

FORMS = {
    "powder": "Powder",
    "tar": "Tar",
    "pill": "Pill (pharmacy)",
    "pressed_pill": "Pressed or counterfeit pill",
    "liquid": "Liquid",
    "patch": "Patch",
    "crystal": "Crystal or rock",
    "other": "Other",
}

# Clinical routes, finer than TEDS ROUTE (1 oral, 2 smoking, 3 inhalation, 4 injection, 5 other).
ROUTES: dict[str, tuple[str, int]] = {
    "iv": ("Injection into a vein", 4),
    "im": ("Injection into a muscle", 4),
    "sc": ("Injection under the skin (skin popping)", 4),
    "smoked": ("Smoking", 2),
    "snorted": ("Snorting", 3),
    "oral": ("By mouth", 1),
    "other": ("Other", 5),
}
INJECTION_ROUTES = frozenset({"iv", "im", "sc"})

# TEDS frequency of use, state-submission categories (domain §7.2).
FREQUENCIES = {
    "none_past_month": "No use in the past month",
    "1_3_month": "1-3 times in the past month",
    "1_2_week": "1-2 times a week",
    "3_6_week": "3-6 times a week",
    "daily": "Daily",
}

COMPLICATIONS = {
    "site_infection": "Injection-site infection",
    "abscess": "Abscess",
    "collapsed_veins": "Collapsed or scarred veins",
    "endocarditis_signs": "Signs of endocarditis (fever, new murmur, emboli)",
    "cellulitis": "Cellulitis",
}


class TestStatus(StrEnum):
    NOT_OFFERED = "not_offered"
    DECLINED = "declined"
    PENDING = "pending"
    NEGATIVE = "negative"
    POSITIVE = "positive"
    KNOWN_POSITIVE = "known_positive"


TEST_STATUS_LABELS = {
    TestStatus.NOT_OFFERED: "Not offered",
    TestStatus.DECLINED: "Offered, declined",
    TestStatus.PENDING: "Sent, result pending",
    TestStatus.NEGATIVE: "Negative",
    TestStatus.POSITIVE: "Positive (new)",
    TestStatus.KNOWN_POSITIVE: "Known positive",
}
TESTS = {"hiv": "HIV", "hbv": "Hepatitis B", "hcv": "Hepatitis C"}

PREGNANCY = {
    "not_applicable": "Not applicable",
    "negative": "Negative",
    "positive": "Positive",
    "declined": "Declined",
    "pending": "Pending",
}
YES_NO_UNKNOWN = {"yes": "Yes", "no": "No", "unknown": "Unknown"}


@dataclass(frozen=True)
class SubstanceUse:
    substance: str
    routes: tuple[str, ...] = ()
    form: str = ""
    amount: str = ""
    frequency: str = ""
    last_use_at: datetime | None = None

    @property
    def info(self) -> Substance:
        return SUBSTANCES_BY_CODE[self.substance]


@dataclass(frozen=True)
class MedicalAdmissionData:
    substances: tuple[SubstanceUse, ...] = ()
    past_overdoses: int = 0
    last_overdose_on: date | None = None
    fentanyl_exposure: str = "unknown"
    complications: tuple[str, ...] = ()
    nasal_damage: bool = False
    tests: dict[str, str] = field(default_factory=dict)
    hbv_vaccinated: str = "unknown"
    liver_concern: str = ""
    kidney_concern: str = ""
    heart_concern: str = ""
    pregnancy: str = "not_applicable"
    allergies: str = ""
    no_known_allergies: bool = False
    current_medications: str = ""
    on_buprenorphine: bool = False
    on_methadone: bool = False


def data_errors(data: MedicalAdmissionData, now: datetime) -> dict[str, str]:
    """One message per field, naming what is allowed."""
    errors: dict[str, str] = {}
    if not data.substances:
        errors["substances"] = "Record at least one substance (the reason for admission)."
    for n, use in enumerate(data.substances):
        key = f"substances[{n}]"
        if use.substance not in SUBSTANCES_BY_CODE:
            errors[f"{key}.substance"] = "Allowed values: " + ", ".join(SUBSTANCES_BY_CODE) + "."
        bad_routes = [r for r in use.routes if r not in ROUTES]
        if bad_routes or not use.routes:
            errors[f"{key}.routes"] = "Give one or more of: " + ", ".join(ROUTES) + "."
        if use.form and use.form not in FORMS:
            errors[f"{key}.form"] = "Allowed values: " + ", ".join(FORMS) + "."
        if use.frequency and use.frequency not in FREQUENCIES:
            errors[f"{key}.frequency"] = "Allowed values: " + ", ".join(FREQUENCIES) + "."
        if use.last_use_at is not None and use.last_use_at.utcoffset() is None:
            errors[f"{key}.last_use_at"] = "Give the time with its time zone."
        elif use.last_use_at is not None and use.last_use_at > now:
            errors[f"{key}.last_use_at"] = "The time of last use cannot be in the future."
        if (
            use.substance in SUBSTANCES_BY_CODE
            and use.info.opioid is not None
            and use.last_use_at is None
        ):
            errors[f"{key}.last_use_at"] = (
                "Give the time of last use of each opioid: the induction rules need it."
            )
    if data.past_overdoses < 0 or data.past_overdoses > 99:
        errors["past_overdoses"] = "Allowed 0 to 99."
    if data.last_overdose_on is not None:
        if data.last_overdose_on > now.date():
            errors["last_overdose_on"] = "The last overdose cannot be in the future."
        elif data.past_overdoses == 0:
            errors["last_overdose_on"] = "Give the number of past overdoses (at least 1)."
    if data.fentanyl_exposure not in YES_NO_UNKNOWN:
        errors["fentanyl_exposure"] = "Allowed values: yes, no, unknown."
    if data.hbv_vaccinated not in YES_NO_UNKNOWN:
        errors["hbv_vaccinated"] = "Allowed values: yes, no, unknown."
    bad = [c for c in data.complications if c not in COMPLICATIONS]
    if bad:
        errors["complications"] = "Allowed values: " + ", ".join(COMPLICATIONS) + "."
    for test in TESTS:
        value = data.tests.get(test, TestStatus.NOT_OFFERED)
        if value not in TestStatus.__members__.values():
            errors[f"tests.{test}"] = (
                "Allowed values: " + ", ".join(s.value for s in TestStatus) + "."
            )
    unknown_tests = set(data.tests) - set(TESTS)
    if unknown_tests:
        errors["tests"] = "Allowed tests: " + ", ".join(TESTS) + "."
    if data.pregnancy not in PREGNANCY:
        errors["pregnancy"] = "Allowed values: " + ", ".join(PREGNANCY) + "."
    # Taking methadone or buprenorphine now: the induction and naltrexone rules need
    # the time of the last dose, which lives on its substance row.
    for flag, code, label in (
        (data.on_methadone, "methadone", "methadone"),
        (data.on_buprenorphine, "buprenorphine", "buprenorphine"),
    ):
        if flag and not any(
            u.substance == code and u.last_use_at is not None for u in data.substances
        ):
            errors[f"on_{code}"] = (
                f"Add {label} to the substances with the time of the last dose: the "
                "induction and naltrexone rules wait from it."
            )
    if data.no_known_allergies and data.allergies.strip():
        errors["allergies"] = "Either list allergies or mark no known allergies, not both."
    if not data.no_known_allergies and not data.allergies.strip():
        errors["allergies"] = "List allergies, or mark no known allergies."
    return errors


def last_uses(data: MedicalAdmissionData) -> list[LastUse]:
    return [
        LastUse(use.info.opioid, use.last_use_at, "medical admission", use.info.fentanyl)
        for use in data.substances
        if use.info.opioid is not None and use.last_use_at is not None
    ]


def last_opioid_use(data: MedicalAdmissionData) -> datetime | None:
    times = [u.at for u in last_uses(data)]
    return max(times) if times else None


def fentanyl_exposure(data: MedicalAdmissionData) -> bool:
    return data.fentanyl_exposure == "yes" or any(u.info.fentanyl for u in data.substances)


def injects(data: MedicalAdmissionData) -> bool:
    return any(set(u.routes) & INJECTION_ROUTES for u in data.substances)


@dataclass(frozen=True)
class Problem:
    key: str  # stable per patient: a repeat assessment does not duplicate it
    title: str
    code: str = ""  # ICD-10-CM when one fits


@dataclass(frozen=True)
class FollowUp:
    kind: str
    title: str
    detail: str


@dataclass(frozen=True)
class Findings:
    d2: tuple[str, ...]  # what dimension 2 (biomedical) should weigh
    problems: tuple[Problem, ...]
    tasks: tuple[FollowUp, ...]
    urgent: tuple[str, ...]  # needs a physician today


def findings(data: MedicalAdmissionData) -> Findings:
    d2: list[str] = []
    problems: list[Problem] = []
    tasks: list[FollowUp] = []
    urgent: list[str] = []

    if injects(data):
        problems.append(Problem("injection_use", "Injection drug use"))
        tasks.append(
            FollowUp(
                "harm_reduction",
                "Offer sterile injection supplies and a syringe-services referral",
                "Injection use recorded at the medical admission.",
            )
        )
    if "endocarditis_signs" in data.complications:
        d2.append("Signs of endocarditis: urgent medical evaluation (blood cultures, echo).")
        urgent.append("Signs of endocarditis")
        problems.append(Problem("endocarditis_suspected", "Suspected endocarditis", "I38"))
    for code in ("abscess", "site_infection", "cellulitis"):
        if code in data.complications:
            d2.append(f"{COMPLICATIONS[code]}: wound care and medical review.")
            problems.append(Problem(code, COMPLICATIONS[code]))
    if "collapsed_veins" in data.complications:
        d2.append("Collapsed veins: difficult venous access.")
    if data.nasal_damage:
        d2.append("Nasal damage from snorting.")
        problems.append(Problem("nasal_damage", "Nasal damage from intranasal use"))
    if data.past_overdoses:
        problems.append(Problem("overdose_history", f"History of overdose ({data.past_overdoses})"))
        d2.append(f"{data.past_overdoses} past overdose(s): high overdose risk after detox.")
    for test, label in TESTS.items():
        status = data.tests.get(test, TestStatus.NOT_OFFERED)
        if status in (TestStatus.POSITIVE, TestStatus.KNOWN_POSITIVE):
            d2.append(f"{label} positive: link to treatment.")
            problems.append(Problem(f"{test}_positive", f"{label} infection"))
            tasks.append(
                FollowUp(
                    f"{test}_treatment",
                    f"Refer for {label} treatment",
                    f"{label} {TEST_STATUS_LABELS[TestStatus(status)].lower()} at the medical admission.",
                )
            )
        elif status in (TestStatus.DECLINED, TestStatus.NOT_OFFERED):
            tasks.append(
                FollowUp(
                    f"{test}_test",
                    f"Offer {label} testing again",
                    f"{label} test {TEST_STATUS_LABELS[TestStatus(status)].lower()} at the medical admission.",
                )
            )
        elif status is TestStatus.PENDING or status == TestStatus.PENDING.value:
            tasks.append(
                FollowUp(
                    f"{test}_result",
                    f"Follow up the {label} result",
                    f"{label} test sent at the medical admission.",
                )
            )
    hbv = data.tests.get("hbv", TestStatus.NOT_OFFERED)
    if hbv == TestStatus.NEGATIVE and data.hbv_vaccinated != "yes":
        tasks.append(
            FollowUp(
                "hbv_vaccination",
                "Offer hepatitis B vaccination",
                "Hepatitis B negative and not known to be vaccinated.",
            )
        )
    for attr, label in (
        ("liver_concern", "Liver"),
        ("kidney_concern", "Kidney"),
        ("heart_concern", "Heart"),
    ):
        text = getattr(data, attr).strip()
        if text:
            d2.append(f"{label}: {text}")
            problems.append(Problem(attr, f"{label} concern: {text[:120]}"))
    if data.pregnancy == "positive":
        d2.append("Pregnant: medically supervised withdrawal is not advised; offer MOUD.")
        urgent.append("Pregnancy")
        problems.append(Problem("pregnancy", "Pregnancy", "Z33.1"))
        tasks.append(
            FollowUp(
                "prenatal_care",
                "Refer for prenatal care and offer MOUD",
                "Positive pregnancy test at the medical admission.",
            )
        )
    elif data.pregnancy in ("pending", "declined"):
        tasks.append(
            FollowUp(
                "pregnancy_test",
                "Follow up the pregnancy test",
                f"Pregnancy test {PREGNANCY[data.pregnancy].lower()} at the medical admission.",
            )
        )
    return Findings(tuple(d2), tuple(problems), tuple(tasks), tuple(urgent))


def to_json(data: MedicalAdmissionData) -> dict[str, Any]:
    """The stored form: datetimes as ISO text."""
    return {
        "substances": [
            {
                "substance": u.substance,
                "routes": list(u.routes),
                "form": u.form,
                "amount": u.amount,
                "frequency": u.frequency,
                "last_use_at": u.last_use_at.isoformat() if u.last_use_at else None,
            }
            for u in data.substances
        ],
        "past_overdoses": data.past_overdoses,
        "last_overdose_on": data.last_overdose_on.isoformat() if data.last_overdose_on else None,
        "fentanyl_exposure": data.fentanyl_exposure,
        "complications": list(data.complications),
        "nasal_damage": data.nasal_damage,
        "tests": dict(data.tests),
        "hbv_vaccinated": data.hbv_vaccinated,
        "liver_concern": data.liver_concern,
        "kidney_concern": data.kidney_concern,
        "heart_concern": data.heart_concern,
        "pregnancy": data.pregnancy,
        "allergies": data.allergies,
        "no_known_allergies": data.no_known_allergies,
        "current_medications": data.current_medications,
        "on_buprenorphine": data.on_buprenorphine,
        "on_methadone": data.on_methadone,
    }


def from_json(raw: dict[str, Any]) -> MedicalAdmissionData:
    return MedicalAdmissionData(
        substances=tuple(
            SubstanceUse(
                substance=s["substance"],
                routes=tuple(s.get("routes", ())),
                form=s.get("form", ""),
                amount=s.get("amount", ""),
                frequency=s.get("frequency", ""),
                last_use_at=datetime.fromisoformat(s["last_use_at"])
                if s.get("last_use_at")
                else None,
            )
            for s in raw.get("substances", ())
        ),
        past_overdoses=int(raw.get("past_overdoses", 0)),
        last_overdose_on=date.fromisoformat(raw["last_overdose_on"])
        if raw.get("last_overdose_on")
        else None,
        fentanyl_exposure=raw.get("fentanyl_exposure", "unknown"),
        complications=tuple(raw.get("complications", ())),
        nasal_damage=bool(raw.get("nasal_damage", False)),
        tests=dict(raw.get("tests", {})),
        hbv_vaccinated=raw.get("hbv_vaccinated", "unknown"),
        liver_concern=raw.get("liver_concern", ""),
        kidney_concern=raw.get("kidney_concern", ""),
        heart_concern=raw.get("heart_concern", ""),
        pregnancy=raw.get("pregnancy", "not_applicable"),
        allergies=raw.get("allergies", ""),
        no_known_allergies=bool(raw.get("no_known_allergies", False)),
        current_medications=raw.get("current_medications", ""),
        on_buprenorphine=bool(raw.get("on_buprenorphine", False)),
        on_methadone=bool(raw.get("on_methadone", False)),
    )
