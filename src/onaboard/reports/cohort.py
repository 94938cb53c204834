"""The cohort report as HTML (plots inline as SVG) and as PDF (WeasyPrint, from the same HTML).

Rendering only: every number comes from ``onaboard.cohort.report.CohortReport``, which the cohort rules computed,
so the screen, the file and the terminal cannot disagree. Plots are drawn with matplotlib's object API (no pyplot
state, no display) and embedded as SVG text, with fixed ids and no timestamp, so the same report renders to the
same bytes.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from html import escape
from importlib.resources import files
from pathlib import Path
from string import Template
from textwrap import fill
from typing import Any

from onaboard.clinical import (
    HIT6_RESPONDER_DROP,
    PERIOD_DAYS,
    RESPONDER_30_PERCENT,
    RESPONDER_50_PERCENT,
    WEEK24_PERIOD,
)
from onaboard.cohort.backends import Engine, rows_text
from onaboard.cohort.calibration import calibration
from onaboard.cohort.report import (
    CHANGE_BOUNDS,
    FOLLOW_THE_PAIN_NOT_RECORDED,
    MEAN_INTERVAL_MIN_N,
    MEDIAN_NOT_REACHED,
    SESSIONS_EARLY,
    SESSIONS_FOLLOW_THE_PAIN,
    SESSIONS_ON_TIME,
    STOPPING_REASONS,
    TIME_TO_RESPONSE_PERIODS,
    WEEK24_LAST_DAY,
    WEEK24_NOT_REACHED,
    CohortReport,
    Proportion,
    ReferenceRow,
)

__all__ = [
    "ADVERSE_EVENTS_HEADING",
    "ADVERSE_EVENTS_NOTE",
    "ADVERSE_EVENTS_ON_DAY_NOTE",
    "AS_OF_NOTE",
    "COMPLETERS_HEADING",
    "KAPLAN_MEIER_NOTE",
    "MISSING_AS_NO_RESPONSE_HEADING",
    "NEAR_BY_INTERVAL",
    "NEAR_BY_TOLERANCE",
    "NEAR_NOTE",
    "NOT_RECORDED",
    "OFF",
    "RECORDED_AS_OWN_KIND",
    "RECORDED_TOGETHER",
    "RESPONDERS_NOTE",
    "RESPONSE_PLOT_MIN_AT_RISK",
    "SHARED_RATE",
    "WEEK24_NOT_REACHED_NOTE",
    "WEEK24_NOT_REACHED_WORDS",
    "adverse_event_plot_rows",
    "adverse_event_plot_svg",
    "change_axis_limits",
    "change_plot_svg",
    "engine_text",
    "near_text",
    "render_html",
    "render_pdf",
    "report_sections",
    "response_plot_svg",
    "response_steps_drawn",
]

TEMPLATE = "cohort_report.html"
FIGURE_SIZE_INCHES = (7.0, 3.2)
NO_DATA = "no patient has the data this figure needs"
RESPONSE_PLOT_MIN_AT_RISK = 3
"""The time-to-response curve is drawn up to the last period with at least this many patients at risk: past it one
patient's response moves the Kaplan-Meier share by a third or more (to 100 % with one patient left)."""
FEW_AT_RISK = f"fewer than {RESPONSE_PLOT_MIN_AT_RISK} patients at risk from the first period: no curve is drawn"
NOT_DRAWN = f"fewer than {RESPONSE_PLOT_MIN_AT_RISK} patients at risk: not drawn"
KAPLAN_MEIER_NOTE = (
    "Each share is the Kaplan-Meier estimate: a patient whose diary ends before a response leaves the patients at "
    'risk, so the share can reach 100\u00a0% while some patients never responded; "n of N so far" counts the '
    "responders among all N patients. The curve stops before the first period with fewer than "
    f"{RESPONSE_PLOT_MIN_AT_RISK} patients at risk. The table ends at week 24 (period {TIME_TO_RESPONSE_PERIODS}): "
    f"there NICE TA260 stops patients without a {RESPONDER_30_PERCENT}\u00a0% response, and counting them as "
    "followed no further would take them for patients who might still respond, lifting the share above what was seen."
)
"""Below the time-to-response table of the file and the web page: what the Kaplan-Meier share is and is not."""

AS_OF_NOTE = (
    "As of {as_of}: anything dated after it is left out, and a period that has not ended by then is still running and "
    "is not counted."
)
"""Near the top of the terminal summary, the file and the web page (in its template, for translation) when the report
has an assessment day (``CohortReport.as_of``: ``--as-of``, the clinic's today)."""

