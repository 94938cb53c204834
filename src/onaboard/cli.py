"""The ``onaboard`` command: the clinical engine from the shell (contract: shared/spec/cli.md).

Every subcommand prints readable text by default and, with ``--json``, exactly one JSON document on stdout.
Exit codes: 0 success; 2 invalid input or arguments, with every problem on stderr and nothing on stdout.
This module parses arguments, calls the engine and renders; it holds no clinical rule.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from typer.core import TyperGroup

from onaboard.clinical.assessment import DEFAULT_PERIODS, Assessment, assess
from onaboard.clinical.cycles import ScheduleError, interval_check, schedule_status
from onaboard.clinical.diary import AcuteClass, PatientDiary, parse_diary
from onaboard.clinical.errors import InvalidInputError
from onaboard.clinical.outcomes import (
    RESPONDER_30_PERCENT,
    RESPONDER_50_PERCENT,
    WEEK24_PERIOD,
    Outcomes,
    Week24State,
    treatment_outcomes,
)
from onaboard.clinical.periods import MIN_RECORDED_DAYS, PERIOD_DAYS, PeriodSummary
from onaboard.clinical.preempt import VIAL_SIZES_UNITS, InjectionPlan, PlanError, preempt_plan
from onaboard.clinical.prom import PromError, hit6_score, midas_score
from onaboard.commands import print_json
from onaboard.commands.common import iso_date, stdout_console, stop_writing
from onaboard.serialize import (
    assessment_json,
    hit6_json,
    interval_json,
    midas_json,
    outcomes_json,
    plan_json,
    schedule_json,
)

T = TypeVar("T")

TODAY_ENV = "ONABOARD_TODAY"
"""Overrides today's date (YYYY-MM-DD) for reproducible runs and tests; the clock is read nowhere else."""

PROGRESS_MIN_PATIENTS = 20
"""Show a progress bar (on a terminal's stderr) when judging at least this many patients."""

BAD_DATE_OPTION = "{option}: {value!r} is not a date in YYYY-MM-DD form"
STDIN = "-"
"""The DIARY.csv argument that reads the diary from standard input."""
STDIN_NAME = "standard input"
"""How a message names the diary read from standard input."""
NO_SUCH_FILE = "{path}: no such file"
UNREADABLE_FILE = "{path}: cannot be read ({reason})"
PATIENT_NOT_IN_FILE = "--patient: {patient_id!r} is not in {path}"
BIRTH_AFTER_AS_OF = "--birth-date: {birth} is after --as-of {as_of}"
BIRTH_AFTER_LAST_ROW = "--birth-date: {birth} is after the last diary date of {patients}"
PERIODS_BELOW_ONE = "--periods: must be at least 1 (got {value})"
OUTSIDE_CALENDAR = "{options}: the dates would fall outside the calendar, which runs from 0001-01-01 to 9999-12-31"
FOLLOW_THE_PAIN_FORMAT = "--follow-the-pain: {item!r} is not MUSCLE=N with N a whole number"
FOLLOW_THE_PAIN_REPEATED = "--follow-the-pain: {muscle} is given more than once"
VIAL_CHOICE = "--vial: must be " + " or ".join(map(str, VIAL_SIZES_UNITS)) + " (got {value})"

WEEK24_LINE = (
    f"Week 24: {{days}} ({{change}}); ≥{RESPONDER_50_PERCENT} % responder: {{responder_50}}, "
    f"≥{RESPONDER_30_PERCENT} % responder: {{responder_30}}"
)
WEEK24_CHANGE = "{percent} % against baseline"
WEEK24_NO_PERCENT = "no percentage against a baseline of 0 headache days"
"""Week 24's change when the baseline has no headache day (the engine's percent change is None then)."""
WEEK24_BASELINE_INCOMPLETE = (
    "Week 24: {days}; the baseline is incomplete ({recorded} of {period_days} days recorded), so the response cannot "
    "be measured against it: no percentage, no responder verdict"
)
"""Week 24 complete but the baseline not: its headache days only, as the patient page shows it."""
WEEK24_UNDER_WAY = (
    "Week 24: not available yet (period {period} is in progress: {recorded} of {period_days} days recorded so far)"
)
WEEK24_ENDED_INCOMPLETE = (
    "Week 24: not available (period {period} ended with {recorded} of {period_days} days recorded, fewer than the "
    "{needed} needed)"
)
WEEK24_NOT_REACHED = "Week 24: not available yet (period {period} not reached)"
"""The week-24 line when period 6 is not complete, one per ``Week24State``: the facts the engine's week-24 reason
is worded from."""

