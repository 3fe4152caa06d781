"""The admissions metrics: each figure exactly, in the organization's zone (Riverside
is in America/New_York: UTC-5 in winter, UTC-4 in summer), a fixed number of
queries, who may read them, and the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
import time_machine
from django.utils import timezone

from stepwise.core.errors import AccessDenied, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.intake.metrics import (
    METRICS_QUERIES,
    admissions_metrics,
    build_bar_chart,
    parse_period,
)
from stepwise.intake.models import Inquiry, WaitlistEntry
from stepwise.intake.services.admission import inquiry_admit
from stepwise.intake.services.inquiries import CallDetails, call_details_update, inquiry_conclude
from stepwise.intake.services.inquiries import inquiry_start as start_call
from stepwise.intake.services.places import place_hold
from stepwise.intake.services.screening import ScreenAnswers, screening_record
from stepwise.intake.services.waitlist import waitlist_add, waitlist_leave

# Monday 6 to Sunday 12 January 2025, in New York (EST, UTC-5).
WEEK = (date(2025, 1, 6), date(2025, 1, 12))
AFTER_WEEK = datetime(2025, 1, 13, 17, 0, tzinfo=UTC)
NAMES = count(1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def desk(cast):
    return cast.new_member("admissions")


def call(actor, received_at: datetime, *, source: int = -9) -> Inquiry:
    """A call with the person's name and birth date, so it can lead to an admission."""
    inquiry = start_call(actor, signs=[], received_at=received_at)
    n = next(NAMES)
    return call_details_update(
        actor,
        inquiry,
        CallDetails(
            given_name=f"Caller{n}",
            family_name=f"Person{n}",
            date_of_birth=date(1990, 1, 1) + timedelta(days=n),
            referral_source=source,
        ),
    )


def admit(actor, inquiry: Inquiry, program, at: datetime) -> None:
    with time_machine.travel(at + timedelta(minutes=1), tick=False):
        inquiry_admit(actor, inquiry, program, at=at)


def at_moment(moment: datetime):
    return time_machine.travel(moment, tick=False)


def week_metrics(actor, *, now: datetime = AFTER_WEEK, period=WEEK):
    return admissions_metrics(actor, *period, now=now)


# Calls by hour and day, in the organization's zone.


def test_calls_are_bucketed_by_the_organizations_hour_and_day_across_midnight(cast, desk):
    for moment in [
        "2025-01-06 05:00",  # Mon 00:00 EST: the period's first minute
        "2025-01-06 04:59",  # Sun 5 Jan 23:59 EST: before the period, though 6 Jan in UTC
        "2025-01-07 03:30",  # Mon 22:30 EST, Tuesday in UTC
        "2025-01-08 14:15",  # Wed 09:15
        "2025-01-08 14:45",  # Wed 09:45
        "2025-01-13 04:59",  # Sun 12 Jan 23:59 EST: the period's last minute, Monday in UTC
        "2025-01-13 05:00",  # Mon 13 Jan 00:00 EST: after the period
    ]:
        start_call(desk, signs=[], received_at=utc(moment))

    figures = week_metrics(desk)

    assert figures.time_zone == "America/New_York"
    assert figures.calls == 5
    expected_hours = [0] * 24
    expected_hours[0], expected_hours[9], expected_hours[22], expected_hours[23] = 1, 2, 1, 1
    assert figures.calls_by_hour == tuple(expected_hours)
    assert figures.calls_by_weekday == (2, 0, 2, 0, 0, 0, 1)
    assert [b.count for b in figures.hour_chart.bars] == expected_hours
    assert [b.label for b in figures.weekday_chart.bars] == [
        "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
    ]  # fmt: skip
    assert figures.hour_chart.summary == "5 calls; the most, 2, in 09:00-09:59."
    assert figures.weekday_chart.summary == "5 calls; the most, 2 each, on Monday and Wednesday."


def test_summer_time_moves_the_day_boundary_to_four_hours_after_utc_midnight(cast, desk):
    for moment in ["2025-07-07 03:59", "2025-07-07 04:30", "2025-07-08 03:59"]:
        start_call(desk, signs=[], received_at=utc(moment))

    figures = admissions_metrics(
        desk, date(2025, 7, 7), date(2025, 7, 7), now=utc("2025-07-09 12:00")
    )

    assert figures.calls == 2  # 23:59 EDT on the 6th is the day before
    assert figures.calls_by_hour[0] == 1 and figures.calls_by_hour[23] == 1
    assert figures.calls_by_weekday == (2, 0, 0, 0, 0, 0, 0)