NEAR_BY_TOLERANCE = "near (tolerance)"
NEAR_BY_INTERVAL = "near (inside CI)"
OFF = "off"
NEAR_NOTE = (
    f"{NEAR_BY_TOLERANCE}: the cohort's figure is within the tolerance the synthetic cohort is calibrated to (a margin "
    "for a few thousand patients, not a clinical one; for the age range, every age lies inside the published range); "
    f"{NEAR_BY_INTERVAL}: the published figure (or part of its range) lies inside the cohort's 95 % CI, which is wide "
    f"for a small clinic; {OFF}: neither."
)
"""Which rule made a published figure near the cohort's (``ReferenceRow``): one set of words for the terminal summary,
the file and the web page (in its template, for translation), beside ``near_text``'s."""

NOT_RECORDED = "not recorded by the app"
"""An adverse reaction the source has no kind for (``AdverseEventRate.recorded`` False), in place of a rate."""
RECORDED_TOGETHER = "recorded together with {names} as one kind in the app"
"""After the rate of an adverse reaction counted together with other label rows (``recorded_with``)."""
RECORDED_AS_OWN_KIND = "recorded as a kind of the app's own that holds more than this row: not compared with the label"
"""After the rate of an adverse reaction counted from a kind of the source's own that is not the label's row alone
(``AdverseEventRate.recorded_as``: the app's "drooping brow or facial weakness" for facial paresis)."""
SHARED_RATE = "{names}\n(one kind in the app)"
"""The adverse-event plot's name for the rate of label rows recorded as one kind, drawn once."""
SHARED_RATE_WIDTH = 26
"""The longest line of the label rows' names in ``SHARED_RATE``, so a long pair does not narrow the plot."""

WEEK24_NOT_REACHED_WORDS = "not reached"
"""``WEEK24_NOT_REACHED`` as the overuse at week 24 reads it in the file and on the web page (the terminal summary
words each key with its underscores as spaces: the same words)."""
WEEK24_NOT_REACHED_NOTE = (
    f"{WEEK24_NOT_REACHED_WORDS}: week 24 (period {WEEK24_PERIOD}, to day {WEEK24_LAST_DAY} after the first "
    "injection) had not ended by {as_of}, so medication overuse at week 24 is not judged yet."
)
"""Under the overuse table of the file and the web page when the report is made as of a day (``as_of``): what
``WEEK24_NOT_REACHED_WORDS`` counts."""

COMPLETERS_HEADING = "completers: complete baseline and week 24 (95 % CI)"
"""The responders table's column of ``CohortReport.responder_50`` and ``responder_30``: the completers' rates, the
ones the published figures are compared with."""
MISSING_AS_NO_RESPONSE_HEADING = "every complete baseline, a missing week 24 counted as no response (95 % CI)"
"""The responders table's column of ``CohortReport.responder_50_missing_as_non_responder`` and its 30 % twin."""
RESPONDERS_NOTE = (
    "Completers have a complete baseline and a complete week 24; the published figures are compared with their rates. "
    "A patient who dropped out or stopped before week 24, or recorded too few of its days, is not a completer: the "
    "second column counts every patient with a complete baseline whose week 24 is over (on an assessment day: it "
    "ended before the day, or they stopped for an adverse event before it), a missing week 24 as no response."
)
"""Under the responders table of the file and the web page: who the completers are and what the second column adds."""

ADVERSE_EVENTS_HEADING = "cohort: patients followed through week 24 (95 % CI)"
"""The adverse-events table's column of the cohort's rates (``CohortReport.adverse_events``)."""
ADVERSE_EVENTS_NOTE = (
    "The cohort's rates count the patients with the reaction after session 1 or 2 and by week 24's last day (day "
    f"{WEEK24_LAST_DAY} after the first injection), of the patients followed through week 24: here every treated "
    "patient, the diary taken as finished. The discontinuation row counts stops for an adverse event in the same "
    "weeks."
)
"""Under the adverse-events table of a report without an assessment day."""
ADVERSE_EVENTS_ON_DAY_NOTE = (
    "The cohort's rates count the patients with the reaction after session 1 or 2 and by week 24's last day (day "
    f"{WEEK24_LAST_DAY} after the first injection), of the patients followed through week 24: those whose week 24 "
    "had ended by {as_of}, or who stopped for an adverse event before it. A patient still in their first two cycles "
    "is counted in neither. The discontinuation row counts stops for an adverse event in the same weeks."
)
"""Under the adverse-events table of a report made as of a day (``as_of``): who the rates are of."""

_VERDICT_NAMES = {
    "yes": "yes",
    "no": "no",
    "insufficient_data": "insufficient data",
    "met": "met",
    "not_met": "not met",
    "suspected": "suspected",
    "not_suspected": "not suspected",
    "continue": "continue",
    "stop": "stop",
    "not_yet_assessable": "not yet assessable",
    WEEK24_NOT_REACHED: WEEK24_NOT_REACHED_WORDS,
}


