"""Trend charts of instrument scores over time: geometry only.

Pure Python, no Django: `build_trend` turns readings into coordinates, tick labels
and text, and the template `instruments/_trend.html` draws them as an inline SVG.
No JavaScript and no inline styles, so the page keeps a strict CSP; every shade
comes from CSS classes in `instruments/trend.css`.

Times are formatted in each datetime's own zone: the caller converts readings to
the facility's zone first, so the chart reads the same as the rest of the chart.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
BAND_SHADES = 5  # band-0 .. band-4 in trend.css
MARKER_RADIUS = 4.0
# Keeps markers at the first and last reading clear of the axis and the frame.
X_PAD = 10.0
# Roughly the width one x tick label needs, so labels never overlap.
X_TICK_SPACING = 90.0
MAX_Y_INTERVALS = 6


@dataclass(frozen=True)
class TrendPoint:
    observed_at: datetime  # aware; formatted in its own zone
    value: int
    label: str = ""  # a note shown in the marker's tooltip ("after dose")
    episode: str = ""
    in_error: bool = False
    entered_by: str = ""
    band_label: str = ""  # as scored at the time; else looked up in the bands


@dataclass(frozen=True)
class TrendBand:
    low: int
    high: int | None  # None: no upper end (reaches the instrument's maximum)
    label: str
    code: str


@dataclass(frozen=True)
class Margins:
    top: float
    right: float
    bottom: float
    left: float


@dataclass(frozen=True)
class PlotArea:
    x0: float
    y0: float  # top
    x1: float
    y1: float  # bottom: a score of 0

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def tick_end(self) -> float:
        # Where the x axis's tick marks end (templates cannot do arithmetic on floats).
        return self.y1 + 4


@dataclass(frozen=True)
class YTick:
    value: int
    y: float
    label: str


@dataclass(frozen=True)
class XTick:
    x: float
    label: str
    sublabel: str = ""  # the date or year, on a second line, when it changes
    iso: str = ""


@dataclass(frozen=True)
class BandRect:
    x: float
    y: float
    width: float
    height: float
    low: int
    high: int | None
    label: str
    code: str
    shade: int  # 0..4, alternating so neighbouring bands always differ
    severe: bool  # the highest band: drawn red-ish
    label_y: float
    show_label: bool  # False when the band is too thin for its label

    @property
    def css_class(self) -> str:
        classes = f"trend-band band-{self.shade} band-{self.code}"
        return f"{classes} band-top" if self.severe else classes


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    value: int
    label: str
    band_label: str
    band_code: str
    title: str
    iso: str
    severe: bool = False  # in the highest band: drawn red-ish

    @property
    def css_class(self) -> str:
        classes = f"trend-point band-{self.band_code}" if self.band_code else "trend-point"
        return f"{classes} band-top" if self.severe else classes


@dataclass(frozen=True)
class EpisodeLine:
    x: float
    label: str  # the episode that starts here


@dataclass(frozen=True)
class RefLine:
    value: int
    y: float
    label: str


@dataclass(frozen=True)
class TrendRow:
    observed: str
    value: int
    band_label: str
    entered_by: str
    episode: str
    in_error: bool
    observed_iso: str = ""


@dataclass(frozen=True)
class TrendChart:
    id: str
    series_name: str
    title: str
    summary: str
    width: int
    height: int
    maximum: int
    margins: Margins
    plot: PlotArea
    y_ticks: tuple[YTick, ...]
    x_ticks: tuple[XTick, ...]
    bands: tuple[BandRect, ...]
    line_points: str  # SVG polyline `points`, valid readings in time order
    markers: tuple[Marker, ...]
    episodes: tuple[EpisodeLine, ...]
    baseline: RefLine | None
    thresholds: tuple[RefLine, ...]
    rows: tuple[TrendRow, ...]  # every reading, in error or not, in time order
    marker_radius: float = MARKER_RADIUS

    @property
    def title_id(self) -> str:
        return f"{self.id}-title"

    @property
    def desc_id(self) -> str:
        return f"{self.id}-desc"

    @property
    def latest(self) -> Marker | None:
        return self.markers[-1] if self.markers else None

    @property
    def has_line(self) -> bool:
        return len(self.markers) > 1

    @property
    def latest_dy(self) -> int:
        # The latest value is written above its marker, or below it near the top edge.
        latest = self.latest
        return -8 if latest is None or latest.y - self.plot.y0 >= 14 else 16


def _r(value: float) -> float:
    # One decimal is finer than a pixel and keeps the markup short.
    return round(value, 1)


def format_moment(moment: datetime) -> str:
    """`27 Nov 2026 14:05`, without strftime's locale-dependent month names."""
    return f"{format_day(moment.date())} {moment.year} {moment:%H:%M}"


