"""``onaboard synth`` and ``onaboard cohort report``: a synthetic registry, and the cohort report over any registry.

Thin, like the rest of the command line: parse, call the generator or the report, render. numpy, pyarrow, Ibis,
DuckDB, PySpark, matplotlib and WeasyPrint are imported inside the commands, so ``onaboard --help`` and the
engine commands never load them. Invalid arguments exit 2 with every problem on stderr and nothing on stdout;
``--json`` prints exactly one JSON document on stdout (shared/spec/cli.md).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from onaboard.clinical import PERIOD_DAYS
from onaboard.cohort.backends import Engine, rows_text
from onaboard.cohort.stats import MEAN_INTERVAL_MIN_N
from onaboard.commands import print_json
from onaboard.commands.common import iso_date, stdout_console

if TYPE_CHECKING:
    from onaboard.cohort.report import AdverseEventRate, CohortReport, Proportion, ReferenceRow

__all__ = ["cohort_app", "report_command", "synth_command"]

PATIENTS_BELOW_ONE = "--patients: must be at least 1 (got {value})"
DAYS_BELOW_ONE = "--days: must be at least 1 (got {value})"
SEED_NEGATIVE = "--seed: must be 0 or more (got {value})"
BAD_END = "--end: {value!r} is not a date in YYYY-MM-DD form"
OUT_IS_FILE = "--out: {path} is a file, not a directory"
OUT_EMPTY = "--out: name a directory (an empty path would write into the current one)"
OUT_HOLDS_OTHER_FILES = (
    "--out: {path} holds files that are not a synthetic cohort's tables ({names}); name an empty or new directory"
)
BAD_AS_OF = "--as-of: {value!r} is not a date in YYYY-MM-DD form"
END_OUTSIDE = "--end: {value} leaves no room for {days} observed days and their baseline in the calendar"
OUTPUT_PARENT_MISSING = "{option}: the directory {parent} does not exist"
OUTPUT_NOT_STDOUT = "{option} -: the report is never written to stdout; name a file"
OUTPUT_IS_A_FOLDER = "{option}: {path} is a folder; name the file to write"
OUTPUT_IN_COHORT = (
    "{option}: {path} is a file of the cohort in {directory}, which the report would overwrite; name a new file "
    "or one outside the cohort"
)
OUTPUT_TWICE = "--html and --pdf both name {path}; name two files"
REPORT_SUFFIXES = {"--html": (".html", ".htm"), "--pdf": (".pdf",)}
"""The names an earlier report written into the cohort directory has, which ``--html`` and ``--pdf`` may replace
(running the same command again); any other file there is the cohort's own or someone's notes, and is refused."""

cohort_app = typer.Typer(
    help="Cohort analytics: the engine's rules over a whole registry, run by DuckDB or Spark.",
    no_args_is_help=True,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _fail(problems: Iterable[str]) -> NoReturn:
    for problem in problems:
        print(problem, file=sys.stderr)
    raise typer.Exit(2)


# --- synth --------------------------------------------------------------------------------------------------------


def synth_command(
    patients: Annotated[int, typer.Option("--patients", help="Number of patients.", show_default=False)],
    out: Annotated[
        str,
        typer.Option(
            "--out",
            help=(
                "Directory to write the tables to: new, empty, or an earlier synthetic cohort's (its tables are "
                "replaced, and CSV files not written again are removed)."
            ),
            show_default=False,
        ),
    ],
    days: Annotated[int, typer.Option("--days", help="Days each patient is observed.")] = 365,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: the same seed, the same cohort.")] = 0,
    csv: Annotated[bool, typer.Option("--csv", help="Also write CSV (the diary as the diary CSV contract).")] = False,
    end: Annotated[
        str | None, typer.Option("--end", help="Data cut-off (default 2025-12-31): every window ends by then.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Generate a seeded synthetic cohort calibrated to PREEMPT and the label (made-up patients) as Parquet."""
    problems = []
    directory = Path(out)
    if patients < 1:
        problems.append(PATIENTS_BELOW_ONE.format(value=patients))
    if days < 1:
        problems.append(DAYS_BELOW_ONE.format(value=days))
    if seed < 0:
        problems.append(SEED_NEGATIVE.format(value=seed))
    end_date = None if end is None else iso_date(end)
    if end is not None and end_date is None:
        problems.append(BAD_END.format(value=end))
    from onaboard.cohort.synth import DEFAULT_END, fits_the_calendar, foreign_entries, write_cohort
    from onaboard.outputs import not_writable

    if not out:
        problems.append(OUT_EMPTY)
    elif directory.exists() and not directory.is_dir():
        problems.append(OUT_IS_FILE.format(path=directory))
    elif directory.is_dir() and (foreign := foreign_entries(directory)):
        problems.append(OUT_HOLDS_OTHER_FILES.format(path=directory, names=", ".join(foreign)))

    if days >= 1 and not fits_the_calendar(days=days, end=end_date or DEFAULT_END):
        problems.append(END_OUTSIDE.format(value=end_date or DEFAULT_END, days=days))
    if problems:
        _fail(problems)

    stderr = _stderr()
    options: dict[str, Any] = {"patients": patients, "days": days, "seed": seed, "end": end_date or DEFAULT_END}
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("generating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    try:  # the bar only on a terminal
        with Progress(*columns, console=stderr, transient=True, disable=not stderr.is_terminal) as progress:
            task = progress.add_task("generating", total=patients)
            written = write_cohort(
                directory, csv=csv, progress=lambda done: progress.update(task, completed=done), **options
            )
    except OSError as error:
        _fail([not_writable("--out", directory, error)])
    document = {
        "directory": str(directory),
        **{key: (value.isoformat() if isinstance(value, date) else value) for key, value in options.items()},
        "tables": {name: {"path": str(path), "rows": written.rows[name]} for name, path in written.paths.items()},
        "csv": csv,
    }
    if json_output:
        print_json(document)
        return
    title = f"Synthetic cohort in {escape(str(directory))} (seed {seed}; made-up patients)"  # a path is no markup
    table = Table(title=title, title_justify="left", box=None)
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("file")
    for name, path in written.paths.items():
        table.add_row(name, f"{written.rows[name]:,}", escape(str(path)))
    stdout_console().print(table)


# --- cohort report ------------------------------------------------------------------------------------------------


def _percent(value: Proportion) -> str:
    if value.percent is None:
        return f"{value.count}/{value.total}"
    return f"{value.percent:.1f} % ({value.low:.1f} to {value.high:.1f}), {value.count}/{value.total}"


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _interval(low: float | None, high: float | None) -> str:
    """An interval as ``low to high``; a dash where there is none (fewer than 3 patients, or no data)."""
    return "-" if low is None or high is None else f"{low:.1f} to {high:.1f}"


INTERVALS_NOTE = (
    "95 % CI: Wilson's for proportions (within 0-100 %); Student's t for mean changes, none for fewer than "
    f"{MEAN_INTERVAL_MIN_N} patients and cut at -{PERIOD_DAYS} and +{PERIOD_DAYS} days, the most a {PERIOD_DAYS}-day "
    "period can change."
)
"""How the terminal summary's intervals were made, printed under the change table."""


def _near(row: ReferenceRow) -> str:
    """A published figure's judgement in the file's and the web page's words (``reports.cohort.near_text``)."""
    from onaboard.reports.cohort import near_text

    return near_text(row) or "-"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in counts.items())


