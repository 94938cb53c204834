"""The API's error responses that come from the framework and middleware rather than from one operation.

Any operation may answer 400 (a body that is not JSON), 422 (parameters or a body that fail their schema: django-
ninja's validation shape, the same as ``ProblemsOut``), 413 (a request over the size limit,
``common.security.RequestSizeLimitMiddleware``) and 429 (too many requests for one token,
``accounts.ratelimit``), and a write (POST, PUT, PATCH, DELETE) 403 when it comes from the signed-in browser session
without its CSRF token. ``document_framework_errors`` adds them to every operation of the OpenAPI document, so
clients and schema checkers (schemathesis in .ci/run) know every status code they can meet.

``validation_problems`` answers django-ninja's 422 with each problem at the place the operations' own problems use
(``patients.api.problems``): ``loc[0]`` says where (``path``, ``query`` or ``body``) and ``loc[-1]`` names the
parameter or field, e.g. ``["body", "headache_hours"]`` or ``["body", "sites", 3, "units"]``. django-ninja puts the
operation's body parameter (``payload``) second in a body problem's place, which no client sends; it is left out.
The API (config/api.py) registers it for ``ninja.errors.ValidationError``.

A method a path does not take is 405 with the ``Allow`` header, and an address that is no operation's (an unknown
path, or a known one with a trailing slash) is 404; ``ApiMethodNotAllowedMiddleware`` gives both the API's
``{"detail": ...}`` body (django-ninja answers the 405 with the text "Method not allowed", Django the 404 with the
site's HTML page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext, gettext_noop
from ninja.errors import ValidationError

if TYPE_CHECKING:
    from ninja import NinjaAPI

API_PREFIX = "/api/"
METHOD_NOT_ALLOWED = gettext_noop("{method} is not allowed here: use {allowed}")
NO_SUCH_ADDRESS = gettext_noop(
    "There is no API operation at this address; the operations are listed at /api/docs, and no address ends in a slash."
)

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


WRITE_ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    403: (
        "A write from the signed-in browser session without its CSRF token (a bearer token needs none).",
        DETAIL_SCHEMA,
    ),
}
"""What the framework may also answer to a POST, PUT, PATCH or DELETE: the session's CSRF check."""
UNSAFE_METHODS = frozenset({"post", "put", "patch", "delete"})


def document_framework_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the framework's error responses to every operation of an OpenAPI ``schema`` that does not list them
    itself (an operation's own 422 schema is kept), and ``WRITE_ERRORS`` to every write. Changes and returns
    ``schema``."""
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            listed = {str(code) for code in responses}
            errors = {**FRAMEWORK_ERRORS, **(WRITE_ERRORS if method.lower() in UNSAFE_METHODS else {})}
            for code, (description, body) in errors.items():
                if str(code) not in listed:
                    responses[code] = {"description": description, "content": {"application/json": {"schema": body}}}
    return schema


BODY_PARAMETER = "payload"
"""The name every operation gives its body parameter; django-ninja puts it in a body problem's place."""


def problem_place(loc: list[str | int] | tuple[str | int, ...]) -> list[str | int]:
    """``loc`` of one of django-ninja's problems as the API documents it: without the body parameter's name, and
    without the tags pydantic puts in for the member of a union it tried (``list[str]``, ``dict[str,int]``): those
    are type names, not places in the body (no field's name holds a bracket)."""
    place = [part for part in loc if not (isinstance(part, str) and "[" in part)]
    if len(place) >= 2 and place[0] == "body" and place[1] == BODY_PARAMETER:
        return ["body", *place[2:]]
    return place


def validation_problems(request: HttpRequest, exc: ValidationError, api: NinjaAPI) -> HttpResponse:
    """django-ninja's 422 (every problem, in its validation shape) with each problem's place as ``problem_place``
    writes it, so a framework problem and an operation's own problem about one field name it alike."""
    detail = [{**problem, "loc": problem_place(problem["loc"])} for problem in exc.errors]
    return api.create_response(request, {"detail": detail}, status=422)


class ApiMethodNotAllowedMiddleware:
    """A 405 under ``/api/`` answers JSON ``{"detail": ...}`` naming the allowed methods, and a 404 that is not
    already JSON (an address no operation has) says so in the same shape, like every other API error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code not in (404, 405) or not request.path.startswith(API_PREFIX):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        if response.status_code == 404:
            return JsonResponse({"detail": gettext(NO_SUCH_ADDRESS)}, status=404)
        allowed = response.get("Allow", "")
        detail = gettext(METHOD_NOT_ALLOWED).format(method=request.method, allowed=allowed or "another method")
        replaced = JsonResponse({"detail": detail}, status=405)
        if allowed:
            replaced["Allow"] = allowed
        return replaced
