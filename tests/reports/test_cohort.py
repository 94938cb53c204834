"""The cohort report rendered: one self-contained HTML page with its three plots inline, the same bytes every
time, and a PDF printed from it."""

from __future__ import annotations

import ast
import inspect
import logging
import re
from dataclasses import replace
from datetime import date
from html import escape, unescape
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import onaboard.cohort.cli
import onaboard.cohort.report
import onaboard.reports.cohort
from onaboard.cohort.report import (
    CHANGE_BOUNDS,
    FOLLOW_THE_PAIN_NOT_RECORDED,
    MEDIAN_NOT_REACHED,
    SESSIONS_EARLY,
    SESSIONS_FOLLOW_THE_PAIN,
    SESSIONS_ON_TIME,
    STOPPING_REASONS,
    TIME_TO_RESPONSE_PERIODS,
    CohortReport,
    Mean,
    Proportion,
    _reference,
    cohort_report,
)
from onaboard.cohort.synth import write_cohort
from onaboard.reports.cohort import (
    ADVERSE_EVENTS_HEADING,
    ADVERSE_EVENTS_NOTE,
    ADVERSE_EVENTS_ON_DAY_NOTE,
    AS_OF_NOTE,
    COMPLETERS_HEADING,
    FEW_AT_RISK,
    KAPLAN_MEIER_NOTE,
    MISSING_AS_NO_RESPONSE_HEADING,
    NEAR_BY_INTERVAL,
    NEAR_BY_TOLERANCE,
    NEAR_NOTE,
    NO_DATA,
    NOT_RECORDED,
    OFF,
    PLOT_LABELS,
    RECORDED_AS_OWN_KIND,
    RECORDED_TOGETHER,
    RESPONDERS_NOTE,
    RESPONSE_PLOT_MIN_AT_RISK,
    SHARED_RATE,
    adverse_event_plot_rows,
    adverse_event_plot_svg,
    change_axis_limits,
    change_plot_svg,
    render_html,
    render_pdf,
    response_plot_svg,
    response_steps_drawn,
)
from tests.cohort.conftest import IBIS_ON_DUCKDB_2
from tests.pdfs import pdf_text

pytestmark = IBIS_ON_DUCKDB_2


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> CohortReport:
    """The report of an 80-patient generated cohort."""
    directory = tmp_path_factory.mktemp("render")
    write_cohort(directory, patients=80, days=365, seed=8)
    return cohort_report(directory)


def test_the_html_holds_three_inline_svg_plots_and_no_outside_references(report: CohortReport) -> None:
    """The page embeds its three plots as SVG and loads nothing from elsewhere."""
    html = render_html(report)
    assert html.count("<svg") == 3
    assert not re.search(r"""(src|href)=["']https?:""", html)


def test_the_plots_share_no_id_and_each_has_an_accessible_name(report: CohortReport) -> None:
    """Three plots in one page use distinct ids, each reference points at its own plot, and each SVG is a named
    image (its text is drawn as paths)."""
    html = render_html(report)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert set(re.findall(r'href="#([^"]+)"', html)) <= set(ids)
    assert len(re.findall(r'<svg role="img" aria-label="[^"]+"', html)) == 3


def test_every_column_heading_has_a_name(report: CohortReport) -> None:
    """No table of the page has an empty column heading (a screen reader would announce nothing for the column)."""
    html = render_html(report)
    headings = re.findall(r"<th[^>]*>(.*?)</th>", html)
    assert headings
    assert [heading for heading in headings if not heading.strip()] == []


def test_the_html_shows_the_reports_numbers(report: CohortReport) -> None:
    """The responder count and the UNCONFIRMED flag of the label table appear on the page."""
    html = render_html(report)
    assert f"{report.responder_50.count} of {report.responder_50.total}" in html
    assert "UNCONFIRMED" in html


def test_rendering_is_repeatable(report: CohortReport) -> None:
    """The same report renders to the same HTML (fixed SVG ids, no timestamps)."""
    assert render_html(report) == render_html(report)


def test_text_from_the_data_is_escaped(report: CohortReport) -> None:
    """A directory name with markup is shown as text, never as markup."""
    html = render_html(replace(report, directory="<script>x</script>"))
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;" in html


