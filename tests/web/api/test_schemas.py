"""What the OpenAPI document says about the API's inputs (the input schemas of onaboard/web/*/schemas.py and
onaboard/web/common/schema_types.py): what a client may send is what the server takes."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from onaboard.clinical import AcuteClass, Intensity, Muscle, Side
from onaboard.clinical.diary import MAX_HEADACHE_HOURS, NOTES_MAX_CHARACTERS
from onaboard.web.common.errors import WRITE_ERRORS
from tests.web.api.conftest import operations


def _resolved(schema, node):
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _objects_in(schema, node, seen):
    """Every object schema reachable from ``node`` (through $ref, properties, items, anyOf/oneOf/allOf)."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return
        seen.add(name)
    node = _resolved(schema, node)
    if node.get("type") == "object" and "properties" in node:
        yield node
    children = [*node.get("properties", {}).values(), *node.get("anyOf", []), *node.get("oneOf", [])]
    children += [*node.get("allOf", []), *([node["items"]] if isinstance(node.get("items"), dict) else [])]
    for child in children:
        yield from _objects_in(schema, child, seen)


def _bodies(schema):
    for method, path, op in operations(schema):
        if "requestBody" in op:
            yield f"{method.upper()} {path}", op["requestBody"]["content"]["application/json"]["schema"]


def test_every_request_body_refuses_keys_it_does_not_have(schema):
    """Every request body, and every object inside one, says ``additionalProperties: false``: a misspelt key is
    422 at that key, not ignored (``verison`` for ``version`` moved a booking with no version check)."""
    bodies = list(_bodies(schema))
    assert bodies
    open_objects = [
        f"{where}: {node.get('title')}"
        for where, body in bodies
        for node in _objects_in(schema, body, set())
        if node.get("additionalProperties") is not False
    ]
    assert open_objects == []


UNSAFE = {"post", "put", "patch", "delete"}


def test_every_write_lists_the_csrf_403_and_a_csrf_403_has_that_shape(schema, world):
    """Every POST, PUT, PATCH and DELETE documents 403 (the signed-in session's write without its CSRF token), and
    that 403 is the documented ``{"detail": ...}``; a read lists 403 only when it answers one itself."""
    undocumented = [
        f"{method.upper()} {path}"
        for method, path, op in operations(schema)
        if method in UNSAFE and "403" not in op["responses"]
    ]
    assert undocumented == []
    reads = [op["responses"].get("403") for method, path, op in operations(schema) if method == "get"]
    assert all(response["description"] != WRITE_ERRORS[403][0] for response in reads if response)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.users["patient"])
    url = f"/api/patients/{world.own_patient.external_id}/questionnaires"
    response = browser.post(url, "{}", content_type="application/json")
    assert response.status_code == 403
    assert set(response.json()) == {"detail"}
    assert isinstance(response.json()["detail"], str)


def _properties(schema, name):
    return schema["components"]["schemas"][name]["properties"]


def test_a_diary_days_fields_say_what_the_engine_takes(schema):
    """``headache_hours`` is a number from 0 to the engine's ``MAX_HEADACHE_HOURS`` (or such a number written as
    text), ``intensity`` one of the engine's intensities or blank, each ``acute_medication`` one of its classes, and
    ``notes`` at most ``NOTES_MAX_CHARACTERS`` long."""
    fields = _properties(schema, "DiaryDayIn")
    number, text = fields["headache_hours"]["anyOf"]
    assert (number["type"], number["minimum"], number["maximum"]) == ("number", 0, float(MAX_HEADACHE_HOURS))
    assert text["type"] == "string"
    assert re.fullmatch(text["pattern"].strip("^$"), "4.25")
    assert fields["intensity"]["enum"] == ["", *(i.value for i in Intensity)]
    assert fields["acute_medication"]["items"]["enum"] == [c.value for c in AcuteClass]
    assert fields["notes"]["maxLength"] == NOTES_MAX_CHARACTERS


def test_a_sites_muscle_and_side_are_the_engines(schema):
    """A site's ``muscle`` and ``side`` are the engine's ``Muscle`` and ``Side`` values, nothing else."""
    fields = _properties(schema, "SiteIn")
    assert _resolved(schema, fields["muscle"])["enum"] == [m.value for m in Muscle]
    assert _resolved(schema, fields["side"])["enum"] == [s.value for s in Side]


@pytest.mark.parametrize(
    "body",
    [
        {"headache_hours": "4.25", "intensity": "Moderate", "acute_medication": ["Triptan"]},
        {"headache_hours": 24, "intensity": "severe", "acute_medication": ["triptan", "gepant"]},
        {"headache_hours": 0, "notes": "fine\r\n" * 10},
    ],
)
def test_what_the_diary_took_before_the_schema_said_more_is_still_taken(world, api_as, body):
    """Hours as text, an intensity or class in capitals (the engine reads them case-insensitively) and 24 hours are
    still saved: the schema documents the canonical values without refusing what the engine takes."""
    url = f"/api/patients/{world.own_patient.external_id}/diary/{timezone.localdate().isoformat()}"
    response = api_as("patient").put(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.json()
