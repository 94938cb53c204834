"""Small server-side SVG charts. They draw numbers the engine computed and compute none themselves.

Every chart is an accessible figure: the ``<svg>`` has ``role="img"`` with a ``<title>`` and a ``<desc>`` that
says in words what the bars show, and a data table with the same numbers follows it (inside ``<details>``, so a
phone screen stays short). A chart object renders itself in a template with ``{{ chart }}``.

Colours are presentation attributes, so the charts need no stylesheet and print as they look on screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from onaboard.clinical import MIN_RECORDED_DAYS, PERIOD_DAYS, PeriodSummary

__all__ = [
    "HeadacheDaysChart",
    "PeriodBar",
    "ScorePoint",
    "ScoreTrendChart",
    "SessionMark",
    "headache_days_chart",
    "score_trend_chart",
]

WIDTH = 520
HEIGHT = 280
LEFT, RIGHT, TOP, BOTTOM = 34, 10, 30, 50
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
BAR_GAP = 0.14
"""Share of each period's width left empty on either side of its bar."""
MAX_X_LABELS = 7
"""With more periods than this, every other period is labelled under the axis (the table lists them all)."""

INK = "#1b1f24"
MUTED = "#5b6470"
GRID = "#d5dae1"
BAR = "#0b5cad"
SESSION_RECORDED = "#b3261e"
SESSION_BOOKED = "#9a5b00"

SVG_NS = "http://www.w3.org/2000/svg"
EN_DASH = "\N{EN DASH}"


def _num(value: float) -> str:
    """A coordinate with at most one decimal, no trailing zeros."""
    text = f"{value:.1f}"
    return text.removesuffix(".0")


def _day(value: date) -> str:
    return date_format(value, "j M")


def _full_day(value: date) -> str:
    return date_format(value, "j M Y")


@dataclass(frozen=True, slots=True)
class SessionMark:
    """An injection session to mark on a chart: recorded (given) or booked."""

    date: date
    recorded: bool

    @property
    def text(self) -> str:
        status = _("given") if self.recorded else _("booked")
        return f"{_full_day(self.date)} ({status})"


@dataclass(frozen=True, slots=True)
class PeriodBar:
    """One 28-day period as the chart shows it, taken from the engine's ``PeriodSummary``."""

    start: date
    end: date
    headache_days: int | None
    """None when no day of the period was recorded: a gap, never a headache-free period."""
    days_recorded: int
    complete: bool
    sessions: tuple[SessionMark, ...]
    running: bool = False
    """The period has not ended (today falls in it): its count is of the days recorded so far."""

    @classmethod
    def of(cls, period: PeriodSummary, sessions: Sequence[SessionMark], *, today: date | None = None) -> PeriodBar:
        return cls(
            start=period.start,
            end=period.end,
            headache_days=period.headache_days if period.days_recorded else None,
            days_recorded=period.days_recorded,
            complete=period.complete,
            sessions=tuple(s for s in sessions if period.start <= s.date <= period.end),
            # in progress while days are still to come: a period ending today with all its days recorded is done
            running=today is not None and period.start <= today <= period.end and period.days_recorded < PERIOD_DAYS,
        )

    @property
    def span(self) -> str:
        return f"{_day(self.start)} {EN_DASH} {_day(self.end)}"

    @property
    def value_text(self) -> str:
        if self.headache_days is None:
            return _("not recorded")
        text = ngettext("%(count)d headache day", "%(count)d headache days", self.headache_days) % {
            "count": self.headache_days
        }
        if self.running:
            text += " " + _("(in progress: %(recorded)d of %(total)d days recorded so far)") % {
                "recorded": self.days_recorded,
                "total": PERIOD_DAYS,
            }
        elif not self.complete:
            text += " " + _("(only %(recorded)d of %(total)d days recorded)") % {
                "recorded": self.days_recorded,
                "total": PERIOD_DAYS,
            }
        return text


