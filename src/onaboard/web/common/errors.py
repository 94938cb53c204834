"""The API's error responses that come from the framework and middleware rather than from one operation.

Any operation may answer 400 (a body that is not JSON), 422 (parameters or a body that fail their schema: django-
ninja's validation shape, the same as ``ProblemsOut``), 413 (a request over the size limit,
``common.security.RequestSizeLimitMiddleware``) and 429 (too many requests for one token,
``accounts.ratelimit``). ``document_framework_errors`` adds them to every operation of the OpenAPI document, so
clients and schema checkers (schemathesis in .ci/run) know every status code they can meet.
"""

from __future__ import annotations

from typing import Any

DETAIL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "detail": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["loc", "msg", "type"],
            },
        }
    },
    "required": ["detail"],
}

FRAMEWORK_ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("The request body is not valid JSON.", DETAIL_SCHEMA),
    413: ("The request is over the size limit; the message says the limit.", DETAIL_SCHEMA),
    422: ("Parameters or body fail their schema; every problem is listed with its place.", VALIDATION_SCHEMA),
    429: ("Too many requests for this token; wait for the time in Retry-After.", DETAIL_SCHEMA),
}


def document_framework_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the framework's error responses to every operation of an OpenAPI ``schema`` that does not list them
    itself (an operation's own 422 schema is kept). Changes and returns ``schema``."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            listed = {str(code) for code in responses}
            for code, (description, body) in FRAMEWORK_ERRORS.items():
                if str(code) not in listed:
                    responses[code] = {"description": description, "content": {"application/json": {"schema": body}}}
    return schema