def format_day(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}"


def _band_for(value: int, bands: Sequence[TrendBand]) -> TrendBand | None:
    for band in bands:
        if value >= band.low and (band.high is None or value <= band.high):
            return band
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "series"


def _nice_step(maximum: int) -> int:
    magnitude = 1
    while True:
        for multiple in (1, 2, 5):
            step = multiple * magnitude
            if maximum // step <= MAX_Y_INTERVALS:
                return step
        magnitude *= 10


def _y_ticks(maximum: int, to_y: Callable[[float], float]) -> tuple[YTick, ...]:
    step = _nice_step(maximum)
    values = list(range(0, maximum + 1, step))
    # Show the scale's own maximum too when it is not crowded by the last step.
    if values[-1] != maximum and (maximum - values[-1]) * 2 >= step:
        values.append(maximum)
    return tuple(YTick(v, _r(to_y(v)), str(v)) for v in values)


def _band_rects(
    bands: Sequence[TrendBand], maximum: int, plot: PlotArea, to_y: Callable[[float], float]
) -> tuple[BandRect, ...]:
    ordered = sorted((b for b in bands if b.low <= maximum), key=lambda b: b.low)
    # Edges sit half-way between one band's high and the next band's low, so every
    # whole score falls inside its band and neighbouring rectangles share an edge.
    edges: list[float] = []
    for i, band in enumerate(ordered):
        if i == 0:
            edges.append(max(0.0, band.low - 0.5))
        else:
            previous_high = ordered[i - 1].high
            top = band.low - 0.5 if previous_high is None else (previous_high + band.low) / 2
            edges.append(min(max(0.0, top), float(maximum)))
    last_high = ordered[-1].high if ordered else None
    edges.append(float(maximum) if last_high is None else min(float(maximum), last_high + 0.5))

    rects: list[BandRect] = []
    for i, band in enumerate(ordered):
        y_top = _r(to_y(edges[i + 1]))
        y_bottom = _r(to_y(edges[i]))
        height = _r(y_bottom - y_top)
        if height <= 0:
            continue
        rects.append(
            BandRect(
                x=plot.x0,
                y=y_top,
                width=_r(plot.width),
                height=height,
                low=band.low,
                high=band.high,
                label=band.label,
                code=_slug(band.code),
                shade=i % BAND_SHADES,
                severe=len(ordered) > 1 and i == len(ordered) - 1,
                label_y=_r(y_top + height / 2 + 4),
                show_label=height >= 14,
            )
        )
    return tuple(rects)


# Calendar steps from finest to coarsest; the first that fits the width is used.
_STEPS: tuple[tuple[str, int, float], ...] = (
    ("hour", 1, 3600),
    ("hour", 2, 7200),
    ("hour", 3, 10800),
    ("hour", 6, 21600),
    ("hour", 12, 43200),
    ("day", 1, 86400),
    ("day", 2, 172800),
    ("week", 1, 604800),
    ("week", 2, 1209600),
    ("week", 4, 2419200),
    ("month", 1, 2629746),
    ("month", 2, 5259492),
    ("month", 3, 7889238),
    ("month", 6, 15778476),
    ("year", 1, 31556952),
    ("year", 2, 63113904),
    ("year", 5, 157784760),
    ("year", 10, 315569520),
    ("year", 50, 1577847600),
)