@dataclass(frozen=True, slots=True)
class HeadacheDaysChart:
    """Headache days per 28-day period as bars, with injection sessions marked as vertical lines."""

    title: str
    bars: tuple[PeriodBar, ...]
    other_sessions: tuple[SessionMark, ...]
    """Sessions outside the charted periods (a session booked ahead, say): listed under the chart."""
    html_id: str = "headache-days-chart"
    """Prefix of the ids inside the SVG, unique per page."""

    @property
    def description(self) -> str:
        if not self.bars:
            return _("No 28-day period to show yet.")
        parts = [f"{bar.span}: {bar.value_text}" for bar in self.bars]
        text = _("Headache days in each 28-day period, oldest first. ") + "; ".join(parts) + "."
        sessions = [s.text for bar in self.bars for s in bar.sessions]
        if sessions:
            text += " " + _("Injection sessions: %(sessions)s.") % {"sessions": ", ".join(sessions)}
        return text

    def svg(self) -> SafeString:
        return mark_safe(_headache_svg(self))  # noqa: S308 - every text in it is escaped by _headache_svg

    def table(self) -> SafeString:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td class='num'>{}</td><td class='num'>{}</td><td>{}</td></tr>",
            (
                (
                    bar.span,
                    EN_DASH if bar.headache_days is None else bar.headache_days,
                    f"{bar.days_recorded} / {PERIOD_DAYS}",
                    ", ".join(s.text for s in bar.sessions),
                )
                for bar in self.bars
            ),
        )
        return format_html(
            "<div class='table-wrap'><table><caption class='muted small'>{}</caption><thead><tr>"
            "<th scope='col'>{}</th><th scope='col' class='num'>{}</th><th scope='col' class='num'>{}</th>"
            "<th scope='col'>{}</th></tr></thead><tbody>{}</tbody></table></div>",
            self.title,
            _("28-day period"),
            _("Headache days"),
            _("Days recorded"),
            _("Injection sessions"),
            rows,
        )

    def __html__(self) -> SafeString:
        # A booked session is drawn only inside a charted period (one booked ahead is listed under the chart), so
        # the legend names the dashed line only when the chart has one.
        booked = ""
        if any(not s.recorded for bar in self.bars for s in bar.sessions):
            booked = format_html(
                "<li><span aria-hidden='true' style='color:{}'>┆</span> {}</li>",
                SESSION_BOOKED,
                _("injection session booked"),
            )
        legend = format_html(
            "<ul class='muted small' style='list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.2rem 1rem'>"
            "<li><span aria-hidden='true' style='display:inline-block;width:.9em;height:.9em;background:{}'></span> {}"
            "</li><li><span aria-hidden='true' style='display:inline-block;width:.9em;height:.9em;border:1px dashed {};"
            "background:repeating-linear-gradient(45deg,{} 0 2px,#fff 2px 5px)'></span> {}</li>"
            "<li><span aria-hidden='true' style='color:{}'>│</span> {}</li>{}</ul>",
            BAR,
            _("headache days"),
            BAR,
            BAR,
            _("fewer than %(min)d of %(total)d days recorded: the count may be low")
            % {"min": MIN_RECORDED_DAYS, "total": PERIOD_DAYS},
            SESSION_RECORDED,
            _("injection session given"),
            booked,
        )
        later = ""
        if self.other_sessions:
            later = format_html(
                "<p class='small'>{} {}</p>",
                _("Sessions outside the chart:"),
                ", ".join(s.text for s in self.other_sessions),
            )
        return format_html(
            "<figure class='chart' style='margin:0'>{}{}{}<details><summary>{}</summary>{}</details></figure>",
            self.svg(),
            legend,
            later,
            _("Show the numbers as a table"),
            self.table(),
        )

    def __str__(self) -> str:
        return self.__html__()


def headache_days_chart(
    periods: Sequence[PeriodSummary],
    sessions: Sequence[SessionMark],
    *,
    title: str,
    html_id: str = "headache-days-chart",
    today: date | None = None,
) -> HeadacheDaysChart:
    """The chart of these engine periods (any order; drawn oldest first) with these sessions marked; with ``today``,
    the period it falls in is drawn as in progress (framed as one part-recorded, and said so), however many of its
    days are recorded so far: its count is not yet the period's."""
    ordered = sorted(periods, key=lambda p: p.start)
    bars = tuple(PeriodBar.of(period, sessions, today=today) for period in ordered)
    inside = {s for bar in bars for s in bar.sessions}
    others = tuple(sorted((s for s in sessions if s not in inside), key=lambda s: s.date))
    return HeadacheDaysChart(title=title, bars=bars, other_sessions=others, html_id=html_id)


VALUE_SIZE = 15
"""Font size of the count written above each bar."""


