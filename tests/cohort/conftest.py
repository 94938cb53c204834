"""Shared cohorts for the cohort tests: a generated one with hand-built boundary patients added, and a Spark session.

The boundary patients sit on every threshold the engine judges (ICHD-3 1.3 A and C, the 20-day completeness rule,
the label's 4 hours, ICHD-3 8.2's 10 and 15 days and 8.2.6, 1.3 B's five attacks, the responder and NICE rules,
the age of 18 and a 29 February birthday), each with its neighbour on the other side. All share day 0 (``DAY0``),
so their three eligibility periods are the three 28-day periods before it and their baseline is the first of them.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from onaboard.clinical import AcuteClass, DiaryDay, Intensity
from onaboard.cohort.synth import write_cohort
from onaboard.cohort.tables import SCHEMAS, diary_arrow
from tests.cohort.expected import Results, engine_results

IBIS_ON_DUCKDB_2 = pytest.mark.filterwarnings("ignore:fetch_arrow_table\\(\\) is deprecated:DeprecationWarning")
"""Ibis 12 still calls DuckDB 2's deprecated ``fetch_arrow_table``; the pinned pair works, so the warning is expected
(the suite turns warnings into errors). Modules that run Ibis on DuckDB mark themselves with it."""

SPARK = (
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
)
"""Marks of a Spark test: slow (``make test-fast`` skips it, ``.ci/run`` runs it), and deaf to what PySpark 4.0 says
about pandas 3 (``copy=`` deprecations in ``toPandas``) and to py4j's sockets left for the garbage collector."""


def spark_test(function: Callable[..., None]) -> Callable[..., None]:
    """Mark a test as a Spark test (``SPARK``)."""
    for mark in SPARK:
        function = mark(function)
    return function


DAY0 = date(2022, 3, 1)
"""Day 0 of every boundary patient (so the assessment before it is on 28 February of a common year, where a
29 February birthday is not yet reached); their observation ends on ``OBSERVED_UNTIL``."""
OBSERVED_UNTIL = DAY0 + timedelta(days=300)
GENERATED_PATIENTS = 300
GENERATED_SEED = 11

_MIGRAINE = {"intensity": Intensity.SEVERE, "unilateral": True, "pulsating": True, "nausea": True}


@dataclass(frozen=True, slots=True)
class Spec:
    """One 28-day period of a boundary patient: the first ``migraine`` days are 1.1 C+D migraine days, the next
    ``headache - migraine`` mild headache days, the rest headache-free, ``recorded`` rows from the period's start.
    ``medication`` maps a class to a number of days (from the first) or to ``(days, offset)``; ``extra`` fields go on
    every headache day."""

    headache: int = 20
    migraine: int = 10
    recorded: int = 28
    hours: str = "6"
    medication: Mapping[AcuteClass, int | tuple[int, int]] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    long_first: int = 0
    """The first ``long_first`` headache days last 6 hours whatever ``hours`` says (attacks among short days)."""


CM = Spec()
"""A complete period meeting ICHD-3 1.3 A and C (20 headache days, 10 of them migraine days lasting 6 hours)."""


def _period_days(patient_id: str, start: date, spec: Spec) -> list[DiaryDay]:
    taken: dict[int, set[AcuteClass]] = {}
    for cls, amount in spec.medication.items():
        count, offset = (amount, 0) if isinstance(amount, int) else amount
        for i in range(offset, offset + count):
            taken.setdefault(i, set()).add(cls)
    days = []
    for i in range(spec.recorded):
        fields: dict[str, Any] = {}
        hours = Decimal(0)
        if i < spec.headache:
            hours = Decimal("6" if i < spec.long_first else spec.hours)
            fields = {"intensity": Intensity.MILD, **(_MIGRAINE if i < spec.migraine else {}), **spec.extra}
        days.append(
            DiaryDay(
                patient_id=patient_id,
                date=start + timedelta(days=i),
                headache_hours=hours,
                acute_medication=frozenset(taken.get(i, ())),
                **fields,
            )
        )
    return days


