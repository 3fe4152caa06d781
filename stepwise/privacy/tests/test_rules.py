"""The Part 2 decision rules, by example and over generated histories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from stepwise.privacy import rules
from stepwise.privacy.rules import (
    Basis,
    ConsentFacts,
    ConsentKind,
    ConsentState,
    CourtOrderFacts,
    EmergencyFacts,
    InfoCategory,
    Purpose,
    RecipientClass,
    Refusal,
    ReleaseRequest,
    consent_state,
    decide,
)

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
CLINIC = "Eastside Clinic"


def consent(**kw) -> ConsentFacts:
    values: dict[str, Any] = {
        "key": "c1",
        "kind": ConsentKind.SPECIFIC,
        "purposes": frozenset({Purpose.TREATMENT}),
        "categories": frozenset({InfoCategory.DEMOGRAPHICS, InfoCategory.EPISODES}),
        "recipient_names": frozenset({CLINIC}),
        "signed_at": T0,
    }
    values.update(kw)
    return ConsentFacts(**values)


def ask(**kw) -> ReleaseRequest:
    values: dict[str, Any] = {
        "recipient_name": CLINIC,
        "recipient_class": RecipientClass.TREATING_PROVIDER,
        "purpose": Purpose.TREATMENT,
        "categories": frozenset({InfoCategory.EPISODES}),
        "at": T0 + timedelta(days=1),
    }
    values.update(kw)
    return ReleaseRequest(**values)


def test_states_follow_the_dates():
    c = consent(expires_on=date(2026, 6, 30), revoked_at=None)
    assert consent_state(c, T0 - timedelta(seconds=1)) == ConsentState.DRAFT
    assert consent_state(c, T0) == ConsentState.ACTIVE
    assert consent_state(c, datetime(2026, 6, 30, 23, 59, tzinfo=UTC)) == ConsentState.ACTIVE
    assert consent_state(c, datetime(2026, 7, 1, tzinfo=UTC)) == ConsentState.EXPIRED
    revoked = consent(revoked_at=T0 + timedelta(hours=1))
    assert consent_state(revoked, T0 + timedelta(hours=1)) == ConsentState.REVOKED
    event = consent(expiry_event="end of treatment", expiry_event_at=T0 + timedelta(days=2))
    assert consent_state(event, T0 + timedelta(days=2)) == ConsentState.EXPIRED
    assert consent_state(consent(signed_at=None), T0) == ConsentState.DRAFT


def test_a_covering_consent_allows_and_names_itself():
    decision = decide([consent()], ask())
    assert decision.allowed and decision.basis == Basis.CONSENT and decision.consent_key == "c1"


def test_names_match_whatever_the_case_and_spacing():
    assert decide([consent()], ask(recipient_name="  eastside   CLINIC ")).allowed


def test_tpo_consent_covers_recipients_by_class():
    tpo = consent(
        kind=ConsentKind.TPO,
        recipient_names=frozenset(),
        recipient_classes=frozenset({RecipientClass.HEALTH_PLAN}),
        purposes=rules.TPO_PURPOSES,
        categories=frozenset({InfoCategory.ALL_SUD}),
    )
    allowed = decide(
        [tpo],
        ask(
            recipient_name="Any Health Plan",
            recipient_class=RecipientClass.HEALTH_PLAN,
            purpose=Purpose.PAYMENT,
            categories=frozenset({InfoCategory.DIAGNOSES}),
        ),
    )
    assert allowed.allowed
    notes = decide(
        [tpo],
        ask(
            recipient_name="Any Health Plan",
            recipient_class=RecipientClass.HEALTH_PLAN,
            categories=frozenset({InfoCategory.COUNSELING_NOTES}),
        ),
    )
    assert notes.refusal == Refusal.COUNSELING_NOTES_CONSENT


def test_every_refusal_says_why():
    cases = {
        Refusal.NO_CATEGORIES: ([consent()], ask(categories=frozenset())),
        Refusal.LEGAL_PROCEEDING: (
            [consent(purposes=frozenset(Purpose))],
            ask(purpose=Purpose.LEGAL_PROCEEDING),
        ),
        Refusal.COURT_ORDER_INCOMPLETE: ([], ask(court_order=CourtOrderFacts(reference=" "))),
        Refusal.COURT_ORDER_PURPOSE: (
            [],
            ask(court_order=CourtOrderFacts("CR-1", "Superior Court")),
        ),
        Refusal.COURT_ORDER_COUNSELING_NOTES: (
            [],
            ask(
                purpose=Purpose.LEGAL_PROCEEDING,
                categories=frozenset({InfoCategory.COUNSELING_NOTES}),
                court_order=CourtOrderFacts("CR-1", "Superior Court"),
            ),
        ),
        Refusal.EMERGENCY_NOT_MEDICAL: (
            [],
            ask(recipient_class=RecipientClass.FAMILY, emergency=EmergencyFacts("ER", "overdose")),
        ),
        Refusal.EMERGENCY_INCOMPLETE: ([], ask(emergency=EmergencyFacts("", "overdose"))),
        Refusal.EMERGENCY_COUNSELING_NOTES: (
            [],
            ask(
                categories=frozenset({InfoCategory.COUNSELING_NOTES}),
                emergency=EmergencyFacts("ER", "overdose"),
            ),
        ),
        Refusal.COUNSELING_NOTES_MIXED: (
            [consent()],
            ask(categories=frozenset({InfoCategory.COUNSELING_NOTES, InfoCategory.EPISODES})),
        ),
        Refusal.COUNSELING_NOTES_CONSENT: (
            [consent()],
            ask(categories=frozenset({InfoCategory.COUNSELING_NOTES})),
        ),
        Refusal.NO_CONSENT: ([consent()], ask(recipient_name="Someone Else")),
        Refusal.NOT_SIGNED: ([consent(signed_at=None)], ask()),
        Refusal.REVOKED: ([consent(revoked_at=T0 + timedelta(hours=1))], ask()),
        Refusal.EXPIRED: ([consent(expires_on=date(2026, 3, 1))], ask()),
        Refusal.PURPOSE: ([consent()], ask(purpose=Purpose.RESEARCH)),
        Refusal.CATEGORIES: ([consent()], ask(categories=frozenset({InfoCategory.MEDICATIONS}))),
    }
    assert set(cases) == set(Refusal)
    for refusal, (consents, request) in cases.items():
        decision = decide(consents, request)
        assert not decision.allowed and decision.refusal == refusal, refusal
        assert decision.reason.endswith(".") and len(decision.reason) > 30, refusal
    assert (
        "revoked the consent naming Eastside Clinic on 2026-03-01"
        in decide(*cases[Refusal.REVOKED]).reason
    )
    assert "not research" in decide(*cases[Refusal.PURPOSE]).reason
    assert "medications" in decide(*cases[Refusal.CATEGORIES]).reason


def test_legal_proceeding_needs_a_court_order_even_with_consent():
    everything = consent(purposes=frozenset(Purpose), categories=frozenset({InfoCategory.ALL_SUD}))
    refused = decide([everything], ask(purpose=Purpose.LEGAL_PROCEEDING))
    assert refused.refusal == Refusal.LEGAL_PROCEEDING and "court order" in refused.reason
    order = CourtOrderFacts("CR-2026-114", "Superior Court of Springfield")
    ordered = decide([], ask(purpose=Purpose.LEGAL_PROCEEDING, court_order=order))
    assert ordered.allowed and ordered.basis == Basis.COURT_ORDER
    unnamed_court = CourtOrderFacts("CR-2026-114", " ")
    assert not decide([], ask(purpose=Purpose.LEGAL_PROCEEDING, court_order=unnamed_court)).allowed


def test_a_court_order_is_no_key_for_other_purposes_or_counseling_notes():
    """An order covers the proceeding it authorizes; it never opens the record for
    treatment, curiosity or the counseling notes."""
    order = CourtOrderFacts("CV-7", "Family Court")
    for purpose in set(Purpose) - {Purpose.LEGAL_PROCEEDING}:
        refused = decide([], ask(purpose=purpose, court_order=order))
        assert refused.refusal == Refusal.COURT_ORDER_PURPOSE
    notes = frozenset({InfoCategory.COUNSELING_NOTES, InfoCategory.DEMOGRAPHICS})
    refused = decide([], ask(purpose=Purpose.LEGAL_PROCEEDING, categories=notes, court_order=order))
    assert refused.refusal == Refusal.COURT_ORDER_COUNSELING_NOTES


def test_counseling_notes_need_their_own_consent():
    notes = consent(
        key="n",
        kind=ConsentKind.COUNSELING_NOTES,
        categories=frozenset({InfoCategory.COUNSELING_NOTES}),
    )
    wanted = ask(categories=frozenset({InfoCategory.COUNSELING_NOTES}))
    assert (
        decide([consent(categories=frozenset({InfoCategory.ALL_SUD}))], wanted).refusal
        == Refusal.COUNSELING_NOTES_CONSENT
    )
    assert decide([notes], wanted).consent_key == "n"
    # ... and that consent covers nothing else.
    assert not decide([notes], ask()).allowed


def test_emergency_to_medical_personnel_needs_no_consent():
    decision = decide([], ask(emergency=EmergencyFacts("County ER", "unresponsive after overdose")))
    assert decision.allowed and decision.basis == Basis.MEDICAL_EMERGENCY


def test_draft_checks_name_each_element():
    draft = rules.ConsentDraft(
        kind=ConsentKind.SPECIFIC,
        purposes=frozenset(),
        categories=frozenset(),
        information_description="",
        recipient_names=(),
        recipient_classes=frozenset(),
        disclosing_party="",
        revocation_statement="",
        expires_on=None,
        expiry_event="",
        redisclosure_statement="",
        irrevocable_until=date(2030, 1, 1),
        today=date(2026, 1, 1),
    )
    errors = rules.consent_errors(draft)
    assert set(errors) == {
        "disclosing_party",
        "categories",
        "information_description",
        "recipient_names",
        "purposes",
        "revocation_statement",
        "expires_on",
        "irrevocable_until",
    }


def test_irrevocable_criminal_justice_consent():
    cj = consent(kind=ConsentKind.CRIMINAL_JUSTICE, irrevocable_until=date(2026, 9, 1))
    assert "2026-09-01" in (rules.may_revoke(cj, T0) or "")
    assert rules.may_revoke(cj, datetime(2026, 9, 2, tzinfo=UTC)) is None


def test_accounting_period_is_at_most_three_years():
    now = datetime(2028, 2, 29, 10, tzinfo=UTC)
    start, problem = rules.accounting_start(now, None)
    assert start == datetime(2025, 2, 28, 10, tzinfo=UTC) and problem is None
    assert rules.accounting_start(now, date(2020, 1, 1))[1]
    assert rules.accounting_start(now, date(2027, 1, 1)) == (datetime(2027, 1, 1, tzinfo=UTC), None)


# Generated consents and requests ------------------------------------------

names = st.sampled_from(["Eastside Clinic", "County Court", "Blue Plan", "Sam Doe"])
categories = st.frozensets(st.sampled_from(list(InfoCategory)), max_size=3)
instants = st.integers(min_value=0, max_value=400).map(lambda d: T0 + timedelta(days=d))


@st.composite
def consents(draw, key: str | None = None) -> ConsentFacts:
    kind = draw(st.sampled_from(list(ConsentKind)))
    signed = draw(st.none() | instants)
    revoked = draw(st.none() | instants) if signed else None
    return ConsentFacts(
        key=key or draw(st.uuids()).hex,
        kind=kind,
        purposes=draw(st.frozensets(st.sampled_from(list(Purpose)), min_size=1)),
        categories=frozenset({InfoCategory.COUNSELING_NOTES})
        if kind == ConsentKind.COUNSELING_NOTES
        else draw(categories),
        recipient_names=draw(st.frozensets(names, max_size=2)),
        recipient_classes=draw(st.frozensets(st.sampled_from(list(RecipientClass)), max_size=2)),
        signed_at=signed,
        expires_on=draw(st.none() | instants.map(lambda t: t.date())),
        expiry_event="end of treatment",
        revoked_at=max(revoked, signed) if revoked and signed else None,
    )


@st.composite
def requests(draw) -> ReleaseRequest:
    return ReleaseRequest(
        recipient_name=draw(names),
        recipient_class=draw(st.sampled_from(list(RecipientClass))),
        purpose=draw(st.sampled_from(list(Purpose))),
        categories=draw(categories),
        at=draw(instants),
        emergency=draw(
            st.none()
            | st.builds(
                EmergencyFacts, st.sampled_from(["", "ER"]), st.sampled_from(["", "overdose"])
            )
        ),
        court_order=draw(
            st.none()
            | st.builds(
                CourtOrderFacts, st.sampled_from(["", "CR-1"]), st.sampled_from(["", "Court"])
            )
        ),
    )


def _justified(
    all_consents: list[ConsentFacts], request: ReleaseRequest, decision: rules.Decision
) -> None:
    """An allowed decision always stands on a court order, a documented emergency to
    medical personnel, or one consent active at that instant that covers it all."""
    assert decision.allowed
    if decision.basis == Basis.COURT_ORDER:
        assert request.court_order is not None and request.court_order.reference.strip()
        assert request.court_order.court.strip()
        assert request.purpose == Purpose.LEGAL_PROCEEDING
        assert InfoCategory.COUNSELING_NOTES not in request.categories
    elif decision.basis == Basis.MEDICAL_EMERGENCY:
        assert (
            request.emergency is not None
            and request.recipient_class == RecipientClass.TREATING_PROVIDER
        )
        assert InfoCategory.COUNSELING_NOTES not in request.categories
    else:
        assert request.purpose != Purpose.LEGAL_PROCEEDING
        used = next(c for c in all_consents if c.key == decision.consent_key)
        assert consent_state(used, request.at) == ConsentState.ACTIVE
        assert request.purpose in used.purposes
        assert rules.covers(used, request)
        if InfoCategory.COUNSELING_NOTES in request.categories:
            assert used.kind == ConsentKind.COUNSELING_NOTES


@settings(max_examples=400)
@given(st.lists(consents(), max_size=4), requests())
def test_no_release_without_a_basis(all_consents, request):
    decision = decide(all_consents, request)
    if decision.allowed:
        _justified(all_consents, request, decision)
    else:
        assert decision.refusal is not None and decision.reason


@settings(max_examples=300)
@given(st.lists(consents(), max_size=3), consents(), requests())
def test_adding_a_consent_never_turns_an_allow_into_a_refusal(all_consents, extra, request):
    if decide(all_consents, request).allowed:
        assert decide([*all_consents, extra], request).allowed


@given(st.lists(consents(), max_size=3), requests())
def test_legal_proceedings_only_with_a_court_order(all_consents, request):
    decision = decide(all_consents, request)
    if request.purpose == Purpose.LEGAL_PROCEEDING and decision.allowed:
        assert decision.basis == Basis.COURT_ORDER


class ConsentHistory(RuleBasedStateMachine):
    """Grant, use, expire, revoke, emergency and court order, with time moving forward."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.consents: dict[str, ConsentFacts] = {}
        self.stopped: dict[str, datetime] = {}

    @rule(data=st.data())
    def grant(self, data):
        c = data.draw(consents(key=f"c{len(self.consents)}"))
        c = ConsentFacts(
            **{
                **c.__dict__,
                "signed_at": self.now,
                "revoked_at": None,
                "expires_on": None
                if c.expires_on is None
                else self.now.date() + timedelta(days=30),
            }
        )
        self.consents[c.key] = c

    @rule(days=st.integers(min_value=0, max_value=60))
    def time_passes(self, days):
        self.now += timedelta(days=days, minutes=1)

    @precondition(lambda self: self.consents)
    @rule(data=st.data())
    def revoke(self, data):
        key = data.draw(st.sampled_from(sorted(self.consents)))
        c = self.consents[key]
        if c.revoked_at is None:
            self.consents[key] = ConsentFacts(**{**c.__dict__, "revoked_at": self.now})
            self.stopped[key] = self.now

    @precondition(lambda self: self.consents)
    @rule(data=st.data())
    def expiry_event(self, data):
        key = data.draw(st.sampled_from(sorted(self.consents)))
        c = self.consents[key]
        if c.expiry_event_at is None:
            self.consents[key] = ConsentFacts(**{**c.__dict__, "expiry_event_at": self.now})
            self.stopped.setdefault(key, self.now)

    @rule(request=requests())
    def use(self, request):
        request = ReleaseRequest(**{**request.__dict__, "at": self.now})
        decision = decide(list(self.consents.values()), request)
        if decision.allowed:
            _justified(list(self.consents.values()), request, decision)
            if decision.basis == Basis.CONSENT:
                # Revoked or expired never covers a later release.
                assert decision.consent_key not in self.stopped

    @invariant()
    def stopped_consents_stay_stopped(self):
        for key in self.stopped:
            assert consent_state(self.consents[key], self.now) in (
                ConsentState.REVOKED,
                ConsentState.EXPIRED,
            )


TestConsentHistory = ConsentHistory.TestCase
TestConsentHistory.settings = settings(max_examples=60, stateful_step_count=30)
