"""The load balancer's health check (onaboard/web/common/health.py)."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.urls import reverse

from onaboard.web.common import health
from onaboard.web.common.health import HEALTH_PATH, HEALTHY, UNHEALTHY, HealthCheckMiddleware

pytestmark = pytest.mark.django_db

HEALTH_MIDDLEWARE = f"{HealthCheckMiddleware.__module__}.{HealthCheckMiddleware.__name__}"
SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"
PUBLIC_HOST = "clinic.example.org"
SERVER_ADDRESS = "10.0.0.21:8000"
"""What a balancer's probe sends in ``Host``: the app server's own address, not the public name."""


class _UnreachableDatabase:
    """A connection whose every query fails as a database that went away does."""

    def cursor(self) -> None:
        message = "connection refused"
        raise OperationalError(message)


@pytest.fixture
def behind_the_balancer(settings):
    """Production's host check and HTTPS redirect, with the health check installed and exempted as docs/deploy.md
    asks (right after SecurityMiddleware; ``SECURE_REDIRECT_EXEMPT``)."""
    middleware = [name for name in settings.MIDDLEWARE if name != HEALTH_MIDDLEWARE]
    middleware.insert(middleware.index(SECURITY_MIDDLEWARE) + 1, HEALTH_MIDDLEWARE)
    settings.MIDDLEWARE = middleware
    settings.ALLOWED_HOSTS = [PUBLIC_HOST]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$"]


def test_the_health_check_answers_ok_in_plain_text(client):
    """GET /healthz answers 200 "ok" as text/plain, never cached, to anyone (no sign-in)."""
    assert reverse("healthz") == HEALTH_PATH
    response = client.get(HEALTH_PATH)
    assert response.status_code == 200
    assert response.content.decode() == HEALTHY
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    assert client.head(HEALTH_PATH).status_code == 200


def test_the_health_check_answers_503_when_the_database_does_not(client, monkeypatch):
    """When the database does not answer its one query, /healthz answers 503 "database unavailable"."""
    assert client.get(HEALTH_PATH).status_code == 200
    monkeypatch.setattr(health, "connection", _UnreachableDatabase())
    response = client.get(HEALTH_PATH)
    assert response.status_code == 503
    assert response.content.decode() == UNHEALTHY


def test_the_health_check_only_reads(client):
    """/healthz takes GET and HEAD only: a POST is 405."""
    assert client.post(HEALTH_PATH).status_code == 405


def test_a_probe_by_address_over_plain_http_gets_ok(client, behind_the_balancer):
    """A balancer's probe (plain HTTP, the server's address as Host) gets 200 "ok", where the same request for a
    page is refused as a host not allowed (400), and a page asked for by its public name is redirected to HTTPS."""
    probe = client.get(HEALTH_PATH, HTTP_HOST=SERVER_ADDRESS)
    assert probe.status_code == 200
    assert probe.content.decode() == HEALTHY
    assert client.get(reverse("accounts:login"), HTTP_HOST=SERVER_ADDRESS).status_code == 400
    assert client.get(reverse("accounts:login"), HTTP_HOST=PUBLIC_HOST).status_code == 301
    assert client.get(HEALTH_PATH, HTTP_HOST=PUBLIC_HOST).status_code == 200
    assert client.get(HEALTH_PATH, HTTP_HOST=PUBLIC_HOST, HTTP_X_FORWARDED_PROTO="https").status_code == 200


def test_the_middleware_passes_every_other_address_on(client, behind_the_balancer):
    """Only the health check's own address is answered early: /healthz/ and /healthzz go through the usual checks."""
    for path in ("/healthz/", "/healthzz", "/healthz/x"):
        assert client.get(path, HTTP_HOST=SERVER_ADDRESS).status_code == 400, path