_PROM_VISITS = {"baseline": "baseline", "week24": "week 24"}
"""The MIDAS visits as a reader names them (the keys are the JSON's)."""


def engine_text(engine: str) -> str:
    """Where the figures were computed, in words: "computed with DuckDB" (the JSON keeps the value ``duckdb``)."""
    try:
        name = Engine(engine).display_name
    except ValueError:
        name = engine
    return f"computed with {name}"


def _number(value: float | None, digits: int = 1) -> str:
    return "&ndash;" if value is None else f"{value:.{digits}f}"


def near_text(row: ReferenceRow) -> str | None:
    """Which rule made a published figure near the cohort's (``NEAR_BY_TOLERANCE`` first, then
    ``NEAR_BY_INTERVAL``), or ``OFF``; None where neither can be judged."""
    if row.near is None:
        return None
    if row.within_tolerance:
        return NEAR_BY_TOLERANCE
    return NEAR_BY_INTERVAL if row.inside_interval else OFF


def _not_recorded(text: str = NOT_RECORDED) -> _Raw:
    """``NOT_RECORDED`` (or another reason a figure is missing) in a numbers column: words, which may wrap there (the
    column keeps numbers on one line)."""
    return _Raw(f'<span class="words">{escape(text)}</span>')


def _stops_for_adverse_events(report: CohortReport, value: Proportion) -> _Raw:
    """A share of stops for an adverse event, or ``NOT_RECORDED`` where the source records no such decision."""
    if not report.discontinuation_recorded:
        return _not_recorded()
    return _Raw(_proportion(value))


def _follow_the_pain(report: CohortReport) -> _Raw:
    """The share of sessions with follow-the-pain sites, or ``FOLLOW_THE_PAIN_NOT_RECORDED`` where the sessions
    table does not record them (a cohort directory written before the column)."""
    if not report.sessions_follow_the_pain_recorded:
        return _not_recorded(FOLLOW_THE_PAIN_NOT_RECORDED)
    return _Raw(_proportion(report.sessions_follow_the_pain))


def _range(low: float | None, high: float | None) -> str:
    """An interval as ``low to high`` (a dash would read as a minus beside negative changes)."""
    return "&ndash;" if low is None or high is None else f"{_number(low)} to {_number(high)}"


def _proportion(value: Proportion) -> str:
    if value.percent is None:
        return f"{value.count} of {value.total}"
    return f"{value.count} of {value.total}: {value.percent:.1f}&nbsp;% ({_range(value.low, value.high)})"


def _kaplan_meier(value: Proportion) -> str:
    """A Kaplan-Meier share: the estimate and its interval, then the responders so far (not count / total)."""
    if value.percent is None:
        return "&ndash;"
    interval = f" ({_range(value.low, value.high)})" if value.low is not None else ""
    return f"{value.percent:.1f}&nbsp;%{interval}; {value.count} of {value.total} so far"


def _median_onset(response: dict[str, Any]) -> str:
    """The median onset period; "not reached" while under half the eligible patients have responded."""
    if response["median_onset_period"] is not None:
        return f"period {response['median_onset_period']}"
    return MEDIAN_NOT_REACHED if response["eligible"] else "&ndash;"


def _responded_text(response: dict[str, Any]) -> str:
    """Below the time-to-response table: the responders by week 24 among the eligible patients, and those whose first
    response came later (outside the table)."""
    eligible = rows_text(response["eligible"], "patient")
    text = f"{response['responded_through_period']} of {eligible} responded by week 24"
    if response["responded_after"]:
        text += f" ({response['responded_after']} more first responded later)"
    return text


def _table(headings: Sequence[str] | None, rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    """An HTML table (no header row when ``headings`` is None); cells are escaped unless already markup (``_Raw``)."""
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headings or ())
    )
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            text = cell.html if isinstance(cell, _Raw) else escape(str(cell))
            cells.append(f'<td class="num">{text}</td>' if i in numeric else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    thead = f"<thead><tr>{head}</tr></thead>" if head else ""
    return f"<table>{thead}<tbody>{''.join(body)}</tbody></table>"


class _Raw:
    """Markup made here from numbers (never from data text), placed in a table cell as it is."""

    def __init__(self, html: str) -> None:
        self.html = html


def _figure() -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGURE_SIZE_INCHES, layout="constrained")
    return figure, figure.subplots()


_SVG_IDS = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')
"""Every id matplotlib writes and every reference to one (``id="x"``, ``xlink:href="#x"``, ``url(#x)``)."""