# What became of the calls.


def test_outcome_mix_counts_each_outcome_and_open_calls(cast, desk):
    received = utc("2025-01-07 15:00")
    calls = [call(desk, received + timedelta(minutes=i)) for i in range(10)]
    # calls[0], calls[1]: nothing yet (open)
    inquiry_conclude(desk, calls[2], outcome="information")
    screening_record(
        desk,
        calls[3],
        ScreenAnswers(withdrawal_estimate="mild", ratings=[1] * 6, payer_type="medicaid"),
    )
    place_hold(desk, calls[4], cast.residential, expected_at=timezone.now() + timedelta(hours=2))
    waitlist_add(desk, calls[5], cast.residential)
    inquiry_conclude(
        desk, calls[6], outcome="referred_out", referred_to="Harbor", referral_out_reason="payer"
    )
    inquiry_conclude(desk, calls[7], outcome="no_further_contact", note="Three calls unanswered.")
    admit(desk, calls[8], cast.iop, utc("2025-01-08 15:00"))
    admit(desk, calls[9], cast.iop, utc("2025-01-09 15:00"))

    figures = week_metrics(desk)

    mix = {(s.code, s.label): (s.count, s.share) for s in figures.outcomes}
    assert mix == {
        ("", "Open"): (2, 0.2),
        ("information", "Information given"): (1, 0.1),
        ("screened", "Screened"): (1, 0.1),
        ("scheduled", "Scheduled for admission"): (1, 0.1),
        ("waitlisted", "Waitlisted"): (1, 0.1),
        ("referred_out", "Referred elsewhere"): (1, 0.1),
        ("no_further_contact", "No further contact"): (1, 0.1),
        ("admitted", "Admitted"): (2, 0.2),
    }
    assert figures.outcomes[0].label == "Open"
    assert figures.admitted_calls == 2 and figures.conversion_rate == 0.2


def test_no_calls_share_nothing(cast, desk):
    figures = week_metrics(desk)
    assert figures.calls == 0
    assert all(s.count == 0 and s.share is None for s in figures.outcomes)
    assert figures.conversion_rate is None
    assert figures.hour_chart.summary == "No calls in the period."


# From the call to the admission.


@pytest.fixture
def admissions(cast, desk):
    """Admissions 2, 10, 24, 48 and 100 hours after their call within the week (one
    of them from a call the week before), and one just after the week."""
    for received, hours in [
        ("2025-01-06 14:00", 2),
        ("2025-01-06 15:00", 10),
        ("2025-01-07 10:00", 24),
        ("2025-01-05 12:00", 48),  # called before the period, admitted in it
        ("2025-01-08 00:00", 100),  # admitted Sat 11 Jan 23:00 EST (the 12th in UTC)
        ("2025-01-10 00:00", 77.5),  # admitted Mon 13 Jan 00:30 EST: after the period
    ]:
        inquiry = call(desk, utc(received))
        admit(desk, inquiry, cast.iop, utc(received) + timedelta(hours=hours))


def test_time_to_admission_median_and_90th_percentile(admissions, desk):
    timing = week_metrics(desk).time_to_admission

    assert timing.count == 5
    assert timing.median_hours == 24.0
    assert timing.p90_hours == 100.0  # nearest rank: the 5th of 5
    assert timing.median_days == 1.0
    assert timing.p90_days == pytest.approx(100 / 24)


def test_time_to_admission_of_an_even_count_takes_the_middle_two(admissions, desk):
    # Up to Friday 10 January: the admission of Saturday night drops out.
    timing = week_metrics(desk, period=(date(2025, 1, 6), date(2025, 1, 10))).time_to_admission

    assert timing.count == 4
    assert timing.median_hours == 17.0  # (10 + 24) / 2
    assert timing.p90_hours == 48.0  # nearest rank: the 4th of 4


def test_time_to_admission_without_admissions(cast, desk):
    timing = week_metrics(desk).time_to_admission
    assert (timing.count, timing.median_hours, timing.p90_hours) == (0, None, None)
    assert timing.median_days is None and timing.p90_days is None


# Conversion by referral source.


