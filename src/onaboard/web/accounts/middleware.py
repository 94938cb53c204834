"""The second sign-in step is not optional once set up: until this session has entered a one-time code, a user with
a confirmed authenticator reaches nothing but the code page and signing out."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from onaboard.web.accounts.selectors import otp_verification_needed

API_PREFIX = "/api/"
"""The API refuses such sessions itself (config/api.py), with 401 rather than a redirect."""


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
