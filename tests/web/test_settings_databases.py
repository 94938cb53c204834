"""The database settings (onaboard/web/config/settings/base.py, dev.py), read in a fresh interpreter per case."""

from __future__ import annotations

import json
import subprocess
import sys

from onaboard.web.config.settings.base import SQLITE_OPTIONS
from tests.ops.serving import production_env

SHOW = (
    "import json, django; from django.conf import settings; django.setup(); "
    "db = settings.DATABASES['default']; "
    "print(json.dumps({'engine': db['ENGINE'], 'options': db.get('OPTIONS', {}), 'age': db['CONN_MAX_AGE']}))"
)


def _database(tmp_path, module: str, url: str | None) -> dict:
    env = production_env(tmp_path / "data", url) | {"DJANGO_SETTINGS_MODULE": module}
    done = subprocess.run([sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_a_sqlite_database_named_by_url_gets_the_embedded_defaults_options(tmp_path):
    """DATABASE_URL=sqlite:///... gets the same WAL, IMMEDIATE and timeout options as the default SQLite file (it
    got none, so concurrent requests of `onaboard serve` failed with "database is locked")."""
    for url in (None, f"sqlite:///{tmp_path / 'clinic.sqlite3'}"):
        database = _database(tmp_path, "onaboard.web.config.settings.production", url)
        assert database["engine"] == "django.db.backends.sqlite3"
        assert database["options"] == SQLITE_OPTIONS


def test_the_development_server_keeps_no_connection_per_thread(tmp_path):
    """runserver answers each request on a new thread: the dev settings keep no persistent connection, so a burst of
    requests cannot use up PostgreSQL's connections; production keeps them (gunicorn's threads are few and reused)."""
    url = "postgres://postgres@127.0.0.1:5432/test"
    assert _database(tmp_path, "onaboard.web.config.settings.dev", url)["age"] == 0
    assert _database(tmp_path, "onaboard.web.config.settings.production", url)["age"] == 60
