"""Keeps the current request's address and path where the audit service can find them."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

REQUEST_CONTEXT: ContextVar[tuple[str | None, str]] = ContextVar("onaboard_request", default=(None, ""))


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = REQUEST_CONTEXT.set((request.META.get("REMOTE_ADDR"), request.path[:400]))
        try:
            return self.get_response(request)
        finally:
            REQUEST_CONTEXT.reset(token)
