"""The cohort report rendered: one self-contained HTML page with its three plots inline, the same bytes every
time, and a PDF printed from it."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from onaboard.cohort.report import CHANGE_BOUNDS, MEDIAN_NOT_REACHED, CohortReport, Mean, cohort_report
from onaboard.cohort.synth import write_cohort
from onaboard.reports.cohort import NO_DATA, change_axis_limits, change_plot_svg, render_html, render_pdf
from tests.cohort.conftest import IBIS_ON_DUCKDB_2

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