def test_a_report_without_treated_patients_still_renders(report: CohortReport) -> None:
    """With no period data the change plot says so instead of failing."""
    empty = replace(report, change_by_period=())
    assert NO_DATA in change_plot_svg(empty)


def test_a_cohort_without_treated_patients_has_no_age_range(report: CohortReport) -> None:
    """Ages are taken at the first injection: without one the range is a dash, not 'None-None'."""
    html = render_html(replace(report, age_range=(None, None)))
    assert "None" not in html
    assert "<td>Age range</td><td>\u2013</td>" in html


def test_the_pdf_is_printed_from_the_html(report: CohortReport, tmp_path: Path) -> None:
    """render_pdf writes a PDF document."""
    path = tmp_path / "report.pdf"
    render_pdf(report, path)
    assert path.read_bytes().startswith(b"%PDF")


def test_a_median_onset_not_reached_says_so(report: CohortReport) -> None:
    """With eligible patients and no median onset (under half responded) the page says "not reached", not a dash."""
    response = {**report.time_to_response, "median_onset_period": None, "eligible": 10, "responded": 2}
    html = render_html(replace(report, time_to_response=response))
    assert f"median onset: {MEDIAN_NOT_REACHED}." in html


def test_the_time_to_response_table_shows_who_is_at_risk(report: CohortReport) -> None:
    """Each period's row shows the patients at risk and those followed no further beside the first responses."""
    html = render_html(report)
    assert '<th class="num">at risk</th>' in html
    assert '<th class="num">followed no further</th>' in html


def test_a_placebo_bound_is_printed_as_the_label_prints_it(report: CohortReport) -> None:
    """Eyelid ptosis on placebo shows the label's "<1" (escaped), never a made-up 0.5."""
    html = render_html(report)
    row = re.search(r"<tr><td>Eyelid ptosis</td>.*?</tr>", html)
    assert row is not None
    assert '<td class="num">&lt;1</td>' in row.group(0)
    assert "0.5" not in row.group(0)


@pytest.fixture(scope="module")
def small_report(tmp_path_factory: pytest.TempPathFactory) -> CohortReport:
    """The report of a 3-patient generated cohort (seed 1): periods of 3, 2 and 1 patients."""
    directory = tmp_path_factory.mktemp("render-small")
    write_cohort(directory, patients=3, days=365, seed=1)
    return cohort_report(directory)


def _change_rows(html: str) -> dict[int, str]:
    """Each row of the change table (the one headed "mean change") by period number, its cells after the first."""
    start = html.index('<th class="num">mean change</th>')
    table = html[start : html.index("</table>", start)]
    return {int(period): cells for period, cells in re.findall(r'<tr><td class="num">(\d+)</td>(.*?)</tr>', table)}


def test_a_period_of_two_patients_shows_its_mean_without_an_interval(small_report: CohortReport) -> None:
    """A period with 2 patients shows its mean change and a dash for the interval, and the page says why."""
    rows = _change_rows(render_html(small_report))
    two = next(row for row in small_report.change_by_period if row.n == 2)
    assert rows[two.period].endswith('<td class="num">&ndash;</td>')
    assert f"{two.change.mean:.1f}" in rows[two.period]
    assert "No interval is shown for fewer than 3 patients" in render_html(small_report)


def test_no_interval_on_the_page_passes_what_a_period_can_change(small_report: CohortReport) -> None:
    """Every interval of the change table lies within -28 to +28 days; a cut one ends on -28.0."""
    rows = _change_rows(render_html(small_report))
    ends = []
    for cells in rows.values():
        interval = re.search(r"(-?\d+\.\d) to (-?\d+\.\d)</td>$", cells)
        if interval:
            ends += [float(interval[1]), float(interval[2])]
    assert ends
    assert all(-28.0 <= end <= 28.0 for end in ends)
    assert -28.0 in ends


