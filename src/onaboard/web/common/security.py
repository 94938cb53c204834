"""Response hardening shared by every mode: the Content-Security-Policy, no browser caching of what the app
answers, and the request-size limit.

The policy allows scripts from the app's own origin only (no inline script, no ``eval``), so an injected
``<script>`` or ``on*=`` attribute does not run. Styles allow ``'unsafe-inline'`` because the templates position
chart bars and map markers with ``style="..."`` attributes and htmx adds its indicator style; inline style cannot
run code. Pages may not be framed (``frame-ancestors 'none'``) and forms post to the app only.

Every answer but a static file is sent ``Cache-Control: private, no-store`` unless its view set its own: clinic
computers are shared, and a patient's record must not come back from the browser's cache (the Back button after
signing out) or from a proxy's.

A request body larger than ``settings.MAX_REQUEST_BYTES`` is refused with 413 and a message saying the limit,
before any view reads it: JSON for ``/api/``, an OperationOutcome for ``/fhir`` (a FHIR client reads only
those), a page for everything else. The OperationOutcome and the page (the CSV upload's) name the commands that
import a file that large on the server.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext, gettext_noop

from onaboard.web.interop.outcome import refusal

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""The policy every HTML response carries (``settings.CONTENT_SECURITY_POLICY`` overrides it)."""

REQUEST_TOO_LARGE = gettext_noop("The upload is too large: at most {limit} is accepted, and this request was {size}.")
REQUEST_TOO_LARGE_TITLE = gettext_noop("Upload too large")
FHIR_IMPORT_COMMAND = ("onaboard", "fhir", "import")
CSV_IMPORT_COMMANDS = (("onaboard", "import", "diary"), ("onaboard", "import", "table"))
"""The commands (their words) that import a file of any size on the server (onaboard/commands/exchange.py;
docs/fhir.md): a 413 names them, since nothing else takes such a file in."""
REQUEST_TOO_LARGE_FHIR = gettext_noop(
    "A record this large is imported on the server with {command}, which has no size limit."
)


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def request_too_large_message(size: int, limit: int | None = None) -> str:
    """The sentence shown when a request body of ``size`` bytes is over the limit."""
    limit = settings.MAX_REQUEST_BYTES if limit is None else limit
    return gettext(REQUEST_TOO_LARGE).format(limit=_megabytes(limit), size=_megabytes(size))


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is over ``settings.MAX_REQUEST_BYTES`` with 413 and a clear message.

    Checked from the Content-Length header before any view or middleware reads the body, so nothing is parsed,
    stored or imported. The reverse proxy is expected to apply the same limit (docs/deploy.md).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        size = _content_length(request)
        limit = settings.MAX_REQUEST_BYTES
        if size > limit:
            message = request_too_large_message(size, limit)
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": message}, status=413)
            if request.path == "/fhir" or request.path.startswith("/fhir/"):
                command = gettext(REQUEST_TOO_LARGE_FHIR).format(command=" ".join(FHIR_IMPORT_COMMAND))
                return refusal(413, f"{message} {command}", "too-long")
            diary_command, table_command = (" ".join(words) for words in CSV_IMPORT_COMMANDS)
            html = render_to_string(
                "common/request_too_large.html",
                {
                    "title": gettext(REQUEST_TOO_LARGE_TITLE),
                    "message": message,
                    "diary_command": diary_command,
                    "table_command": table_command,
                },
                request=request,
            )
            return HttpResponse(html, status=413)
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Add the Content-Security-Policy header to every response that does not set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", CONTENT_SECURITY_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


PRIVATE_NO_STORE = "private, no-store"


class NoStoreMiddleware:
    """Add ``Cache-Control: private, no-store`` to every response that does not set its own, static files aside."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + (settings.STATIC_URL or "static/").lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(self.static_prefix):
            response.headers.setdefault("Cache-Control", PRIVATE_NO_STORE)
        return response
