"""Run the real thing for the operations tests: `onaboard serve` (gunicorn, production settings) on a throwaway
database, Django scripts against that database, and throwaway PostgreSQL databases next to the test database."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
ONABOARD = str(Path(sys.executable).with_name("onaboard"))
BASE_SETTINGS = "onaboard.web.config.settings.base"
PORTS = range(8100, 8200)
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
"""What the TLS reverse proxy adds: production redirects plain HTTP to HTTPS."""
STARTUP_SECONDS = 60


def production_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of a production server on ``database_url`` (default: SQLite under ``data_dir``)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DJANGO_SETTINGS_MODULE",
            "DATABASE_URL",
            "ONABOARD_TEST_DATABASE_URL",
            "GUNICORN_CMD_ARGS",
            "DJANGO_ALLOW_ASYNC_UNSAFE",  # set for the browser tests' thread; never for a server
        }
    }
    env.update(
        ONABOARD_SECRET_KEY=secrets.token_urlsafe(64),
        ONABOARD_ALLOWED_HOSTS="127.0.0.1,localhost",
        ONABOARD_DATA_DIR=str(data_dir),
        ONABOARD_STATIC_ROOT=str(data_dir / "static"),
        PYTHONPATH=str(REPO),
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def last_two_migrations(app: str = "accounts") -> tuple[str, str]:
    """The names of ``app``'s last two migrations in the code (the one before the latest, the latest), for a database
    "one migration behind": read from its migrations folder, so a new migration does not break the tests."""
    folder = REPO / "src" / "onaboard" / "web" / app / "migrations"
    names = sorted(path.stem for path in folder.glob("[0-9][0-9][0-9][0-9]_*.py"))
    return names[-2], names[-1]


def manage(env: dict[str, str], *args: str) -> str:
    """``manage.py ARGS`` against the environment's database; returns stdout.

    ``load_demo`` runs with DEBUG on (it refuses otherwise, so that it never runs on a real production server); the
    server the tests then start on the same database keeps production's settings."""
    demo = {"ONABOARD_DEBUG": "1"} if args[:1] == ("load_demo",) else {}
    completed = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=REPO,
        env={**env, **demo, "DJANGO_SETTINGS_MODULE": BASE_SETTINGS},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def django_json(env: dict[str, str], code: str) -> object:
    """Run ``code`` (which sets ``result``) with Django set up on the environment's database; returns ``result``."""
    script = f"import django, json\ndjango.setup()\n{code}\nprint(json.dumps(result, default=str))\n"
    completed = subprocess.run(
        [PYTHON, "-c", script],
        cwd=REPO,
        env={**env, "DJANGO_SETTINGS_MODULE": BASE_SETTINGS},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def free_port() -> int:
    """A port in 8100-8199 nobody listens on."""
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8100-8199")


class Server:
    """`onaboard serve` in its own process group, so a test can SIGKILL the master and every worker at once."""

    def __init__(
        self, env: dict[str, str], *, settings: str | None = None, workers: int = 2, threads: int = 2, log: Path
    ) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [ONABOARD, "serve", f"--bind=127.0.0.1:{self.port}", f"--workers={workers}", f"--threads={threads}"]
        if settings:
            args.append(f"--settings={settings}")
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"onaboard serve exited {self.process.returncode}:\n{self.log.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/accounts/login/", headers=PROXY_HEADERS, timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        self.kill()
        raise AssertionError(f"onaboard serve did not answer within {STARTUP_SECONDS} s:\n{self.log.read_text()}")

    def client(self, token: str | None = None, timeout: float = 30) -> httpx.Client:
        headers = dict(PROXY_HEADERS)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group: the master and its workers die at once, as in a power cut."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """A graceful stop (SIGTERM to gunicorn's master)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def throwaway_postgres(purpose: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the test server (ONABOARD_TEST_DATABASE_URL), dropped afterwards."""
    import psycopg

    base = os.environ["ONABOARD_TEST_DATABASE_URL"]
    name = f"h_ops_{purpose}_{os.getpid()}"
    admin = _with_database(base, "postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(base, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