def test_the_change_axis_stays_within_the_possible_range(small_report: CohortReport) -> None:
    """The change plot's y-axis never runs past -28..+28 days, even for an interval wider than that."""
    wide = replace(small_report.change_by_period[0], change=Mean(3, -9.0, -97.9, 79.9))
    low, high = change_axis_limits(replace(small_report, change_by_period=(wide,)))
    assert CHANGE_BOUNDS[0] <= low < -9.0 < 0.0 < high <= CHANGE_BOUNDS[1]


@pytest.mark.parametrize(
    "code",
    [
        "clinical-facts",
        "onaboard.clinical",
        "calibration.toml",
        "engine duckdb",
        "(b&nbsp;-&nbsp;w)",
        "simple_analgesic",
        "week24:",
        "after their first two sessions",
    ],
)
def test_the_page_speaks_to_readers_not_in_code_words(report: CohortReport, code: str) -> None:
    """The methods and sources are in words (the label's table, computed with DuckDB, the responder definitions),
    not the project's file names, module names, formulas, JSON keys or "after their first two sessions" (it means
    following session 1 or 2)."""
    html = render_html(report)
    assert code not in html
    assert "computed with DuckDB" in html
    assert "A 50&nbsp;% responder has at most half the baseline's headache days" in html


def test_the_words_on_intervals_state_the_rules_the_numbers_follow():
    """Every text that explains the intervals (terminal note, plot label, file report, web page) names the minimum
    number of patients and the bounds the code uses, so a changed constant cannot leave them saying another."""
    from onaboard.cohort.cli import INTERVALS_NOTE
    from onaboard.cohort.stats import MEAN_INTERVAL_MIN_N
    from onaboard.reports.cohort import PLOT_LABELS

    low, high = CHANGE_BOUNDS
    src = Path(__file__).resolve().parents[2] / "src" / "onaboard"
    texts = {
        "terminal": INTERVALS_NOTE,
        "plot": PLOT_LABELS["change"],
        "file report": (src / "reports" / "templates" / "cohort_report.html").read_text(),
        "web page": (src / "web" / "analytics" / "templates" / "analytics" / "cohort_report.html").read_text(),
    }
    for where, text in texts.items():
        assert f"{MEAN_INTERVAL_MIN_N} patients" in text, where
        assert f"{low:.0f}" in text, where
        assert f"+{high:.0f}" in text, where


def _pdf_pages(report: CohortReport, folder: Path) -> list[str]:
    """The text of each page of the report's PDF (pdftotext, layout kept), footers included."""
    path = folder / "report.pdf"
    render_pdf(report, path)
    return pdf_text(path.read_bytes()).split("\f")[:-1]


def _words(text: str) -> str:
    """Text with its markup dropped, entities read and every run of white space made one space."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", text)).split())


def _long_reference_table(report: CohortReport, copies: int = 3) -> CohortReport:
    """The report with its published figures repeated ``copies`` times (a table longer than a page), each row's
    figure starting with ``Rnna`` and its source ending with ``Rnnz``, nn its position."""
    rows = [
        replace(row, description=f"R{i:02d}a {row.description}", source=f"{row.source} R{i:02d}z")
        for i, row in enumerate(report.reference * copies)
    ]
    return replace(report, reference=tuple(rows))


@pytest.fixture(scope="module")
def long_report(report: CohortReport) -> CohortReport:
    """The 80-patient report with its published figures over more than a page (``_long_reference_table``)."""
    return _long_reference_table(report)


@pytest.fixture(scope="module")
def pdf_pages(
    report: CohortReport, long_report: CohortReport, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[str]]:
    """The text of each page of the PDF of ``report`` and of ``long_report``, by the fixture's name."""
    return {
        name: _pdf_pages(value, tmp_path_factory.mktemp(name))
        for name, value in (("report", report), ("long_report", long_report))
    }


def test_no_table_row_is_split_across_pages(long_report: CohortReport, pdf_pages: dict[str, list[str]]) -> None:
    """A table longer than a page breaks between rows, never inside one, and repeats its header: each published
    figure's first and last words land on the same page (the age range row used to end a page with its dash,
    "near" and status, its name on the next)."""
    pages, rows = pdf_pages["long_report"], range(len(long_report.reference))
    first = {i: next(n for n, page in enumerate(pages) if f"R{i:02d}a" in page) for i in rows}
    last = {i: next(n for n, page in enumerate(pages) if f"R{i:02d}z" in page) for i in rows}
    assert len(set(first.values())) > 1, "the table should run over more than one page"
    assert first == last
    for n in set(first.values()):
        assert any(_words(line).startswith("figure published cohort") for line in pages[n].splitlines()), n