def _median_onset(response: dict[str, Any]) -> str:
    """The median onset period; "not reached" while under half the eligible patients have responded."""
    from onaboard.cohort.report import MEDIAN_NOT_REACHED

    if response["median_onset_period"] is not None:
        return str(response["median_onset_period"])
    return MEDIAN_NOT_REACHED if response["eligible"] else "-"


def _print_report(report: CohortReport) -> None:
    from onaboard.clinical import HIT6_RESPONDER_DROP, RESPONDER_30_PERCENT, RESPONDER_50_PERCENT
    from onaboard.cohort.report import (
        FOLLOW_THE_PAIN_NOT_RECORDED,
        SESSIONS_EARLY,
        SESSIONS_FOLLOW_THE_PAIN,
        SESSIONS_ON_TIME,
        STOPPING_REASONS,
    )
    from onaboard.reports.cohort import AS_OF_NOTE, NEAR_NOTE, NOT_RECORDED, engine_text

    def stops(value: Proportion) -> str:  # the file's and the page's words where the source records no such stop
        return _percent(value) if report.discontinuation_recorded else NOT_RECORDED

    console = stdout_console()
    title = f"[bold]Cohort report[/bold]  {escape(report.directory)}  ({engine_text(report.engine)})"
    console.rule(title, align="left")
    if report.as_of is not None:
        console.print(AS_OF_NOTE.format(as_of=report.as_of.isoformat()))
    console.print(
        f"{rows_text(report.patients, 'patient')}, {report.treated} treated; women {_percent(report.female)}; "
        f"age at the first injection {_number(report.age_at_first_injection.mean)}"
    )
    summary = Table(box=None, show_header=False, pad_edge=False)
    summary.add_column(no_wrap=True)  # the labels stay whole; a long figure wraps in its own column instead
    summary.add_column()
    change = report.week24_change
    rows = [
        ("Baseline headache days (mean)", _number(report.baseline_headache_days.mean)),
        ("Assessable at week 24", str(report.responder_50.total)),
        (f">= {RESPONDER_50_PERCENT} % fewer headache days", _percent(report.responder_50)),
        (f">= {RESPONDER_30_PERCENT} % fewer headache days", _percent(report.responder_30)),
        (
            f">= {RESPONDER_50_PERCENT} % fewer, a missing week 24 as no response",
            _percent(report.responder_50_missing_as_non_responder),
        ),
        (
            f">= {RESPONDER_30_PERCENT} % fewer, a missing week 24 as no response",
            _percent(report.responder_30_missing_as_non_responder),
        ),
        (
            "Change at week 24 (mean, 95 % CI)",
            f"{_number(change.mean)} ({_interval(change.low, change.high)})",
        ),
        ("Median onset of response by week 24 (period, Kaplan-Meier)", _median_onset(report.time_to_response)),
        ("Chronic migraine at the first injection", _counts(report.chronic_migraine)),
        ("Medication overuse at the first injection", _counts(report.overuse_at_first_injection)),
        ("Medication overuse at week 24", _counts(report.overuse_at_week24)),
        (f"HIT-6 fell by >= {HIT6_RESPONDER_DROP} points at week 24", _percent(report.hit6_responders)),
        ("Discontinued for an adverse event", stops(report.discontinued_adverse_event)),
        (SESSIONS_ON_TIME, _percent(report.sessions_on_time)),
        (SESSIONS_EARLY, _percent(report.sessions_early)),
        (
            SESSIONS_FOLLOW_THE_PAIN,
            _percent(report.sessions_follow_the_pain)
            if report.sessions_follow_the_pain_recorded
            else FOLLOW_THE_PAIN_NOT_RECORDED,
        ),
    ]
    for name, value in rows:
        summary.add_row(name, value)
    console.print(summary)

    periods = Table(title=f"Change in headache days per {PERIOD_DAYS}-day period", title_justify="left", box=None)
    for heading in ("period", "weeks", "patients", "headache days", "change", "95 % CI"):
        periods.add_column(heading, justify="left" if heading == "weeks" else "right")
    for row in report.change_by_period:
        periods.add_row(
            str(row.period),
            row.weeks,
            str(row.n),
            _number(row.mean_headache_days),
            _number(row.change.mean),
            _interval(row.change.low, row.change.high),
        )
    console.print(periods)
    console.print(INTERVALS_NOTE, style="dim")

    events = Table(
        title=f"Adverse events, first two cycles (label figures {report.adverse_events_status})",
        title_justify="left",
        box=None,
    )
    for heading in ("adverse reaction", "cohort", "label %", "placebo %"):
        events.add_column(heading, justify="left" if heading == "adverse reaction" else "right")
    for event in report.adverse_events:
        events.add_row(event.name, _event_rate(report, event), f"{event.label_percent:g}", event.placebo_text)
    console.print(events)

    labels = dict(STOPPING_REASONS)
    stopping = Table(title="Stopping reasons (the first that applies)", title_justify="left", box=None)
    stopping.add_column("reason")
    stopping.add_column("patients", justify="right")
    for name, value in report.stopping.items():
        stopping.add_row(labels[name], stops(value) if name == "adverse_event" else _percent(value))
    console.print(stopping)

    reference = Table(title="Published figures", title_justify="left", box=None)
    for heading in ("figure", "published", "cohort", "95 % CI", "near", "status"):
        reference.add_column(heading, justify="right" if heading in ("published", "cohort", "95 % CI") else "left")
    for row in report.reference:
        cohort = NOT_RECORDED if not row.recorded else row.cohort_text or _number(row.cohort)
        reference.add_row(
            row.description,
            row.published,
            cohort,
            _interval(row.cohort_low, row.cohort_high),
            _near(row),
            row.status,
        )
    console.print(reference)
    console.print(NEAR_NOTE, style="dim")


