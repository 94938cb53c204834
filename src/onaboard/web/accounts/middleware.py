"""Request checks of the sign-in state.

- The second sign-in step is not optional once set up: until this session has entered a one-time code, a user with
  a confirmed authenticator reaches nothing but the code page and signing out (``OtpRequiredMiddleware``).
- Sessions end after a while idle and after an absolute limit, shorter for staff than for patients
  (``SessionExpiryMiddleware``). Being sent to sign in leads back to a page: a POST's to the page it was sent from,
  and a scripted request (htmx, a script's ``fetch``) gets 401 naming the sign-in page (``sign_in_from_here``).
- API clients are rate-limited per good token, and per address for refused tokens (``ApiRateLimitMiddleware``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseRedirectBase
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from onaboard.web.accounts.models import TOKEN_SHAPE, ApiToken, Role, User
from onaboard.web.accounts.ratelimit import rate_limit_hit, rate_limit_peek, rate_limit_refund, too_many_requests
from onaboard.web.accounts.selectors import otp_verification_needed
from onaboard.web.common.addresses import rate_limit_address

API_PREFIX = "/api/"
"""The API refuses such sessions itself (config/api.py), with 401 rather than a redirect."""
TOKEN_PREFIXES = (API_PREFIX, "/fhir")
"""Where bearer tokens are accepted, and so limited: the JSON API and the FHIR endpoints."""


class OtpRequiredMiddleware:
    """Sends a signed-in but not yet code-verified user with a confirmed authenticator to the code page.

    Goes after django-otp's ``OTPMiddleware``, which tells whether the session is verified.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._exempt(request.path) and otp_verification_needed(getattr(request, "user", None)):
            return redirect_to_login(request.get_full_path(), reverse("accounts:login_code"))
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        open_paths, prefixes = _exempt_paths()
        return path in open_paths or path.startswith(prefixes)


@cache
def _exempt_paths() -> tuple[frozenset[str], tuple[str, ...]]:
    """Signing in (both steps) and out; static files and the API (which answers 401 itself)."""
    open_paths = frozenset(reverse(name) for name in ("accounts:login", "accounts:login_code", "accounts:logout"))
    return open_paths, ("/" + settings.STATIC_URL.lstrip("/"), API_PREFIX)


# --- Session expiry -----------------------------------------------------------------------------------------------

