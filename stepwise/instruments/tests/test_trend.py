"""Trend chart geometry: pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from stepwise.instruments.trend import TrendBand, TrendChart, TrendPoint, build_trend

NEW_YORK = ZoneInfo("America/New_York")
START = datetime(2026, 11, 27, 14, 5, tzinfo=NEW_YORK)

COWS_BANDS = (
    TrendBand(0, 4, "below mild", "below_mild"),
    TrendBand(5, 12, "mild", "mild"),
    TrendBand(13, 24, "moderate", "moderate"),
    TrendBand(25, 36, "moderately severe", "moderately_severe"),
    TrendBand(37, None, "severe", "severe"),
)


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def cows(points: list[TrendPoint], chart_id: str = "") -> TrendChart:
    return build_trend(points, maximum=48, bands=COWS_BANDS, series_name="COWS", chart_id=chart_id)


def test_zero_is_at_the_bottom_and_the_maximum_at_the_top():
    chart = cows([TrendPoint(at(0), 0), TrendPoint(at(1), 48), TrendPoint(at(2), 24)])
    bottom, top, middle = (m.y for m in chart.markers)
    assert bottom == chart.plot.y1
    assert top == chart.plot.y0
    assert middle == pytest.approx((chart.plot.y0 + chart.plot.y1) / 2, abs=0.1)


def test_values_outside_the_scale_are_clamped_to_the_plot():
    chart = cows([TrendPoint(at(0), -3), TrendPoint(at(1), 99)])
    assert [m.y for m in chart.markers] == [chart.plot.y1, chart.plot.y0]


def test_bands_are_stacked_without_gaps_from_zero_to_the_maximum():
    chart = cows([TrendPoint(at(0), 14)])
    rects = chart.bands
    assert [r.code for r in rects] == [
        "below-mild",
        "mild",
        "moderate",
        "moderately-severe",
        "severe",
    ]
    assert rects[0].y + rects[0].height == pytest.approx(chart.plot.y1, abs=0.11)
    # Higher bands are higher up: each one's bottom edge is the previous one's top.
    for lower, upper in pairwise(rects):
        assert upper.y + upper.height == pytest.approx(lower.y, abs=0.11)
    assert all(r.x == chart.plot.x0 and r.width == chart.plot.width for r in rects)
    assert [r.shade for r in rects] == [0, 1, 2, 3, 4]
    assert "trend-band band-2 band-moderate" in rects[2].css_class
    assert "band-top" in rects[-1].css_class
    assert "band-top" not in rects[0].css_class


def test_the_open_top_band_reaches_the_maximum():
    chart = cows([TrendPoint(at(0), 40)])
    assert chart.bands[-1].high is None
    assert chart.bands[-1].y == chart.plot.y0


def test_every_whole_score_is_drawn_inside_its_own_band():
    chart = cows([TrendPoint(at(h), v) for h, v in enumerate(range(49))])
    for marker in chart.markers:
        band = next(b for b in chart.bands if marker.band_label == b.label)
        assert band.y < marker.y < band.y + band.height or marker.y in (
            chart.plot.y0,
            chart.plot.y1,
        )


def test_bands_beyond_the_maximum_are_clipped_or_dropped():
    bands = (
        TrendBand(0, 5, "low", "low"),
        TrendBand(6, 20, "high", "high"),
        TrendBand(21, None, "off the scale", "off"),
    )
    chart = build_trend([TrendPoint(at(0), 3)], maximum=10, bands=bands)
    assert [r.code for r in chart.bands] == ["low", "high"]
    assert chart.bands[-1].y == chart.plot.y0
    assert chart.bands[0].y + chart.bands[0].height == pytest.approx(chart.plot.y1, abs=0.11)


def test_band_rectangles_lie_within_the_plot():
    chart = cows([TrendPoint(at(0), 14)])
    for rect in chart.bands:
        assert chart.plot.y0 <= rect.y
        assert rect.y + rect.height <= chart.plot.y1 + 0.11
        assert rect.height > 0


def test_the_line_runs_in_time_order_whatever_order_the_points_came_in():
    chart = cows([TrendPoint(at(2), 30), TrendPoint(at(0), 10), TrendPoint(at(1), 20)])
    assert [m.value for m in chart.markers] == [10, 20, 30]
    xs = [float(pair.split(",")[0]) for pair in chart.line_points.split()]
    assert xs == sorted(xs)
    assert len(xs) == 3
    assert chart.line_points == " ".join(f"{m.x},{m.y}" for m in chart.markers)
    assert chart.markers[0].x == chart.plot.x0 + 10
    assert chart.markers[-1].x == chart.plot.x1 - 10


def test_time_is_placed_by_the_instant_not_the_wall_clock_across_dst():
    # 1 Nov 2026: New York falls back at 02:00, so 00:30 to 03:30 is four hours.
    night = datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK)
    chart = cows(
        [
            TrendPoint(night, 10),
            TrendPoint(night.astimezone(UTC) + timedelta(hours=2), 12),
            TrendPoint(datetime(2026, 11, 1, 3, 30, tzinfo=NEW_YORK), 14),
        ]
    )
    first, middle, last = (m.x for m in chart.markers)
    assert middle - first == pytest.approx(last - middle, abs=0.2)


def test_in_error_points_are_left_out_of_the_drawing_but_kept_in_the_rows():
    chart = cows(
        [
            TrendPoint(at(0), 10, entered_by="R. Nurse"),
            TrendPoint(at(1), 44, in_error=True, entered_by="R. Nurse"),
            TrendPoint(at(2), 14),
        ]
    )
    assert [m.value for m in chart.markers] == [10, 14]
    assert len(chart.line_points.split()) == 2
    assert all("44" not in m.title for m in chart.markers)
    assert [(r.value, r.in_error) for r in chart.rows] == [(10, False), (44, True), (14, False)]
    assert chart.rows[1].band_label == "severe"
    assert chart.rows[1].entered_by == "R. Nurse"
    assert "1 reading entered in error" in chart.summary


def test_points_in_error_do_not_stretch_the_time_axis():
    chart = cows(
        [TrendPoint(at(0), 10), TrendPoint(at(1), 12), TrendPoint(at(50), 9, in_error=True)]
    )
    assert chart.markers[-1].x == chart.plot.x1 - 10


def test_a_single_point_sits_in_the_middle():
    chart = cows([TrendPoint(START, 14)])
    (marker,) = chart.markers
    assert marker.x == pytest.approx((chart.plot.x0 + chart.plot.x1) / 2)
    assert chart.line_points == f"{marker.x},{marker.y}"
    assert not chart.has_line
    assert len(chart.x_ticks) == 1
    assert chart.x_ticks[0].x == marker.x
    assert chart.summary.startswith("1 reading, on 27 Nov 2026 14:05.")


def test_points_at_one_moment_do_not_divide_by_zero():
    chart = cows([TrendPoint(START, 14), TrendPoint(START, 20), TrendPoint(START, 8)])
    assert len({m.x for m in chart.markers}) == 1
    # Same moment: the order given is kept.
    assert [m.value for m in chart.markers] == [14, 20, 8]


def test_no_valid_points_gives_an_empty_drawing():
    chart = cows([TrendPoint(START, 14, in_error=True)])
    assert chart.markers == ()
    assert chart.line_points == ""
    assert chart.x_ticks == ()
    assert chart.latest is None
    assert len(chart.rows) == 1
    assert chart.summary.startswith("No COWS readings.")


def test_an_episode_boundary_is_drawn_between_readings_of_different_episodes():
    chart = cows(
        [
            TrendPoint(at(0), 10, episode="Episode 1"),
            TrendPoint(at(1), 12, episode="Episode 1"),
            TrendPoint(at(5), 20, episode="Episode 2"),
            TrendPoint(at(6), 22, episode="Episode 2"),
        ]
    )
    (boundary,) = chart.episodes
    assert boundary.label == "Episode 2"
    assert chart.markers[1].x < boundary.x < chart.markers[2].x


def test_no_episode_boundary_within_one_episode():
    chart = cows([TrendPoint(at(h), 10, episode="E") for h in range(4)])
    assert chart.episodes == ()


@pytest.mark.parametrize("maximum", [1, 3, 10, 21, 27, 48, 64, 100])
def test_y_ticks_are_whole_numbers_increasing_within_the_scale(maximum: int):
    chart = build_trend([TrendPoint(START, 0)], maximum=maximum)
    values = [t.value for t in chart.y_ticks]
    assert values[0] == 0
    assert all(isinstance(v, int) for v in values)
    assert all(0 <= v <= maximum for v in values)
    assert values == sorted(set(values))
    ys = [t.y for t in chart.y_ticks]
    assert all(chart.plot.y0 <= y <= chart.plot.y1 for y in ys)
    assert ys == sorted(ys, reverse=True)
    assert 2 <= len(values) <= 8


@pytest.mark.parametrize(
    ("span", "first_label"),
    [
        (timedelta(minutes=40), "14:05"),
        (timedelta(hours=6), "15:00"),
        (timedelta(days=1, hours=6), "18:00"),
        (timedelta(days=5), "28 Nov"),
        (timedelta(days=20), "30 Nov"),  # Mondays
        (timedelta(days=400), "Jan"),
        (timedelta(days=3650), "2028"),
    ],
)
def test_x_ticks_are_increasing_and_within_the_plot(span: timedelta, first_label: str):
    chart = cows([TrendPoint(START, 10), TrendPoint(START + span, 20)])
    xs = [t.x for t in chart.x_ticks]
    assert len(xs) >= 2
    assert xs == sorted(set(xs))
    first, last = chart.markers[0].x, chart.markers[-1].x
    assert all(first <= x <= last for x in xs)
    assert chart.x_ticks[0].label == first_label
    # Ticks are at least as far apart as their labels are wide.
    assert all(b - a >= 60 for a, b in pairwise(xs))


def test_x_tick_labels_name_the_year_where_it_changes():
    chart = cows([TrendPoint(START, 10), TrendPoint(START + timedelta(days=80), 20)])
    subs = [t.sublabel for t in chart.x_ticks]
    assert subs[0] == "2026"
    assert "2027" in subs
    assert subs.count("") == len(subs) - 2


def test_labels_use_the_datetimes_own_zone():
    moment = datetime(2026, 11, 27, 19, 5, tzinfo=UTC)
    local = cows([TrendPoint(moment.astimezone(NEW_YORK), 14)])
    utc = cows([TrendPoint(moment, 14)])
    assert local.markers[0].title == "COWS 14 (moderate) on 27 Nov 2026 14:05"
    assert utc.markers[0].title == "COWS 14 (moderate) on 27 Nov 2026 19:05"
    assert local.rows[0].observed == "27 Nov 2026 14:05"


def test_a_recorded_band_label_wins_over_the_lookup_and_notes_are_in_the_title():
    chart = cows([TrendPoint(START, 14, label="after dose", band_label="Moderate (v1)")])
    assert chart.markers[0].title == "COWS 14 (Moderate (v1)) on 27 Nov 2026 14:05: after dose"
    assert chart.rows[0].band_label == "Moderate (v1)"


def test_without_bands_the_title_has_no_band():
    chart = build_trend([TrendPoint(START, 20)], maximum=64, series_name="SOWS", baseline=30)
    assert chart.bands == ()
    assert chart.markers[0].title == "SOWS 20 on 27 Nov 2026 14:05"
    assert "Latest 20 on" in chart.summary


def test_baseline_is_a_horizontal_line_at_its_score():
    chart = build_trend([TrendPoint(START, 20)], maximum=64, series_name="SOWS", baseline=32)
    assert chart.baseline is not None
    assert chart.baseline.label == "baseline"
    assert chart.baseline.y == pytest.approx((chart.plot.y0 + chart.plot.y1) / 2, abs=0.1)
    assert build_trend([TrendPoint(START, 2)], maximum=10).baseline is None


def test_thresholds_are_placed_on_the_scale():
    chart = build_trend(
        [TrendPoint(START, 2)], maximum=10, thresholds=[(10, "ceiling"), (0, "floor")]
    )
    assert [(t.label, t.y) for t in chart.thresholds] == [
        ("ceiling", chart.plot.y0),
        ("floor", chart.plot.y1),
    ]


def test_the_top_band_marks_its_points_severe():
    chart = cows([TrendPoint(at(0), 40), TrendPoint(at(1), 10)])
    assert [m.severe for m in chart.markers] == [True, False]
    assert "band-top" in chart.markers[0].css_class


def test_summary_names_count_latest_band_and_range():
    chart = cows([TrendPoint(at(0), 30), TrendPoint(at(1), 8), TrendPoint(at(2), 14)])
    assert chart.summary == (
        "3 readings from 27 Nov 2026 14:05 to 27 Nov 2026 16:05. "
        "Latest 14 (moderate) on 27 Nov 2026 16:05. Range 8 to 30 of a possible 48."
    )


def test_ids_come_from_the_series_name_unless_given():
    assert cows([]).title_id == "trend-cows-title"
    assert cows([], chart_id="cows-2").desc_id == "cows-2-desc"


def test_naive_times_and_an_empty_scale_are_refused():
    with pytest.raises(ValueError, match="aware"):
        cows([TrendPoint(datetime(2026, 11, 27, 14, 5), 14)])  # noqa: DTZ001
    with pytest.raises(ValueError, match="maximum"):
        build_trend([], maximum=0)
