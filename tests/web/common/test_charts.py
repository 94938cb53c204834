"""The server-side SVG charts (onaboard/web/common/charts.py): they draw the engine's numbers, accessibly."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from decimal import Decimal

import pytest

from onaboard.clinical import DiaryDay, Intensity, classify_days, periods_before
from onaboard.web.common.charts import (
    HEIGHT,
    LEFT,
    PLOT_WIDTH,
    ScorePoint,
    SessionMark,
    headache_days_chart,
    score_trend_chart,
)
from onaboard.web.common.pdf import html_to_pdf
from tests.pdfs import pdf_pages_png

NS = {"svg": "http://www.w3.org/2000/svg"}
TODAY = date(2026, 3, 2)


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - the chart's own output, not untrusted input


def _day(day: date, hours: int) -> DiaryDay:
    return DiaryDay("P", day, Decimal(hours), Intensity.SEVERE if hours else None)


def _known_periods():
    """Three periods back from TODAY: all 28 days of period 1 with 10 headache days, 10 days of period 2 with 4,
    nothing in period 3."""
    period1 = [_day(TODAY - timedelta(days=i), 6 if i % 3 == 0 else 0) for i in range(28)]
    period2 = [_day(TODAY - timedelta(days=28 + i), 2 if i < 4 else 0) for i in range(10)]
    days = sorted(period1 + period2, key=lambda d: d.date)
    return periods_before(classify_days(days), as_of=TODAY, count=3)


@pytest.fixture
def svg():
    sessions = [SessionMark(TODAY - timedelta(days=20), recorded=True), SessionMark(TODAY + timedelta(days=64), False)]
    chart = headache_days_chart(_known_periods(), sessions, title="My chart")
    return chart, _parse(str(chart.svg()))


def test_the_svg_is_an_accessible_image(svg):
    """The SVG has role="img", a <title> and a <desc> naming every period's count, and is labelled by them."""
    _chart, root = svg
    assert root.get("role") == "img"
    assert root.find("svg:title", NS).text == "My chart"
    desc = root.find("svg:desc", NS).text
    assert "10 headache days" in desc
    assert "4 headache days (only 10 of 28 days recorded)" in desc
    assert "not recorded" in desc
    assert root.get("aria-labelledby") == "headache-days-chart-title headache-days-chart-desc"


def test_bars_are_the_engines_counts_oldest_first(svg):
    """One bar per recorded period, oldest first, carrying the engine's headache-day count and completeness."""
    _chart, root = svg
    bars = root.findall(".//svg:rect[@class='bar']", NS)
    assert [(b.get("data-headache-days"), b.get("data-complete")) for b in bars] == [("4", "no"), ("10", "yes")]
    assert [b.get("data-end") for b in bars] == [(TODAY - timedelta(days=28)).isoformat(), TODAY.isoformat()]


def test_a_part_recorded_period_is_framed_so_its_zero_is_not_a_headache_free_month():
    """A period with too few days recorded (a running one, say) is drawn inside a dashed frame as tall as the scale,
    over its hatched bar: with no headache day yet its bar has no height, and it was a plain '0' beside complete
    periods, reading as a month without headache. A complete period has no frame."""
    running = [_day(TODAY - timedelta(days=i), 0) for i in range(5)]
    full = [_day(TODAY - timedelta(days=28 + i), 6 if i % 2 else 0) for i in range(28)]
    periods = periods_before(classify_days(sorted(running + full, key=lambda d: d.date)), as_of=TODAY, count=2)
    root = _parse(str(headache_days_chart(periods, [], title="Running").svg()))
    bars = root.findall(".//svg:rect[@class='bar']", NS)
    assert [(b.get("data-headache-days"), b.get("data-complete")) for b in bars] == [("14", "yes"), ("0", "no")]
    frames = root.findall(".//svg:rect[@class='part-recorded']", NS)
    assert len(frames) == 1
    assert frames[0].get("x") == bars[1].get("x")
    assert float(frames[0].get("height")) > float(bars[0].get("height")) > 0


def test_a_running_period_with_enough_days_recorded_is_still_drawn_as_in_progress():
    """Given today, the period it falls in is framed and said to be in progress even with enough days recorded to
    count as complete (26 of 28): its count is not yet the period's. Without today it is drawn as before."""
    days = [_day(TODAY - timedelta(days=i), 6 if i % 3 else 0) for i in range(26)]
    periods = periods_before(
        classify_days(sorted(days, key=lambda d: d.date)), as_of=TODAY + timedelta(days=2), count=1
    )
    running = [periods[0]]
    root = _parse(str(headache_days_chart(running, [], title="Running", today=TODAY).svg()))
    (bar,) = root.findall(".//svg:rect[@class='bar']", NS)
    assert (bar.get("data-complete"), bar.get("data-running")) == ("yes", "yes")
    assert len(root.findall(".//svg:rect[@class='part-recorded']", NS)) == 1
    assert "in progress: 26 of 28 days recorded so far" in ET.tostring(root, encoding="unicode")
    plain = _parse(str(headache_days_chart(running, [], title="Finished").svg()))
    assert not plain.findall(".//svg:rect[@class='part-recorded']", NS)