def _event_rate(report: CohortReport, event: AdverseEventRate) -> str:
    """An adverse reaction's rate in the file's and the page's words (``reports.cohort``): not recorded where the
    source has no kind for it, the shared rate, said so, where one kind stands for it and other rows, and the rate
    of a kind of the source's own that holds more than the row, said so (not compared with the label)."""
    from onaboard.reports.cohort import NOT_RECORDED, RECORDED_AS_OWN_KIND, RECORDED_TOGETHER

    if not event.recorded:
        return NOT_RECORDED
    if event.recorded_as:
        return f"{_percent(event.rate)}; {RECORDED_AS_OWN_KIND}"
    if not event.recorded_with:
        return _percent(event.rate)
    names = {row.event: row.name for row in report.adverse_events}
    named = (names.get(code, code) for code in event.recorded_with)
    together = " and ".join(name[:1].lower() + name[1:] for name in named)  # inside a sentence, as the file says it
    return f"{_percent(event.rate)}; {RECORDED_TOGETHER.format(names=together)}"


def _check_output(option: str, path: Path | None, problems: list[str], directory: Path | None = None) -> None:
    if path is None:
        return
    if str(path) == "-":  # the report is never written to stdout: "-" used to become a file named "-"
        problems.append(OUTPUT_NOT_STDOUT.format(option=option))
    elif path.is_dir():
        problems.append(OUTPUT_IS_A_FOLDER.format(option=option, path=path))
    elif not path.resolve().parent.is_dir():
        problems.append(OUTPUT_PARENT_MISSING.format(option=option, parent=path.resolve().parent))
    elif directory is not None and _cohort_file(option, path, directory):
        problems.append(OUTPUT_IN_COHORT.format(option=option, path=path, directory=directory))


