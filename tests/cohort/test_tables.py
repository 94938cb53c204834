"""The cohort's table layout: engine diary days go to Parquet and back unchanged, and to the CSV contract."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import ibis
import pyarrow as pa

from onaboard.clinical import COLUMNS, AcuteClass, DiaryDay, Intensity, PatientDiary, parse_diary
from onaboard.cohort.rules import unpack_answers
from onaboard.cohort.tables import (
    ACUTE_COLUMNS,
    DIARY_FLAG_COLUMNS,
    INTENSITY_CODES,
    INTENSITY_SHIFT,
    SCHEMAS,
    TABLES,
    diary_arrow,
    diary_csv_table,
    patient_diaries,
    with_answers,
)

START = date(2025, 1, 6)


def _days() -> list[DiaryDay]:
    return [
        DiaryDay("A1", START, Decimal("3.99"), Intensity.SEVERE, unilateral=True, pulsating=True, nausea=True),
        DiaryDay("A1", START + timedelta(days=1), Decimal(0), aura=True),
        DiaryDay(
            "A1",
            START + timedelta(days=2),
            Decimal("24"),
            Intensity.MILD,
            acute_medication=frozenset({AcuteClass.TRIPTAN, AcuteClass.SIMPLE_ANALGESIC}),
            acute_relief=True,
            believed_migraine=True,
        ),
        DiaryDay("B2", START, Decimal("0.5"), Intensity.MODERATE, photophobia=True, phonophobia=True, vomiting=True),
    ]


def test_diary_days_survive_parquet_layout_unchanged() -> None:
    """Engine days written to the diary table and read back are equal, grouped by patient."""
    days = _days()
    assert patient_diaries(diary_arrow(days)) == (PatientDiary("A1", tuple(days[:3])), PatientDiary("B2", (days[3],)))


def test_every_acute_class_has_its_own_boolean_column() -> None:
    """The diary table has one ``acute_<class>`` boolean per class of the engine, in the engine's order."""
    assert list(ACUTE_COLUMNS.values()) == [f"acute_{cls.value}" for cls in AcuteClass]
    schema = SCHEMAS["diary"]
    assert all(str(schema.field(name).type) == "bool" for name in DIARY_FLAG_COLUMNS)


def test_the_diary_table_writes_as_the_csv_contract() -> None:
    """The CSV text columns are the contract's, in order, and parse back into the same days."""
    table = diary_csv_table(diary_arrow(_days()))
    assert table.column_names == list(COLUMNS)
    rows = [",".join(COLUMNS)] + [",".join(row[c] for c in COLUMNS) for row in table.to_pylist()]
    parsed = parse_diary("\n".join(rows) + "\n", today=START + timedelta(days=10))
    assert [day for diary in parsed for day in diary.days] == _days()


def test_a_headache_free_day_writes_no_intensity_and_no_medication() -> None:
    """On a 0-hour day the CSV has a blank intensity, and an empty medication list when nothing was taken."""
    table = diary_csv_table(diary_arrow(_days()))
    free = table.to_pylist()[1]
    assert (free["headache_hours"], free["intensity"], free["acute_medication"], free["aura"]) == ("0", "", "", "yes")


def test_medication_classes_are_joined_in_the_engines_order() -> None:
    """Several classes on one day are written ``;``-separated in AcuteClass order."""
    table = diary_csv_table(diary_arrow(_days()))
    assert table.to_pylist()[2]["acute_medication"] == "triptan;simple_analgesic"


def test_every_table_has_a_schema() -> None:
    """The five tables are patients, diary, sessions, prom and adverse_events, each with a schema."""
    assert TABLES == ("patients", "diary", "sessions", "prom", "adverse_events")
    assert set(SCHEMAS) == set(TABLES)


def test_answers_pack_every_flag_and_the_intensity() -> None:
    """``answers`` has bit i set for ``DIARY_FLAG_COLUMNS[i]`` and the intensity code above them."""
    answers = diary_arrow(_days())["answers"].to_pylist()
    bit = {name: 1 << position for position, name in enumerate(DIARY_FLAG_COLUMNS)}
    severe, mild, moderate = (INTENSITY_CODES[name] << INTENSITY_SHIFT for name in ("severe", "mild", "moderate"))
    assert answers[0] == bit["unilateral"] | bit["pulsating"] | bit["nausea"] | severe
    assert answers[1] == bit["aura"]
    flags = ("acute_triptan", "acute_simple_analgesic", "acute_relief", "believed_migraine")
    assert answers[2] == sum(bit[name] for name in flags) | mild
    assert answers[3] == bit["photophobia"] | bit["phonophobia"] | bit["vomiting"] | moderate
    assert len(DIARY_FLAG_COLUMNS) == INTENSITY_SHIFT


def test_with_answers_derives_the_column_again_from_the_flags() -> None:
    """A table whose ``answers`` disagree with its flags gets them derived anew, in the schema's place."""
    table = diary_arrow(_days())
    wrong = table.set_column(table.schema.get_field_index("answers"), "answers", pa.array([0, 0, 0, 0], pa.int32()))
    assert with_answers(wrong).equals(table)
    assert table.schema == SCHEMAS["diary"]


def test_the_rules_decode_answers_into_the_same_columns() -> None:
    """``unpack_answers`` (the cohort rules' decoding, run by DuckDB) gives back every flag and the intensity."""
    table = diary_arrow(_days())
    columns = [*DIARY_FLAG_COLUMNS, "intensity"]
    decoded = unpack_answers(ibis.memtable(table.select(["patient_id", "answers"]))).to_pyarrow()
    assert decoded.select(columns).to_pylist() == table.select(columns).to_pylist()