def test_bar_heights_are_proportional_to_headache_days(svg):
    """A bar's height is its count on a fixed 0-28 scale, so 10 days stands 2.5 times as tall as 4."""
    _chart, root = svg
    small, tall = (float(b.get("height")) for b in root.findall(".//svg:rect[@class='bar']", NS))
    assert tall / small == pytest.approx(10 / 4, rel=0.02)
    assert tall <= HEIGHT


def test_a_period_with_no_diary_is_a_gap_not_a_zero_bar(svg):
    """The period with nothing recorded is drawn as a dashed gap labelled 'not recorded', never as 0."""
    _chart, root = svg
    gaps = root.findall(".//svg:g[@class='gap']", NS)
    assert len(gaps) == 1
    assert gaps[0].get("data-days-recorded") == "0"
    assert gaps[0].find("svg:text", NS).text == "not recorded"


def test_sessions_inside_the_chart_are_marked_at_their_date(svg):
    """A session within the charted periods is a vertical line at its day; a later one is listed under the chart."""
    chart, root = svg
    marks = root.findall(".//svg:g[@class='session']", NS)
    assert [(m.get("data-date"), m.get("data-status")) for m in marks] == [
        ((TODAY - timedelta(days=20)).isoformat(), "recorded")
    ]
    line = marks[0].find("svg:line", NS)
    first_day = TODAY - timedelta(days=83)
    expected_x = LEFT + PLOT_WIDTH * ((TODAY - timedelta(days=20) - first_day).days + 0.5) / 84
    assert float(line.get("x1")) == pytest.approx(expected_x, abs=0.1)
    assert [s.date for s in chart.other_sessions] == [TODAY + timedelta(days=64)]


def test_the_figure_has_a_data_table_fallback(svg):
    """The rendered figure holds the SVG and a table with one row per period, gaps shown as a dash."""
    chart, _root = svg
    html = chart.__html__()
    assert html.count("<tr><td>") == 3
    assert "<details>" in html
    assert "Sessions outside the chart:" in html


def test_each_bar_is_labelled_with_its_count_over_a_white_backdrop(svg):
    """Each bar's count is written above it on a white rectangle drawn just before it, which hides the grid lines
    behind the figures; nothing relies on paint-order, which WeasyPrint ignores (it painted the white halo stroke
    over the figures, so the PDFs showed a gap where each number should be)."""
    _chart, root = svg
    assert "paint-order" not in ET.tostring(root, encoding="unicode")
    children = list(root)
    labels = [child for child in children if child.get("class") == "bar-value"]
    assert [label.text for label in labels] == ["4", "10"]
    for label in labels:
        assert label.get("fill") not in {None, "none", "#fff"}
        assert label.get("stroke") is None
        backdrop = children[children.index(label) - 1]
        assert backdrop.tag == f"{{{NS['svg']}}}rect"
        assert (backdrop.get("class"), backdrop.get("fill")) == ("bar-value-backdrop", "#fff")
        x, y = float(label.get("x")), float(label.get("y"))
        left, top = float(backdrop.get("x")), float(backdrop.get("y"))
        assert left < x < left + float(backdrop.get("width"))
        assert top < y <= top + float(backdrop.get("height"))


def _dark_pixels(svg: str, folder) -> int:
    """How many pixels of the chart, printed to PDF by WeasyPrint and rendered at 80 dpi, are near-black: the bar
    counts and the baseline are the only ink of that colour (bars are blue, the scale grey)."""
    from matplotlib import image

    folder.mkdir()
    [page] = pdf_pages_png(html_to_pdf(f"<html><body>{svg}</body></html>"), folder, resolution=80)
    pixels = image.imread(page)[..., :3]
    return int((pixels < 0.35).all(axis=-1).sum())


def test_the_bar_counts_are_visible_in_a_pdf(svg, tmp_path):
    """Printed to PDF the chart shows each bar's count: the counts add a good number of dark pixels to the page
    compared with the same chart without them (with the halo painted over them they added none)."""
    chart, _root = svg
    drawn = str(chart.svg())
    without = re.sub(r'<text class="bar-value"[^>]*>\d+</text>', "", drawn)
    assert without != drawn
    assert _dark_pixels(drawn, tmp_path / "with") > _dark_pixels(without, tmp_path / "without") + 40


def test_titles_are_escaped():
    """Text put in the SVG is escaped, so a title cannot inject markup."""
    chart = headache_days_chart([], [], title="<script>x</script>")
    assert "<script>" not in str(chart.svg())
    root = _parse(str(chart.svg()))
    assert root.find("svg:title", NS).text == "<script>x</script>"