def test_conversion_by_referral_source(cast, desk):
    monday = utc("2025-01-06 15:00")
    self_referred = [call(desk, monday + timedelta(hours=i), source=1) for i in range(3)]
    court = [call(desk, monday + timedelta(hours=5 + i), source=7) for i in range(2)]
    call(desk, monday + timedelta(hours=8))  # not recorded
    earlier = call(desk, utc("2025-01-03 15:00"), source=3)  # before the period
    admit(desk, self_referred[0], cast.iop, utc("2025-01-07 12:00"))
    admit(desk, court[0], cast.iop, utc("2025-01-08 12:00"))
    # Admitted after the period: the call of the period still converted.
    admit(desk, court[1], cast.iop, utc("2025-01-15 12:00"))
    admit(desk, earlier, cast.iop, utc("2025-01-07 12:00"))

    rows = {row.code: (row.calls, row.admitted, row.rate) for row in week_metrics(desk).conversion}

    assert rows[1] == (3, 1, pytest.approx(1 / 3))
    assert rows[7] == (2, 2, 1.0)
    assert rows[-9] == (1, 0, 0.0)
    assert rows[3] == (0, 0, None)
    assert list(rows) == [1, 2, 3, 4, 5, 6, 7, -9]  # every TEDS source, in TEDS order
    assert all(rows[code] == (0, 0, None) for code in (2, 4, 5, 6))
    figures = week_metrics(desk)
    assert (figures.calls, figures.admitted_calls, figures.conversion_rate) == (6, 3, 0.5)


# The waitlist.


def test_waitlist_now_in_the_organizations_days_and_exits_in_the_period(cast, desk):
    waiting_a = call(desk, utc("2025-01-08 14:00"))
    waiting_b = call(desk, utc("2025-01-09 14:00"))
    waiting_c = call(desk, utc("2025-01-11 11:00"))
    with at_moment(utc("2025-01-08 15:00")):  # Wed 8th
        waitlist_add(desk, waiting_a, cast.residential)
    with at_moment(utc("2025-01-10 04:30")):  # Thu 9th 23:30 EST, the 10th in UTC
        waitlist_add(desk, waiting_b, cast.residential)
    with at_moment(utc("2025-01-11 12:00")):  # Sat 11th
        waitlist_add(desk, waiting_c, cast.detox)

    referred, lost, admitted, late = (call(desk, utc("2025-01-06 14:00")) for _ in range(4))
    with at_moment(utc("2025-01-06 15:00")):
        for inquiry in (referred, lost, admitted, late):
            waitlist_add(desk, inquiry, cast.residential)
    entry_of = {e.inquiry_id: e for e in WaitlistEntry.objects.all()}
    with at_moment(utc("2025-01-09 15:00")):
        waitlist_leave(
            desk,
            entry_of[referred.pk],
            exit="referred",
            reason="No bed soon",
            referred_to="Harbor",
            referral_out_reason="no_capacity",
        )
    with at_moment(utc("2025-01-13 04:30")):  # Sun 12th 23:30 EST
        waitlist_leave(desk, entry_of[lost.pk], exit="lost_contact", reason="Unreachable")
    admit(desk, admitted, cast.iop, utc("2025-01-10 15:00"))
    with at_moment(utc("2025-01-13 05:30")):  # Mon 13th 00:30 EST: after the period
        waitlist_leave(desk, entry_of[late.pk], exit="lost_contact", reason="Unreachable")

    # Sunday 12 January, 12:00 EST.
    figures = week_metrics(desk, now=utc("2025-01-12 17:00"))

    assert (figures.waitlist.length, figures.waitlist.median_days) == (3, 3)
    assert figures.waitlist.longest_days == 4
    by_program = {
        w.name: (w.length, w.median_days, w.longest_days) for w in figures.waitlist_by_program
    }
    # Residential: since Wed 8th (4 days) and Thu 9th (3, though added on the 10th in UTC).
    assert by_program == {"Detox": (1, 1, 1), "Residential": (2, 3.5, 4)}
    assert [w.name for w in figures.waitlist_by_program] == ["Detox", "Residential"]
    exits = {s.code: (s.count, s.share) for s in figures.waitlist_exits}
    assert exits == {
        "admitted": (1, pytest.approx(1 / 3)),
        "referred": (1, pytest.approx(1 / 3)),
        "lost_contact": (1, pytest.approx(1 / 3)),
    }
    assert figures.waitlist_left == 3


def test_an_empty_waitlist(cast, desk):
    figures = week_metrics(desk)
    assert figures.waitlist.length == 0 and figures.waitlist_by_program == ()
    assert figures.waitlist.median_days is None and figures.waitlist.longest_days is None


# Referrals elsewhere.