def _bar_value(centre: str, top: float, value: int) -> str:
    """A bar's count just above it, on a white rectangle that hides the grid lines behind the figures.

    A rectangle, not a white halo stroke under the text: the halo needs ``paint-order``, which WeasyPrint ignores,
    so in the PDFs it was painted over the figures and hid them. The rectangle is sized from the font (a bold figure
    is at most 0.62 of its size wide, and rises at most 0.75 of it above the baseline) and stops 1 unit above the
    bar."""
    digits = len(str(value))
    width = digits * VALUE_SIZE * 0.62 + 4
    baseline = top - 4
    rise = VALUE_SIZE * 0.75 + 2
    return (
        f'<rect class="bar-value-backdrop" x="{_num(float(centre) - width / 2)}" y="{_num(baseline - rise)}" '
        f'width="{_num(width)}" height="{_num(rise + 3)}" fill="#fff"/>'
        f'<text class="bar-value" x="{centre}" y="{_num(baseline)}" font-size="{VALUE_SIZE}" font-weight="600" '
        f'text-anchor="middle" fill="{INK}">{value}</text>'
    )


def _headache_svg(chart: HeadacheDaysChart) -> str:
    """The SVG document for the chart (well-formed XML, so tests can parse it)."""
    ids = escape(chart.html_id)
    out: list[str] = [
        (
            f'<svg xmlns="{SVG_NS}" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" style="max-width:640px" '
            f'aria-labelledby="{ids}-title {ids}-desc" class="chart-svg" font-family="system-ui, sans-serif">'
        ),
        f'<title id="{ids}-title">{escape(chart.title)}</title>',
        f'<desc id="{ids}-desc">{escape(chart.description)}</desc>',
        (
            f'<defs><pattern id="{ids}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/>'
            f'<rect width="2.5" height="6" fill="{BAR}"/></pattern></defs>'
        ),
    ]

    def y_of(value: float) -> float:
        return TOP + PLOT_HEIGHT * (1 - value / PERIOD_DAYS)

    out.append(f'<text x="{LEFT}" y="{TOP - 14}" font-size="14" fill="{MUTED}">{escape(_("Headache days"))}</text>')
    for tick in range(0, PERIOD_DAYS + 1, 7):
        y = _num(y_of(tick))
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y}" dy="4" font-size="14" text-anchor="end" fill="{MUTED}">{tick}</text>')
    if not chart.bars:
        out.append(
            f'<text x="{LEFT + PLOT_WIDTH / 2}" y="{TOP + PLOT_HEIGHT / 2}" font-size="14" text-anchor="middle" '
            f'fill="{MUTED}">{escape(_("No diary yet"))}</text></svg>'
        )
        return "".join(out)

    first = chart.bars[0].start
    total_days = (chart.bars[-1].end - first).days + 1

    def x_of(day: date, fraction: float = 0.0) -> float:
        return LEFT + PLOT_WIDTH * ((day - first).days + fraction) / total_days

    baseline = y_of(0)
    label_every = 1 if len(chart.bars) <= MAX_X_LABELS else 2
    # Label the most recent period always, stepping back from it.
    labelled = set(range(len(chart.bars) - 1, -1, -label_every))
    for i, bar in enumerate(chart.bars):
        band_start, band_end = x_of(bar.start), x_of(bar.end, 1.0)
        gap = (band_end - band_start) * BAR_GAP
        x, width = band_start + gap, band_end - band_start - 2 * gap
        centre = _num(band_start + (band_end - band_start) / 2)
        data = (
            f'data-start="{bar.start.isoformat()}" data-end="{bar.end.isoformat()}" '
            f'data-days-recorded="{bar.days_recorded}"'
        )
        if bar.headache_days is None:
            out.append(
                f'<g class="gap" {data}><rect x="{_num(x)}" y="{TOP}" width="{_num(width)}" height="{PLOT_HEIGHT}" '
                f'fill="none" stroke="{GRID}" stroke-dasharray="4 3"/>'
                f'<text transform="translate({centre} {_num(TOP + PLOT_HEIGHT / 2)}) rotate(-90)" font-size="14" '
                f'text-anchor="middle" fill="{MUTED}">{escape(_("not recorded"))}</text></g>'
            )
        else:
            top = y_of(bar.headache_days)
            fill = BAR if bar.complete else f"url(#{ids}-hatch)"
            if not bar.complete or bar.running:
                # The period's days not recorded, as the frame of a gap over the bar: a running period with no
                # headache day yet is an open frame over its 0, never a plain 0 that reads as a headache-free month.
                out.append(
                    f'<rect class="part-recorded" x="{_num(x)}" y="{TOP}" width="{_num(width)}" '
                    f'height="{PLOT_HEIGHT}" fill="none" stroke="{BAR}" stroke-dasharray="4 3"/>'
                )
            out.append(
                f'<rect class="bar" {data} data-headache-days="{bar.headache_days}" '
                f'data-complete="{"yes" if bar.complete else "no"}" data-running="{"yes" if bar.running else "no"}" '
                f'x="{_num(x)}" y="{_num(top)}" '
                f'width="{_num(width)}" height="{_num(baseline - top)}" fill="{fill}" stroke="{BAR}">'
                f"<title>{escape(bar.span)}: {escape(bar.value_text)}</title></rect>"
            )
            out.append(_bar_value(centre, top, bar.headache_days))
        if i in labelled:
            out.append(
                f'<text x="{centre}" y="{_num(baseline + 18)}" font-size="14" text-anchor="middle" '
                f'fill="{MUTED}">{escape(_day(bar.start))}</text>'
            )
    out.append(
        f'<text x="{LEFT + PLOT_WIDTH / 2}" y="{HEIGHT - 8}" font-size="14" text-anchor="middle" fill="{MUTED}">'
        f"{escape(_('28-day periods, by first day'))}</text>"
    )
    for session in (s for bar in chart.bars for s in bar.sessions):
        x = _num(x_of(session.date, 0.5))
        colour = SESSION_RECORDED if session.recorded else SESSION_BOOKED
        dash = "" if session.recorded else ' stroke-dasharray="5 4"'
        out.append(
            f'<g class="session" data-date="{session.date.isoformat()}" '
            f'data-status="{"recorded" if session.recorded else "booked"}">'
            f"<title>{escape(_('Injection session'))} {escape(session.text)}</title>"
            f'<line x1="{x}" x2="{x}" y1="{TOP - 4}" y2="{_num(baseline)}" stroke="{colour}" stroke-width="2"{dash}/>'
            f'<path d="M{x} {TOP - 4} l-5 -7 h10 z" fill="{colour}"/></g>'
        )
    out.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_num(baseline)}" y2="{_num(baseline)}" stroke="{INK}"/></svg>'
    )
    return "".join(out)