PLOT_LABELS = {
    "change": f"Mean change in headache days per {PERIOD_DAYS}-day period after the first injection, with 95 % "
    f"intervals (none for fewer than {MEAN_INTERVAL_MIN_N} patients; cut at {CHANGE_BOUNDS[0]:g} and "
    f"{CHANGE_BOUNDS[1]:+g} days, the most a period can change)",
    "response": f"Kaplan-Meier share of patients with {RESPONDER_30_PERCENT} % fewer headache days, by period after "
    f"the first injection up to week 24 (period {TIME_TO_RESPONSE_PERIODS}; "
    f"not drawn from the first period with fewer than {RESPONSE_PLOT_MIN_AT_RISK} patients at risk)",
    "adverse": "Each label adverse reaction: the cohort's rate with its 95 % interval among the patients followed "
    "through week 24, beside the label's percentage; label rows recorded as one kind are drawn once, without a label "
    "percentage (the label gives none for them together), a row recorded as a kind of the app's own holding more "
    "than it is drawn without the label's percentage, and rows not recorded are left out",
}
"""What each plot shows, as the SVG's accessible name (its text is drawn as paths, so a reader needs this)."""


_SVG_STYLE = re.compile(r' style="([^"]*)"')
_SVG_SHEET = re.compile(r'<style type="text/css">\*\{([^}]*)\}</style>')


def _presentation_attributes(svg: str) -> str:
    """Matplotlib's SVG with its ``style`` attributes written as SVG presentation attributes (``style="fill: #fff;
    stroke: none"`` as ``fill="#fff" stroke="none"``), and its one style sheet (``*{stroke-linejoin: round; ...}``)
    as attributes of the root ``<svg>``, which its elements inherit. The same drawing; but a page holding the SVG no
    longer carries CSS for every element: WeasyPrint, printing the report's PDF, checked each such declaration
    against the CSS of HTML and logged over 400 warnings ("unknown property") per report, and the sheet's ``*`` rule
    applied to the whole page around the plot."""

    def attributes(declarations: str) -> str:
        pairs = (part.split(":", 1) for part in declarations.split(";") if ":" in part)
        return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)

    sheet = _SVG_SHEET.search(svg)
    if sheet is not None:
        svg = svg.replace(sheet.group(0), "", 1).replace("<svg ", f"<svg{attributes(sheet.group(1))} ", 1)
    return _SVG_STYLE.sub(lambda match: attributes(match.group(1)), svg)


def _svg(figure: Any, salt: str, *, empty: str = "") -> str:
    """The figure as SVG text without the XML prologue, named for screen readers (``PLOT_LABELS``, then ``empty``:
    why nothing is drawn); every id is prefixed with ``salt`` so several plots fit in one page without two elements
    sharing an id."""
    import matplotlib as mpl

    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": salt, "svg.fonttype": "path"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = _SVG_IDS.sub(lambda match: f"{match.group(1)}{salt}-{match.group(2)}", text[text.index("<svg") :])
    text = _presentation_attributes(text)
    label = escape(PLOT_LABELS[salt] + (f": {empty}" if empty else ""))
    return text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _no_data(salt: str, why: str = NO_DATA) -> str:
    figure, axes = _figure()
    axes.axis("off")
    axes.text(0.5, 0.5, why, ha="center", va="center", color="#666")
    return _svg(figure, salt, empty=why)


CHANGE_AXIS_MARGIN_DAYS = 2.0
"""Room above and below the plotted points on the change axis, inside the possible -28..+28 days."""


LEGEND: dict[str, Any] = {
    "loc": "best",
    "frameon": True,
    "facecolor": "white",
    "edgecolor": "#cccccc",
    "framealpha": 0.92,
    "fontsize": 8,
}
"""Every plot's legend: where it covers least of the data, on a white box, so a small clinic's wide intervals
running under it stay readable and the legend's words too (it sat on the data in a fixed corner)."""


def change_axis_limits(report: CohortReport) -> tuple[float, float]:
    """The change plot's y-axis: the means, their intervals, PREEMPT's week-24 figure and 0 with a little room,
    never past -28..+28 days (``CHANGE_BOUNDS``), which no change over one 28-day period can leave."""
    values = [calibration().targets["week24_change_headache_days"].centre, 0.0]
    for row in report.change_by_period:
        values += [end for end in (row.change.low, row.change.mean, row.change.high) if end is not None]
    low, high = CHANGE_BOUNDS
    return (
        max(low, min(values) - CHANGE_AXIS_MARGIN_DAYS),
        min(high, max(values) + CHANGE_AXIS_MARGIN_DAYS),
    )


