"""The engine's rules over a whole cohort, written once as Ibis expressions (DuckDB or Spark does the work).

Each function here mirrors one rule of ``onaboard.clinical`` and says which; every threshold is imported from
there, never retyped, and tests/cohort/test_rules.py proves, patient by patient and period by period, that both
backends give the engine's answer. Nothing is executed here: every function takes and returns lazy Ibis tables.

The shape of the computation keeps the diary's rows to a single scan (plus one of its ``answers`` column alone, for
the distinct day codes). ``classify_days`` is the day definitions; ``period_grid`` groups the rows of each patient
into 28-day periods laid on a per-patient *anchor* date (grid 0 is ``anchor .. anchor+27``, grid -1 the 28 days
before it, ...) and counts everything the verdicts need. It does not
classify every row: a day's definitions depend only on its ``answers`` (tables.py) and on which side of 0 and of
``FOUR_HOUR_THRESHOLD_HOURS`` its hours lie, so ``classify_days`` runs once per distinct such *day code*, and each
row looks up its code's counter increments, packed into one integer, and adds them up (bench/README.md has the
measurements). The rest works on that small table (one row per patient and period holding a diary row):

- an assessment on ``as_of`` (``assessment``): the anchor is ``as_of + 1``, period 1 is grid -1;
- outcomes after the first injection (``treatment_periods``, ``treatment_outcomes``): the anchor is day 0, the
  baseline is grid -1 and period k is grid k-1;
- so with the anchor on day 0, the assessment the day before the first injection and the one on the last day of
  week 24 (day 167, periods 4-6) come from the same grid as the outcomes;
- outcomes on an assessment day (``ended_periods``): the engine's ``treatment_outcomes(..., as_of=...)`` leaves
  out the period still running on that day and every later one, so the grid's periods after day 0 that have not
  ended before it are dropped before the outcomes are worked out.

A period with no diary row is simply absent from the grid. The verdicts count complete periods instead of
looking for incomplete ones (an absent period is never complete), so they need no row per patient and period;
``periods_before`` and ``treatment_period_listing`` lay out every period, empty ones included, as the engine
lists them, for per-period output and for the tests that compare the two period by period.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable
from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from onaboard.clinical import (
    ADULT_AGE_YEARS,
    CM_MIN_ATTACKS,
    CM_MIN_HEADACHE_DAYS,
    CM_MIN_MIGRAINE_DAYS,
    EPISODIC_CONSECUTIVE_PERIODS,
    FOUR_HOUR_THRESHOLD_HOURS,
    HIT6_POINTS,
    LABEL_MIN_HEADACHE_DAYS_4H,
    MIDAS_GRADE_II_MIN,
    MIDAS_GRADE_III_MIN,
    MIDAS_GRADE_IV_MIN,
    MIN_PAIN_CHARACTERISTICS,
    MIN_RECORDED_DAYS,
    MULTIPLE,
    ONSET_PERIOD,
    OVERUSE_CLASSES,
    OVERUSE_DAYS,
    OVERUSE_MULTIPLE_DAYS,
    PERIOD_DAYS,
    RESPONDER_30_PERCENT,
    RESPONDER_50_PERCENT,
    RETREATMENT_INTERVAL_DAYS,
    WEEK24_PERIOD,
    AcuteClass,
    ChronicMigraine,
    Intensity,
    LabelCriteria,
    MedicationOveruse,
    MidasGrade,
    NiceTa260,
    week24_last_day,
)
from onaboard.cohort.tables import (
    ACUTE_COLUMNS,
    DIARY_FLAG_COLUMNS,
    HIT6_ITEM_COLUMNS,
    INTENSITY_BITS,
    INTENSITY_CODES,
    INTENSITY_SHIFT,
)

__all__ = [
    "COUNT_COLUMNS",
    "DOUBLE_BLIND_CYCLES",
    "OVERUSE_FLAGS",
    "REPORT_COUNTS",
    "WEEK24_LAST_DAY",
    "adverse_event_incidence",
    "age_in_years",
    "as_of_anchors",
    "assessment",
    "chronic_migraine",
    "classify_days",
    "ended_periods",
    "first_injections",
    "hit6_totals",
    "label_criteria",
    "label_phase_events",
    "medication_overuse",
    "midas_totals",
    "migraine_attacks",
    "overfull_periods",
    "period_grid",
    "period_overuse",
    "periods_before",
    "recorded_periods",
    "reduction_at_least",
    "treatment_baseline",
    "treatment_outcomes",
    "treatment_period_listing",
    "treatment_periods",
    "unpack_answers",
]

COUNT_COLUMNS: tuple[str, ...] = (
    "days_recorded",
    "headache_days",
    "headache_days_4h",
    "migraine_days",
    *(cls.value for cls in AcuteClass),
    "acute_any",
    "overuse_class_days",
)
"""The per-period counts, named as ``PeriodSummary`` and ``AcuteDays`` name them (``acute_any`` is ``any``)."""

OVERUSE_FLAGS: tuple[str, ...] = (*(f"overuse_{cls.value}" for cls in OVERUSE_CLASSES), f"overuse_{MULTIPLE}")
"""Per-class ICHD-3 8.2 flags (8.2.1-8.2.5, then 8.2.6 ``multiple``), in the engine's order of ``classes``."""

DOUBLE_BLIND_CYCLES = WEEK24_PERIOD * PERIOD_DAYS // RETREATMENT_INTERVAL_DAYS
"""Sessions given before the week-24 assessment (two): the label's adverse-reaction table covers these cycles."""