def _trend(title, scale, cut_points, *points):
    """A trend of ``points`` (day, total, band) on ``scale`` (low, high), cut at ``cut_points``."""
    low, high = scale
    return score_trend_chart(
        [ScorePoint(*point) for point in points], title=title, low=low, high=high, cut_points=cut_points
    )


def _hit6_trend():
    """Two HIT-6 answers, given newest first, on the scale the patient page draws: 36 to 78, cut at 50, 56 and 60."""
    newest, oldest = (date(2026, 3, 1), 55, "some impact"), (date(2026, 1, 1), 62, "severe impact")
    return _trend("HIT-6", (36, 78), (50, 56, 60), newest, oldest)


def test_a_trend_draws_one_point_per_response():
    """The score trend draws each total as a point, oldest first, in parseable SVG."""
    root = _parse(str(_hit6_trend().svg()))
    points = root.findall(".//svg:circle[@class='point']", NS)
    assert [(p.get("data-date"), p.get("data-total")) for p in points] == [("2026-01-01", "62"), ("2026-03-01", "55")]
    assert float(points[0].get("cy")) < float(points[1].get("cy"))


def test_a_trends_lettering_is_at_least_12_units_high():
    """Every label of a trend (scale and dates) is drawn at least 12 units high in its 320-unit-wide picture, about
    12 px on a phone (it was 10, about 10 px on a tablet)."""
    root = _parse(str(_hit6_trend().svg()))
    sizes = [float(text.get("font-size")) for text in root.findall(".//svg:text", NS)]
    assert len(sizes) == 7  # five scale labels, two dates
    assert min(sizes) >= 12


def test_a_trends_scale_labels_keep_a_lines_height_apart():
    """A scale label closer than its own height plus 2 units to one already drawn beside the axis goes to a second
    column further left, so no two labels in a column touch and every band's line is named: on the HIT-6 scale 56
    (12.6 units above 50, where '50' and '56' nearly touched) is in the second column; before, it was left off and
    the line of the 'substantial impact' grade had no number. Every label stands left of the plot, none beside a
    point (a label at a line's right end read as the latest point's total)."""
    root = _parse(str(_hit6_trend().svg()))
    labels = [text for text in root.findall("svg:text", NS) if text.get("dy") is not None]  # the dates have none
    columns = sorted({float(text.get("x")) for text in labels}, reverse=True)
    by_column = [[text.text for text in labels if float(text.get("x")) == x] for x in columns]
    assert by_column == [["36", "50", "60", "78"], ["56"]]
    assert {text.get("text-anchor") for text in labels} == {"end"}
    points = root.findall(".//svg:circle[@class='point']", NS)
    assert max(columns) < min(float(point.get("cx")) for point in points)
    size = float(labels[0].get("font-size"))
    for x in columns:
        heights = sorted(float(text.get("y")) for text in labels if float(text.get("x")) == x)
        assert all(b - a >= size + 2 for a, b in itertools.pairwise(heights))
    assert min(columns) - 3 * size * 0.62 >= 0  # three digits fit inside the picture
    assert len(root.findall("svg:line[@stroke-dasharray]", NS)) == 1  # the leader from '56' to its line
    assert len(root.findall("svg:line", NS)) == 6  # a grid line for each of 36, 50, 56, 60 and 78, and the leader


def test_a_midas_trend_names_the_grade_ii_line():
    """On the MIDAS scale (0 to 40, cut at 6, 11 and 21) the line at 6, 5 points above 0, is named in the second
    column."""
    chart = _trend("MIDAS", (0, 40), (6, 11, 21), (date(2026, 1, 1), 6, "grade II"), (date(2026, 4, 1), 30, "grade IV"))
    root = _parse(str(chart.svg()))
    labels = [text for text in root.findall("svg:text", NS) if text.get("dy") is not None]
    outer = min(float(text.get("x")) for text in labels)
    assert [text.text for text in labels if float(text.get("x")) == outer] == ["6"]
    assert sorted(text.text for text in labels) == sorted(["0", "6", "11", "21", "40"])


def test_a_period_ending_today_with_every_day_recorded_is_drawn_as_done():
    """The period ending today with its 28 days recorded has no day to come: no frame of days not recorded and no
    "in progress" (it was framed as if days were missing)."""
    days = [_day(TODAY - timedelta(days=i), 6 if i % 3 else 0) for i in range(28)]
    (period,) = periods_before(classify_days(sorted(days, key=lambda d: d.date)), as_of=TODAY, count=1)
    assert (period.end, period.days_recorded) == (TODAY, 28)
    root = _parse(str(headache_days_chart([period], [], title="Done", today=TODAY).svg()))
    (bar,) = root.findall(".//svg:rect[@class='bar']", NS)
    assert (bar.get("data-complete"), bar.get("data-running")) == ("yes", "no")
    assert not root.findall(".//svg:rect[@class='part-recorded']", NS)
    assert "in progress" not in ET.tostring(root, encoding="unicode")
