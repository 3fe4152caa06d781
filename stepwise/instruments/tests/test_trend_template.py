"""The trend fragment renders accessible SVG with no inline styles (strict CSP)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Engine
from django.utils import translation

from stepwise.instruments.trend import TrendBand, TrendChart, TrendPoint, build_trend

from .test_trend import COWS_BANDS, START

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def render(chart: TrendChart) -> str:
    # Loaded by path: the fragment must not depend on the app being installed. A bare
    # Engine has no tag libraries; the project's engine has l10n built in.
    engine = Engine(dirs=[str(TEMPLATES)], libraries={"l10n": "django.templatetags.l10n"})
    template = engine.get_template("instruments/_trend.html")
    return template.render(Context({"chart": chart}))


@pytest.fixture
def chart() -> TrendChart:
    return build_trend(
        [
            TrendPoint(START, 14, episode="Episode 1", entered_by="R. Nurse"),
            TrendPoint(START + timedelta(hours=2), 44, in_error=True, entered_by="R. Nurse"),
            TrendPoint(START + timedelta(hours=4), 9, episode="Episode 1"),
            TrendPoint(START + timedelta(days=3), 30, episode="Episode 2", label="<b>"),
        ],
        maximum=48,
        bands=COWS_BANDS,
        series_name="COWS",
    )


def test_the_svg_is_an_image_labelled_by_its_title_and_description(chart):
    html = render(chart)
    svg = re.search(r"<svg[^>]*>", html)
    assert svg is not None
    assert 'role="img"' in svg.group()
    assert 'aria-labelledby="trend-cows-title"' in svg.group()
    assert 'aria-describedby="trend-cows-desc"' in svg.group()
    assert '<title id="trend-cows-title">COWS over time</title>' in html
    desc = re.search(r'<desc id="trend-cows-desc">(.*?)</desc>', html)
    assert desc is not None
    assert "3 readings" in desc.group(1)
    assert "Latest 30 (moderately severe)" in desc.group(1)
    assert "Range 9 to 30 of a possible 48" in desc.group(1)


def test_one_marker_with_a_tooltip_per_valid_reading(chart):
    html = render(chart)
    markers = re.findall(r'<circle class="trend-point[^"]*"[^>]*><title>([^<]*)</title>', html)
    assert markers == [
        "COWS 14 (moderate) on 27 Nov 2026 14:05",
        "COWS 9 (mild) on 27 Nov 2026 18:05",
        "COWS 30 (moderately severe) on 30 Nov 2026 14:05: &lt;b&gt;",
    ]
    assert html.count('class="trend-line"') == 1
    assert html.count('class="trend-episode"') == 1
    assert html.count('class="trend-band band-') == len(COWS_BANDS)
    assert "band-top" in html


def test_the_table_strikes_through_a_reading_entered_in_error(chart):
    html = render(chart)
    assert "<summary>Show the readings as a table</summary>" in html
    headings = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', html)
    assert headings == ["Observed", "Score", "Band", "Entered by", "Episode"]
    rows = re.findall(r"<tr(?: class=\"([^\"]*)\")?>\s*<td>", html)
    assert rows == ["", "in-error", "", ""]
    struck = re.search(r'<tr class="in-error">(.*?)</tr>', html, re.S)
    assert struck is not None
    assert "<s>44</s>" in struck.group(1)
    assert "entered in error" in struck.group(1)
    assert "<s>R. Nurse</s>" in struck.group(1)


def test_no_inline_styles_or_scripts(chart):
    html = render(chart)
    assert "style=" not in html
    assert "<style" not in html
    assert "<script" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no event handler attributes


def test_coordinates_keep_a_decimal_point_in_a_comma_locale(chart, settings):
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override("de"):
        html = render(chart)
    first = chart.markers[0]
    assert f'cx="{first.x}" cy="{first.y}"' in html
    assert "," not in "".join(re.findall(r'\s(?:x|y|cx|cy|width|height)="([^"]*)"', html))


def test_baseline_and_a_single_reading_render():
    chart = build_trend(
        [TrendPoint(START.astimezone(ZoneInfo("UTC")), 20)],
        maximum=64,
        series_name="SOWS",
        baseline=30,
    )
    html = render(chart)
    assert 'class="trend-baseline"' in html
    assert ">baseline 30</text>" in html
    assert html.count('<circle class="trend-point') == 1
    assert 'class="trend-line"' not in html  # one point: nothing to join
    assert "style=" not in html


def test_no_valid_readings_shows_the_summary_and_the_table_only():
    chart = build_trend(
        [TrendPoint(START, 3, in_error=True)],
        maximum=10,
        bands=(TrendBand(0, 10, "any", "any"),),
        series_name="Craving",
    )
    html = render(chart)
    assert "<svg" not in html
    assert "No Craving readings." in html
    assert '<tr class="in-error">' in html