def _calendar_ticks(lo: datetime, hi: datetime, unit: str, step: int) -> Iterator[datetime]:
    """Wall-clock boundaries (whole hours, midnights, Mondays, firsts of the month,
    New Year) in lo's zone between lo and hi, aligned so the same moment is always a
    tick whatever the range."""
    tz: tzinfo | None = lo.tzinfo
    start, end = lo.timestamp(), hi.timestamp()
    day0 = lo.date()

    def candidates() -> Iterator[datetime]:
        if unit == "hour":
            k = lo.hour - lo.hour % step
            while True:
                day = day0 + timedelta(days=k // 24)
                yield datetime(day.year, day.month, day.day, k % 24, tzinfo=tz)
                k += step
        elif unit in ("day", "week"):
            days = step if unit == "day" else 7 * step
            ordinal = day0.toordinal()
            # Ordinal 1 (1 Jan 0001) is a Monday, so this aligns weeks on Mondays.
            ordinal -= (ordinal - 1) % days
            while True:
                day = date.fromordinal(ordinal)
                yield datetime(day.year, day.month, day.day, tzinfo=tz)
                ordinal += days
        elif unit == "month":
            months = lo.year * 12 + lo.month - 1
            months -= months % step
            while True:
                yield datetime(months // 12, months % 12 + 1, 1, tzinfo=tz)
                months += step
        else:
            year = max(1, lo.year - lo.year % step)
            while year <= 9999:
                yield datetime(year, 1, 1, tzinfo=tz)
                year += step

    for moment in candidates():
        stamp = moment.timestamp()
        if stamp > end:
            return
        if stamp >= start:
            yield moment


def _label_ticks(moments: Sequence[datetime], unit: str) -> list[tuple[str, str]]:
    """(label, sublabel) per tick; the sublabel gives the day or year only where it
    changes, so the axis stays uncluttered but is never ambiguous."""
    labels: list[tuple[str, str]] = []
    previous: datetime | None = None
    for moment in moments:
        day = format_day(moment.date())
        new_year = previous is None or previous.year != moment.year
        if unit in ("hour", "moment"):
            if previous is None:
                sub = f"{day} {moment.year}"
            else:
                sub = day if previous.date() != moment.date() else ""
            labels.append((f"{moment:%H:%M}", sub))
        elif unit == "year":
            labels.append((str(moment.year), ""))
        elif unit == "month":
            labels.append((MONTHS[moment.month - 1], str(moment.year) if new_year else ""))
        else:
            labels.append((day, str(moment.year) if new_year else ""))
        previous = moment
    return labels


def _x_ticks(
    first: datetime, last: datetime, plot: PlotArea, to_x: Callable[[datetime], float]
) -> tuple[XTick, ...]:
    tz = last.tzinfo
    lo, hi = first.astimezone(tz), last
    span = hi.timestamp() - lo.timestamp()
    max_ticks = max(2, int(plot.width // X_TICK_SPACING))
    moments: list[datetime] = []
    unit = "moment"
    if span > 0:
        for step_unit, step, seconds in _STEPS:
            if span / seconds > max_ticks + 1:
                continue  # certainly too many: skip without generating them
            found = list(_calendar_ticks(lo, hi, step_unit, step))
            if len(found) <= max_ticks:
                if len(found) >= 2:
                    moments, unit = found, step_unit
                break
    if not moments:
        # A short span with fewer than two boundaries in it: label its two ends.
        moments = [lo, hi] if span > 0 else [hi]
        unit = "moment" if span < 2 * 86400 else "day"
    labels = _label_ticks(moments, unit)
    return tuple(
        XTick(_r(to_x(m)), label, sub, m.isoformat())
        for m, (label, sub) in zip(moments, labels, strict=True)
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _summary(
    series: str, valid: Sequence[TrendPoint], errors: int, maximum: int, bands: Sequence[TrendBand]
) -> str:
    if not valid:
        text = f"No {series} readings."
    else:
        first, last = valid[0], valid[-1]
        band = last.band_label or (b.label if (b := _band_for(last.value, bands)) else "")
        latest = f"{last.value} ({band})" if band else str(last.value)
        values = [p.value for p in valid]
        if len(valid) == 1:
            span = f"1 reading, on {format_moment(first.observed_at)}."
        else:
            span = (
                f"{len(valid)} readings from {format_moment(first.observed_at)} "
                f"to {format_moment(last.observed_at)}."
            )
        text = (
            f"{span} Latest {latest} on {format_moment(last.observed_at)}. "
            f"Range {min(values)} to {max(values)} of a possible {maximum}."
        )
    if errors:
        text += f" {_plural(errors, 'reading')} entered in error not drawn."
    return text


def build_trend(
    points: Sequence[TrendPoint],
    *,
    maximum: int,
    series_name: str = "Score",
    bands: Sequence[TrendBand] = (),
    baseline: int | None = None,
    thresholds: Sequence[tuple[int, str]] = (),
    width: int = 640,
    height: int = 220,
    chart_id: str = "",
) -> TrendChart:
    """Lay out a trend chart of `points` on a 0..maximum scale.

    Readings entered in error are left out of every shape (they still appear, struck
    through, in `rows`). A single reading, or readings all at the same moment, sit in
    the middle of the time axis. `chart_id` must be unique on the page (it names the
    SVG's title and description); it defaults to one made from the series name.
    """
    if maximum <= 0:
        raise ValueError("maximum must be positive")
    for point in points:
        if point.observed_at.utcoffset() is None:
            # A naive time cannot be placed in the facility's day; refuse to guess.
            raise ValueError(f"observed_at must be aware: {point.observed_at!r}")

    margins = Margins(top=10, right=12, bottom=34, left=36)
    plot = PlotArea(
        x0=margins.left,
        y0=margins.top,
        x1=width - margins.right,
        y1=height - margins.bottom,
    )

    def to_y(value: float) -> float:
        clamped = min(max(value, 0.0), float(maximum))
        return plot.y1 - clamped / maximum * plot.height

    # A stable sort: readings at the same moment keep the order they were given in.
    ordered = sorted(points, key=lambda p: p.observed_at.timestamp())
    valid = [p for p in ordered if not p.in_error]

    # Timestamps, not datetime subtraction: within one zone Python subtracts wall
    # clocks, which is an hour out across a DST change.
    start = valid[0].observed_at.timestamp() if valid else 0.0
    span = valid[-1].observed_at.timestamp() - start if valid else 0.0

    def to_x(moment: datetime) -> float:
        if span <= 0:  # one reading, or all at one moment: the middle, no division
            return (plot.x0 + plot.x1) / 2
        return plot.x0 + X_PAD + (moment.timestamp() - start) / span * (plot.width - 2 * X_PAD)

    x_ticks: tuple[XTick, ...] = ()
    if valid:
        x_ticks = _x_ticks(valid[0].observed_at, valid[-1].observed_at, plot, to_x)

    ranked = sorted(bands, key=lambda b: b.low)
    top_band = ranked[-1] if len(ranked) > 1 else None
    markers: list[Marker] = []
    for point in valid:
        band = _band_for(point.value, bands)
        band_label = point.band_label or (band.label if band else "")
        title = f"{series_name} {point.value}"
        if band_label:
            title += f" ({band_label})"
        title += f" on {format_moment(point.observed_at)}"
        if point.label:
            title += f": {point.label}"
        markers.append(
            Marker(
                x=_r(to_x(point.observed_at)),
                y=_r(to_y(point.value)),
                value=point.value,
                label=point.label,
                band_label=band_label,
                band_code=_slug(band.code) if band else "",
                title=title,
                iso=point.observed_at.isoformat(),
                severe=band is not None and band == top_band,
            )
        )

    episodes = tuple(
        EpisodeLine(_r((markers[i - 1].x + markers[i].x) / 2), valid[i].episode)
        for i in range(1, len(valid))
        if valid[i].episode != valid[i - 1].episode
    )

    rows = tuple(
        TrendRow(
            observed=format_moment(p.observed_at),
            value=p.value,
            band_label=p.band_label or (b.label if (b := _band_for(p.value, bands)) else ""),
            entered_by=p.entered_by,
            episode=p.episode,
            in_error=p.in_error,
            observed_iso=p.observed_at.isoformat(),
        )
        for p in ordered
    )

    return TrendChart(
        id=chart_id or f"trend-{_slug(series_name)}",
        series_name=series_name,
        title=f"{series_name} over time",
        summary=_summary(series_name, valid, len(ordered) - len(valid), maximum, bands),
        width=width,
        height=height,
        maximum=maximum,
        margins=margins,
        plot=plot,
        y_ticks=_y_ticks(maximum, to_y),
        x_ticks=x_ticks,
        bands=_band_rects(bands, maximum, plot, to_y),
        line_points=" ".join(f"{m.x},{m.y}" for m in markers),
        markers=tuple(markers),
        episodes=episodes,
        baseline=(
            RefLine(baseline, _r(to_y(baseline)), "baseline") if baseline is not None else None
        ),
        thresholds=tuple(RefLine(v, _r(to_y(v)), label) for v, label in thresholds),
        rows=rows,
    )