WEEK24_LAST_DAY = (week24_last_day(date.min) - date.min).days
"""Week 24's last day in days after day 0 (the engine's ``week24_last_day``, the same for every day 0: day 167)."""

_FLOOR_SHIFT = 100_000
"""Periods before the anchor have negative offsets; shifting by this many periods keeps integer division a floor
on every backend (about 7,700 years of diary either side of the anchor)."""

_MIGRAINE_SPECIFIC = (AcuteClass.TRIPTAN, AcuteClass.ERGOT)
"""ICHD-3 1.3 C3: relieved by a triptan or an ergot derivative."""
_MODERATE_OR_SEVERE = (Intensity.MODERATE.value, Intensity.SEVERE.value)
"""ICHD-3 1.1 C3: moderate or severe pain intensity."""


def _indices(values: Iterable[int]) -> ir.Table:
    """A one-column table of period indices (from Arrow, so no pandas is involved)."""
    return ibis.memtable(pa.table({"index": pa.array(list(values), pa.int32())}))


def _any(values: Iterable[ir.BooleanValue]) -> ir.BooleanValue:
    return functools.reduce(operator.or_, values)


def _flag(table: ir.Table, name: str) -> ir.BooleanValue:
    """A yes/no column; blank (null) counts as no (diary contract)."""
    return table[name].fill_null(False)


def _definitions(diary: ir.Table) -> dict[str, ir.BooleanValue]:
    """The day definitions of ``classify_days`` over any table with the diary's columns, by name."""
    headache = diary.headache_hours > 0
    characteristics = (
        _flag(diary, "unilateral").cast("int8")
        + _flag(diary, "pulsating").cast("int8")
        + _any(diary.intensity == value for value in _MODERATE_OR_SEVERE).fill_null(False).cast("int8")
        + _flag(diary, "worse_with_activity").cast("int8")
    )
    accompanied = (
        _flag(diary, "nausea") | _flag(diary, "vomiting") | (_flag(diary, "photophobia") & _flag(diary, "phonophobia"))
    )
    taken = {cls: _flag(diary, column) for cls, column in ACUTE_COLUMNS.items()}
    route_features = headache & (characteristics >= MIN_PAIN_CHARACTERISTICS) & accompanied
    route_aura = headache & _flag(diary, "aura")
    route_believed = (
        headache
        & _flag(diary, "believed_migraine")
        & _flag(diary, "acute_relief")
        & _any(taken[cls] for cls in _MIGRAINE_SPECIFIC)
    )
    four_hours = diary.headache_hours >= float(FOUR_HOUR_THRESHOLD_HOURS)
    return {
        "headache": headache,
        "headache_4h": four_hours,  # >= FOUR_HOUR_THRESHOLD_HOURS (> 0) is a headache day already
        "route_features": route_features,
        "route_aura": route_aura,
        "route_believed": route_believed,
        "migraine": route_features | route_aura | route_believed,
        "attack": (four_hours & route_features) | route_aura,
        **{cls.value: taken[cls] for cls in AcuteClass},
        "acute_any": _any(taken.values()),
        "overuse_class_day": _any(taken[cls] for cls in OVERUSE_CLASSES),
    }


def classify_days(diary: ir.Table) -> ir.Table:
    """Each diary row's classification: ``onaboard.clinical.classify_day`` (diary-csv.md, "Day definitions").

    ``headache`` (ICHD-3 1.3 A: any headache), ``headache_4h`` (>= ``FOUR_HOUR_THRESHOLD_HOURS``, the label's
    and PREEMPT's), the three migraine-day routes of ICHD-3 1.3 C (1.1 C+D; 1.2 B+C aura; believed migraine
    relieved by a triptan or ergot taken that day) and ``migraine``, ``attack`` (1.3 B: >= 4 h and 1.1 C+D, or
    aura; aura without headache counts as neither), one column per acute class, ``acute_any`` and
    ``overuse_class_day`` (a day with any of the five classes ICHD-3 8.2 counts).

    The hours are read only through ``> 0`` and ``>= FOUR_HOUR_THRESHOLD_HOURS`` (``period_grid`` relies on it),
    intensity as two equality tests, and ``headache_4h`` as the hours test alone.
    """
    return diary.select("patient_id", "date", **_definitions(diary))


def unpack_answers(table: ir.Table) -> ir.Table:
    """``table`` with the diary's flag columns and ``intensity`` decoded from its ``answers`` column (tables.py)."""
    answers = table.answers
    flags = {name: (answers & (1 << bit)) != 0 for bit, name in enumerate(DIARY_FLAG_COLUMNS)}
    code = (answers >> INTENSITY_SHIFT) & ((1 << INTENSITY_BITS) - 1)
    named = [(number, name) for name, number in INTENSITY_CODES.items() if name is not None]
    return table.mutate(**flags, intensity=code.cases(*named, else_=ibis.null("string")))


_HOURS_CLASSES: tuple[float, ...] = (0.0, float(FOUR_HOUR_THRESHOLD_HOURS) / 2, float(FOUR_HOUR_THRESHOLD_HOURS))
"""One ``headache_hours`` value for each class of hours the day definitions tell apart: none, under
``FOUR_HOUR_THRESHOLD_HOURS``, at least that. ``classify_days`` compares the hours with 0 and that threshold only,
so every day of a class has the definitions of the class's value."""

