"""``GET /healthz``: whether this app server can serve, for a load balancer's health check.

It answers 200 ``ok`` (``text/plain``) when the database answers one cheap query (``SELECT 1``), and 503
``database unavailable`` when it does not, so the balancer takes a server that cannot reach the database out of
rotation. It reads no session, writes nothing (no audit event: a probe every few seconds would drown the trail) and
shows no patient data. Its answer is never cached.

A balancer's probe is not a browser's request: it is plain HTTP straight to the app server, and many balancers
(a cloud load balancer's target-group check among them) send the server's own address in ``Host`` and cannot be
told to send the public name. Through the full middleware stack that probe is redirected to HTTPS (301, by
``SecurityMiddleware`` under ``SECURE_SSL_REDIRECT``) or refused as a host not in ``ALLOWED_HOSTS`` (400, from
``CommonMiddleware``'s host check), and a balancer takes either for a dead server. So ``HealthCheckMiddleware``,
placed right after ``SecurityMiddleware``, answers the probe's path itself before anything reads the host, and
``SECURE_REDIRECT_EXEMPT`` keeps ``SecurityMiddleware`` from redirecting it. That works whatever the balancer can
send, without listing every server's private address in ``ALLOWED_HOSTS`` (which would widen the host check for
every page and change with every server added). The URL pattern serves the same view wherever the middleware is
not installed (a development server).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

HEALTH_PATH = "/healthz"
"""The probe's address (``path_info``: below the app's mount point, if any)."""
HEALTHY = "ok"
UNHEALTHY = "database unavailable"
"""The answer's body: for a balancer and an operator's ``curl``, not a page for a person (so not translated)."""
PROBE_METHODS = ("GET", "HEAD")


def _database_answers() -> bool:
    """Whether the database answers ``SELECT 1`` on this server's connection (opened if need be)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return False
    return True


def healthz(request: HttpRequest) -> HttpResponse:
    """200 ``ok`` if the database answers, else 503 ``database unavailable``; GET and HEAD only."""
    if request.method not in PROBE_METHODS:
        return HttpResponseNotAllowed(PROBE_METHODS)
    healthy = _database_answers()
    response = HttpResponse(
        HEALTHY if healthy else UNHEALTHY,
        status=200 if healthy else 503,
        content_type="text/plain; charset=utf-8",
    )
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answer ``HEALTH_PATH`` before the host check and everything else below it (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH:
            return healthz(request)
        return self.get_response(request)
