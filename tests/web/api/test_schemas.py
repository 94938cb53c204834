"""What the OpenAPI document says about the API's inputs (the input schemas of onaboard/web/*/schemas.py and
onaboard/web/common/schema_types.py): what a client may send is what the server takes."""

from __future__ import annotations

import pytest

METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture
def schema(client, db):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    return [
        (method, path, op) for path, ops in schema["paths"].items() for method, op in ops.items() if method in METHODS
    ]


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
    for method, path, op in _operations(schema):
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