_FIELD_BITS = PERIOD_DAYS.bit_length()
"""Bits of one counter in a packed sum: room for the ``PERIOD_DAYS`` rows a period holds when each date has one row
(``period_grid``'s callers check it: ``overfull_periods``)."""

_FIELDS_PER_SUM = (pa.int64().bit_width - 1) // _FIELD_BITS
"""Counters packed into one signed 64-bit sum (12)."""

_COUNTED = {
    "headache_days": "headache",
    "headache_days_4h": "headache_4h",
    "migraine_days": "migraine",
    **{cls.value: cls.value for cls in AcuteClass},
    "acute_any": "acute_any",
    "overuse_class_days": "overuse_class_day",
    "attacks": "attack",
}
"""Each counter of ``period_grid`` and the day definition it counts."""


@ibis.udf.agg.builtin(name="bit_or")
def _bit_or(value: dt.Int32) -> dt.Int32:  # type: ignore[empty-body]
    """The bitwise or of a group's values: DuckDB's and Spark's own ``bit_or`` (Ibis compiles its ``bit_or`` for
    DuckDB only)."""


def _hours_class(hours: ir.FloatingValue) -> ir.IntegerValue:
    """The index in ``_HOURS_CLASSES`` of each row's hours."""
    return (hours > 0).cast("int32") + (hours >= float(FOUR_HOUR_THRESHOLD_HOURS)).cast("int32")


def _day_key(answers: ir.IntegerValue, hours_class: ir.IntegerValue) -> ir.IntegerValue:
    return answers * len(_HOURS_CLASSES) + hours_class


def _day_codes(diary: ir.Table, counted: list[str]) -> ir.Table:
    """One row per distinct day code of ``diary`` (its ``answers`` with each class of hours): the ``key`` rows look
    up, and per chunk of ``_FIELDS_PER_SUM`` counters of ``counted`` a ``packed_<j>`` integer holding, from bit 0 up
    in steps of ``_FIELD_BITS``, 1 where the code's day counts for that counter."""
    answers = diary.select("answers").distinct()
    indices = ibis.literal(list(range(len(_HOURS_CLASSES))), type="array<int32>")
    classes = answers.mutate(hours_class=indices.unnest())  # not a memtable: Ibis's Spark cache() would miss it
    hours = classes.hours_class.cases(*enumerate(_HOURS_CLASSES), else_=ibis.null("float64"))
    codes = unpack_answers(classes.mutate(headache_hours=hours.cast("float64")))
    definitions = _definitions(codes)
    packed = {}
    for start in range(0, len(counted), _FIELDS_PER_SUM):
        chunk = counted[start : start + _FIELDS_PER_SUM]
        packed[f"packed_{start // _FIELDS_PER_SUM}"] = functools.reduce(
            operator.add,
            (definitions[_COUNTED[name]].cast("int64") << (_FIELD_BITS * place) for place, name in enumerate(chunk)),
        )
    return codes.select(key=_day_key(codes.answers, codes.hours_class), **packed)


def first_injections(sessions: ir.Table) -> ir.Table:
    """Day 0 of each treated patient: the earliest session (``treatment_outcomes``), as ``anchor``."""
    return sessions.group_by("patient_id").aggregate(anchor=sessions.session_date.min(), sessions=sessions.count())


def as_of_anchors(days: ir.Table, as_of: ir.Table | None = None) -> ir.Table:
    """Anchors for an assessment on ``as_of``: the day after it. Without a table of ``patient_id, as_of``,
    each patient's last diary date (``onaboard.clinical.assess``'s default)."""
    if as_of is None:
        as_of = days.group_by("patient_id").aggregate(as_of=days.date.max())
    return as_of.select("patient_id", anchor=as_of.as_of + ibis.interval(days=1))


REPORT_COUNTS: tuple[str, ...] = (
    "days_recorded",
    "headache_days",
    "headache_days_4h",
    "migraine_days",
    *(cls.value for cls in OVERUSE_CLASSES),
    "overuse_class_days",
)
"""The counts the verdicts and outcomes read (gepants, ditans, others and ``any`` are reported, never judged)."""