def test_the_published_figures_give_each_label_room_on_its_lines(
    report: CohortReport, pdf_pages: dict[str, list[str]]
) -> None:
    """In the PDF, each published figure's label starts with its first four words on one line (its column keeps at
    least 30 % of the width; at ~60 px "Mean headache days in the 28-day baseline period ..." took ten lines, "Mean"
    alone on the first)."""
    lines = [" ".join(line.split()) for page in pdf_pages["report"] for line in page.splitlines()]
    for row in report.reference:
        start = " ".join(row.description.split()[:4])
        assert any(start in line for line in lines), start


@pytest.mark.parametrize("which", ["report", "long_report"])
def test_every_heading_shares_its_page_with_what_follows(
    request: pytest.FixtureRequest, pdf_pages: dict[str, list[str]], which: str
) -> None:
    """Every section's heading, its whole introduction and the start of its plot and table share a page (the
    "Published figures" heading and its note used to stand alone on a page, their table starting on the next)."""
    html = render_html(request.getfixturevalue(which))
    sections = re.findall(r"<h2>(.*?)</h2>\s*(?:<p[^>]*>(.*?)</p>)?", html, re.S)
    introductions = {_words(heading): _words(introduction) for heading, introduction in sections}
    assert len(introductions) == html.count("<h2>")
    problems, seen = [], []
    for number, page in enumerate(pdf_pages[which], start=1):
        lines = [_words(line) for line in page.splitlines() if line.strip()]
        body = [line for line in lines if not re.fullmatch(r"page \d+ of \d+", line)]
        for at in [i for i, line in enumerate(body) if line in introductions]:
            heading, read, after = body[at], "", at + 1
            seen.append(heading)
            while after < len(body) and introductions[heading].startswith(f"{read} {body[after]}".strip()):
                read, after = f"{read} {body[after]}".strip(), after + 1
            if read != introductions[heading] or after == len(body):
                problems.append(f"page {number}: {heading!r} has {read[-40:]!r} and nothing after it")
    assert sorted(seen) == sorted(introductions)
    assert problems == []


def _step(period: int, at_risk: int, responders: int, percent: float | None) -> dict[str, Any]:
    """One period of ``time_to_response["by_period"]`` among 7 eligible patients (interval left out)."""
    cumulative = {"count": responders, "total": 7, "percent": percent, "low": None, "high": None}
    return {"period": period, "weeks": "", "at_risk": at_risk, "patients": 0, "censored": 0, "cumulative": cumulative}


def _with_onsets(report: CohortReport, *steps: dict[str, Any]) -> CohortReport:
    responded = steps[-1]["cumulative"]["count"] if steps else 0
    response = {
        **report.time_to_response,
        "eligible": 7,
        "responded": 5,
        "by_period": list(steps),
        "responded_through_period": responded,
        "responded_after": 5 - responded,
    }
    return replace(report, time_to_response=response)


DEMO_ONSETS = (_step(1, 7, 1, 14.3), _step(2, 5, 4, 65.7), _step(3, 2, 4, 65.7), _step(4, 1, 5, 100.0))
"""The demo clinic's time to response: 5 of 7 responded, the last with one patient at risk (a share of 100 %)."""


def test_the_response_curve_stops_before_fewer_than_three_patients_are_at_risk(report: CohortReport) -> None:
    """The plot draws the periods with at least 3 patients at risk and no further, so a share estimated from 1 or 2
    patients (100 % with one patient left) does not move it."""
    demo = _with_onsets(report, *DEMO_ONSETS)
    assert RESPONSE_PLOT_MIN_AT_RISK == 3
    assert [step["period"] for step in response_steps_drawn(demo)] == [1, 2]
    other_last_share = _with_onsets(report, *DEMO_ONSETS[:3], _step(4, 1, 4, 65.7))
    assert response_plot_svg(demo) == response_plot_svg(other_last_share)
    assert f'aria-label="{escape(PLOT_LABELS["response"])}"' in response_plot_svg(demo)


