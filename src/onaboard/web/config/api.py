"""The JSON API (django-ninja): one router per app, token or session authentication, OpenAPI at /api/openapi.json."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import APIKeyCookie, HttpBearer

from onaboard.web.accounts.models import ApiToken


class BearerToken(HttpBearer):
    """``Authorization: Bearer onb_...``: acts as the token's user."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = ApiToken.user_for(token)
        if user is None:
            return None
        request.user = user
        return user


class SessionCookie(APIKeyCookie):
    """The signed-in browser session (CSRF checked), so pages can call the API too."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        return user if user is not None and user.is_authenticated else None


api = NinjaAPI(
    title="onaboard API",
    version="1",
    description="Decision support for onabotulinumtoxinA treatment of chronic migraine. "
    "Every operation applies the same permissions as the pages and is recorded in the audit trail.",
    auth=[BearerToken(), SessionCookie(csrf=True)],
    urls_namespace="api",
)

from onaboard.web.patients.api import router as patients_router  # noqa: E402 (routers need the api's auth)

api.add_router("/patients", patients_router)
