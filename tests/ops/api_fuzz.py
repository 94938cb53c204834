"""Schemathesis against the running app: `python -m tests.ops.api_fuzz [--max-examples N]` (run by .ci/run).

Builds a throwaway demo clinic (SQLite in a temporary folder, or a fresh PostgreSQL database when
ONABOARD_TEST_DATABASE_URL is set), issues an API token for the demo clinician, starts `onaboard serve` with the
production settings and runs schemathesis over every operation of /api/openapi.json with the checks that matter:
no server error, and every response conforms to the schema (status code, content type, body). Exits with
schemathesis's status.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.ops.serving import PROXY_HEADERS, Server, manage, production_env, throwaway_postgres

CHECKS = ("not_a_server_error", "content_type_conformance", "response_schema_conformance")
STATUS_CHECK = "status_code_conformance"
FRAMEWORK_CODES = ("400", "422")
"""Status codes django-ninja itself may answer on any operation (a body that is not JSON, a failed schema)."""
CALLER = "dr.demo"
FUZZ_SETTINGS = "tests.ops.fuzz_settings"


def _operations_missing_framework_codes(url: str) -> list[str]:
    schema = httpx.get(f"{url}/api/openapi.json", headers=PROXY_HEADERS, timeout=30).json()
    return [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if not set(FRAMEWORK_CODES) <= {str(code) for code in operation.get("responses", {})}
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=25, help="examples per operation and phase")
    parser.add_argument("--workers", default="1", help="schemathesis workers (its coverage phase is not thread-safe)")
    parser.add_argument("--user", default=CALLER, help="the demo login whose token calls the API")
    options = parser.parse_args()
    schemathesis = str(Path(sys.executable).with_name("schemathesis"))
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="onaboard-api-fuzz-")))
        database_url = None
        if os.environ.get("ONABOARD_TEST_DATABASE_URL"):
            database_url = stack.enter_context(throwaway_postgres("api_fuzz"))
        env = production_env(folder / "data", database_url)
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo")
        token = manage(env, "issue_api_token", options.user, "schemathesis").strip().split()[-1]
        server = Server(env, settings=FUZZ_SETTINGS, log=folder / "serve.log", workers=2)
        stack.callback(server.stop)
        headers = [f"--header={name}: {value}" for name, value in PROXY_HEADERS.items()]
        checks = [*CHECKS]
        undocumented = _operations_missing_framework_codes(server.url)
        if undocumented:
            print(
                f"{STATUS_CHECK} is left out: {len(undocumented)} operations do not document the framework's "
                f"{'/'.join(FRAMEWORK_CODES)} (onaboard.web.common.errors.document_framework_errors adds them), "
                f"e.g. {undocumented[:3]}",
                file=sys.stderr,
            )
        else:
            checks.append(STATUS_CHECK)
        completed = subprocess.run(
            [
                schemathesis,
                "run",
                f"{server.url}/api/openapi.json",
                f"--url={server.url}",
                f"--header=Authorization: Bearer {token}",
                *headers,
                f"--checks={','.join(checks)}",
                f"--max-examples={options.max_examples}",
                f"--workers={options.workers}",
                "--phases=examples,coverage,fuzzing",
                "--seed=20261128",
                "--suppress-health-check=all",
                "--request-timeout=30",
            ],
            cwd=folder,  # schemathesis keeps its state in ./.schemathesis
            check=False,
        )
        if completed.returncode != 0:
            log = Path(server.log).read_text(encoding="utf-8")
            errors = [line for line in log.splitlines() if "Traceback" in line or "Error" in line or '" 500 ' in line]
            print("\n".join(errors[-200:]), file=sys.stderr)
        return completed.returncode


if __name__ == "__main__":
    sys.exit(main())
