"""The JSON API (django-ninja) under /api/: one router per app, the schema at /api/openapi.json, docs at /api/docs.

Authentication: ``Authorization: Bearer <token>`` (``manage.py issue_api_token``; it expires after
``ONABOARD_API_TOKEN_DAYS``, is revoked when its user's password changes or the user is made inactive, and can be
revoked in the admin) for API clients, or the signed-in browser session with its CSRF token for the pages' own
calls. A session whose user set up two-step sign-in counts only once the one-time code was entered. A 401 carries
``WWW-Authenticate: Bearer``. Every operation applies the same permissions as the pages (patients/access.py) and
records its reads and changes in the audit trail.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext, gettext_noop
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from onaboard.web.accounts.middleware import bearer_lookup
from onaboard.web.accounts.models import ApiToken, api_token_lifetime, bearer_challenge
from onaboard.web.accounts.selectors import otp_verification_needed
from onaboard.web.analytics.api import router as analytics_router
from onaboard.web.clinic.api import router as clinic_router
from onaboard.web.common.errors import document_framework_errors, validation_problems
from onaboard.web.coverage.api import router as coverage_router
from onaboard.web.diary.api import router as diary_router
from onaboard.web.injections.api import router as injections_router
from onaboard.web.interop.api import router as interop_router
from onaboard.web.outcomes.api import router as outcomes_router
from onaboard.web.patients.api import router as patients_router
from onaboard.web.training.api import router as training_router


class BearerToken(HttpBearer):
    """``Authorization: Bearer onb_...``: acts as the token's user while the token is live (``ApiToken.user_for``).

    The rate-limit middleware has already looked the token up (accounts/middleware.py); its finding is used for the
    very token it looked up, so a request costs one lookup. Any other token (no middleware, or a header the two read
    differently) is looked up here.
    """

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = bearer_lookup(request, token)
        user = found.user if found is not None else ApiToken.user_for(token)
        if user is None:
            return None
        request.user = user
        return user


def _session_user(request: HttpRequest) -> Any:
    """The signed-in (and, if set up, code-verified) user of the request's session, or None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or otp_verification_needed(user):
        return None
    return user


class SessionCookie(APIKeyCookie):
    """The signed-in browser session (CSRF checked), so pages can call the API too.

    The CSRF token is checked only when there is a session user to act as: a request without one (an API client
    whose bearer token was refused) is not authenticated by the session and so answered 401 whatever its method,
    not 403 by a CSRF check that protects nothing (a 403 would also escape the limit on refused tokens, which
    counts 401s, accounts/middleware.py).
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __call__(self, request: HttpRequest) -> Any:
        if _session_user(request) is None:
            return None
        return super().__call__(request)  # the CSRF check, then ``authenticate``

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return _session_user(request)


class OnaboardAPI(NinjaAPI):
    """The API whose OpenAPI document also lists the errors the framework and middleware answer with."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        return document_framework_errors(super().get_openapi_schema(*args, **kwargs))


api = OnaboardAPI(
    title="onaboard API",
    version="1",
    description=(
        "Decision support for onabotulinumtoxinA treatment of chronic migraine. Every rule is the clinical "
        "engine's; verdicts come with their reasons. Every operation applies the same permissions as the pages "
        "(a patient the caller may not see is 404, never 403) and is recorded in the audit trail. Public ids "
        "are UUIDs. Authenticate with `Authorization: Bearer <token>` (issued by `manage.py issue_api_token`; a "
        f"token expires {api_token_lifetime().days} days after it is issued, and is revoked when its user's "
        "password changes or the user is made inactive: then every call is 401 and a new token is needed)."
    ),
    auth=[BearerToken(), SessionCookie(csrf=True)],
    urls_namespace="api",
)

NOT_FOUND_DETAIL = gettext_noop("Not Found")
"""The detail of a 404 whose Http404 carries no message of its own."""


def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    """A 404 says the operation's own reason ("No such patient.", from the access module), as the 404s the operations
    build themselves do; django-ninja's default answers a bare "Not Found" unless DEBUG is on."""
    return api.create_response(request, {"detail": str(exc) or gettext(NOT_FOUND_DETAIL)}, status=404)


api.add_exception_handler(Http404, _not_found)
# django-ninja's own 422s name a body field as the operations' own problems do (["body", "headache_hours"], not
# ["body", "payload", "headache_hours"]), as the schema's description promises.
api.add_exception_handler(ValidationError, partial(validation_problems, api=api))


def _not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """django-ninja's 401 with the ``WWW-Authenticate`` challenge HTTP requires of a 401, so clients know to send
    (or renew) a bearer token."""
    response = api.create_response(request, {"detail": str(exc)}, status=exc.status_code)
    response["WWW-Authenticate"] = bearer_challenge(request.headers)
    return response


api.add_exception_handler(AuthenticationError, _not_authenticated)

api.add_router("", patients_router)
api.add_router("", diary_router)
api.add_router("", outcomes_router)
api.add_router("", injections_router)
api.add_router("", clinic_router)
api.add_router("", coverage_router)
api.add_router("", interop_router)
api.add_router("", training_router)
api.add_router("", analytics_router)
