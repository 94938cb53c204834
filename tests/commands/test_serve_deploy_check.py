"""`onaboard serve` runs Django's deployment check at fail level WARNING: a warning stops it as an error would,
as its help says."""

from __future__ import annotations

import subprocess

from tests.ops.serving import ONABOARD, REPO, production_env


def test_a_deployment_check_warning_stops_serve(tmp_path):
    """With the base settings (no HSTS, no HTTPS redirect, cookies not Secure) the check reports only warnings;
    serve refuses with exit 2 and the report, and starts no server."""
    done = subprocess.run(
        [ONABOARD, "serve", "--bind=127.0.0.1:8196", "--settings=onaboard.web.config.settings.base"],
        cwd=REPO, env=production_env(tmp_path), capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("onaboard serve: the deployment check failed:")
    assert "WARNINGS:" in done.stderr
    assert "ERRORS:" not in done.stderr
    assert "security.W004" in done.stderr
