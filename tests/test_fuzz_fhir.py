"""Hostile input for the FHIR Bundle reader (``onaboard.interop.fhir.read_bundle``): any JSON value, and an
exported Bundle with one part deleted, replaced or repeated, is either read whole or refused with
``BundleInvalidError`` locating every problem; never another exception, never some patients without the rest."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onaboard.interop.fhir import BundleInvalidError, bundle, read_bundle
from tests.interop.test_fhir_read import TODAY, _record

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
JUNK = st.sampled_from(
    [None, "", " ", "x", -1, 0, 10**20, 1.5, True, [], {}, "2026-02-30", "9999-12-31", "0001-01-01", "Patient/none"]
)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*at, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*at, index))
    return found


EXPORTED = bundle([_record()])
PATHS = _paths(EXPORTED)


def _check(document: Any) -> None:
    try:
        records = read_bundle(document, today=TODAY)
    except BundleInvalidError as error:
        problems = error.problems
        records = None
    if records is None:
        assert problems, "a BundleInvalidError must list at least one problem"
        assert all(problem.expression and problem.message for problem in problems)
        return
    entries = document.get("entry") or []  # "entry": null is a Bundle without entries
    patients = [e for e in entries if (e.get("resource") or {}).get("resourceType") == "Patient"]
    assert len(records) == len(patients), "an accepted Bundle must yield every one of its patients"


def test_the_exported_bundle_is_read_back():
    """The unmutated export is accepted, so the mutations below start from a valid Bundle."""
    (record,) = read_bundle(copy.deepcopy(EXPORTED), today=TODAY)
    assert record.record_number == _record().record_number


@FUZZ
@given(JSON)
def test_any_json_value_is_read_or_refused_with_located_problems(document):
    """Arbitrary JSON (not a Bundle, a Bundle of junk) gives records or a BundleInvalidError, nothing else."""
    _check(document)


@FUZZ
@given(st.sampled_from(PATHS), st.sampled_from(["delete", "replace", "repeat"]), JUNK)
def test_an_exported_bundle_with_one_part_broken_is_read_whole_or_refused_whole(path, how, junk):
    """Deleting, replacing or repeating any one part of an exported Bundle never crashes the reader."""
    document = copy.deepcopy(EXPORTED)
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "delete":
        del parent[last]
    elif how == "replace":
        parent[last] = junk
    elif isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    else:
        parent[last] = [parent[last], parent[last]]
    _check(document)


@pytest.mark.parametrize("resource_type", [None, "", "NoSuchResource", 1])
def test_an_entry_with_an_unknown_resource_type_is_refused_with_a_located_problem(resource_type):
    """An entry whose resourceType is missing a known name is a BundleInvalidError naming that entry."""
    document = copy.deepcopy(EXPORTED)
    document["entry"][1]["resource"]["resourceType"] = resource_type
    with pytest.raises(BundleInvalidError) as refused:
        read_bundle(document, today=TODAY)
    assert any(problem.expression.startswith("Bundle.entry[1]") for problem in refused.value.problems)


@pytest.mark.parametrize("bundle_type", [["transaction"], {"a": 1}])
def test_a_bundle_type_that_is_not_a_string_is_refused(bundle_type):
    """A Bundle.type that is a list or an object is a BundleInvalidError on Bundle.type."""
    document = copy.deepcopy(EXPORTED)
    document["type"] = bundle_type
    with pytest.raises(BundleInvalidError) as refused:
        read_bundle(document, today=TODAY)
    assert refused.value.problems[0].expression == "Bundle.type"
