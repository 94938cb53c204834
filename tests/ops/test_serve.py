"""`onaboard serve` and the production settings: refusal without a secret key or allowed hosts, a clean
``check --deploy``, and a real gunicorn answering with secure cookies, HSTS, the policy and whitenoise's static
files."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from onaboard.commands.ops import MIGRATIONS_NOT_APPLIED, SERVE_REFUSED
from onaboard.web.common.health import HEALTHY
from onaboard.web.common.security import CONTENT_SECURITY_POLICY
from onaboard.web.config.env import MISSING_IN_PRODUCTION, WEAK_SECRET_KEY
from onaboard.web.config.settings.base import DATABASE_URL_UNUSABLE
from tests.ops.serving import ONABOARD, PYTHON, REPO, Server, last_two_migrations, manage, production_env


def _serve(env):
    return subprocess.run(
        [ONABOARD, "serve", "--bind=127.0.0.1:8199"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("ONABOARD_SECRET_KEY", "", MISSING_IN_PRODUCTION.format(name="ONABOARD_SECRET_KEY")),
        ("ONABOARD_SECRET_KEY", "short-key", WEAK_SECRET_KEY.format(length=50)),
        ("ONABOARD_ALLOWED_HOSTS", "", MISSING_IN_PRODUCTION.format(name="ONABOARD_ALLOWED_HOSTS")),
    ],
)
def test_serve_refuses_to_start_without_a_strong_secret_key_and_allowed_hosts(tmp_path, variable, value, message):
    """Exit 2 with the missing or weak setting named on stderr, and no server started."""
    env = {**production_env(tmp_path), variable: value}
    completed = _serve(env)
    assert completed.returncode == 2
    assert completed.stderr.strip() == f"onaboard serve: {message}"
    assert completed.stdout == ""


def test_the_deployment_check_is_clean_with_the_production_settings(tmp_path):
    """``manage.py check --deploy --fail-level WARNING`` reports nothing with the production settings."""
    env = {**production_env(tmp_path), "DJANGO_SETTINGS_MODULE": "onaboard.web.config.settings.production"}
    completed = subprocess.run(
        [PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "no issues" in completed.stdout


@pytest.mark.slow
def test_serve_runs_gunicorn_with_production_headers_and_static_files(tmp_path):
    """Behind the proxy header, pages carry HSTS, the policy and secure cookies; plain HTTP is redirected to HTTPS;
    static files come from whitenoise with hashed, long-cached names; a load balancer's probe of /healthz (plain
    HTTP, the server's own address as Host) gets 200 "ok", where a page asked for that way is refused 400."""
    env = production_env(tmp_path / "data")
    manage(env, "migrate", "--noinput")
    server = Server(env, log=tmp_path / "serve.log")
    try:
        with server.client() as client:
            page = client.get("/accounts/login/")
            plain = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "http"})
            stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page.text).group(1)
            static = client.get(stylesheet)
        probe_headers = {"Host": "10.0.0.21:8000"}  # what a balancer sends: no X-Forwarded-Proto, its own address
        probe = httpx.get(f"{server.url}/healthz", headers=probe_headers, timeout=10)
        page_by_address = httpx.get(f"{server.url}/accounts/login/", headers=probe_headers, timeout=10)
    finally:
        server.stop()
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["X-Frame-Options"] == "DENY"
    cookie = page.headers["Set-Cookie"]
    assert "Secure" in cookie
    assert "SameSite=Lax" in cookie
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://")
    assert stylesheet.startswith("/static/onaboard/onaboard.")
    assert stylesheet != "/static/onaboard/onaboard.css"
    assert static.status_code == 200
    assert "immutable" in static.headers["Cache-Control"]
    assert (probe.status_code, probe.text) == (200, HEALTHY)
    assert page_by_address.status_code == 400


def _migrations_in_code() -> list[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return list(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def test_serve_refuses_a_database_with_migrations_not_applied(tmp_path):
    """Without --migrate, serve on a database lacking the code's migrations exits 2 saying how many and what to
    run, and starts no server (it served, /healthz ok, and every page failed with 500)."""
    empty = _serve(production_env(tmp_path))
    assert (empty.returncode, empty.stdout) == (2, "")
    reason = MIGRATIONS_NOT_APPLIED.format(count=len(_migrations_in_code()), first="contenttypes.0001_initial")
    assert empty.stderr == SERVE_REFUSED.format(reason=reason) + "\n"


@pytest.mark.slow
def test_serve_refuses_a_database_one_migration_behind(tmp_path):
    """A database one migration behind the code (the upgrade's migrate not yet run) is refused the same way,
    naming that migration."""
    env = production_env(tmp_path)
    manage(env, "migrate", "--noinput")
    before, latest = last_two_migrations("audit")  # its latest migration nothing depends on
    manage(env, "migrate", "--noinput", "audit", before)
    behind = _serve(env)
    assert (behind.returncode, behind.stdout) == (2, "")
    reason = MIGRATIONS_NOT_APPLIED.format(count=1, first=f"audit.{latest}")
    assert behind.stderr == SERVE_REFUSED.format(reason=reason) + "\n"


def test_serve_refuses_a_malformed_database_url_naming_the_variable(tmp_path):
    """DATABASE_URL=postgress://...: exit 2 with one line naming the variable (it was a traceback and exit 1)."""
    done = _serve(production_env(tmp_path, "postgress://onaboard:s3cret-pw@db1.internal/onaboard"))
    reason = DATABASE_URL_UNUSABLE.format(reason="Scheme 'postgress://' is unknown.")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", SERVE_REFUSED.format(reason=reason) + "\n")
