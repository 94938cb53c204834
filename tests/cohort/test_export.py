"""A clinic's export as a cohort directory (onaboard/cohort/export.py): registry ids, the manifest, the writing."""

from __future__ import annotations

import random
from datetime import date

import pyarrow as pa
import pytest

from onaboard.cohort.backends import CohortSourceError
from onaboard.cohort.export import (
    MANIFEST,
    ExportManifest,
    out_problem,
    pseudonymised,
    read_manifest,
    registry_ids,
    write_export,
)
from onaboard.cohort.tables import SCHEMAS, TABLES


def _tables(ids: list[str]) -> dict[str, pa.Table]:
    """Empty tables in the schemas' columns, with one patient row each for ``ids``."""
    tables = {name: SCHEMAS[name].empty_table() for name in TABLES}
    day = date(2025, 1, 1)
    tables["patients"] = pa.Table.from_pylist(
        [
            {
                "patient_id": key,
                "sex": "female",
                "birth_date": day,
                "observed_from": day,
                "observed_until": day,
                "prior_preventives_failed": 0,
                "prior_preventive_classes": "",
            }
            for key in ids
        ],
        schema=SCHEMAS["patients"],
    )
    return tables


MANIFEST_OF_A_CLINIC = ExportManifest(
    as_of=date(2025, 6, 15),
    patients=2,
    recorded_events={"neck_pain": ("neck_pain",), "headache_flare": ("headache", "migraine")},
    discontinuation_recorded=False,
)


def test_registry_ids_number_the_patients_in_a_random_order():
    """Each public id gets one of R0000001.. once; the numbering follows no order of the records."""
    public = [f"uuid-{n}" for n in range(50)]
    ids = registry_ids(public, rng=random.Random(3))  # noqa: S311 - a seeded order for the test, no secret
    assert sorted(ids.values()) == [f"R{n:07d}" for n in range(1, 51)]
    assert [ids[key] for key in public] != sorted(ids.values())


def test_pseudonymised_tables_carry_registry_ids_only_sorted_by_them():
    """Every patient_id is replaced and the rows are ordered by registry id; a row without one cannot leave."""
    tables = pseudonymised(_tables(["b", "a"]), {"a": "R0000002", "b": "R0000001"})
    assert tables["patients"]["patient_id"].to_pylist() == ["R0000001", "R0000002"]
    with pytest.raises(KeyError):
        pseudonymised(_tables(["a", "c"]), {"a": "R0000001"})


def test_the_manifest_is_written_and_read_back(tmp_path):
    """write_export writes the tables and export.json; read_manifest gives back what was written."""
    out = tmp_path / "export"
    written = write_export(out, _tables(["R0000001", "R0000002"]), MANIFEST_OF_A_CLINIC, csv=True)
    assert written.rows["patients"] == 2
    assert read_manifest(out) == MANIFEST_OF_A_CLINIC
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export"]


def test_a_directory_without_a_manifest_has_none_and_a_bad_one_is_refused(tmp_path):
    """A registry's or a synthetic cohort's directory has no manifest; one that is not ours is named and refused."""
    assert read_manifest(tmp_path) is None
    (tmp_path / MANIFEST).write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(CohortSourceError, match="not an onaboard cohort export's manifest"):
        read_manifest(tmp_path)


def test_an_out_holding_anything_is_refused_before_a_file_is_written(tmp_path):
    """A non-empty --out is refused (ValueError naming what is there) and left as it was."""
    (tmp_path / "report.html").write_text("", encoding="utf-8")
    assert out_problem(tmp_path) is not None
    with pytest.raises(ValueError, match=r"report\.html"):
        write_export(tmp_path, _tables([]), MANIFEST_OF_A_CLINIC)
    assert [path.name for path in tmp_path.iterdir()] == ["report.html"]
    assert out_problem(tmp_path / "new") is None