# --- Score trends (HIT-6, MIDAS) ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScorePoint:
    """One questionnaire total on a day, with the band the engine gave it."""

    date: date
    total: int
    band: str


@dataclass(frozen=True, slots=True)
class ScoreTrendChart:
    """Totals of one questionnaire over time as a line, with the band cut-points drawn as faint lines."""

    title: str
    points: tuple[ScorePoint, ...]
    low: int
    high: int
    cut_points: tuple[int, ...]

    @property
    def description(self) -> str:
        if not self.points:
            return _("No answers yet.")
        parts = [f"{_full_day(p.date)}: {p.total} ({p.band})" for p in self.points]
        return _("Totals over time, oldest first. ") + "; ".join(parts) + "."

    def svg(self) -> SafeString:
        return mark_safe(_trend_svg(self))  # noqa: S308 - every text in it is escaped by _trend_svg

    def __html__(self) -> SafeString:
        return format_html("<figure class='chart' style='margin:0'>{}</figure>", self.svg())

    def __str__(self) -> str:
        return self.__html__()


def score_trend_chart(
    points: Sequence[ScorePoint], *, title: str, low: int, high: int, cut_points: Sequence[int] = ()
) -> ScoreTrendChart:
    """A small trend of questionnaire totals (any order; drawn oldest first) on a fixed ``low..high`` scale."""
    ordered = tuple(sorted(points, key=lambda p: p.date))
    top = max([high, *(p.total for p in ordered)])
    return ScoreTrendChart(title=title, points=ordered, low=low, high=top, cut_points=tuple(cut_points))