SIGNED_IN_AT_KEY = "onaboard_signed_in_at"
SEEN_AT_KEY = "onaboard_seen_at"
EXPIRED_KEY = "onaboard_session_expired"
"""Set in the fresh session after an expiry, so the sign-in page can say why."""
UNSAVED_KEY = "onaboard_session_expired_unsaved"
"""Set beside ``EXPIRED_KEY`` when the request that found the session ended was sending something (a diary day, a
questionnaire, a session record): whose session it was and when. The request goes no further than an anonymous one
(a page sends it to sign in), so nothing it carried is saved: the sign-in page says so, and so does the first page
after that same user signs in again (views.py)."""
UNSAVED_NOTICE_SECONDS = 60 * 60
"""How long after the lost request signing in still repeats that it was not saved: a sign-in much later is about
something else."""
SENDING_EXEMPT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Requests that only ask (RFC 9110's safe methods): one of them finding the session ended loses nothing."""
SIGNED_OUT_SCRIPTED = _("You were signed out, so nothing on this page has been saved.")
SIGN_IN_AGAIN = _("Sign in again")
SEEN_RESOLUTION_SECONDS = 60
"""Activity is written to the session at most once a minute, so not every request saves the session."""
EXPLAIN_SECONDS = settings.SESSION_EXPLAIN_SECONDS
"""How long past its absolute limit a session is kept so the next request can say why it ended (the setting)."""


def session_limits(user: Any) -> tuple[int, int]:
    """(idle seconds, absolute seconds) for ``user``: patients' own limits, everyone else's the staff limits.

    Staff sessions open patient records on shared clinic computers, so they end after a short idle time and after
    one working day whatever happens; patients keep their own diary on their own phone, so they stay signed in for
    weeks (settings.SESSION_IDLE_SECONDS / SESSION_ABSOLUTE_SECONDS).
    """
    kind = "patient" if getattr(user, "role", None) == Role.PATIENT else "staff"
    return settings.SESSION_IDLE_SECONDS[kind], settings.SESSION_ABSOLUTE_SECONDS[kind]


def session_stored_until(user: Any, signed_in_at: float) -> datetime:
    """When the stored session and its cookie end: ``EXPLAIN_SECONDS`` after the absolute limit.

    Not the idle limit: a session stored only that long (and a cookie living that long) would be gone at the very
    moment ``SessionExpiryMiddleware`` would call it idle, so the middleware never saw it: no message, no audit
    event. The session stops working at its limits all the same: the middleware ends it at its first request past
    either of them.
    """
    return datetime.fromtimestamp(signed_in_at + session_limits(user)[1] + EXPLAIN_SECONDS, tz=UTC)


class SessionExpiryMiddleware:
    """Signs out a session idle for longer than its idle limit or older than its absolute limit.

    Goes right after Django's ``AuthenticationMiddleware``. The expired request carries on as an anonymous one, so
    pages send it to the sign-in page (which says why) and the API answers 401. The sign-in time is set by the
    ``user_logged_in`` receiver (accounts/signals.py); the stored session and the browser cookie outlive both limits
    (``session_stored_until``), so it is this middleware that ends a session, and can say why. When the request that
    finds it ended was sending something (a POST), nothing it carried is saved, and ``UNSAVED_KEY`` lets the sign-in
    page and the first page after signing in say so. Where the sign-in page leads back to, and the 401 a scripted
    request gets instead of it: ``sign_in_from_here``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            self._check(request, user)
        return sign_in_from_here(request, self.get_response(request))

    @staticmethod
    def _check(request: HttpRequest, user: Any) -> None:
        now = time.time()
        session = request.session
        idle, absolute = session_limits(user)
        signed_in_at = float(session.get(SIGNED_IN_AT_KEY) or now)
        seen_at = float(session.get(SEEN_AT_KEY) or now)
        if now - seen_at > idle or now - signed_in_at > absolute:
            reason = "idle" if now - seen_at > idle else "absolute"
            request.session_expiry_reason = reason  # type: ignore[attr-defined]  # read by the logout receiver
            logout(request)
            request.session[EXPIRED_KEY] = reason
            if _was_sending(request):
                request.session[UNSAVED_KEY] = {"user": str(user.pk), "at": now}
            return
        if SIGNED_IN_AT_KEY not in session:
            session[SIGNED_IN_AT_KEY] = signed_in_at
        if SEEN_AT_KEY not in session or now - seen_at >= SEEN_RESOLUTION_SECONDS:
            session[SEEN_AT_KEY] = now
            session.set_expiry(session_stored_until(user, signed_in_at))


def _was_sending(request: HttpRequest) -> bool:
    """Whether the request carried something to keep: not a safe method, nor signing in or out (the sign-in form
    sent from a tab left open, or the sign-out button, once the session has ended loses nothing)."""
    return request.method not in SENDING_EXEMPT_METHODS and request.path not in _exempt_paths()[0]


# --- Where signing in leads back to -------------------------------------------------------------------------------


def sign_in_from_here(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """``response``, unless it sends to sign in and back to this request's own address (``login_required`` for a
    request of an ended session or of no session), for a request that is not a page to come back to:

    - a scripted request (``HX-Request``: htmx, and the session screen's live totals) gets 401 with ``HX-Redirect``
      to the sign-in page, which htmx opens, and a short note saying nothing here was saved with a link there,
      which a script shows where its answer goes (the sign-in page followed by the script would be pasted into the
      page, and would use up the sign-in page's saying why the session ended);
    - a POST (or any unsafe method) comes back after signing in to the page it was sent from (its Referer, if of
      this site: a GET of its own address may be refused, as by ``require_POST`` views, with a blank 405), or to
      the home page when there is none.

    Either way the sign-in page's ``next`` is the page (``landing_page``).
    """
    login_url = resolve_url(settings.LOGIN_URL)
    if not _back_to_itself(request, response, login_url):
        return response
    scripted = request.headers.get("HX-Request") == "true"
    if not scripted and request.method in SENDING_EXEMPT_METHODS:
        return response
    landing = landing_page(request)
    sign_in = redirect_to_login(landing, login_url)["Location"] if landing else login_url
    if not scripted:
        return HttpResponseRedirect(sign_in)
    note = format_html(
        '<div class="verdict bad" role="alert">{} <a href="{}">{}</a></div>',
        SIGNED_OUT_SCRIPTED,
        sign_in,
        SIGN_IN_AGAIN,
    )
    answer = HttpResponse(note, status=HTTPStatus.UNAUTHORIZED)
    answer["HX-Redirect"] = sign_in
    return answer


def _back_to_itself(request: HttpRequest, response: HttpResponse, login_url: str) -> bool:
    """Whether ``response`` redirects to the sign-in page with this request's own address as ``next``."""
    if not isinstance(response, HttpResponseRedirectBase):
        return False
    target = urlsplit(response["Location"])
    return target.path == login_url and parse_qs(target.query).get(REDIRECT_FIELD_NAME) == [request.get_full_path()]


def landing_page(request: HttpRequest) -> str | None:
    """The page to come back to after signing in, for a request that is not one: the page it was sent from (htmx's
    ``HX-Current-URL``, else the Referer), as a path, if it is of this site by the check the sign-in view makes of
    ``next`` (``url_has_allowed_host_and_scheme``, this host, HTTPS kept) and not a sign-in or sign-out page; a GET
    without one comes back to itself; otherwise None (signing in leads home)."""
    for url in (request.headers.get("HX-Current-URL"), request.headers.get("Referer")):
        if url and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            page = urlsplit(url)
            if page.path and page.path not in _exempt_paths()[0]:
                return urlunsplit(("", "", page.path, page.query, ""))
            return None
    return request.get_full_path() if request.method in SENDING_EXEMPT_METHODS else None


# --- API rate limits ----------------------------------------------------------------------------------------------

BEARER_LOOKUP_ATTRIBUTE = "onaboard_bearer_lookup"
"""The request attribute where ``ApiRateLimitMiddleware`` leaves its ``BearerLookup`` for the API."""


def token_well_formed(token: str) -> bool:
    """Whether ``token`` has the shape ``ApiToken.issue`` gives tokens (``models.TOKEN_SHAPE``), so is worth a
    lookup."""
    return TOKEN_SHAPE.fullmatch(token) is not None


@dataclass(frozen=True, slots=True)
class BearerLookup:
    """What the middleware found for a request's bearer token: its user, or None for a refused token."""

    token: str
    user: User | None


def bearer_lookup(request: HttpRequest, token: str) -> BearerLookup | None:
    """The middleware's finding for ``token`` on this request, or None when it did not look that very token up
    (config/api.py's ``BearerToken`` then looks it up itself)."""
    found = getattr(request, BEARER_LOOKUP_ATTRIBUTE, None)
    return found if isinstance(found, BearerLookup) and found.token == token else None


def _bearer_token(request: HttpRequest) -> str | None:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class ApiRateLimitMiddleware:
    """Limits API requests per bearer token, and requests with refused tokens per client address (ratelimit.py).

    The token is looked up first (one indexed query by its digest), and the API uses that finding
    (``bearer_lookup``), so a request costs the token table one lookup, not two (a token revoked while its request
    runs no longer fails that request: it was live when the request came). A good token is limited by its own
    budget of requests only, never by its address's budget of refused tokens: a stale token in one script must not
    lock every other script at that address out. A refused token (unknown, revoked, expired, or its user inactive) is
    counted against its address *before* the API answers it, and one beyond the limit is answered 429 there, so a
    burst of simultaneous bad tokens cannot all reach the API: only as many as the limit allows are answered 401, and
    the counter ends at the limit (a 429 is not counted, or gives its count back: not answered, so not one more
    refused token). A refused token the API did not answer 401 (a public operation, or a signed-in session beside
    it) gives its count back too. The pages' own calls (session cookie) are limited by the session's user instead,
    at the sign-in.

    What a flood of refused tokens from one address costs: a token ``ApiToken.issue`` could not have made
    (``TOKEN_SHAPE``) is refused without a lookup, whatever its address's count; once the address has used up its
    budget, its refused tokens are answered 429 after one read of their counter (``rate_limit_peek``), with no write
    (counting and giving back would be two). A well-formed token is always looked up, even from an address over its
    budget: it may be a good one, and a good token must work there. That lookup is one indexed query, what a good
    token's request costs too; a cache of refused tokens would not bound it (a flood of distinct made-up tokens
    misses every time) and would be one more state, per process, to keep in step with the token table.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _bearer_token(request) if request.path.startswith(TOKEN_PREFIXES) else None
        if token is None:
            return self.get_response(request)
        user = ApiToken.user_for(token) if token_well_formed(token) else None
        setattr(request, BEARER_LOOKUP_ATTRIBUTE, BearerLookup(token, user))
        if user is None:
            return self._refused_token(request)
        used = rate_limit_hit("api_token", token)
        if not used.allowed:
            return too_many_requests(used, json=True)
        response = self.get_response(request)
        if response.status_code == HTTPStatus.UNAUTHORIZED:  # refused after all (the API read another token)
            rate_limit_hit("api_bad_token", rate_limit_address(request))
        return response

    def _refused_token(self, request: HttpRequest) -> HttpResponse:
        address = rate_limit_address(request)
        spent = rate_limit_peek("api_bad_token", address)
        if not spent.allowed:  # the budget is used up: answered without a write
            return too_many_requests(spent, json=True)
        bad = rate_limit_hit("api_bad_token", address)
        if not bad.allowed:  # used up meanwhile by simultaneous refused tokens
            rate_limit_refund(bad)
            return too_many_requests(bad, json=True)
        response = self.get_response(request)
        if response.status_code != HTTPStatus.UNAUTHORIZED:
            rate_limit_refund(bad)
        return response