def period_grid(diary: ir.Table, anchors: ir.Table, *, counts: Iterable[str] = COUNT_COLUMNS) -> ir.Table:
    """The diary's days, classified (``classify_days``), counted per patient and 28-day period laid on the patient's
    anchor (``PERIOD_DAYS``).

    One row per patient and ``grid`` holding at least one diary row: grid g covers ``anchor + 28 g`` to
    ``anchor + 28 g + 27``. ``counts`` are ``PeriodSummary``'s (``summarise_period``; default all of
    ``COUNT_COLUMNS``, ``REPORT_COUNTS`` for what the verdicts read; ``days_recorded`` always), plus ``attacks``
    (ICHD-3 1.3 B days) and the ``last_date`` of the period, so attack and last-row questions need no second scan
    of the diary. Every row needs its hours and ``answers`` (the contract requires the hours; a blank would drop
    the row): ``read_cohort`` and ``arrow_cohort`` refuse a diary with blanks there.

    Each row adds its day code's packed increments (``_day_codes``) instead of one sum per counter, and the
    counters are unpacked on the grouped rows. That is exact while no counter of a period exceeds
    ``2 ** _FIELD_BITS - 1``, which holds whenever each patient has one row per date: ``date_mask`` sets bit d for
    each day d of the period holding a row (DuckDB's and Spark's ``bit_or``), so ``overfull_periods`` finds a
    period holding a date twice without a distinct count over the diary. Rows are keyed by the period's first day
    as an offset (``o - o % 28`` on offsets shifted to be positive), so the scan does integer arithmetic only; the
    index is derived on the grouped rows.
    """
    wanted = [name for name in COUNT_COLUMNS if name in set(counts)]
    counted = [*(name for name in wanted if name != "days_recorded"), "attacks"]
    codes = _day_codes(diary, counted)
    rows = diary.select("patient_id", "date", key=_day_key(diary.answers, _hours_class(diary.headache_hours)))
    joined = rows.join(anchors.select("patient_id", "anchor"), "patient_id").join(codes, "key")
    shifted = joined.date.delta(joined.anchor, unit="day") + PERIOD_DAYS * _FLOOR_SHIFT
    start = (shifted - shifted % PERIOD_DAYS).name("start_offset")
    day_bit = (ibis.literal(1, type="int32") << (shifted % PERIOD_DAYS).cast("int32")).cast("int32")
    packed = [name for name in codes.columns if name != "key"]
    grouped = joined.group_by([joined.patient_id, start]).aggregate(
        days_recorded=joined.count(),
        date_mask=_bit_or(day_bit),
        **{name: joined[name].sum() for name in packed},
        last_date=joined.date.max(),
    )
    mask = (1 << _FIELD_BITS) - 1
    unpacked = {
        name: ((grouped[packed[place // _FIELDS_PER_SUM]] >> (_FIELD_BITS * (place % _FIELDS_PER_SUM))) & mask).cast(
            "int64"
        )
        for place, name in enumerate(counted)
    }
    grid = (grouped.start_offset // PERIOD_DAYS - _FLOOR_SHIFT).cast("int32")
    return grouped.select(
        "patient_id",
        grid.name("grid"),
        "days_recorded",  # always: overfull_periods reads it, with date_mask
        "date_mask",
        **{name: unpacked[name] for name in counted},
        last_date=grouped.last_date,
    )


def _bit_count(mask: ir.IntegerValue) -> ir.IntegerValue:
    """How many of the ``PERIOD_DAYS`` low bits of ``mask`` are set (Ibis has no popcount). It runs on the grid's
    rows, one per patient and period, not on the diary's."""
    return functools.reduce(operator.add, (((mask >> bit) & 1).cast("int64") for bit in range(PERIOD_DAYS)))


def overfull_periods(grid: ir.Table) -> ir.Table:
    """Periods of ``period_grid`` holding a date written twice for one patient (the diary contract allows one row
    per date): more rows (``days_recorded``) than distinct dates (``dates_recorded``, the bits set in the grid's
    ``date_mask``, one bit per day of the period). Every count of such a period is inflated, and past
    ``PERIOD_DAYS`` rows the grid's packed counters break. Exact, and free of a distinct count over the diary."""
    flagged = grid.mutate(dates_recorded=_bit_count(grid.date_mask))
    return flagged.filter(flagged.days_recorded > flagged.dates_recorded).select(
        "patient_id", "grid", "days_recorded", "dates_recorded"
    )


def _complete(periods: ir.Table) -> ir.BooleanValue:
    return periods.days_recorded >= MIN_RECORDED_DAYS


def recorded_periods(grid: ir.Table, *, count: int, through: int = 0) -> ir.Table:
    """The periods among the ``count`` before ``as_of = anchor + 28 * through - 1`` that hold a diary row.

    Index 1 is the most recent (grid ``through - 1``), each with ``complete`` (at least ``MIN_RECORDED_DAYS``
    rows). A period without a row is absent, and so never complete: the verdicts below read ``count`` and judge
    an absent period as the engine judges an empty or missing one (incomplete), which spares them a row per
    patient and period.
    """
    if count < 1:
        raise ValueError(f"count must be at least 1 (got {count})")
    chosen = grid.filter((grid.grid >= through - count) & (grid.grid < through))
    return chosen.mutate(index=(through - chosen.grid).cast("int32"), complete=_complete(chosen))


def periods_before(grid: ir.Table, anchors: ir.Table, *, count: int, through: int = 0) -> ir.Table:
    """Every one of the ``count`` periods ending on ``as_of = anchor + 28 * through - 1``, as the engine's
    ``periods_before`` lists them: index 1 the most recent, zero counts where no row, ``start`` and ``end``
    dates, ``complete``, and ``missing`` when the period ends before the first diary row up to ``as_of``.

    The first row up to ``as_of`` lies in period ``first_grid``, so the missing periods are exactly those before
    it (all of them when there is no row). Rows after ``as_of`` are left out, as ``assess`` leaves them out.
    """
    recorded = recorded_periods(grid, count=count, through=through)
    upto = grid.filter(grid.grid < through)
    seen = upto.group_by("patient_id").aggregate(first_grid=upto.grid.min())
    index = _indices(range(1, count + 1))
    spine = anchors.select("patient_id", "anchor").cross_join(index)
    spine = spine.left_join(seen, "patient_id").select(spine, seen.first_grid)
    spine = spine.mutate(grid=(through - spine["index"]).cast("int32"))
    return _dense(spine, recorded)


def _dense(spine: ir.Table, recorded: ir.Table) -> ir.Table:
    """``spine`` (patient_id, anchor, index, grid, first_grid) with the recorded periods' counts, 0 where none."""
    joined = spine.left_join(recorded, ["patient_id", "grid"])
    start = joined.anchor + (PERIOD_DAYS * joined.grid).as_interval("D")
    present = [name for name in COUNT_COLUMNS if name in recorded.columns]
    counts = {name: joined[name].fill_null(0).cast("int64") for name in present}
    return joined.select(
        "patient_id",
        index=spine["index"],
        grid=spine.grid,
        start=start,
        end=start + ibis.interval(days=PERIOD_DAYS - 1),
        **counts,
        complete=counts["days_recorded"] >= MIN_RECORDED_DAYS,
        missing=joined.first_grid.isnull() | (spine.grid < joined.first_grid),
    )


def migraine_attacks(grid: ir.Table, anchors: ir.Table, *, through: int = 0) -> ir.Table:
    """Per anchored patient: ``as_of`` and the ICHD-3 1.3 B attack days over the whole diary up to it (0 when
    there is no row), as ``assess`` counts ``migraine_attacks``."""
    upto = grid.filter(grid.grid < through)
    counted = upto.group_by("patient_id").aggregate(attacks=upto.attacks.sum())
    joined = anchors.select("patient_id", "anchor").left_join(counted, "patient_id")
    return joined.select(
        "patient_id",
        as_of=joined.anchor + ibis.interval(days=PERIOD_DAYS * through - 1),
        migraine_attacks=joined.attacks.fill_null(0).cast("int64"),
    )


def chronic_migraine(periods: ir.Table, attacks: ir.Table, *, count: int) -> ir.Table:
    """ICHD-3 1.3 per patient of ``attacks``, over the ``count`` periods: ``chronic_migraine_verdict``.

    ``no`` if a complete period has < ``CM_MIN_HEADACHE_DAYS`` headache days or < ``CM_MIN_MIGRAINE_DAYS``
    migraine days; otherwise ``insufficient_data`` if fewer than ``count`` periods are complete (a period is
    incomplete, empty or missing); otherwise ``no`` with fewer than ``CM_MIN_ATTACKS`` attacks; otherwise ``yes``.
    """
    failing = periods.complete & (
        (periods.headache_days < CM_MIN_HEADACHE_DAYS) | (periods.migraine_days < CM_MIN_MIGRAINE_DAYS)
    )
    per_patient = periods.group_by("patient_id").aggregate(fails=failing.any(), complete=periods.complete.sum())
    joined = attacks.left_join(per_patient, "patient_id")
    verdict = ibis.cases(
        (joined.fails.fill_null(False), ChronicMigraine.NO.value),
        (joined.complete.fill_null(0) < count, ChronicMigraine.INSUFFICIENT_DATA.value),
        (joined.migraine_attacks < CM_MIN_ATTACKS, ChronicMigraine.NO.value),
        else_=ChronicMigraine.YES.value,
    )
    return joined.select("patient_id", "as_of", "migraine_attacks", chronic_migraine=verdict)


def period_overuse(periods: ir.Table) -> ir.Table:
    """Each period with the ICHD-3 8.2 classes it meets: ``period_overuse`` of the engine.

    ``overuse_<class>`` when the class reaches its own ``OVERUSE_DAYS`` threshold (8.2.1-8.2.5);
    ``overuse_multiple`` (8.2.6) when none does, two or more of the five classes were taken, on at least
    ``OVERUSE_MULTIPLE_DAYS`` distinct days in all; ``overuse`` when either holds.
    """
    met = {cls: periods[cls.value] >= OVERUSE_DAYS[cls] for cls in OVERUSE_CLASSES}
    classes_met = _any(met.values())
    used = functools.reduce(operator.add, ((periods[cls.value] > 0).cast("int8") for cls in OVERUSE_CLASSES))
    multiple = ~classes_met & (used >= 2) & (periods.overuse_class_days >= OVERUSE_MULTIPLE_DAYS)
    return periods.mutate(
        **{f"overuse_{cls.value}": met[cls] for cls in OVERUSE_CLASSES},
        **{f"overuse_{MULTIPLE}": multiple},
        overuse=classes_met | multiple,
    )


def medication_overuse(periods: ir.Table, patients: ir.Table, *, count: int) -> ir.Table:
    """ICHD-3 8.2 B per patient of ``patients`` over the ``count`` periods: ``medication_overuse_verdict``.

    ``not_suspected`` if a complete period does not meet it; otherwise ``insufficient_data`` if fewer than
    ``count`` periods are complete; otherwise ``suspected``, with the ``OVERUSE_FLAGS`` of the classes by which
    periods met it (all false unless suspected).
    """
    flagged = period_overuse(periods)
    per_patient = flagged.group_by("patient_id").aggregate(
        not_met=(flagged.complete & ~flagged.overuse).any(),
        complete=flagged.complete.sum(),
        **{name: flagged[name].any() for name in OVERUSE_FLAGS},
    )
    joined = patients.select("patient_id").left_join(per_patient, "patient_id")
    verdict = ibis.cases(
        (joined.not_met.fill_null(False), MedicationOveruse.NOT_SUSPECTED.value),
        (joined.complete.fill_null(0) < count, MedicationOveruse.INSUFFICIENT_DATA.value),
        else_=MedicationOveruse.SUSPECTED.value,
    )
    suspected = verdict == MedicationOveruse.SUSPECTED.value
    return joined.select(
        "patient_id",
        medication_overuse=verdict,
        **{name: joined[name].fill_null(False) & suspected for name in OVERUSE_FLAGS},
    )


def age_in_years(birth: ir.DateValue, on: ir.DateValue) -> ir.IntegerValue:
    """Completed years on ``on`` (``onaboard.clinical.age_in_years``): the birthday counts, and a 29 February
    birthday is reached on 1 March in common years."""
    before_birthday = (on.month() * 100 + on.day()) < (birth.month() * 100 + birth.day())
    return on.year() - birth.year() - before_birthday.cast("int32")


def label_criteria(periods: ir.Table, verdicts: ir.Table, birth_dates: ir.Table | None) -> ir.Table:
    """BOTOX label, chronic-migraine indication per patient of ``verdicts``: ``label_criteria_verdict``.

    ``not_met`` when chronic migraine is ``no``, a complete period has < ``LABEL_MIN_HEADACHE_DAYS_4H``
    four-hour headache days, or the known age is under ``ADULT_AGE_YEARS``; otherwise ``insufficient_data`` when
    chronic migraine is ``insufficient_data`` or no birth date is known; otherwise ``met``. ``verdicts`` holds
    ``as_of`` and ``chronic_migraine``; ``birth_dates`` holds ``patient_id, birth_date`` (None: none known).
    """
    short = periods.complete & (periods.headache_days_4h < LABEL_MIN_HEADACHE_DAYS_4H)
    per_patient = periods.group_by("patient_id").aggregate(short_4h=short.any())
    joined = verdicts.left_join(per_patient, "patient_id").select(verdicts, per_patient.short_4h)
    if birth_dates is None:
        age = ibis.null("int32")
    else:
        joined = joined.left_join(birth_dates.select("patient_id", "birth_date"), "patient_id").select(
            joined, birth_dates.birth_date
        )
        age = age_in_years(joined.birth_date, joined.as_of)
    chronic = joined.chronic_migraine
    verdict = ibis.cases(
        (
            (chronic == ChronicMigraine.NO.value)
            | joined.short_4h.fill_null(False)
            | (age < ADULT_AGE_YEARS).fill_null(False),
            LabelCriteria.NOT_MET.value,
        ),
        (
            (chronic == ChronicMigraine.INSUFFICIENT_DATA.value) | age.isnull(),
            LabelCriteria.INSUFFICIENT_DATA.value,
        ),
        else_=LabelCriteria.MET.value,
    )
    return joined.select("patient_id", age_years=age, label_criteria=verdict)


def assessment(
    grid: ir.Table,
    anchors: ir.Table,
    *,
    count: int,
    through: int = 0,
    birth_dates: ir.Table | None = None,
) -> ir.Table:
    """``onaboard.clinical.assess`` for every anchored patient on ``as_of = anchor + 28 * through - 1``: one row
    per patient with ``as_of``, ``migraine_attacks``, the three verdicts, the overuse classes and ``age_years``."""
    periods = recorded_periods(grid, count=count, through=through)
    attacks = migraine_attacks(grid, anchors, through=through)
    chronic = chronic_migraine(periods, attacks, count=count)
    overuse = medication_overuse(periods, attacks, count=count)
    label = label_criteria(periods, chronic, birth_dates)
    return chronic.join(overuse, "patient_id").join(label, "patient_id")


def reduction_at_least(baseline: ir.IntegerValue, current: ir.IntegerValue, percent: int) -> ir.BooleanValue:
    """``onaboard.clinical.reduction_at_least`` on exact integers: ``100 (b - c) >= percent * b``."""
    return 100 * (baseline - current) >= percent * baseline


def _percent_tenths(baseline: ir.IntegerValue, current: ir.IntegerValue) -> ir.IntegerValue:
    """``percent_change`` in tenths of a percent, rounded half away from zero on integers; null when b is 0."""
    divisor = ibis.ifelse(baseline == 0, 1, baseline)
    magnitude = (1000 * (current - baseline)).abs()
    tenths = magnitude // divisor + (2 * (magnitude % divisor) >= divisor).cast("int64")
    signed = ibis.ifelse(current < baseline, -tenths, tenths).cast("int64")
    return ibis.ifelse(baseline == 0, ibis.null("int64"), signed)


def _ended(grid: ir.IntegerValue, anchor: ir.DateValue, as_of: date) -> ir.BooleanValue:
    """Whether period ``grid`` (laid on ``anchor``) has ended before ``as_of``: its last day, ``anchor + 28 (grid +
    1) - 1``, is before it. A period whose last day is ``as_of`` is still running (the day is not over)."""
    return anchor + (PERIOD_DAYS * (grid + 1)).as_interval("D") <= ibis.literal(as_of, type="date")


def ended_periods(grid: ir.Table, anchors: ir.Table, as_of: date) -> ir.Table:
    """``grid`` without the periods after day 0 that have not ended before ``as_of``: the period running on that
    day and every later one, as ``onaboard.clinical.treatment_outcomes(..., as_of=as_of)`` leaves them out of the
    periods it judges (week 4, onset, week 24, the return to episodic migraine, NICE TA260), however many of their
    days are already recorded. Periods before day 0 are kept whatever ``as_of`` is, as the engine keeps the
    baseline. ``anchors`` must lay the grid on day 0 (``first_injections``)."""
    joined = grid.join(anchors.select("patient_id", "anchor"), "patient_id")
    kept = (joined.grid < 0) | _ended(joined.grid, joined.anchor, as_of)
    return joined.filter(kept).select(*grid.columns)


def treatment_baseline(grid: ir.Table, anchors: ir.Table) -> ir.Table:
    """Per anchored patient: the baseline (days -28..-1 before day 0) headache days and whether it is complete;
    0 and incomplete when it holds no row."""
    baseline = grid.filter(grid.grid == -1)
    joined = anchors.select("patient_id").left_join(baseline, "patient_id")
    return joined.select(
        "patient_id",
        baseline_headache_days=joined.headache_days.fill_null(0).cast("int64"),
        baseline_complete=_complete(joined).fill_null(False),
    )


def treatment_periods(grid: ir.Table, baseline: ir.Table) -> ir.Table:
    """Periods 1..K after day 0 that hold a diary row (the engine's ``treatment_periods`` without the empty
    ones), each with ``complete``, the baseline's headache days, the change against them and ``percent_tenths``
    (``percent_change`` x 10, null when the baseline has none). Period k covers days 28(k-1) .. 28k-1."""
    after = grid.filter(grid.grid >= 0)
    joined = after.join(baseline, "patient_id")
    return joined.mutate(
        index=(joined.grid + 1).cast("int32"),
        complete=_complete(joined),
        change_headache_days=joined.headache_days - joined.baseline_headache_days,
        percent_tenths=_percent_tenths(joined.baseline_headache_days, joined.headache_days),
    )


def treatment_period_listing(
    grid: ir.Table, anchors: ir.Table, *, max_index: int, as_of: date | None = None
) -> ir.Table:
    """Every period 0..K after day 0 as the engine lists them (``treatment_periods``): the baseline as index 0,
    zero counts where a period holds no row, dates, ``complete``, ``missing``, the ``change`` against the baseline
    and ``percent_tenths``. ``max_index`` bounds K. With ``as_of``, the periods ``treatment_outcomes(...,
    as_of=as_of)`` judges: those up to K that ended before ``as_of``, empty ones included (``grid`` is the whole
    grid, not ``ended_periods``: K is the last period holding a row, running or not)."""
    recorded = grid.filter(grid.grid >= -1)
    after = grid.filter(grid.grid >= 0)
    last = after.group_by("patient_id").aggregate(last_index=after.grid.max() + 1)
    seen = grid.group_by("patient_id").aggregate(first_grid=grid.grid.min())
    index = _indices(range(max_index + 1))
    spine = anchors.select("patient_id", "anchor").cross_join(index)
    spine = spine.left_join(last, "patient_id").select(spine, last.last_index)
    spine = spine.filter(spine["index"] <= spine.last_index.fill_null(0))
    if as_of is not None:
        spine = spine.filter((spine["index"] == 0) | _ended(spine["index"] - 1, spine.anchor, as_of))
    spine = spine.left_join(seen, "patient_id").select(spine, seen.first_grid)
    spine = spine.mutate(grid=(spine["index"] - 1).cast("int32"))
    periods = _dense(spine, recorded)
    baseline = treatment_baseline(grid, anchors)
    joined = periods.join(baseline, "patient_id")
    return joined.mutate(
        change=joined.headache_days - joined.baseline_headache_days,
        percent_tenths=_percent_tenths(joined.baseline_headache_days, joined.headache_days),
    )


def treatment_outcomes(periods: ir.Table, baseline: ir.Table) -> ir.Table:
    """Per patient of ``baseline``, from ``treatment_periods``: week 24, onset, week 4, reversion, NICE TA260.

    On an assessment day (the engine's ``as_of``), ``periods`` are those of ``ended_periods``: the running period
    and later ones judge nothing. ``last_period`` is the last period of ``periods`` holding a diary row (0: none).

    - ``week24_available``: period ``WEEK24_PERIOD`` is complete; then its headache days, ``week24_percent_tenths``
      and ``responder_50`` / ``responder_30`` decided on exact integers (``RESPONDER_*_PERCENT``), else null;
    - ``onset_period``: the first complete period with at least ``RESPONDER_30_PERCENT`` fewer headache days,
      when the baseline is complete and not 0 (time to response);
    - ``week4_change``: the change in period ``ONSET_PERIOD`` when it is complete;
    - ``reverted_to_episodic``: the ``EPISODIC_CONSECUTIVE_PERIODS`` most recent complete periods are consecutive
      and each has < ``CM_MIN_HEADACHE_DAYS`` headache days;
    - ``nice_ta260``: ``nice_ta260_verdict`` (stop as soon as a rule holds; not yet assessable without a complete
      baseline or week 24; else continue), and ``nice_stop_rule`` (``week24``, ``episodic`` or null).
    """
    index, complete = periods["index"], periods.complete
    base = periods.baseline_headache_days
    per_patient = periods.group_by("patient_id").aggregate(
        last_period=index.max(),
        week24_available=(complete & (index == WEEK24_PERIOD)).any(),
        week24_headache_days=periods.headache_days.max(where=index == WEEK24_PERIOD),
        week4_change=periods.change_headache_days.max(where=(index == ONSET_PERIOD) & complete),
        onset_period=index.min(
            where=complete
            & periods.baseline_complete
            & (base > 0)
            & reduction_at_least(base, periods.headache_days, RESPONDER_30_PERCENT)
        ),
        last_complete=index.max(where=complete),
    )
    # The most recent complete periods are consecutive exactly when all of the last EPISODIC_CONSECUTIVE_PERIODS
    # indices up to the last complete one are complete (an index appears once per patient).
    recent = periods.join(per_patient.select("patient_id", "last_complete"), "patient_id")
    recent = recent.filter(recent.complete & (recent["index"] > recent.last_complete - EPISODIC_CONSECUTIVE_PERIODS))
    reversion = recent.group_by("patient_id").aggregate(
        reverted_to_episodic=(recent.count() == EPISODIC_CONSECUTIVE_PERIODS)
        & (recent.headache_days < CM_MIN_HEADACHE_DAYS).all()
    )
    joined = baseline.left_join(per_patient, "patient_id").select(
        baseline, *(per_patient[name] for name in per_patient.columns if name not in ("patient_id", "last_complete"))
    )
    joined = joined.left_join(reversion, "patient_id").select(joined, reversion.reverted_to_episodic)
    available = joined.week24_available.fill_null(False)
    b, w = joined.baseline_headache_days, joined.week24_headache_days
    null_bool = ibis.null("boolean")
    responder_50 = ibis.ifelse(available, reduction_at_least(b, w, RESPONDER_50_PERCENT), null_bool)
    responder_30 = ibis.ifelse(available, reduction_at_least(b, w, RESPONDER_30_PERCENT), null_bool)
    reverted = joined.reverted_to_episodic.fill_null(False)
    week24_failed = available & ~responder_30.fill_null(True)
    nice = ibis.cases(
        (~joined.baseline_complete, NiceTa260.NOT_YET_ASSESSABLE.value),
        (week24_failed, NiceTa260.STOP.value),
        (reverted, NiceTa260.STOP.value),
        (~available, NiceTa260.NOT_YET_ASSESSABLE.value),
        else_=NiceTa260.CONTINUE.value,
    )
    rule = ibis.cases(
        (~joined.baseline_complete, ibis.null("string")),
        (week24_failed, "week24"),
        (reverted, "episodic"),
        else_=ibis.null("string"),
    )
    return joined.select(
        "patient_id",
        "baseline_headache_days",
        "baseline_complete",
        "week4_change",
        "onset_period",
        last_period=joined.last_period.fill_null(0),
        week24_available=available,
        week24_headache_days=ibis.ifelse(available, w, ibis.null("int64")),
        week24_percent_tenths=ibis.ifelse(available, _percent_tenths(b, w), ibis.null("int64")),
        responder_50=responder_50,
        responder_30=responder_30,
        reverted_to_episodic=reverted,
        nice_ta260=nice,
        nice_stop_rule=rule,
    )


def label_phase_events(adverse_events: ir.Table, anchors: ir.Table, *, cycles: int = DOUBLE_BLIND_CYCLES) -> ir.Table:
    """The adverse events of the label's 24-week double-blind phase (two cycles): those attributed to one of the
    first ``cycles`` sessions and starting on or before week 24's last day (day 0 + ``WEEK24_LAST_DAY``, the
    engine's ``week24_last_day``), with ``adverse_events``' columns. Both are needed: a patient who stopped after
    session 2 has every later event attributed to session 2 (the clinic's app puts a side effect under the last
    session recorded on or before its onset, once none is booked to follow), and one whose session 2 came late may
    have an event of session 2
    after week 24. ``anchors`` holds each treated patient's day 0 (``first_injections``); an event of a patient
    without one is left out."""
    joined = adverse_events.join(anchors.select("patient_id", "anchor"), "patient_id")
    last_day = joined.anchor + ibis.interval(days=WEEK24_LAST_DAY)
    inside = (joined.session_number <= cycles) & (joined.onset_date <= last_day)
    return joined.filter(inside).select(*adverse_events.columns)


def adverse_event_incidence(adverse_events: ir.Table) -> ir.Table:
    """Patients with at least one of each adverse event, per event code, among the events given.

    The label's adverse-reaction table counts patients with a reaction in the 24-week double-blind phase (two
    cycles), so the caller gives the events of that phase (``label_phase_events``); the denominator is the
    caller's too.
    """
    return adverse_events.group_by("event").aggregate(patients=adverse_events.patient_id.nunique())


def hit6_totals(prom: ir.Table) -> ir.Table:
    """HIT-6 total per patient and visit: the six answers scored with the engine's ``HIT6_POINTS`` (36-78); null
    on a visit without HIT-6 answers."""
    points = [
        prom[column].cases(*((answer.value, points) for answer, points in HIT6_POINTS.items())).cast("int64")
        for column in HIT6_ITEM_COLUMNS
    ]
    return prom.select("patient_id", "visit", hit6_total=functools.reduce(operator.add, points))


def midas_totals(prom: ir.Table) -> ir.Table:
    """MIDAS score (Q1-Q5 days) and grade per patient and visit, with the engine's grade boundaries; both null on
    a visit without MIDAS answers (a clinic's visit may hold HIT-6 alone)."""
    total = (prom.midas_q1 + prom.midas_q2 + prom.midas_q3 + prom.midas_q4 + prom.midas_q5).cast("int64")
    grade = ibis.cases(
        (total >= MIDAS_GRADE_IV_MIN, MidasGrade.IV.value),
        (total >= MIDAS_GRADE_III_MIN, MidasGrade.III.value),
        (total >= MIDAS_GRADE_II_MIN, MidasGrade.II.value),
        (total.notnull(), MidasGrade.I.value),
        else_=ibis.null("string"),
    )
    return prom.select("patient_id", "visit", midas_total=total, midas_grade=grade)