def test_a_response_curve_with_too_few_patients_at_risk_says_so(report: CohortReport) -> None:
    """With fewer than 3 patients at risk from the first period the plot draws no curve and says why."""
    svg = response_plot_svg(_with_onsets(report, _step(1, 2, 1, 50.0), _step(2, 1, 2, 100.0)))
    assert f'aria-label="{escape(PLOT_LABELS["response"])}: {FEW_AT_RISK}"' in svg


def test_the_time_to_response_section_says_what_the_kaplan_meier_share_is(report: CohortReport) -> None:
    """Below its table the section says the share is the Kaplan-Meier estimate, which reaches 100 % while some
    patients never responded, what "n of N so far" counts and where the curve stops; it no longer calls the share
    a plain "cumulative share of those patients"."""
    html = render_html(_with_onsets(report, *DEMO_ONSETS))
    assert "100.0&nbsp;%; 5 of 7 so far" in html
    assert (
        "<p>5 of 7 patients responded by week 24; median onset: period 2.</p>"
        f'<p class="note">{escape(KAPLAN_MEIER_NOTE)}</p>' in html
    )
    assert f"fewer than {RESPONSE_PLOT_MIN_AT_RISK} patients at risk" in KAPLAN_MEIER_NOTE
    assert f"fewer than {RESPONSE_PLOT_MIN_AT_RISK} patients at risk" in PLOT_LABELS["response"]
    assert "cumulative share of those patients" not in _words(html)


