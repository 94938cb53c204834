"""The Makefile's targets, read with ``make -n -B`` (every recipe printed, prerequisites included, nothing run):
what each fetches and from where, as README.md and docs/deploy.md say."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAKE = shutil.which("make")
SH = shutil.which("sh")

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def _recipes(target: str) -> str:
    """The commands ``make TARGET`` would run from scratch (``-B``: every prerequisite out of date)."""
    done = subprocess.run(
        [MAKE, "--no-print-directory", "-n", "-B", target], cwd=REPO, env=_clean_env(),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def _clean_env() -> dict[str, str]:
    """This process's environment without make's own variables and the test database's address."""
    return {key: value for key, value in os.environ.items() if not key.startswith(("MAKE", "ONABOARD_TEST_"))}


def test_run_needs_only_the_python_environment():
    """``make run`` builds .venv and serves the demo without Node.js: no npm, no axe-core (only the browser tests
    use it)."""
    recipes = _recipes("run")
    assert "uv sync --frozen" in recipes
    assert "npm" not in recipes
    assert "runserver" in recipes


@pytest.mark.parametrize("target", ["install", "demo-cli", "test-fast", "lint"])
def test_targets_without_browser_tests_need_no_npm(target):
    """The targets that run no browser test fetch nothing from npm."""
    assert "npm" not in _recipes(target)


def test_test_installs_axe_core_for_the_browser_tests():
    """``make test`` (and so .ci/run) still installs axe-core with ``npm ci`` before the suite."""
    recipes = _recipes("test")
    assert recipes.index("npm ci") < recipes.index("pytest")


def test_install_prod_leaves_out_the_dev_group_and_npm():
    """``make install-prod`` (docs/deploy.md) syncs uv.lock without the dev group and runs no npm."""
    recipes = _recipes("install-prod")
    assert "uv sync --frozen --no-dev" in recipes
    assert "npm" not in recipes


@pytest.mark.parametrize("target", ["install", "install-prod"])
def test_installs_compile_the_dependencies_bytecode(target):
    """Both installs have uv write the dependencies' .pyc files (``--compile-bytecode``): the service's user cannot
    write the root-owned checkout (docs/deploy.md), so Python could not cache them itself and every worker would
    compile Django, Ibis and matplotlib from source."""
    sync = next(line for line in _recipes(target).splitlines() if "uv sync" in line)
    assert "--compile-bytecode" in sync


def test_install_prod_compiles_the_apps_own_sources():
    """The app is installed editable from src/, which ``--compile-bytecode`` leaves out: ``make install-prod``
    compiles it after the sync, so the service's user (who cannot write the checkout) reads its .pyc files."""
    recipes = _recipes("install-prod").splitlines()
    sync = next(i for i, line in enumerate(recipes) if "uv sync" in line)
    assert any("-m compileall" in line and line.rstrip().endswith(" src") for line in recipes[sync + 1 :])


def test_load_defaults_its_database_server_and_keeps_one_given():
    """``make load`` runs on the local PostgreSQL server at 127.0.0.1:5432 unless ONABOARD_TEST_DATABASE_URL names
    another (bench/load_bench.py exits 2 without one)."""
    recipes = _recipes("load")
    assert (
        'ONABOARD_TEST_DATABASE_URL="${ONABOARD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}" '
        ".venv/bin/python bench/load_bench.py"
    ) in recipes
    given = "postgres://bench@db.example:5432/x"
    line = next(line for line in recipes.splitlines() if "load_bench.py" in line)
    done = subprocess.run(
        [SH, "-c", line.replace(".venv/bin/python bench/load_bench.py", 'echo "$ONABOARD_TEST_DATABASE_URL"')],
        env={**_clean_env(), "ONABOARD_TEST_DATABASE_URL": given}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == given