def change_plot_svg(report: CohortReport) -> str:
    """Mean change in headache days per period after the first injection, with 95 % intervals (none for fewer
    than 3 patients, cut at -28 and +28 days: ``report.Mean``) and PREEMPT's week-24 figure for reference; the
    y-axis stays within -28..+28 days."""
    rows = [row for row in report.change_by_period if row.change.mean is not None]
    if not rows:
        return _no_data("change")
    figure, axes = _figure()
    # Every period from the first to the last drawn; one with no patient is a gap in the line (NaN), not a straight
    # stretch from its neighbours as if it held data.
    by_period = {row.period: row for row in rows}
    periods = list(range(min(by_period), max(by_period) + 1))
    drawn = [by_period.get(period) for period in periods]
    means = [row.change.mean if row is not None else math.nan for row in drawn]
    lows = [_below(row) for row in drawn]
    highs = [_above(row) for row in drawn]
    axes.errorbar(periods, means, yerr=[lows, highs], marker="o", color="#1f4e79", capsize=3, label="this cohort")
    target = calibration().targets["week24_change_headache_days"]
    axes.scatter(
        [WEEK24_PERIOD],
        [target.centre],
        marker="D",
        color="#c0392b",
        zorder=3,
        label=f"PREEMPT week 24 ({target.text})",
    )
    axes.axhline(0, color="#999", linewidth=0.8)
    axes.set_ylim(*change_axis_limits(report))
    axes.set_xlabel(f"{PERIOD_DAYS}-day period after the first injection ({WEEK24_PERIOD} = week 24)")
    axes.set_ylabel("change in headache days")
    axes.set_xticks(periods)
    axes.grid(axis="y", color="#e5e5e5")
    axes.legend(**LEGEND)
    return _svg(figure, "change")


def _below(row: Any) -> float:
    """How far a period's interval reaches below its mean (0 without an interval or a period)."""
    if row is None or row.change.low is None:
        return 0.0
    return max(0.0, row.change.mean - row.change.low)


def _above(row: Any) -> float:
    """How far a period's interval reaches above its mean (0 without an interval or a period)."""
    if row is None or row.change.high is None:
        return 0.0
    return max(0.0, row.change.high - row.change.mean)


def response_steps_drawn(report: CohortReport) -> list[dict[str, Any]]:
    """The periods of ``report.time_to_response`` the plot draws: those with at least ``RESPONSE_PLOT_MIN_AT_RISK``
    patients at risk (the first ones, since the number at risk only falls)."""
    return [step for step in report.time_to_response["by_period"] if step["at_risk"] >= RESPONSE_PLOT_MIN_AT_RISK]


def response_plot_svg(report: CohortReport) -> str:
    """The Kaplan-Meier share of patients whose headache days first fell by 30 % or more, by period, drawn while
    at least ``RESPONSE_PLOT_MIN_AT_RISK`` patients are at risk; the periods after are shaded and marked
    ``NOT_DRAWN``."""
    steps = report.time_to_response["by_period"]
    if not steps:
        return _no_data("response")
    drawn = response_steps_drawn(report)
    if not drawn:
        return _no_data("response", FEW_AT_RISK)
    figure, axes = _figure()
    periods = [0] + [step["period"] for step in drawn]
    shares = [0.0] + [step["cumulative"]["percent"] or 0.0 for step in drawn]
    cut = len(drawn) < len(steps)
    # The last drawn share holds for half a period: up to the shaded periods, or to the plot's edge (else the share
    # of the last period, week 24's, would be a point on the axis's end).
    periods, shares = [*periods, periods[-1] + 0.5], [*shares, shares[-1]]
    axes.step(periods, shares, where="post", color="#1f4e79")
    axes.fill_between(periods, shares, step="post", color="#1f4e79", alpha=0.12)
    if cut:
        axes.axvspan(periods[-1], steps[-1]["period"] + 0.5, color="#ececec", label=NOT_DRAWN)
        axes.legend(**LEGEND)
    axes.set_xlabel(f"{PERIOD_DAYS}-day period after the first injection")
    axes.set_ylabel(f"% with >= {RESPONDER_30_PERCENT} % fewer headache days")
    axes.set_ylim(0, 100)
    axes.set_xlim(-0.3, steps[-1]["period"] + 0.5)
    axes.set_xticks([0] + [step["period"] for step in steps])
    axes.grid(axis="y", color="#e5e5e5")
    return _svg(figure, "response")


def _lower_first(name: str) -> str:
    """A label row's name inside a sentence ("Musculoskeletal stiffness" -> "musculoskeletal stiffness")."""
    return name[:1].lower() + name[1:]