MEDICATION_TITLE = "Acute medication days per class (ICHD-3 8.2)"
MEDICATION_COLUMNS: tuple[tuple[str, AcuteClass | None], ...] = (
    ("triptan", AcuteClass.TRIPTAN),
    ("ergot", AcuteClass.ERGOT),
    ("simple analgesic", AcuteClass.SIMPLE_ANALGESIC),
    ("combination analgesic", AcuteClass.COMBINATION_ANALGESIC),
    ("opioid", AcuteClass.OPIOID),
    ("any", None),
)
"""The medication table's columns: the days of each class ICHD-3 8.2 counts, each on its own (never two classes
added up, so no count exceeds the period's days), and the days with any acute medication (``None``). They are a
table of their own: beside the headache days and the change they would not fit 120 columns."""


class _Commands(TyperGroup):
    """The ``onaboard`` command group, stopping quietly on a closed stdout (``stop_writing``).

    The broken pipe is caught here, inside the entry point's ``app()``: Typer's own handler, around this, would turn
    it into exit 1 with nothing said. stdout is flushed here too, so a closed pipe met by the output's last block is
    caught as well, not at the interpreter's exit.
    """

    def invoke(self, ctx: click.Context) -> object:
        try:
            try:
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()
        except BrokenPipeError:
            stop_writing()