def test_referrals_out_by_reason_in_the_period(cast, desk):
    calls = [call(desk, utc("2025-01-06 14:00") + timedelta(minutes=i)) for i in range(5)]

    def refer(inquiry: Inquiry, reason: str, moment: str) -> None:
        with at_moment(utc(moment)):
            inquiry_conclude(
                desk,
                inquiry,
                outcome="referred_out",
                referred_to="Harbor",
                referral_out_reason=reason,
            )

    refer(calls[0], "no_capacity", "2025-01-07 15:00")
    refer(calls[1], "no_capacity", "2025-01-13 04:59")  # Sun 12th 23:59 EST
    refer(calls[2], "payer", "2025-01-08 15:00")
    refer(calls[3], "medical", "2025-01-13 05:00")  # Mon 13th: after the period
    with at_moment(utc("2025-01-08 16:00")):
        inquiry_conclude(desk, calls[4], outcome="information")

    figures = week_metrics(desk)

    reasons = {s.code: (s.count, s.share) for s in figures.referrals_out}
    assert reasons == {
        "level_not_offered": (0, 0.0),
        "no_capacity": (2, pytest.approx(2 / 3)),
        "payer": (1, pytest.approx(1 / 3)),
        "medical": (0, 0.0),
        "psychiatric": (0, 0.0),
        "preference": (0, 0.0),
        "other": (0, 0.0),
    }
    assert figures.referred_out == 3


# A fixed number of queries.


def _busy_line(cast, desk, calls: int) -> None:
    """`calls` calls: admitted, waiting, referred out (from the waitlist) and open,
    in turn, with every referral source."""
    sources = [1, 2, 3, 4, 5, 6, 7, -9]
    programs = [cast.residential, cast.detox, cast.iop]
    for i in range(calls):
        received = utc("2025-01-06 06:00") + timedelta(hours=7 * i)
        inquiry = call(desk, received, source=sources[i % len(sources)])
        if i % 4 == 0:
            admit(desk, inquiry, cast.iop, received + timedelta(hours=3 + i))
        elif i % 4 in (1, 2):
            with at_moment(received + timedelta(minutes=30)):
                entry = waitlist_add(desk, inquiry, programs[i % 3])
            if i % 4 == 2:
                with at_moment(received + timedelta(hours=2)):
                    waitlist_leave(
                        desk,
                        entry,
                        exit="referred",
                        reason="No bed",
                        referred_to="Harbor",
                        referral_out_reason="no_capacity",
                    )


@pytest.mark.parametrize("calls", [2, 20])
def test_the_metrics_take_the_same_number_of_queries_for_2_and_20_calls(
    cast, desk, calls, django_assert_num_queries
):
    _busy_line(cast, desk, calls)
    with django_assert_num_queries(METRICS_QUERIES):
        figures = admissions_metrics(desk, date(2025, 1, 6), date(2025, 1, 12), now=AFTER_WEEK)
    assert METRICS_QUERIES == 7
    assert figures.calls == calls
    assert figures.time_to_admission.count == (calls + 3) // 4
    assert figures.waitlist.length + figures.waitlist_left == calls // 2


# Who may read them.


def test_the_administrator_is_refused(cast):
    with pytest.raises(AccessDenied):
        week_metrics(cast.actors["admin"])
    response = cast.client_for("admin").get("/admissions/metrics/")
    assert response.status_code == 403


def test_another_organization_sees_only_its_own_numbers(cast, desk):
    _busy_line(cast, desk, 4)
    figures = week_metrics(cast.actors["outsider"])
    assert figures.time_zone == "UTC"
    assert figures.calls == 0 and sum(figures.calls_by_hour) == 0
    assert figures.time_to_admission.count == 0
    assert figures.waitlist.length == 0 and figures.waitlist_left == 0
    assert figures.referred_out == 0
    response = cast.client_for("outsider").get(
        "/admissions/metrics/?start=2025-01-06&end=2025-01-12"
    )
    assert response.status_code == 200
    assert response.context["metrics"].calls == 0
    assert week_metrics(desk).calls == 4


def test_the_privacy_officer_may_read_them(cast, desk):
    _busy_line(cast, desk, 4)
    assert week_metrics(cast.actors["readonly"]).calls == 4
    response = cast.client_for("readonly").get(
        "/admissions/metrics/?start=2025-01-06&end=2025-01-12"
    )
    assert response.status_code == 200
    assert response.context["metrics"].calls == 4


# The page.