def _row_cells(html: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell is ``first_cell``, as markup."""
    row = re.search(rf"<tr><td>{re.escape(first_cell)}</td>(.*?)</tr>", html)
    assert row is not None, first_cell
    return [first_cell, *re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))]


def test_the_published_figures_show_the_interval_and_which_rule_made_them_near(report: CohortReport) -> None:
    """Each published figure shows the cohort's 95 % interval beside its value and says "near (tolerance)",
    "near (inside CI)" or "off", as the terminal summary does; the note says what each means, not that "near" uses a
    tolerance written beside each figure (none is)."""
    figures = {"responder_50_week24": Proportion.of(2, 3), "female_share": Proportion.of(85, 100)}
    rows = {row.name: row for row in _reference(figures)}
    (far,) = [
        row
        for row in _reference({"hit6_responders_week24": Proportion.of(1, 100)})
        if row.name == "hit6_responders_week24"
    ]
    chosen = (rows["responder_50_week24"], rows["female_share"], far)
    html = render_html(replace(report, reference=chosen))
    interval, tolerance, off = (_row_cells(html, row.description) for row in chosen)
    assert interval[2:5] == ["66.7", "20.8 to 93.9", f'<span class="ok">{NEAR_BY_INTERVAL}</span>']
    assert tolerance[2:5] == ["85.0", "76.7 to 90.7", f'<span class="ok">{NEAR_BY_TOLERANCE}</span>']
    assert off[2:5] == ["1.0", "0.2 to 5.4", f'<span class="off">{OFF}</span>']
    assert '<th class="num">95 % CI</th><th>near the published figure</th>' in html
    assert escape(NEAR_NOTE) in html
    assert "uses the tolerance written beside each figure" not in html


def test_the_age_range_beside_the_published_one_is_shown(report: CohortReport) -> None:
    """The age-range row shows the cohort's ages at the first injection ("38-60"), not a dash."""
    (age,) = [row for row in report.reference if row.name == "age_range"]
    assert age.cohort_text is not None
    assert _row_cells(render_html(report), age.description)[2] == age.cohort_text


def _adverse_as_in_the_app(report: CohortReport) -> CohortReport:
    """The report with its adverse events as the clinic's app records them: bronchitis not recorded, headache and
    migraine one kind (1 of 7 patients), compared with neither label figure."""
    shared = Proportion.of(1, 7)
    rows = []
    for row in report.adverse_events:
        if row.event == "bronchitis":
            rows.append(replace(row, rate=Proportion.of(0, 0), label_within_interval=None, recorded=False))
        elif row.event in ("headache", "migraine"):
            other = "migraine" if row.event == "headache" else "headache"
            rows.append(replace(row, rate=shared, label_within_interval=None, recorded_with=(other,)))
        else:
            rows.append(row)
    return replace(report, adverse_events=tuple(rows))


def test_an_adverse_reaction_the_app_cannot_record_says_so(report: CohortReport) -> None:
    """A label row the source has no kind for reads "not recorded by the app", not "0 of 0", with no verdict on the
    label, and is left out of the plot."""
    app = _adverse_as_in_the_app(report)
    cells = _row_cells(render_html(app), "Bronchitis")
    assert (cells[1], cells[4]) == (NOT_RECORDED, "")
    assert "Bronchitis" not in [name for name, _, _ in adverse_event_plot_rows(app)]


def test_label_rows_recorded_as_one_kind_say_so_and_are_drawn_once(report: CohortReport) -> None:
    """Headache and migraine counted as one kind each give the shared rate, say what they were recorded with and give
    no verdict on the label; the plot draws that rate once, without a label percentage."""
    app = _adverse_as_in_the_app(report)
    html = render_html(app)
    for name, other in (("Headache", "migraine"), ("Migraine", "headache")):
        cells = _row_cells(html, name)
        assert cells[1] == f"1 of 7: 14.3&nbsp;% (2.6 to 51.3); {RECORDED_TOGETHER.format(names=other)}"
        assert cells[4] == ""
    drawn = adverse_event_plot_rows(app)
    shared = [(name, label) for name, rate, label in drawn if rate == Proportion.of(1, 7)]
    assert shared == [(SHARED_RATE.format(names="Headache and migraine"), None)]
    assert len(drawn) == len(report.adverse_events) - 2
    assert adverse_event_plot_svg(app).count("<svg") == 1


def test_a_row_recorded_as_a_broader_kind_says_so_and_is_drawn_without_the_label(report: CohortReport) -> None:
    """Facial paresis counted from the app's "drooping brow or facial weakness" (``recorded_as``) shows its rate,
    says it is recorded as a kind of the app's own holding more than the row, gives no verdict on the label, and is
    drawn without the label's percentage."""
    rows = tuple(
        replace(row, rate=Proportion.of(1, 7), label_within_interval=None, recorded_as=("brow_ptosis",))
        if row.event == "facial_paresis"
        else row
        for row in report.adverse_events
    )
    app = replace(report, adverse_events=rows)
    cells = _row_cells(render_html(app), "Facial paresis")
    assert cells[1] == f"1 of 7: 14.3&nbsp;% (2.6 to 51.3); {escape(RECORDED_AS_OWN_KIND)}"
    assert cells[4] == ""
    drawn = {name: label for name, _, label in adverse_event_plot_rows(app)}
    assert drawn["Facial paresis"] is None
    assert drawn["Neck pain"] is not None


def test_the_responders_table_gives_the_completers_and_a_missing_week24_as_no_response(report: CohortReport) -> None:
    """The responders table heads the completers' column so and sets beside each share the one counting every
    patient with a complete baseline whose week 24 is due, a missing week 24 as no response, with its interval, and
    says what each column counts."""
    html = render_html(report)
    assert f"<th>{escape(COMPLETERS_HEADING)}</th>" in html
    assert f"<th>{escape(MISSING_AS_NO_RESPONSE_HEADING)}</th>" in html
    assert escape(RESPONDERS_NOTE) in html
    patients = _row_cells(html, "Patients")
    assert patients[1:] == [str(report.responder_50.total), str(report.responder_50_missing_as_non_responder.total)]
    shares = _row_cells(html, "At least 50 % fewer headache days")
    missing = report.responder_50_missing_as_non_responder
    assert missing.low is not None
    assert missing.high is not None
    assert (
        shares[2]
        == f"{missing.count} of {missing.total}: {missing.percent:.1f}&nbsp;% ({missing.low:.1f} to {missing.high:.1f})"
    )


def test_the_adverse_events_table_says_whose_rates_it_gives(report: CohortReport) -> None:
    """The adverse-events table heads its rates as those of the patients followed through week 24 and says below it
    who they are: every treated patient with the diary finished, or on an assessment day those whose week 24 had
    ended or who stopped for an adverse event before it."""
    html = render_html(report)
    assert f"<th>{escape(ADVERSE_EVENTS_HEADING)}</th>" in html
    assert escape(ADVERSE_EVENTS_NOTE) in html
    on_day = render_html(replace(report, as_of=date(2025, 6, 15)))
    assert escape(ADVERSE_EVENTS_ON_DAY_NOTE.format(as_of="2025-06-15")) in on_day
    assert escape(ADVERSE_EVENTS_NOTE) not in on_day


def test_the_assessment_day_is_stated_near_the_top(report: CohortReport) -> None:
    """A report made as of a day says so before its first section; one without says nothing of it."""
    html = render_html(replace(report, as_of=date(2025, 6, 15)))
    line = f'<p class="lead">{escape(AS_OF_NOTE.format(as_of="2025-06-15"))}</p>'
    assert html.index(line) < html.index("<h2>")
    assert "As of" not in render_html(replace(report, as_of=None))


def test_the_sessions_table_says_what_each_share_counts(report: CohortReport) -> None:
    """The sessions table names the repeat sessions on time and too early by the engine's days, and the sessions
    with a follow-the-pain site; where the sessions table records no follow-the-pain sites (a directory written
    before the column) that share reads not recorded instead of 0 of 0."""
    html = render_html(report)
    for label in (SESSIONS_ON_TIME, SESSIONS_EARLY, SESSIONS_FOLLOW_THE_PAIN):
        assert escape(label) in html
    assert escape(FOLLOW_THE_PAIN_NOT_RECORDED) not in html
    unknown = replace(report, sessions_follow_the_pain=Proportion.of(0, 0), sessions_follow_the_pain_recorded=False)
    assert escape(FOLLOW_THE_PAIN_NOT_RECORDED) in render_html(unknown)


RETYPED = re.compile(
    r"(?<![\w.])(\d+)(?:\s|&nbsp;|\u00a0)*(?:%|points?\b|days?\b|weeks?\b|periods?\b|-day\b|-week\b)"
    r"|[<>]=?\s*(\d+)"
)
"""A number written beside a clinical unit or a comparison ("30 %", "5 points", "< 15", "28-day")."""
STATISTICAL = {"95", "100"}
"""The numbers the texts may write themselves: the intervals' 95 % and the percent scale's 100 %."""


def _retyped(module: ModuleType) -> list[str]:
    """The numbers beside a unit or comparison in the module's texts (its strings and f-strings' literal parts;
    docstrings, of modules, functions and constants alike, left out)."""
    tree = ast.parse(inspect.getsource(module))
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            for match in RETYPED.finditer(node.value):
                if (match.group(1) or match.group(2)) not in STATISTICAL:
                    found.append(f"line {node.lineno}: {match.group(0)!r}")
    return found


@pytest.mark.parametrize(
    "module", [onaboard.cohort.report, onaboard.cohort.cli, onaboard.reports.cohort], ids=lambda m: m.__name__
)
def test_no_clinical_number_is_retyped_in_the_reports_words(module: ModuleType) -> None:
    """The words of the terminal summary, the file and the page (stopping reasons, responders, HIT-6, sessions, plot
    labels, the intervals' note) build their thresholds from onaboard.clinical's constants, so a changed rule
    cannot leave them saying another number."""
    assert _retyped(module) == []


def test_the_file_fits_a_phone_and_scrolls_its_tables_inside_their_wraps(report: CohortReport) -> None:
    """At 390 px the file scrolled sideways to 629 px: it now names the viewport and every table sits in a wrap that
    scrolls on its own, as on the clinic's /analytics/ page."""
    html = render_html(report)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@media screen { .table-wrap, .figure { overflow-x: auto; } }" in html
    tables = html.count("<table>")
    assert tables == len(re.findall(r'<div class="(?:reference )?table-wrap"><table>', html))


def test_the_files_plots_keep_a_legible_width_and_scroll_sideways_on_a_phone(report: CohortReport) -> None:
    """At 390 px each 504 pt plot was shrunk to the 358 px screen, its labels about 6 px high: a plot now shrinks no
    narrower than 36rem (10-point labels at about 11 px, as on the clinic's page) and scrolls sideways inside its
    box, which the PDF shows whole."""
    html = render_html(report)
    assert ".figure { max-width: 100%;" in html
    assert ".figure svg { max-width: 100%; min-width: 36rem; height: auto; }" in html
    assert "@media screen { .table-wrap, .figure { overflow-x: auto; } }" in html  # the PDF's page shows them whole
    assert html.count('<div class="figure">') == 3


def test_the_pdf_is_printed_without_a_css_warning(report: CohortReport, tmp_path, caplog) -> None:
    """The plots carry SVG presentation attributes, not matplotlib's ``style`` attributes and ``*`` style sheet,
    and the scrolling boxes are screen-only: WeasyPrint printed each report with over 400 "unknown property"
    warnings in the log (``stroke``, ``fill``, ... checked as the CSS of HTML). The drawing keeps its colours."""
    html = render_html(report)
    svgs = re.findall(r"<svg .*?</svg>", html, re.S)
    assert len(svgs) == 3
    assert not any(' style="' in svg or "<style" in svg for svg in svgs)
    assert 'stroke-linejoin="round"' in svgs[0].split(">", 1)[0]  # the sheet's rule, on the root, inherited
    assert re.search(r'<path d="[^"]*"[^>]* stroke="#1f4e79"', svgs[0])
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_pdf(report, tmp_path / "report.pdf")
    assert [record.getMessage() for record in caplog.records if record.name.startswith("weasyprint")] == []


def test_a_source_recording_no_stops_for_an_adverse_event_reads_not_recorded(report: CohortReport) -> None:
    """Stops for an adverse event the source cannot record (0 of 0, no percentage) read "not recorded by the app"
    in the stopping reasons and the published figures, never "0 of 0"."""
    unrecorded = Proportion.of(0, 0)
    app = replace(
        report,
        discontinuation_recorded=False,
        discontinued_adverse_event=unrecorded,
        stopping={**report.stopping, "adverse_event": unrecorded},
    )
    html = render_html(app)
    not_recorded = f'<span class="words">{NOT_RECORDED}</span>'
    assert _row_cells(html, dict(STOPPING_REASONS)["adverse_event"])[1] == not_recorded
    assert "0 of 0" not in html


def test_the_lead_counts_one_patient_in_the_singular(report: CohortReport) -> None:
    """A cohort of one patient reads "1 patient, 1 treated", not "1 patients"."""
    assert "&middot; 1 patient, 1 treated &middot;" in render_html(replace(report, patients=1, treated=1))
    assert f"&middot; {report.patients} patients, " in render_html(report)


def test_responses_after_week_24_are_counted_beside_the_table(report: CohortReport) -> None:
    """The time-to-response table ends at week 24; first responses after it are counted below it."""
    later = _with_onsets(report, *DEMO_ONSETS[:2])
    assert "5 of 7 patients responded by week 24;" in render_html(_with_onsets(report, *DEMO_ONSETS))
    assert "4 of 7 patients responded by week 24 (1 more first responded later);" in render_html(later)
    assert all(step["period"] <= TIME_TO_RESPONSE_PERIODS for step in report.time_to_response["by_period"])


def _line_subpaths(svg: str) -> list[int]:
    """For each path of the cohort's colour drawing more than two points (the line, not an error bar or cap): how
    many pieces it is drawn in (its move-to commands)."""
    found = []
    for match in re.finditer(r'<path d="([^"]+)"[^>]*stroke="#1f4e79"', svg):
        d = match.group(1)
        if len(re.findall(r"[ML]", d)) > 2:
            found.append(d.count("M"))
    return found


def test_the_change_line_breaks_where_a_period_has_no_patient(report: CohortReport) -> None:
    """A period without patients (the demo clinic's period 7) is a gap in the line, not a straight stretch from
    period 6 to 8 as if it held data; with every period present the line is one piece."""
    assert _line_subpaths(change_plot_svg(report)) == [1]
    rows = tuple(row for row in report.change_by_period if row.period != 3)
    assert _line_subpaths(change_plot_svg(replace(report, change_by_period=rows))) == [2]