def adverse_event_plot_rows(report: CohortReport) -> list[tuple[str, Proportion, float | None]]:
    """What the adverse-event plot draws, top to bottom: each recorded row's name, rate and label percentage; label
    rows recorded as one kind (``recorded_with``) once, named ``SHARED_RATE``, without a label percentage (the label
    gives none for them together); a row recorded as a kind of the source's own holding more than it (``recorded_as``)
    without the label's percentage; rows not recorded, or without a rate, left out."""
    names = {row.event: row.name for row in report.adverse_events}
    drawn: set[str] = set()
    result: list[tuple[str, Proportion, float | None]] = []
    for row in report.adverse_events:
        if not row.recorded or row.rate.percent is None or row.event in drawn:
            continue
        if row.recorded_with:
            group = [row.event, *row.recorded_with]
            drawn.update(group)
            together = [names.get(event, event) for event in group]
            label = " and ".join([together[0], *(_lower_first(name) for name in together[1:])])
            result.append((SHARED_RATE.format(names=fill(label, SHARED_RATE_WIDTH)), row.rate, None))
        else:
            result.append((row.name, row.rate, None if row.recorded_as else row.label_percent))
    return result


def adverse_event_plot_svg(report: CohortReport) -> str:
    """Each label adverse reaction the cohort records: its rate with its 95 % interval beside the label's percentage,
    a rate shared by label rows drawn once (``adverse_event_plot_rows``)."""
    rows = adverse_event_plot_rows(report)
    if not rows:
        return _no_data("adverse")
    figure, axes = _figure()
    positions = list(range(len(rows)))[::-1]
    rates = [rate.percent or 0.0 for _, rate, _ in rows]
    errors = [
        [max(0.0, (rate.percent or 0.0) - (rate.low or 0.0)) for _, rate, _ in rows],
        [max(0.0, (rate.high or 0.0) - (rate.percent or 0.0)) for _, rate, _ in rows],
    ]
    axes.errorbar(rates, positions, xerr=errors, fmt="o", color="#1f4e79", capsize=2, label="this cohort")
    labelled = [(label, position) for (_, _, label), position in zip(rows, positions, strict=True) if label is not None]
    if labelled:
        axes.scatter(
            [label for label, _ in labelled],
            [position for _, position in labelled],
            marker="|",
            s=120,
            color="#c0392b",
            label="label (UNCONFIRMED)",
        )
    axes.set_yticks(positions, [name for name, _, _ in rows], fontsize=7)
    axes.set_xlabel("% of patients followed through week 24, first two cycles")
    axes.grid(axis="x", color="#e5e5e5")
    axes.legend(**LEGEND)
    return _svg(figure, "adverse")