def test_the_page_draws_both_charts_with_their_tables_and_audits_the_read(cast, desk):
    _busy_line(cast, desk, 8)
    response = cast.client_for("admissions").get(
        "/admissions/metrics/", {"start": "2025-01-06", "end": "2025-01-12"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("<svg ") == 2
    assert 'id="calls-by-hour"' in page and 'id="calls-by-weekday"' in page
    assert page.count('class="metrics-bar"') == len(
        [n for n in (*response.context["metrics"].calls_by_hour,) if n]
    ) + len([n for n in response.context["metrics"].calls_by_weekday if n])
    assert (
        "<caption>Calls by hour of day, 6 Jan 2025 to 12 Jan 2025 (America/New_York)</caption>"
        in page
    )
    assert "<caption>Calls by day of week" in page
    assert "<script" not in page.split("</head>")[1]
    assert ' style="' not in page
    for heading in (
        "How calls ended",
        "From first call to admission",
        "Conversion by referral source",
        "Waitlist",
        "Referrals elsewhere",
    ):
        assert heading in page
    event = AuditEvent.objects.filter(object_type="admissions_metrics").get()
    assert (event.action, event.category, event.patient_public_id) == ("read", "intake", None)
    assert event.actor_username == "admissions"
    assert event.detail == {"start": "2025-01-06", "end": "2025-01-12"}


def test_the_page_defaults_to_the_last_30_days(cast, desk):
    with at_moment(utc("2025-03-01 03:00")):  # still 28 February in New York
        response = cast.client_for("admissions").get("/admissions/metrics/")
    assert response.status_code == 200
    figures = response.context["metrics"]
    assert (figures.start, figures.end) == (date(2025, 1, 30), date(2025, 2, 28))


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"start": "2025-13-01"}, "start", "Start date '2025-13-01' is not a date"),
        ({"start": "2025-01-06", "end": "soon"}, "end", "End date 'soon' is not a date"),
        ({"start": "20250106"}, "start", "Start date: give it as YYYY-MM-DD"),
        (
            {"start": "2025-01-12", "end": "2025-01-06"},
            "start",
            "Start date 2025-01-12 comes after",
        ),
        ({"start": "2023-01-01", "end": "2025-01-06"}, "end", "End date: a period is at most 366"),
        ({"start": "1850-01-01", "end": "2025-01-02"}, "start", "Start date must be in 1900"),
    ],
)
def test_bad_dates_are_refused_on_the_page_naming_the_field(cast, desk, query, field, words):
    response = cast.client_for("admissions").get("/admissions/metrics/", query)
    assert response.status_code == 422
    assert list(response.context["errors"]) == [field]
    page = response.content.decode()
    assert words.replace("'", "&#x27;") in page
    assert "These dates cannot be shown." in page
    assert "<svg " not in page
    assert not AuditEvent.objects.filter(object_type="admissions_metrics").exists()


# The pure parts.


def test_parse_period_fills_in_what_is_missing():
    today = date(2025, 2, 28)
    assert parse_period(None, None, today) == parse_period("", " ", today)
    period = parse_period(None, None, today)
    assert (period.start, period.end, period.days) == (date(2025, 1, 30), today, 30)
    period = parse_period(None, "2025-01-31", today)
    assert (period.start, period.end) == (date(2025, 1, 2), date(2025, 1, 31))
    period = parse_period("2025-02-20", None, today)
    assert (period.start, period.end) == (date(2025, 2, 20), today)
    assert parse_period("2024-01-01", "2024-12-31", today).days == 366


def test_parse_period_reports_both_fields_at_once():
    with pytest.raises(ValidationFailed) as refused:
        parse_period("x", "y", date(2025, 1, 1))
    assert list(refused.value.errors) == ["start", "end"]


def test_bar_chart_geometry():
    chart = build_bar_chart("c", "Calls", "Day", [("A", "a", 0), ("B", "b", 7), ("C", "c", 3)])
    # 7 fits a scale of 0-8 in steps of 2.
    assert [t.value for t in chart.y_ticks] == [0, 2, 4, 6, 8]
    assert chart.y_ticks[0].y == chart.y1 and chart.y_ticks[-1].y == chart.y0
    tall = chart.bars[1]
    assert tall.height == pytest.approx((chart.y1 - chart.y0) * 7 / 8, abs=0.1)
    assert tall.y + tall.height == pytest.approx(chart.y1, abs=0.1)
    assert chart.bars[0].height == 0
    assert tall.title == "b: 7 calls" and chart.bars[2].title == "c: 3 calls"
    assert chart.total == 10
    flat = build_bar_chart("f", "Calls", "Hour", [(str(h), f"hour {h}", 1) for h in range(5)])
    assert flat.summary == "5 calls; the most, 1, in each of 5 hours."
    empty = build_bar_chart("e", "Calls", "Day", [("A", "a", 0)])
    assert [t.value for t in empty.y_ticks] == [0, 1]