@dataclass(frozen=True, slots=True)
class Boundary:
    """A hand-built patient: three periods before day 0 (oldest first), periods after it, a birth date."""

    patient_id: str
    before: Sequence[Spec | None] = (CM, CM, CM)
    after: Sequence[Spec | None] = ()
    birth_date: date | None = date(1980, 1, 1)
    sessions: int = 2

    def days(self) -> list[DiaryDay]:
        result = []
        for k, spec in enumerate(self.before):
            if spec is not None:
                result += _period_days(self.patient_id, DAY0 - timedelta(days=28 * (len(self.before) - k)), spec)
        for k, spec in enumerate(self.after):
            if spec is not None:
                result += _period_days(self.patient_id, DAY0 + timedelta(days=28 * k), spec)
        return result


def _after(*headache_days: int | Spec | None) -> tuple[Spec | None, ...]:
    return tuple(
        h if h is None or isinstance(h, Spec) else Spec(headache=h, migraine=min(h, 10)) for h in headache_days
    )


AS_OF = DAY0 - timedelta(days=1)
BOUNDARY_PATIENTS: tuple[Boundary, ...] = (
    Boundary("B01-cm-15-headache", before=(CM, CM, Spec(headache=15, migraine=8))),
    Boundary("B02-cm-14-headache", before=(CM, CM, Spec(headache=14, migraine=8))),
    Boundary("B03-cm-8-migraine", before=(Spec(migraine=8), CM, CM)),
    Boundary("B04-cm-7-migraine", before=(Spec(migraine=7), CM, CM)),
    Boundary("B05-20-recorded", before=(CM, Spec(recorded=20), CM)),
    Boundary("B06-19-recorded", before=(CM, Spec(recorded=19), CM)),
    Boundary("B07-3.99-hours", before=(CM, CM, Spec(hours="3.99", headache=20))),
    Boundary("B08-4-hours", before=(CM, CM, Spec(hours="4", headache=15, migraine=8))),
    Boundary("B09-9-triptan", before=(Spec(medication={AcuteClass.TRIPTAN: 9}),) * 3),
    Boundary("B10-10-triptan", before=(Spec(medication={AcuteClass.TRIPTAN: 10}),) * 3),
    Boundary("B11-14-simple", before=(Spec(medication={AcuteClass.SIMPLE_ANALGESIC: 14}),) * 3),
    Boundary("B12-15-simple", before=(Spec(medication={AcuteClass.SIMPLE_ANALGESIC: 15}),) * 3),
    Boundary(
        "B13-8.2.6-ten-days",
        before=(Spec(medication={AcuteClass.TRIPTAN: 5, AcuteClass.OPIOID: (5, 5)}),) * 3,
    ),
    Boundary(
        "B14-8.2.6-nine-days",
        before=(Spec(medication={AcuteClass.TRIPTAN: 5, AcuteClass.OPIOID: (5, 4)}),) * 3,
    ),
    Boundary(
        "B15-8.2.6-gepant-not-counted", before=(Spec(medication={AcuteClass.TRIPTAN: 9, AcuteClass.GEPANT: 9}),) * 3
    ),
    Boundary("B16-missing-periods", before=(None, None, CM), after=_after(12, 12)),
    Boundary(
        "B17-four-attacks",
        before=(Spec(hours="3.5", long_first=2), Spec(hours="3.5", long_first=2), Spec(hours="3.5")),
    ),
    Boundary(
        "B18-five-attacks",
        before=(Spec(hours="3.5", long_first=2), Spec(hours="3.5", long_first=2), Spec(hours="3.5", long_first=1)),
    ),
    Boundary(
        "B19-aura-route",
        before=(Spec(migraine=0, extra={"aura": True}, headache=16),) * 3,
    ),
    Boundary(
        "B20-believed-and-relieved",
        before=(
            Spec(
                migraine=0, extra={"believed_migraine": True, "acute_relief": True}, medication={AcuteClass.TRIPTAN: 8}
            ),
        )
        * 3,
    ),
    Boundary(
        "B21-believed-relieved-by-analgesic",
        before=(
            Spec(
                migraine=0,
                extra={"believed_migraine": True, "acute_relief": True},
                medication={AcuteClass.SIMPLE_ANALGESIC: 8},
            ),
        )
        * 3,
    ),
    Boundary(
        "B22-photophobia-alone",
        before=(Spec(migraine=0, extra={"unilateral": True, "pulsating": True, "photophobia": True}),) * 3,
    ),
    Boundary(
        "B23-vomiting-alone",
        before=(Spec(migraine=0, extra={"intensity": Intensity.MODERATE, "unilateral": True, "vomiting": True}),) * 3,
    ),
    Boundary("B24-turns-18-on-as-of", birth_date=date(2004, 2, 28)),
    Boundary("B25-turns-18-the-day-after", birth_date=date(2004, 3, 1)),
    Boundary("B26-29-february-not-yet-18", birth_date=date(2004, 2, 29)),
    Boundary("B27-no-birth-date", birth_date=None),
    Boundary("B28-responder-50-exact", after=_after(14, 12, 12, 11, 11, 10, 10)),
    Boundary("B29-responder-50-missed", after=_after(14, 12, 12, 11, 11, 11, 11)),
    Boundary("B30-responder-30-exact", after=_after(16, 16, 16, 16, 16, 14, 16)),
    Boundary("B31-responder-30-missed", after=_after(16, 16, 16, 16, 16, 15, 16)),
    Boundary("B32-baseline-0", before=(CM, CM, Spec(headache=0, migraine=0)), after=_after(2, 1, 0, 0, 0, 3)),
    Boundary("B33-percent-rounding", before=(CM, CM, Spec(headache=16)), after=_after(15, 15, 15, 15, 15, 15)),
    Boundary("B34-reverted", after=_after(14, 14, 14)),
    Boundary("B35-not-consecutive", after=_after(14, 14, Spec(headache=10, recorded=19), 14)),
    Boundary("B36-incomplete-baseline", before=(CM, CM, Spec(recorded=19)), after=_after(18, 18, 18)),
    Boundary("B37-no-diary", before=(None, None, None), after=()),
    Boundary("B38-week24-19-days", after=_after(18, 18, 18, 18, 18, Spec(headache=5, recorded=19), 18)),
    Boundary("B39-week24-20-days", after=_after(18, 18, 18, 18, 18, Spec(headache=5, recorded=20), 18)),
    Boundary("B40-empty-week24-then-a-row", after=_after(18, 18, 18, 18, 18, None, 18)),
)
"""Each threshold with a patient on either side of it."""


