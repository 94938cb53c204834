"""Keeps the current request's address and path where the audit service can find them (a calendar feed's secret
cut from the path: the trail is searchable by every administrator, and the secret opens the feed)."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

from onaboard.web.audit.logfilters import redact_feed_secrets
from onaboard.web.common.addresses import UNKNOWN_ADDRESS, client_address

REQUEST_CONTEXT: ContextVar[tuple[str | None, str]] = ContextVar("onaboard_request", default=(None, ""))


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        address = client_address(request)
        path = redact_feed_secrets(request.path)[:400]
        token = REQUEST_CONTEXT.set((None if address == UNKNOWN_ADDRESS else address, path))
        try:
            return self.get_response(request)
        finally:
            REQUEST_CONTEXT.reset(token)