def _verdicts(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    parts = []
    for name, n in counts.items():
        share = f" ({100 * n / total:.1f}&nbsp;%)" if total else ""
        parts.append(f"{escape(_VERDICT_NAMES.get(name, name))} {n}{share}")
    return "; ".join(parts)


def _reference_rows(rows: Iterable[ReferenceRow]) -> list[list[Any]]:
    """The published figures beside the cohort's: its value (or its text: the age range), its 95 % interval and
    which rule made the figure near (``near_text``)."""
    result = []
    for row in rows:
        word = near_text(row)
        near = "" if word is None else _Raw(f'<span class="{"off" if word == OFF else "ok"}">{escape(word)}</span>')
        if not row.recorded:
            cohort = _not_recorded()
        else:
            cohort = _Raw(escape(row.cohort_text) if row.cohort_text is not None else _number(row.cohort))
        result.append(
            [
                row.description,
                f"{row.published} {row.unit}",
                cohort,
                _Raw(_range(row.cohort_low, row.cohort_high)),
                near,
                row.status,
                row.source,
            ]
        )
    return result


def _adverse_rows(report: CohortReport) -> list[list[Any]]:
    """Each label adverse reaction: the cohort's rate, or ``NOT_RECORDED``; a rate counted together with other label
    rows says so (``RECORDED_TOGETHER``), and one counted from a kind of the source's own holding more than the row
    (``RECORDED_AS_OWN_KIND``), and neither is compared with the label."""
    names = {row.event: row.name for row in report.adverse_events}
    result = []
    for row in report.adverse_events:
        if not row.recorded:
            cohort, inside = _Raw(escape(NOT_RECORDED)), ""
        elif row.recorded_with:
            together = " and ".join(_lower_first(names.get(event, event)) for event in row.recorded_with)
            cohort = _Raw(f"{_proportion(row.rate)}; {escape(RECORDED_TOGETHER.format(names=together))}")
            inside = ""
        elif row.recorded_as:
            cohort, inside = _Raw(f"{_proportion(row.rate)}; {escape(RECORDED_AS_OWN_KIND)}"), ""
        else:
            cohort = _Raw(_proportion(row.rate))
            inside = "" if row.label_within_interval is None else ("yes" if row.label_within_interval else "no")
        result.append([row.name, cohort, f"{row.label_percent:g}", row.placebo_text, inside])
    return result


def report_sections(report: CohortReport) -> dict[str, str]:
    """The report's sections as HTML fragments (tables, SVG plots, escaped text) by template name: the file
    template here and the web app's page place the same fragments."""
    age = report.age_at_first_injection
    low, high = report.age_range
    preventives = ", ".join(f"{count}: {n}" for count, n in report.prior_preventives.items())
    patients_table = _table(
        None,
        [
            ["Patients / treated (at least one session)", f"{report.patients} / {report.treated}"],
            ["Women", _Raw(_proportion(report.female))],
            ["Age at the first injection, mean (95 % CI)", _Raw(f"{_number(age.mean)} ({_range(age.low, age.high)})")],
            ["Age range", "\u2013" if low is None or high is None else f"{low}-{high}"],
            ["Preventives that failed before (number: patients)", preventives],
            [
                "Baseline headache days, mean (complete baselines)",
                _Raw(f"{_number(report.baseline_headache_days.mean)} (n = {report.baseline_headache_days.n})"),
            ],
        ],
    )
    change = report.week24_change
    responders_table = (
        _table(
            ["outcome at week 24", COMPLETERS_HEADING, MISSING_AS_NO_RESPONSE_HEADING],
            [
                ["Patients", str(report.responder_50.total), str(report.responder_50_missing_as_non_responder.total)],
                [
                    f"At least {RESPONDER_50_PERCENT} % fewer headache days",
                    _Raw(_proportion(report.responder_50)),
                    _Raw(_proportion(report.responder_50_missing_as_non_responder)),
                ],
                [
                    f"At least {RESPONDER_30_PERCENT} % fewer headache days (NICE continuation)",
                    _Raw(_proportion(report.responder_30)),
                    _Raw(_proportion(report.responder_30_missing_as_non_responder)),
                ],
                [
                    "Mean change in headache days at week 24",
                    _Raw(f"{_number(change.mean)} ({_range(change.low, change.high)})"),
                    _Raw("&ndash;"),
                ],
            ],
        )
        + f'<p class="note">{escape(RESPONDERS_NOTE)}</p>'
    )
    change_table = _table(
        ["period", "weeks", "patients", "mean headache days", "mean change", "95 % CI"],
        [
            [
                row.period,
                row.weeks,
                row.n,
                _Raw(_number(row.mean_headache_days)),
                _Raw(_number(row.change.mean)),
                _Raw(_range(row.change.low, row.change.high)),
            ]
            for row in report.change_by_period
        ],
        numeric=(0, 2, 3, 4, 5),
    )
    response = report.time_to_response
    onset_table = _table(
        ["period", "weeks", "at risk", "first response", "followed no further", "cumulative (Kaplan-Meier, 95 % CI)"],
        [
            [
                step["period"],
                step["weeks"],
                step["at_risk"],
                step["patients"],
                step["censored"],
                _Raw(_kaplan_meier(Proportion(**step["cumulative"]))),
            ]
            for step in response["by_period"]
        ],
        numeric=(0, 2, 3, 4),
    ) + (
        f"<p>{_responded_text(response)}; median onset: {_median_onset(response)}.</p>"
        f'<p class="note">{escape(KAPLAN_MEIER_NOTE)}</p>'
    )
    adverse_table = _table(
        ["adverse reaction", ADVERSE_EVENTS_HEADING, "label BOTOX %", "label placebo %", "label inside CI"],
        [
            *_adverse_rows(report),
            [
                "Discontinued for an adverse event",
                _stops_for_adverse_events(report, report.discontinued_adverse_event),
                "",
                "",
                "",
            ],
        ],
        numeric=(2, 3),
    )
    adverse_note = (
        ADVERSE_EVENTS_NOTE
        if report.as_of is None
        else ADVERSE_EVENTS_ON_DAY_NOTE.format(as_of=report.as_of.isoformat())
    )
    adverse_table += f'<p class="note">{escape(adverse_note)}</p>'
    eligibility_table = _table(
        ["at the first injection", "verdicts"],
        [
            [
                f"Chronic migraine (ICHD-3 1.3, {report.eligibility_periods} periods)",
                _Raw(_verdicts(report.chronic_migraine)),
            ],
            ["BOTOX label criteria", _Raw(_verdicts(report.label_criteria))],
        ],
    )
    classes = ", ".join(
        f"{name.replace('_', ' ')} {n}" for name, n in report.overuse_classes_at_first_injection.items()
    )
    overuse_table = _table(
        ["medication overuse (ICHD-3 8.2)", "patients"],
        [
            ["Baseline period meets 8.2 (PREEMPT's comparison)", _Raw(_proportion(report.baseline_overuse))],
            [
                f"At the first injection ({report.eligibility_periods} periods)",
                _Raw(_verdicts(report.overuse_at_first_injection)),
            ],
            ["Classes (suspected patients)", classes],
            ["At week 24 (periods 4-6)", _Raw(_verdicts(report.overuse_at_week24))],
        ],
    )
    if report.as_of is not None:
        note = WEEK24_NOT_REACHED_NOTE.format(as_of=report.as_of.isoformat())
        overuse_table += f'<p class="note">{escape(note)}</p>'
    labels = dict(STOPPING_REASONS)
    stopping_table = _table(
        ["reason (the first that applies)", "patients (95 % CI)"],
        [
            [
                labels[name],
                _stops_for_adverse_events(report, value) if name == "adverse_event" else _Raw(_proportion(value)),
            ]
            for name, value in report.stopping.items()
        ]
        + [["NICE TA260 verdicts", _Raw(_verdicts(report.nice_ta260))]],
    )
    sessions = ", ".join(f"{count}: {n}" for count, n in report.sessions_per_patient.items())
    sessions_table = _table(
        None,
        [
            ["Sessions per patient (sessions: patients)", sessions],
            ["Median days between sessions", _Raw(_number(report.session_interval_median_days, 0))],
            [SESSIONS_ON_TIME, _Raw(_proportion(report.sessions_on_time))],
            [SESSIONS_EARLY, _Raw(_proportion(report.sessions_early))],
            [SESSIONS_FOLLOW_THE_PAIN, _follow_the_pain(report)],
        ],
    )
    midas = "; ".join(
        f"{_PROM_VISITS.get(visit, visit)}: " + ", ".join(f"grade {grade} {n}" for grade, n in grades.items())
        for visit, grades in report.midas_grades.items()
    )
    hit6, hit6_change = report.hit6_baseline, report.hit6_week24_change
    prom_table = _table(
        None,
        [
            ["HIT-6 at baseline, mean", _Raw(f"{_number(hit6.mean)} (n = {hit6.n})")],
            [
                "HIT-6 change at week 24, mean (95 % CI)",
                _Raw(f"{_number(hit6_change.mean)} ({_range(hit6_change.low, hit6_change.high)})"),
            ],
            [f"HIT-6 fell by {HIT6_RESPONDER_DROP} points or more", _Raw(_proportion(report.hit6_responders))],
            ["MIDAS grades", midas],
        ],
    )
    reference_table = _table(
        ["figure", "published", "cohort", "95 % CI", "near the published figure", "status", "source"],
        _reference_rows(report.reference),
        numeric=(2, 3),
    )
    observed = "&ndash;"
    if report.observed_from is not None and report.observed_until is not None:
        observed = f"{report.observed_from.isoformat()} to {report.observed_until.isoformat()}"
    as_of = ""
    if report.as_of is not None:
        as_of = f'<p class="lead">{escape(AS_OF_NOTE.format(as_of=report.as_of.isoformat()))}</p>'
    return {
        "directory": escape(report.directory),
        "as_of": as_of,
        "engine": escape(engine_text(report.engine)),
        "patients": str(report.patients),
        "patients_words": rows_text(report.patients, "patient"),
        "treated": str(report.treated),
        "observed": observed,
        "patients_table": patients_table,
        "responders_table": responders_table,
        "change_plot": change_plot_svg(report),
        "change_table": change_table,
        "response_plot": response_plot_svg(report),
        "onset_table": onset_table,
        "adverse_status": escape(report.adverse_events_status),
        "adverse_source": escape(report.adverse_events_source),
        "adverse_plot": adverse_event_plot_svg(report),
        "adverse_table": adverse_table,
        "eligibility_table": eligibility_table,
        "overuse_table": overuse_table,
        "stopping_table": stopping_table,
        "sessions_table": sessions_table,
        "prom_table": prom_table,
        "reference_table": reference_table,
        "near_note": escape(NEAR_NOTE),
    }


def render_html(report: CohortReport) -> str:
    """The report as one self-contained HTML page (styles and SVG plots inline)."""
    template = Template(files("onaboard.reports").joinpath("templates", TEMPLATE).read_text(encoding="utf-8"))
    return template.substitute(report_sections(report))


def render_pdf(report: CohortReport, path: Path) -> None:
    """The report as a PDF at ``path``, printed by WeasyPrint from the same HTML."""
    from weasyprint import HTML

    HTML(string=render_html(report)).write_pdf(path)
