"""The medical admission assessment: field validation that names what is allowed,
what the answers mean (problems, follow-up tasks, urgent items), the last-use times
handed to the safety rules, and the stored JSON form."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.withdrawal.rules.admission import (
    COMPLICATIONS,
    FORMS,
    FREQUENCIES,
    INJECTION_ROUTES,
    PREGNANCY,
    ROUTES,
    SUBSTANCES,
    SUBSTANCES_BY_CODE,
    TESTS,
    YES_NO_UNKNOWN,
    Findings,
    MedicalAdmissionData,
    SubstanceUse,
    data_errors,
    fentanyl_exposure,
    findings,
    from_json,
    injects,
    last_opioid_use,
    last_uses,
    to_json,
)
from stepwise.withdrawal.rules.admission import (
    TestStatus as Status,  # aliased: pytest would try to collect a Test* class
)
from stepwise.withdrawal.rules.safety import LastUse, OpioidKind

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
# Hypothesis takes naive bounds and attaches the time zone itself.
EARLIEST = datetime(2020, 1, 1)  # noqa: DTZ001
LATEST = datetime(2030, 1, 1)  # noqa: DTZ001
HEROIN = SubstanceUse("heroin", ("iv",), "powder", "1 g", "daily", NOW - timedelta(hours=10))
ALCOHOL = SubstanceUse("alcohol", ("oral",), "liquid", "a pint", "daily")
VALID = MedicalAdmissionData(substances=(HEROIN,), allergies="Penicillin (rash)")
OPIOIDS = [s.code for s in SUBSTANCES if s.opioid is not None]
NON_OPIOIDS = [s.code for s in SUBSTANCES if s.opioid is None]


def with_(data: MedicalAdmissionData = VALID, /, **changes: object) -> MedicalAdmissionData:
    return dataclasses.replace(data, **changes)  # type: ignore[arg-type]


def use_of(substance: str, **changes: object) -> SubstanceUse:
    return dataclasses.replace(HEROIN, substance=substance, **changes)  # type: ignore[arg-type]


def task_kinds(result: Findings) -> list[str]:
    return [t.kind for t in result.tasks]


def problem_keys(result: Findings) -> list[str]:
    return [p.key for p in result.problems]


# --- data_errors ------------------------------------------------------------------------


def test_a_complete_assessment_has_no_errors():
    assert data_errors(VALID, NOW) == {}
    assert data_errors(with_(allergies="", no_known_allergies=True), NOW) == {}


def test_at_least_one_substance():
    assert data_errors(with_(substances=()), NOW) == {
        "substances": "Record at least one substance (the reason for admission)."
    }


def test_unknown_substance_lists_the_allowed_codes():
    errors = data_errors(with_(substances=(use_of("kratom"),)), NOW)
    assert errors == {
        "substances[0].substance": "Allowed values: " + ", ".join(SUBSTANCES_BY_CODE) + "."
    }
    for code in ("heroin", "fentanyl", "methadone", "alcohol", "xylazine"):
        assert code in errors["substances[0].substance"]


@pytest.mark.parametrize("routes", [(), ("injected",), ("iv", "nasal"), ("IV",)])
def test_bad_or_missing_routes_name_the_allowed_ones(routes: tuple[str, ...]):
    errors = data_errors(with_(substances=(use_of("heroin", routes=routes),)), NOW)
    assert errors == {"substances[0].routes": "Give one or more of: " + ", ".join(ROUTES) + "."}


def test_every_route_is_allowed():
    assert data_errors(with_(substances=(use_of("heroin", routes=tuple(ROUTES)),)), NOW) == {}


def test_bad_form_and_frequency_name_the_allowed_values():
    errors = data_errors(
        with_(substances=(use_of("heroin", form="rock", frequency="hourly"),)), NOW
    )
    assert errors == {
        "substances[0].form": "Allowed values: " + ", ".join(FORMS) + ".",
        "substances[0].frequency": "Allowed values: " + ", ".join(FREQUENCIES) + ".",
    }
    # Both are optional.
    assert data_errors(with_(substances=(use_of("heroin", form="", frequency=""),)), NOW) == {}


@pytest.mark.parametrize("code", OPIOIDS)
def test_each_opioid_needs_its_last_use_time(code: str):
    errors = data_errors(with_(substances=(use_of(code, last_use_at=None),)), NOW)
    assert errors == {
        "substances[0].last_use_at": "Give the time of last use of each opioid: the induction "
        "rules need it."
    }


@pytest.mark.parametrize("code", NON_OPIOIDS)
def test_other_substances_need_no_last_use_time(code: str):
    assert data_errors(with_(substances=(use_of(code, last_use_at=None),)), NOW) == {}


def test_last_use_cannot_be_in_the_future():
    assert data_errors(with_(substances=(use_of("heroin", last_use_at=NOW),)), NOW) == {}
    future = use_of("heroin", last_use_at=NOW + timedelta(seconds=1))
    assert data_errors(with_(substances=(future,)), NOW) == {
        "substances[0].last_use_at": "The time of last use cannot be in the future."
    }
    # A non-opioid in the future too.
    alcohol = dataclasses.replace(ALCOHOL, last_use_at=NOW + timedelta(days=1))
    assert set(data_errors(with_(substances=(alcohol,)), NOW)) == {"substances[0].last_use_at"}


def test_errors_are_keyed_by_the_substance_position():
    errors = data_errors(
        with_(substances=(HEROIN, ALCOHOL, use_of("fentanyl", last_use_at=None, routes=()))), NOW
    )
    assert set(errors) == {"substances[2].last_use_at", "substances[2].routes"}


@pytest.mark.parametrize(
    ("count", "ok"), [(-1, False), (0, True), (1, True), (99, True), (100, False)]
)
def test_past_overdoses_range(count: int, ok: bool):
    errors = data_errors(with_(past_overdoses=count), NOW)
    assert (errors == {}) == ok
    if not ok:
        assert errors == {"past_overdoses": "Allowed 0 to 99."}


@pytest.mark.parametrize("field", ["fentanyl_exposure", "hbv_vaccinated"])
def test_yes_no_unknown_fields(field: str):
    for value in YES_NO_UNKNOWN:
        assert data_errors(with_(**{field: value}), NOW) == {}
    assert data_errors(with_(**{field: "maybe"}), NOW) == {
        field: "Allowed values: yes, no, unknown."
    }


def test_complications_must_be_known():
    assert data_errors(with_(complications=tuple(COMPLICATIONS)), NOW) == {}
    assert data_errors(with_(complications=("abscess", "gangrene")), NOW) == {
        "complications": "Allowed values: " + ", ".join(COMPLICATIONS) + "."
    }


def test_test_statuses_and_names():
    every = {test: status for test, status in zip(TESTS, list(Status)[:3], strict=True)}
    assert data_errors(with_(tests=every), NOW) == {}
    for status in Status:
        assert data_errors(with_(tests={"hiv": status.value}), NOW) == {}
    allowed = "Allowed values: " + ", ".join(s.value for s in Status) + "."
    assert data_errors(with_(tests={"hcv": "reactive"}), NOW) == {"tests.hcv": allowed}
    assert data_errors(with_(tests={"syphilis": "negative"}), NOW) == {
        "tests": "Allowed tests: hiv, hbv, hcv."
    }


def test_pregnancy_values():
    for value in PREGNANCY:
        assert data_errors(with_(pregnancy=value), NOW) == {}
    assert data_errors(with_(pregnancy="yes"), NOW) == {
        "pregnancy": "Allowed values: " + ", ".join(PREGNANCY) + "."
    }


def test_allergies_both_or_neither_is_an_error():
    both = with_(allergies="Penicillin", no_known_allergies=True)
    assert data_errors(both, NOW) == {
        "allergies": "Either list allergies or mark no known allergies, not both."
    }
    for blank in ("", "   "):
        neither = with_(allergies=blank, no_known_allergies=False)
        assert data_errors(neither, NOW) == {
            "allergies": "List allergies, or mark no known allergies."
        }
    assert data_errors(with_(allergies="  ", no_known_allergies=True), NOW) == {}


# --- what the answers hand to the safety rules --------------------------------------------


def test_last_uses_are_the_opioids_with_a_time():
    methadone_at = NOW - timedelta(days=2)
    data = with_(
        substances=(
            HEROIN,
            ALCOHOL,
            use_of("methadone", last_use_at=methadone_at),
            use_of("rx_opioid_er", last_use_at=None),
        )
    )
    assert last_uses(data) == [
        LastUse(OpioidKind.SHORT_ACTING, HEROIN.last_use_at, "medical admission"),  # type: ignore[arg-type]
        LastUse(OpioidKind.METHADONE, methadone_at, "medical admission"),
    ]
    assert last_opioid_use(data) == HEROIN.last_use_at
    assert last_opioid_use(with_(substances=(ALCOHOL,))) is None


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("heroin", OpioidKind.SHORT_ACTING),
        ("fentanyl", OpioidKind.SHORT_ACTING),
        ("rx_opioid_ir", OpioidKind.SHORT_ACTING),
        ("rx_opioid_er", OpioidKind.EXTENDED_RELEASE),
        ("methadone", OpioidKind.METHADONE),
        ("buprenorphine", OpioidKind.BUPRENORPHINE),
    ],
)
def test_each_opioid_maps_to_its_kind(code: str, kind: OpioidKind):
    assert SUBSTANCES_BY_CODE[code].opioid is kind
    assert [u.kind for u in last_uses(with_(substances=(use_of(code),)))] == [kind]


def test_fentanyl_exposure_from_the_answer_or_the_substance():
    assert not fentanyl_exposure(VALID)
    assert fentanyl_exposure(with_(fentanyl_exposure="yes"))
    assert not fentanyl_exposure(with_(fentanyl_exposure="unknown"))
    assert fentanyl_exposure(with_(substances=(HEROIN, use_of("fentanyl")), fentanyl_exposure="no"))


@pytest.mark.parametrize("route", list(ROUTES))
def test_injects_only_for_injection_routes(route: str):
    data = with_(substances=(use_of("heroin", routes=(route,)),))
    assert injects(data) == (route in INJECTION_ROUTES)
    assert {"iv", "im", "sc"} == INJECTION_ROUTES


# --- findings ----------------------------------------------------------------------------

ALL_NEGATIVE = {"hiv": "negative", "hbv": "negative", "hcv": "negative"}
QUIET = with_(
    substances=(use_of("heroin", routes=("smoked",)),), tests=ALL_NEGATIVE, hbv_vaccinated="yes"
)


def test_a_quiet_assessment_has_no_findings():
    assert findings(QUIET) == Findings((), (), (), ())


@pytest.mark.parametrize("route", sorted(INJECTION_ROUTES))
def test_injection_gives_a_problem_and_a_harm_reduction_task(route: str):
    result = findings(with_(QUIET, substances=(use_of("heroin", routes=("smoked", route)),)))
    assert problem_keys(result) == ["injection_use"]
    assert task_kinds(result) == ["harm_reduction"]
    assert result.urgent == ()


@pytest.mark.parametrize("status", ["positive", "known_positive"])
@pytest.mark.parametrize("test", list(TESTS))
def test_a_positive_test_gives_a_problem_and_a_treatment_task(test: str, status: str):
    result = findings(with_(QUIET, tests={**ALL_NEGATIVE, test: status}))
    assert problem_keys(result) == [f"{test}_positive"]
    assert task_kinds(result) == [f"{test}_treatment"]
    assert result.tasks[0].title == f"Refer for {TESTS[test]} treatment"
    assert any("link to treatment" in line for line in result.d2)


@pytest.mark.parametrize("status", ["declined", "not_offered"])
@pytest.mark.parametrize("test", list(TESTS))
def test_a_declined_or_not_offered_test_is_offered_again(test: str, status: str):
    result = findings(with_(QUIET, tests={**ALL_NEGATIVE, test: status}))
    assert task_kinds(result) == [f"{test}_test"]
    assert result.tasks[0].title == f"Offer {TESTS[test]} testing again"
    assert result.problems == ()


def test_a_missing_test_counts_as_not_offered():
    tests = dict(ALL_NEGATIVE)
    del tests["hcv"]
    assert task_kinds(findings(with_(QUIET, tests=tests))) == ["hcv_test"]


@pytest.mark.parametrize("test", list(TESTS))
def test_a_pending_test_is_followed_up(test: str):
    for status in ("pending", Status.PENDING):
        result = findings(with_(QUIET, tests={**ALL_NEGATIVE, test: status}))
        assert task_kinds(result) == [f"{test}_result"]


@pytest.mark.parametrize(("vaccinated", "task"), [("no", True), ("unknown", True), ("yes", False)])
def test_hbv_negative_and_not_vaccinated_gives_a_vaccination_task(vaccinated: str, task: bool):
    result = findings(with_(QUIET, hbv_vaccinated=vaccinated))
    assert ("hbv_vaccination" in task_kinds(result)) == task


@pytest.mark.parametrize("status", ["positive", "known_positive", "pending", "declined"])
def test_no_vaccination_task_unless_hbv_negative(status: str):
    result = findings(with_(QUIET, tests={**ALL_NEGATIVE, "hbv": status}, hbv_vaccinated="no"))
    assert "hbv_vaccination" not in task_kinds(result)


def test_pregnancy_positive_is_urgent():
    result = findings(with_(QUIET, pregnancy="positive"))
    assert result.urgent == ("Pregnancy",)
    assert problem_keys(result) == ["pregnancy"]
    assert result.problems[0].code == "Z33.1"
    assert task_kinds(result) == ["prenatal_care"]
    assert any("MOUD" in line for line in result.d2)


@pytest.mark.parametrize(
    ("pregnancy", "task"),
    [("pending", True), ("declined", True), ("negative", False), ("not_applicable", False)],
)
def test_pregnancy_test_follow_up(pregnancy: str, task: bool):
    result = findings(with_(QUIET, pregnancy=pregnancy))
    assert task_kinds(result) == (["pregnancy_test"] if task else [])
    assert result.urgent == ()


def test_endocarditis_signs_are_urgent():
    result = findings(with_(QUIET, complications=("endocarditis_signs",)))
    assert result.urgent == ("Signs of endocarditis",)
    assert [(p.key, p.code) for p in result.problems] == [("endocarditis_suspected", "I38")]


def test_complications_nasal_damage_overdoses_and_organ_concerns():
    long_text = "x" * 300
    result = findings(
        with_(
            QUIET,
            complications=("abscess", "site_infection", "cellulitis", "collapsed_veins"),
            nasal_damage=True,
            past_overdoses=3,
            liver_concern="  Raised ALT  ",
            kidney_concern="   ",
            heart_concern=long_text,
        )
    )
    assert problem_keys(result) == [
        "abscess",
        "site_infection",
        "cellulitis",
        "nasal_damage",
        "overdose_history",
        "liver_concern",
        "heart_concern",
    ]
    titles = {p.key: p.title for p in result.problems}
    assert titles["overdose_history"] == "History of overdose (3)"
    assert titles["liver_concern"] == "Liver concern: Raised ALT"
    assert titles["heart_concern"] == "Heart concern: " + "x" * 120
    assert any("difficult venous access" in line for line in result.d2)
    assert result.urgent == ()


@st.composite
def admissions(draw: st.DrawFn) -> MedicalAdmissionData:
    text = st.text(max_size=20)
    moment = st.datetimes(
        min_value=EARLIEST,
        max_value=LATEST,
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=30))]
        ),
    )
    uses = draw(
        st.lists(
            st.builds(
                SubstanceUse,
                substance=st.sampled_from(list(SUBSTANCES_BY_CODE)),
                routes=st.lists(st.sampled_from(list(ROUTES)), max_size=3, unique=True).map(tuple),
                form=st.sampled_from(["", *FORMS]),
                amount=text,
                frequency=st.sampled_from(["", *FREQUENCIES]),
                last_use_at=st.none() | moment,
            ),
            max_size=4,
        )
    )
    return MedicalAdmissionData(
        substances=tuple(uses),
        past_overdoses=draw(st.integers(min_value=0, max_value=99)),
        last_overdose_on=draw(st.none() | st.dates(min_value=date(2000, 1, 1))),
        fentanyl_exposure=draw(st.sampled_from(list(YES_NO_UNKNOWN))),
        complications=tuple(draw(st.lists(st.sampled_from(list(COMPLICATIONS)), unique=True))),
        nasal_damage=draw(st.booleans()),
        tests=draw(
            st.dictionaries(
                st.sampled_from(list(TESTS)), st.sampled_from([s.value for s in Status])
            )
        ),
        hbv_vaccinated=draw(st.sampled_from(list(YES_NO_UNKNOWN))),
        liver_concern=draw(text),
        kidney_concern=draw(text),
        heart_concern=draw(text),
        pregnancy=draw(st.sampled_from(list(PREGNANCY))),
        allergies=draw(text),
        no_known_allergies=draw(st.booleans()),
        current_medications=draw(text),
        on_buprenorphine=draw(st.booleans()),
        on_methadone=draw(st.booleans()),
    )


@settings(max_examples=200, deadline=None)
@given(admissions())
def test_json_round_trip(data):
    stored = json.loads(json.dumps(to_json(data)))
    assert from_json(stored) == data
    assert to_json(from_json(stored)) == to_json(data)


@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=EARLIEST, max_value=LATEST, timezones=st.just(NY)))
def test_json_round_trip_keeps_the_instant_of_a_facility_local_time(moment):
    data = with_(substances=(use_of("heroin", last_use_at=moment),))
    back = from_json(json.loads(json.dumps(to_json(data))))
    restored = back.substances[0].last_use_at
    assert restored is not None
    assert restored.utcoffset() == moment.utcoffset()
    assert restored.timestamp() == moment.timestamp()
    assert to_json(back) == to_json(data)


@settings(max_examples=200, deadline=None)
@given(admissions())
def test_findings_never_repeat_a_problem_or_task(data):
    result = findings(data)
    assert len(set(problem_keys(result))) == len(result.problems)
    assert len(set(task_kinds(result))) == len(result.tasks)
    assert ("Pregnancy" in result.urgent) == (data.pregnancy == "positive")


def test_from_json_fills_defaults_for_missing_keys():
    assert from_json({}) == MedicalAdmissionData()
    minimal = from_json({"substances": [{"substance": "heroin", "last_use_at": ""}]})
    assert minimal.substances == (SubstanceUse("heroin"),)