app = typer.Typer(
    cls=_Commands,
    name="onaboard",
    help="Decision support for onabotulinumtoxinA (BOTOX) treatment of chronic migraine. "
    "It computes and explains; the clinician decides.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

stdout = stdout_console()
stderr = Console(stderr=True, highlight=False)

ASCII_FORMS: Mapping[str, str] = {
    "≥": ">=",
    "≤": "<=",
    "…": "...",
    "€": "EUR ",
    "£": "GBP ",
}
"""What the command writes for a character of its output (these are the ones it writes) that the stream's
encoding lacks (a Windows console or a file redirected there in cp1252, ``PYTHONIOENCODING=latin-1``): its ASCII
form; any other such character is written as a ``\\uXXXX`` escape, as JSON writes one (so a ``--json`` document
stays valid). A UTF-8 stream is left as it is."""

UNENCODABLE = "onaboard.ascii_forms"
"""The codec error handler writing ``ASCII_FORMS`` (registered with ``codecs``)."""


def _json_escape(character: str) -> str:
    code = ord(character)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a surrogate pair, as JSON writes a character beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def _ascii_forms(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: each character the encoding lacks as its ``ASCII_FORMS`` form, or escaped."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    lacking = error.object[error.start : error.end]
    return "".join(ASCII_FORMS.get(character) or _json_escape(character) for character in lacking), error.end


codecs.register_error(UNENCODABLE, _ascii_forms)


def _never_unencodable() -> None:
    """Make stdout and stderr write a character their encoding lacks in its ASCII form instead of raising
    UnicodeEncodeError (a traceback and exit 1: the contract has only 0 and 2). UTF-8 streams are left alone, so
    their output is unchanged."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and not codecs.lookup(stream.encoding).name.startswith("utf"):
            stream.reconfigure(errors=UNENCODABLE)


def _for_stdout(text: str) -> str:
    """``text`` as stdout writes it (``ASCII_FORMS`` for the characters its encoding lacks): for a table's heading,
    whose width is measured before it is written (the stream's replacement would widen it past its column)."""
    encoding = stdout.encoding
    return text.encode(encoding, errors=UNENCODABLE).decode(encoding)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")]
DiaryArgument = Annotated[
    # a str, not a Path: Path("./-") is "-", and ./- must stay the way to name a file called "-"
    str,
    typer.Argument(
        metavar="DIARY.csv",
        help="Diary CSV (shared/spec/diary-csv.md); - reads it from standard input.",
        show_default=False,
    ),
]
PatientOption = Annotated[str | None, typer.Option("--patient", metavar="ID", help="Only this patient.")]


def fail(problems: Iterable[str]) -> NoReturn:
    """Print every problem on stderr and exit 2 (nothing on stdout)."""
    for problem in problems:
        print(problem, file=sys.stderr)
    raise typer.Exit(2)


class Arguments:
    """Reads option values, collecting every problem so the command can list them all before exiting 2."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def date(self, option: str, value: str | None) -> date | None:
        """The option's date; a problem when it is not a YYYY-MM-DD date."""
        if value is None:
            return None
        parsed = iso_date(value)
        if parsed is None:
            self.problems.append(BAD_DATE_OPTION.format(option=option, value=value))
        return parsed

    def dates(self, option: str, value: str) -> list[date]:
        parsed = [self.date(option, item.strip()) for item in value.split(",")]
        return [day for day in parsed if day is not None]

    def require(self, condition: bool, message: str) -> None:
        if not condition:
            self.problems.append(message)

    def check(self) -> None:
        """Exit 2 listing every problem found so far."""
        if self.problems:
            fail(self.problems)


def command_today(clock: Callable[[], date] | None = None) -> date:
    """Today, or ``ONABOARD_TODAY`` when set: every `onaboard` command's one clock reading (exits 2 if malformed).

    ``clock`` is the day without the override: the commands on the app's database pass Django's
    ``timezone.localdate`` (the clinic's day, ``ONABOARD_TIME_ZONE``); the file commands read the machine's.
    """
    override = os.environ.get(TODAY_ENV)
    if override is None:
        return clock() if clock is not None else date.today()  # noqa: DTZ011 (the local calendar day)
    args = Arguments()
    today = args.date(TODAY_ENV, override)
    args.check()
    assert today is not None  # noqa: S101 (check() exits otherwise)
    return today


def clinic_today() -> date:
    """``command_today`` for the commands on the app's database (Django set up): without ``ONABOARD_TODAY``, today
    in the clinic's zone (``ONABOARD_TIME_ZONE``)."""
    from django.utils import timezone

    return command_today(timezone.localdate)


def _read_diary(path: str, patient_id: str | None, args: Arguments, *, today: date) -> tuple[PatientDiary, ...]:
    """The file's patients (or the one asked for), no row after ``today``; exits 2 on any problem, listing them
    all: the options' problems already in ``args`` and the file's, so a bad option does not hide a bad row.
    ``path`` ``-`` is standard input (read as bytes, like a file, so the diary's own decoding rules apply)."""
    data = None
    name = STDIN_NAME if path == STDIN else path
    try:
        data = sys.stdin.buffer.read() if path == STDIN else Path(path).read_bytes()
    except FileNotFoundError:
        args.problems.append(NO_SUCH_FILE.format(path=path))
    except OSError as error:
        args.problems.append(UNREADABLE_FILE.format(path=name, reason=error.strerror or error))
    patients: tuple[PatientDiary, ...] = ()
    chosen: tuple[PatientDiary, ...] = ()
    if data is not None:
        try:
            patients = parse_diary(data, today=today)
        except InvalidInputError as error:
            args.problems.extend(str(problem) for problem in error.problems)
        else:
            chosen = tuple(p for p in patients if patient_id is None or p.patient_id == patient_id)
            if not chosen and patient_id is not None:
                args.problems.append(PATIENT_NOT_IN_FILE.format(patient_id=patient_id, path=name))
    args.check()
    return chosen


def _each_with_progress(items: Sequence[PatientDiary], work: Callable[[PatientDiary], T], label: str) -> list[T]:
    """Apply ``work`` to each patient, with a progress bar on stderr for long runs on a terminal."""
    if len(items) < PROGRESS_MIN_PATIENTS or not stderr.is_terminal:
        return [work(item) for item in items]
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task(label, total=len(items))
        results = []
        for item in items:
            results.append(work(item))
            progress.advance(task)
        return results


@contextmanager
def _within_calendar(options: str) -> Iterator[None]:
    """Exit 2 naming ``options`` when the periods they ask for would begin before the calendar's first day."""
    try:
        yield
    except OverflowError:
        fail([OUTSIDE_CALENDAR.format(options=options)])


# --- assess -------------------------------------------------------------------------------------------------------


def _period_name(period: PeriodSummary) -> str:
    return "baseline" if period.index == 0 else str(period.index)


def _period_table(
    periods: Iterable[PeriodSummary], *, title: str | None = None, changes: dict[int, str] | None = None
) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold", pad_edge=False, box=None)
    for heading, justify, no_wrap in (
        ("period", "left", True),
        ("dates", "left", True),
        ("recorded", "left", True),
        ("headache", "right", False),
        ("≥4 h", "right", False),
        ("migraine", "right", False),
    ):
        table.add_column(_for_stdout(heading), justify=justify, no_wrap=no_wrap)  # type: ignore[arg-type]
    if changes is not None:
        table.add_column("change", justify="right")
    for period in periods:
        recorded = f"{period.days_recorded}/{PERIOD_DAYS}" + (
            "" if period.complete else (" missing" if period.missing else " incomplete")
        )
        row = [
            _period_name(period),
            period.span,
            recorded,
            str(period.headache_days),
            str(period.headache_days_4h),
            str(period.migraine_days),
        ]
        if changes is not None:
            row.append(changes.get(period.index, ""))
        table.add_row(*row, style=None if period.complete else "dim")
    return table


def _medication_table(periods: Iterable[PeriodSummary]) -> Table:
    """Each period's ``acute_medication_days``, one column per class ICHD-3 8.2 counts, and any."""
    table = Table(title=MEDICATION_TITLE, title_justify="left", header_style="bold", pad_edge=False, box=None)
    table.add_column("period", no_wrap=True)
    for heading, _ in MEDICATION_COLUMNS:
        table.add_column(heading, justify="right")
    for period in periods:
        acute = period.acute_medication_days
        counts = (acute.any if acute_class is None else acute.of(acute_class) for _, acute_class in MEDICATION_COLUMNS)
        table.add_row(_period_name(period), *map(str, counts), style=None if period.complete else "dim")
    return table


def _print_verdict(name: str, verdict: str, reasons: Iterable[str], extra: str = "") -> None:
    stdout.print(f"[bold]{name}[/bold]: {verdict}{extra}")
    for reason in reasons:
        stdout.print(f"  - {reason}", markup=False, soft_wrap=True)


def _print_assessment(assessment: Assessment) -> None:
    age = "age unknown" if assessment.age_years is None else f"age {assessment.age_years}"
    stdout.rule(f"[bold]{assessment.patient_id}[/bold]  as of {assessment.as_of.isoformat()}  ({age})", align="left")
    stdout.print(_period_table(assessment.periods))
    stdout.print(_medication_table(assessment.periods))
    stdout.print(f"Migraine attacks recorded (ICHD-3 1.3 B): {assessment.migraine_attacks}")
    _print_verdict("Chronic migraine", assessment.chronic_migraine.verdict, assessment.chronic_migraine.reasons)
    overuse = assessment.medication_overuse
    classes = f" ({', '.join(overuse.classes)})" if overuse.classes else ""
    _print_verdict("Medication overuse", overuse.verdict, overuse.reasons, classes)
    _print_verdict("BOTOX label criteria", assessment.label_criteria.verdict, assessment.label_criteria.reasons)
    stdout.print()


@app.command("assess")
def assess_command(
    diary: DiaryArgument,
    patient: PatientOption = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="DATE", help="Assessment date (YYYY-MM-DD; default: last diary date)."),
    ] = None,
    periods: Annotated[int, typer.Option("--periods", metavar="N", help="28-day periods to judge.")] = DEFAULT_PERIODS,
    birth_date: Annotated[
        str | None,
        typer.Option("--birth-date", metavar="DATE", help="Birth date for every patient (YYYY-MM-DD)."),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Classify diary days and judge chronic migraine, medication overuse and the BOTOX label criteria."""
    today = command_today()
    args = Arguments()
    args.require(periods >= 1, PERIODS_BELOW_ONE.format(value=periods))
    # a day still to come is judged as any other: the contract refuses diary rows after today, not --as-of, and the
    # days from the last row to it are not recorded (its periods incomplete or missing)
    as_of_date = args.date("--as-of", as_of)
    birth = args.date("--birth-date", birth_date)
    if as_of_date is not None and birth is not None:
        args.require(birth <= as_of_date, BIRTH_AFTER_AS_OF.format(birth=birth, as_of=as_of_date))
    patients = _read_diary(diary, patient, args, today=today)
    if birth is not None:
        late = [p.patient_id for p in patients if as_of_date is None and p.last_date and p.last_date < birth]
        if late:
            fail([BIRTH_AFTER_LAST_ROW.format(birth=birth, patients=", ".join(late))])
    with _within_calendar("--as-of, --periods"):
        results = _each_with_progress(
            patients, lambda p: assess(p, as_of=as_of_date, periods=periods, birth_date=birth), "assessing"
        )
    if json_output:
        print_json({"patients": [assessment_json(result) for result in results]})
        return
    if not results:
        stdout.print("No patients in the file.")
    for result in results:
        _print_assessment(result)


# --- outcomes -----------------------------------------------------------------------------------------------------


def _headache_days(count: int) -> str:
    return f"{count} headache day{'' if count == 1 else 's'}"


def _week24_line(outcomes: Outcomes) -> str:
    """The text's week-24 line, from the engine's ``week24`` and ``week24_state``."""
    week24 = outcomes.week24
    baseline = outcomes.baseline
    if week24.available and week24.headache_days is not None:
        if not baseline.complete:
            return WEEK24_BASELINE_INCOMPLETE.format(
                days=_headache_days(week24.headache_days), recorded=baseline.days_recorded, period_days=PERIOD_DAYS
            )
        return WEEK24_LINE.format(
            days=_headache_days(week24.headache_days),
            change=WEEK24_NO_PERCENT
            if week24.percent_change is None
            else WEEK24_CHANGE.format(percent=week24.percent_change),
            responder_50="yes" if week24.responder_50 else "no",
            responder_30="yes" if week24.responder_30 else "no",
        )
    recorded = next((c.period.days_recorded for c in outcomes.listed if c.period.index == WEEK24_PERIOD), 0)
    words = {
        Week24State.UNDER_WAY: WEEK24_UNDER_WAY,
        Week24State.ENDED_INCOMPLETE: WEEK24_ENDED_INCOMPLETE,
    }.get(outcomes.week24_state, WEEK24_NOT_REACHED)
    return words.format(period=WEEK24_PERIOD, recorded=recorded, period_days=PERIOD_DAYS, needed=MIN_RECORDED_DAYS)


def _print_outcomes(outcomes: Outcomes) -> None:
    injections = ", ".join(day.isoformat() for day in outcomes.injections)
    stdout.rule(f"[bold]{outcomes.patient_id}[/bold]  injections {injections}", align="left")
    changes = {  # as the patient page: a change only for a complete period against a complete baseline
        change.period.index: (
            f"{change.change_headache_days:+d}"
            + ("" if change.percent_change_headache_days is None else f" ({change.percent_change_headache_days:+} %)")
        )
        for change in outcomes.listed
        if change.judged and outcomes.baseline.complete
    }
    periods = (outcomes.baseline, *(c.period for c in outcomes.listed))
    stdout.print(_period_table(periods, changes=changes))
    stdout.print(_medication_table(periods))
    stdout.print(_week24_line(outcomes), markup=False, soft_wrap=True)
    if outcomes.onset is not None:
        stdout.print(
            f"First period with ≥{RESPONDER_30_PERCENT} % fewer headache days: period {outcomes.onset.period.index}"
        )
    _print_verdict("NICE TA260", outcomes.nice_ta260.verdict, outcomes.nice_ta260.reasons)
    stdout.print()


@app.command("outcomes")
def outcomes_command(
    diary: DiaryArgument,
    injections: Annotated[
        list[str],
        typer.Option(
            "--injections",
            metavar="DATE[,DATE...]",
            help="Injection dates (YYYY-MM-DD), comma-separated (day 0 = the earliest); repeated options add dates.",
        ),
    ],
    patient: PatientOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Change in headache days per 28-day period after treatment, week-24 response and NICE TA260 verdict."""
    today = command_today()
    args = Arguments()
    dates = [day for value in injections for day in args.dates("--injections", value)]
    patients = _read_diary(diary, patient, args, today=today)
    with _within_calendar("--injections"):
        # The file is a finished diary (every period holding a row is listed, as the contract says); today only
        # tells the week-24 reason whether period 6 is over or under way.
        results = _each_with_progress(
            patients, lambda p: treatment_outcomes(p, injections=dates, today=today), "outcomes"
        )
    if json_output:
        print_json({"patients": [outcomes_json(result) for result in results]})
        return
    if not results:
        stdout.print("No patients in the file.")
    for result in results:
        _print_outcomes(result)


# --- plan ---------------------------------------------------------------------------------------------------------


def _parse_follow_the_pain(value: str | None, args: Arguments) -> dict[str, int]:
    """The well-formed MUSCLE=N items; each malformed or repeated one is a problem added to ``args``."""
    if value is None or not value.strip():
        return {}
    counts: dict[str, int] = {}
    problems = args.problems
    for raw in value.split(","):
        item = raw.strip()
        muscle, sep, number = item.partition("=")
        muscle = muscle.strip().lower()
        # A sign is read (the engine refuses a negative count as "0 or more"); anything else is malformed.
        if not sep or not muscle or not re.fullmatch(r"-?[0-9]+", number.strip()):
            problems.append(FOLLOW_THE_PAIN_FORMAT.format(item=item))
        elif muscle in counts:
            problems.append(FOLLOW_THE_PAIN_REPEATED.format(muscle=muscle))
        else:
            counts[muscle] = int(number)
    return counts


def _print_plan(plan: InjectionPlan) -> None:
    table = Table(title="PREEMPT injection plan (5 U in 0.1 mL per site)", title_justify="left", box=None)
    table.add_column("muscle")
    table.add_column("left", justify="right")
    table.add_column("right", justify="right")
    table.add_column("midline", justify="right")
    table.add_column("sites", justify="right")
    table.add_column("units", justify="right")
    table.add_column("follow-the-pain", justify="right")
    for muscle, dose in plan.by_muscle.items():
        sites = [s for s in plan.sites if s.muscle is muscle]
        by_side = {side: sum(1 for s in sites if s.side.value == side) for side in ("left", "right", "midline")}
        extra = sum(1 for s in sites if s.follow_the_pain)
        table.add_row(
            muscle.value.replace("_", " "),
            str(by_side["left"] or ""),
            str(by_side["right"] or ""),
            str(by_side["midline"] or ""),
            str(dose.sites),
            str(dose.units),
            str(extra or ""),
        )
    table.add_row(
        "[bold]total[/bold]",
        "",
        "",
        "",
        f"[bold]{plan.site_count}[/bold]",
        f"[bold]{plan.total_units}[/bold]",
        str(plan.follow_the_pain_count or ""),
    )
    stdout.print(table)
    recon = plan.reconstitution
    stdout.print(
        f"Reconstitute each {recon.vial_units} U vial with {recon.saline_ml} mL preservative-free 0.9 % saline "
        f"({recon.units_per_0_1_ml} U per 0.1 mL)."
    )
    stdout.print(
        f"Vials: {plan.vials} x {recon.vial_units} U; discarded: {plan.discarded_units} U; "
        f"billing modifier {plan.billing_modifier.value}"
    )
    lines = "; ".join(
        f"{line.code}{'-' + line.modifier.value if line.modifier else ''} x {line.units}" for line in plan.billing_lines
    )
    stdout.print(f"Claim lines: {lines}")


@app.command("plan")
def plan_command(
    follow_the_pain: Annotated[
        list[str] | None,
        typer.Option(
            "--follow-the-pain",
            metavar="temporalis=N,occipitalis=N,trapezius=N",
            help="Extra sites: temporalis=N (≤2), occipitalis=N (≤2), trapezius=N (≤4); each muscle once, even "
            "across repeated options.",
            show_default=False,
        ),
    ] = None,
    vial: Annotated[int, typer.Option("--vial", metavar="100|200", help="Vial size in units: 100 or 200.")] = 200,
    json_output: JsonFlag = False,
) -> None:
    """The PREEMPT injection plan: 155 U over 31 sites, optional follow-the-pain up to 195 U / 39 sites."""
    args = Arguments()  # every problem listed: the options' form, the vial, and the plan's own rules
    counts = _parse_follow_the_pain(",".join(value for value in follow_the_pain or () if value.strip()), args)
    args.require(vial in VIAL_SIZES_UNITS, VIAL_CHOICE.format(value=vial))
    try:
        plan = preempt_plan(
            follow_the_pain=counts, vial_units=vial if vial in VIAL_SIZES_UNITS else max(VIAL_SIZES_UNITS)
        )
    except PlanError as error:
        args.problems.extend(error.problems)
    args.check()
    if json_output:
        print_json(plan_json(plan))
        return
    _print_plan(plan)


# --- schedule -----------------------------------------------------------------------------------------------------


@app.command("schedule")
def schedule_command(
    sessions: Annotated[
        str, typer.Argument(help="Dates of the sessions given so far, comma-separated.", show_default=False)
    ],
    today: Annotated[str | None, typer.Option("--today", help="The date to judge on (default: today).")] = None,
    propose: Annotated[
        str | None, typer.Option("--propose", help="Check a proposed date against the 12-week rule.")
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Next session dates from the sessions given so far: due every 12 weeks, with overdue status."""
    args = Arguments()
    dates = args.dates("sessions", sessions)
    on = args.date("--today", today)
    proposed = args.date("--propose", propose)
    args.check()
    on = on or command_today()
    with _within_calendar("sessions, --today, --propose"):
        try:
            status = schedule_status(dates, today=on)
            check = None if proposed is None else interval_check(status.last_session, proposed)
        except ScheduleError as error:
            fail(error.problems)
    if json_output:
        document = schedule_json(status, today=on)
        if check is not None:
            document["proposed"] = interval_json(check)
        print_json(document)
        return
    stdout.print(f"[bold]Cycle {status.cycle_number}[/bold] on {on.isoformat()}: {status.status.value}")
    if status.next_due is not None:
        stdout.print(f"Next session due {status.next_due.isoformat()} (earliest allowed {status.earliest_allowed})")
    for reason in status.reasons:
        stdout.print(f"  - {reason}", markup=False, soft_wrap=True)
    if check is not None:
        verdict = "allowed" if check.allowed else "too early"
        stdout.print(f"Proposed {check.proposed.isoformat()}: {verdict}")
        stdout.print(f"  - {check.reason}", markup=False, soft_wrap=True)


# --- score --------------------------------------------------------------------------------------------------------

score_app = typer.Typer(help="Score patient-reported outcome questionnaires (HIT-6, MIDAS).", no_args_is_help=True)
app.add_typer(score_app, name="score")


@score_app.command("hit6")
def hit6_command(
    answers: Annotated[
        list[str],
        typer.Argument(
            help="The six answers in item order: never, rarely, sometimes, 'very often', always.", show_default=False
        ),
    ],
    json_output: JsonFlag = False,
) -> None:
    """HIT-6 total (36-78) and impact band."""
    try:
        result = hit6_score(answers)
    except PromError as error:
        fail(error.problems)
    if json_output:
        print_json(hit6_json(result))
        return
    stdout.print(result.reason, markup=False)


@score_app.command("midas")
def midas_command(
    q1: Annotated[int, typer.Argument(help="Days of work or school missed.", show_default=False)],
    q2: Annotated[int, typer.Argument(help="Days work or school productivity was halved (not in Q1).")],
    q3: Annotated[int, typer.Argument(help="Days household work was not done.", show_default=False)],
    q4: Annotated[int, typer.Argument(help="Days household productivity was halved (not in Q3).")],
    q5: Annotated[int, typer.Argument(help="Days of family, social or leisure activities missed.")],
    headache_days: Annotated[
        int | None, typer.Option("--headache-days", help="A: headache days in the last 3 months.")
    ] = None,
    pain: Annotated[int | None, typer.Option("--pain", help="B: average pain, 0-10.")] = None,
    json_output: JsonFlag = False,
) -> None:
    """MIDAS score (Q1-Q5 days over the last 3 months) and disability grade."""
    try:
        result = midas_score(q1=q1, q2=q2, q3=q3, q4=q4, q5=q5, a=headache_days, b=pain)
    except PromError as error:
        fail(error.problems)
    if json_output:
        print_json(midas_json(result))
        return
    stdout.print(result.reason, markup=False)


from onaboard.cohort.cli import cohort_app, synth_command  # noqa: E402 - the cohort commands, registered last

app.command("synth")(synth_command)
app.add_typer(cohort_app, name="cohort")

from onaboard.commands import cohort, documents, exchange, ops  # noqa: E402 - commands on the app's database

for _module in (cohort, documents, exchange, ops):
    _module.register(app)


def main() -> None:
    """Console-script entry point."""
    _never_unencodable()
    app()