TREND_WIDTH, TREND_HEIGHT = 320, 120
TREND_LEFT, TREND_RIGHT, TREND_TOP, TREND_BOTTOM = 56, 12, 10, 22
"""The margins; the left one holds two columns of scale labels (``TREND_LABEL_GAP``)."""
TREND_LABEL_SIZE = 12
"""Font size of a trend's scale and date labels in viewBox units: 12 to 13 px on a phone or a tablet, 17 px at the
chart's widest (28rem)."""
TREND_LABEL_COLUMN = 26
"""How far left of the first column of scale labels the second one stands: room for three digits."""
TREND_LEADER_CLEARANCE = 6
"""Least vertical distance from a label of the first column at which a second-column label's dotted leader is drawn
(a closer leader would cross that label's figures)."""
TREND_LABEL_GAP = TREND_LABEL_SIZE + 2
"""Least vertical distance between two scale labels in the same column, so they never touch. A label closer than this
to one already drawn beside the axis is drawn in a second column further left (HIT-6's 56, 4 points below 60; MIDAS's
6, 5 above 0), so every band's line is named, on the scale's side and never beside a point, where it would read as
that point's total; only a label that fits in neither column is left off (its grid line stays)."""


def _trend_svg(chart: ScoreTrendChart) -> str:
    plot_width = TREND_WIDTH - TREND_LEFT - TREND_RIGHT
    plot_height = TREND_HEIGHT - TREND_TOP - TREND_BOTTOM
    span = max(chart.high - chart.low, 1)

    def y_of(value: float) -> float:
        return TREND_TOP + plot_height * (1 - (value - chart.low) / span)

    out = [
        (
            f'<svg xmlns="{SVG_NS}" viewBox="0 0 {TREND_WIDTH} {TREND_HEIGHT}" width="100%" role="img" '
            'class="trend-svg" font-family="system-ui, sans-serif" style="max-width:28rem">'
        ),
        f"<title>{escape(chart.title)}</title><desc>{escape(chart.description)}</desc>",
    ]
    inner: list[float] = []
    outer: list[float] = []
    for value in sorted({chart.low, *chart.cut_points, chart.high}):
        y = y_of(value)
        out.append(
            f'<line x1="{TREND_LEFT}" x2="{TREND_WIDTH - TREND_RIGHT}" y1="{_num(y)}" y2="{_num(y)}" stroke="{GRID}"/>'
        )
        # No label on top of another: one that would touch a label beside the axis goes to the second column.
        for column, x in ((inner, TREND_LEFT - 4), (outer, TREND_LEFT - 4 - TREND_LABEL_COLUMN)):
            if all(abs(y - other) >= TREND_LABEL_GAP for other in column):
                column.append(y)
                out.append(
                    f'<text x="{x}" y="{_num(y)}" dy="4" font-size="{TREND_LABEL_SIZE}" text-anchor="end" '
                    f'fill="{MUTED}">{value}</text>'
                )
                if column is outer and all(abs(y - other) >= TREND_LEADER_CLEARANCE for other in inner):
                    out.append(  # a dotted leader joins it to its line, where it passes clear of the first column
                        f'<line class="leader" x1="{x + 2}" x2="{TREND_LEFT}" y1="{_num(y)}" y2="{_num(y)}" '
                        f'stroke="{GRID}" stroke-dasharray="2 2"/>'
                    )
                break
    if chart.points:
        first, last = chart.points[0].date, chart.points[-1].date
        days = (last - first).days

        def x_of(day: date) -> float:
            if days == 0:
                return TREND_LEFT + plot_width / 2
            return TREND_LEFT + plot_width * (day - first).days / days

        coords = [(x_of(p.date), y_of(p.total)) for p in chart.points]
        if len(coords) > 1:
            path = " ".join(f"{_num(x)},{_num(y)}" for x, y in coords)
            out.append(f'<polyline points="{path}" fill="none" stroke="{BAR}" stroke-width="2"/>')
        for point, (x, y) in zip(chart.points, coords, strict=True):
            out.append(
                f'<circle class="point" data-date="{point.date.isoformat()}" data-total="{point.total}" '
                f'cx="{_num(x)}" cy="{_num(y)}" r="4" fill="{BAR}"><title>{escape(_full_day(point.date))}: '
                f"{point.total} ({escape(point.band)})</title></circle>"
            )
        ends = [chart.points[0]] if days == 0 else [chart.points[0], chart.points[-1]]
        for point, anchor in zip(ends, ("start", "end"), strict=False):
            x = x_of(point.date) if days else TREND_LEFT + plot_width / 2
            out.append(
                f'<text x="{_num(x)}" y="{TREND_HEIGHT - 6}" font-size="{TREND_LABEL_SIZE}" '
                f'text-anchor="{"middle" if days == 0 else anchor}" fill="{MUTED}">{escape(_day(point.date))}</text>'
            )
    out.append("</svg>")
    return "".join(out)