def _boundary_tables() -> dict[str, pa.Table]:
    days = [day for patient in BOUNDARY_PATIENTS for day in patient.days()]
    ids = [patient.patient_id for patient in BOUNDARY_PATIENTS]
    sessions = [
        (patient.patient_id, n + 1, DAY0 + timedelta(days=84 * n))
        for patient in BOUNDARY_PATIENTS
        for n in range(patient.sessions)
    ]
    return {
        "patients": pa.Table.from_pydict(
            {
                "patient_id": ids,
                "sex": ["female"] * len(ids),
                "birth_date": [patient.birth_date for patient in BOUNDARY_PATIENTS],
                "observed_from": [DAY0 - timedelta(days=84)] * len(ids),
                "observed_until": [OBSERVED_UNTIL] * len(ids),
                "prior_preventives_failed": [3] * len(ids),
                "prior_preventive_classes": ["beta_blocker;anticonvulsant;tricyclic_antidepressant"] * len(ids),
            },
            schema=SCHEMAS["patients"],
        ),
        "diary": diary_arrow(days),
        "sessions": pa.Table.from_pydict(
            {
                "patient_id": [row[0] for row in sessions],
                "session_number": [row[1] for row in sessions],
                "session_date": [row[2] for row in sessions],
                "dose_units": [155] * len(sessions),
                "sites": [31] * len(sessions),
                "follow_the_pain_sites": [0] * len(sessions),
            },
            schema=SCHEMAS["sessions"],
        ),
    }


def write_boundary_cohort(directory: Path, *, patients: int = GENERATED_PATIENTS) -> Path:
    """A generated cohort of ``patients`` with the boundary patients added to its patients, diary and sessions."""
    write_cohort(directory, patients=patients, days=365, seed=GENERATED_SEED)
    for name, extra in _boundary_tables().items():
        path = directory / f"{name}.parquet"
        combined = pa.concat_tables([extra, pq.read_table(path)])
        pq.write_table(combined, path)
    return directory


@pytest.fixture(scope="session")
def boundary_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-patient generated cohort plus the boundary patients, as Parquet."""
    return write_boundary_cohort(tmp_path_factory.mktemp("boundary-cohort"))


@pytest.fixture(scope="session")
def expected(boundary_cohort: Path) -> Results:
    """The engine's answers for every treated patient of the boundary cohort."""
    return engine_results(boundary_cohort)


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local Spark session for every Spark test: two cores, two shuffle partitions, no UI."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("onaboard tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()  # py4j's sockets are closed here, not in a later, unrelated test
