"""A patient's responses to one instrument as a trend chart (trend.py lays it out)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence

from stepwise.instruments.engine import Instrument
from stepwise.instruments.models import Assessment
from stepwise.instruments.trend import TrendBand, TrendChart, TrendPoint, build_trend


def trend_chart_for(
    instrument: Instrument, rows: Sequence[Assessment], time_zone: str
) -> TrendChart:
    zone = zoneinfo.ZoneInfo(time_zone)
    current = [r for r in rows if not r.in_error]
    # Bands that depend on a fact (AUDIT-C by sex) follow the latest response.
    context = current[-1].context if current else {}
    bands = [TrendBand(b.low, b.high, b.label, b.code) for b in instrument.bands_for(context)]
    # Read against the first response of the latest episode, as the form and the
    # response page do (or of the whole record when responses have no episode).
    latest_episode = current[-1].episode_id if current else None
    in_episode = [r for r in current if r.episode_id == latest_episode]
    baseline = in_episode[0].total if in_episode and instrument.reads_against_baseline else None
    points = [
        TrendPoint(
            observed_at=r.observed_at.astimezone(zone),
            value=r.total if r.total is not None else 0,
            episode=f"Episode from {r.episode.admitted_at:%Y-%m-%d}" if r.episode else "",
            in_error=r.in_error,
            entered_by=r.entered_by.get_full_name() or r.entered_by.username,
            band_label=r.band_label,
        )
        for r in rows
    ]
    return build_trend(
        points,
        maximum=instrument.maximum or 1,
        series_name=instrument.short_name,
        bands=bands,
        baseline=baseline,
        chart_id=f"trend-{instrument.code}",
    )