def _cohort_file(option: str, path: Path, directory: Path) -> bool:
    """Whether writing ``path`` would replace a file of the cohort in ``directory``: one of its tables (as Parquet
    or CSV, there or not) or its export manifest, or any other file inside it but an earlier report of the same
    kind (``REPORT_SUFFIXES``). Links are followed: a link to a table is the table."""
    from onaboard.cohort.export import MANIFEST
    from onaboard.cohort.tables import TABLES

    target, cohort = path.resolve(), directory.resolve()
    if not target.is_relative_to(cohort):
        return False
    own = {cohort / MANIFEST} | {cohort / f"{name}{suffix}" for name in TABLES for suffix in (".parquet", ".csv")}
    if target in own:
        return True
    return target.is_file() and target.suffix.lower() not in REPORT_SUFFIXES[option]


@cohort_app.command("report")
def report_command(
    directory: Annotated[Path, typer.Argument(help="Cohort directory (Parquet tables).", show_default=False)],
    engine: Annotated[Engine, typer.Option("--engine", help="Where the rules run.")] = Engine.DUCKDB,
    json_output: JsonFlag = False,
    html: Annotated[Path | None, typer.Option("--html", help="Write the report as HTML.", show_default=False)] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the report as PDF.", show_default=False)] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help=(
                "Assessment day (YYYY-MM-DD): a period after the first injection that has not ended before it is "
                "still running and judges nothing (week 24, responders, change per period, onset, NICE). Default: "
                "on a directory written by `onaboard cohort export`, the day of its export.json (a later day is "
                "refused); otherwise none, the diary is taken as finished."
            ),
            show_default=False,
        ),
    ] = None,
) -> None:
    """Responders, change per period, time to response, adverse events, overuse and stopping reasons."""
    problems: list[str] = []
    as_of_date = None if as_of is None else iso_date(as_of)
    if as_of is not None and as_of_date is None:
        problems.append(BAD_AS_OF.format(value=as_of))
    _check_output("--html", html, problems, directory)
    _check_output("--pdf", pdf, problems, directory)
    if html is not None and pdf is not None and str(html) != "-" and html.resolve() == pdf.resolve():
        problems.append(OUTPUT_TWICE.format(path=html))
    if problems:
        _fail(problems)

    from onaboard.cohort.backends import CohortSourceError
    from onaboard.cohort.report import cohort_report, report_json

    try:
        report = cohort_report(directory, engine, as_of=as_of_date)
    except CohortSourceError as error:
        _fail(error.problems)
    if html is not None or pdf is not None:
        _write_documents(report, html, pdf)
    if json_output:
        print_json(report_json(report))
    else:
        _print_report(report)
    written = [str(path) for path in (html, pdf) if path is not None]
    if written:
        _stderr().print(f"Wrote {', '.join(written)}", markup=False, soft_wrap=True)


def _write_documents(report: CohortReport, html: Path | None, pdf: Path | None) -> None:
    """The HTML and PDF, each rendered beside its path and renamed into place once both are made: a failure leaves
    neither half-written (exit 2 naming the option)."""
    from contextlib import ExitStack

    from onaboard.outputs import not_writable, written_whole
    from onaboard.reports.cohort import render_html, render_pdf

    option, path = "--html", html
    try:
        with ExitStack() as stack:  # both renamed into place at the end, or neither
            if html is not None:
                partial = stack.enter_context(written_whole(html))
                partial.write_text(render_html(report), encoding="utf-8")
            if pdf is not None:
                option, path = "--pdf", pdf
                render_pdf(report, stack.enter_context(written_whole(pdf)))
    except OSError as error:
        _fail([not_writable(option, path, error)])
