# onaboard: `make run` for the demo, `make test` for the suite.
# The environment lives in .venv, built from uv.lock with the machine's own python3 (3.11+, with its venv module:
# Debian's python3-venv). `make run` needs nothing else; `make test` also needs Node.js (npm) for axe-core and the
# system packages of ops/apt-bookworm.txt (chromium for the browser tests ...): ops/install-system-packages.

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install install-prod run demo-cli test test-fast lint format messages bench load api-fuzz audit clean

$(UV):
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "onaboard needs Python 3.11 or newer")'
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The development environment: the app and the dev group (pytest, ruff, playwright ...). The stamp, not
# $(BIN)/onaboard, marks it: a production install (below) has $(BIN)/onaboard without the dev group.
# --compile-bytecode writes the dependencies' .pyc files once, here: where Python may not write them itself (a
# checkout the service's user cannot write, PYTHONDONTWRITEBYTECODE set) every process would otherwise compile
# Django, Ibis, pandas and matplotlib from source on each start and on its first cohort report (seconds each time).
$(VENV)/.dev-synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --compile-bytecode --python "$$(command -v $(PYTHON))"
	@touch $@

# axe-core (the accessibility checks of the browser tests), from the npm registry at the locked version: only
# `make test` needs it, and with it Node.js.
AXE := node_modules/axe-core/axe.min.js
$(AXE): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# The Python environment: all that `make run`, `make demo-cli` and the onaboard command need.
install: $(VENV)/.dev-synced

# An app server's environment (docs/deploy.md): the app and its dependencies from uv.lock, no dev group, no npm; the
# app's own sources (installed editable from src/) compiled too, as the service's user cannot write them.
install-prod: $(UV)
	@rm -f $(VENV)/.dev-synced
	$(UV) sync --frozen --no-dev --compile-bytecode --python "$$(command -v $(PYTHON))"
	$(BIN)/python -m compileall -q src

# The web app with the synthetic demo clinic: migrate, load the demo (once; `manage.py load_demo --reset` rebuilds it
# for today), print the demo logins, serve http://127.0.0.1:8000.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	@echo "Serving http://127.0.0.1:8000 -- sign in with a demo login above (Ctrl-C stops the server)."
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# The command-line engine on the demo CSV files.
demo-cli: install
	$(BIN)/onaboard assess demo/diary.csv --birth-date 1984-05-17
	$(BIN)/onaboard plan --follow-the-pain temporalis=2,trapezius=2
	$(BIN)/onaboard outcomes demo/treated.csv --injections 2026-03-02,2026-05-25

# The whole suite on SQLite; then, when ONABOARD_TEST_DATABASE_URL names a PostgreSQL database, the
# database-backed suites again on PostgreSQL (.ci/run sets it when the server answers).
test: install $(AXE)
	$(BIN)/ruff check src tests bench manage.py
	env -u ONABOARD_TEST_DATABASE_URL $(BIN)/pytest -p no:cacheprovider
	@if [ -n "$${ONABOARD_TEST_DATABASE_URL:-}" ]; then \
		echo "== database-backed tests on PostgreSQL"; \
		$(BIN)/pytest -p no:cacheprovider -m "not browser" tests/web; \
	fi

test-fast: install
	$(BIN)/pytest -p no:cacheprovider -m "not slow" -x -q

lint: install
	$(BIN)/ruff check src tests bench manage.py
	$(BIN)/ruff format --check src tests bench manage.py

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

# The English message catalogue, src/onaboard/web/locale/en/LC_MESSAGES/django.po, from every string marked for
# translation under src/onaboard/web (templates and Python); run it after marking a string, or
# tests/web/test_i18n.py fails. English is the source language: no .mo is compiled for it.
messages: install
	cd src/onaboard/web && ../../../$(BIN)/python ../../../manage.py makemessages --locale en --no-obsolete --add-location file --no-wrap --ignore locale

# The engine's benchmark, then the cohort benchmark (100,000 patients x 365 days, generated once into bench/out/),
# whose ratios (a)/(b), (c)/(a) and peak memory are the last lines printed.
bench: install
	$(BIN)/python bench/assess_bench.py
	$(BIN)/python bench/cohort_bench.py

# 50 users for 60 s against `onaboard serve` on PostgreSQL; prints p50/p95/p99 per action. It makes (and drops) its
# own database on the server ONABOARD_TEST_DATABASE_URL names, by default the local one at 127.0.0.1:5432 as the
# postgres user (LOAD_DATABASE_SERVER below).
LOAD_DATABASE_SERVER := postgres://postgres@127.0.0.1:5432/test
load: install
	ONABOARD_TEST_DATABASE_URL="$${ONABOARD_TEST_DATABASE_URL:-$(LOAD_DATABASE_SERVER)}" $(BIN)/python bench/load_bench.py

# schemathesis against /api/openapi.json of a live server (also run by .ci/run).
api-fuzz: install
	$(BIN)/python -m tests.ops.api_fuzz

# pip-audit of the locked dependencies (also run by .ci/run).
audit: install
	$(BIN)/python .ci/pip_audit.py

clean:
	rm -rf $(VENV) .uv .pytest_cache .ruff_cache node_modules
