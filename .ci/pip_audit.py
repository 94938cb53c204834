"""Audit the locked dependencies (uv.lock, every group) for known vulnerabilities with pip-audit.

    .venv/bin/python .ci/pip_audit.py

The lock is exported with ``uv export --frozen --no-hashes`` and audited as pinned requirements (no resolution, no
installs). A vulnerability fails the run unless its ID is in ``.ci/pip-audit-ignore.txt`` with a reason; that
includes vulnerabilities with no fixed release yet: someone must decide, in writing, that it may stay. A package
the vulnerability service cannot look up (an index without it, no network) is listed; with ONABOARD_AUDIT_STRICT=1
that fails the run too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IGNORE_FILE = REPO / ".ci" / "pip-audit-ignore.txt"
UV = REPO / ".uv" / "bin" / "uv"
PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def ignored_ids() -> set[str]:
    ids = set()
    for raw in IGNORE_FILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            ids.add(line.split()[0])
    return ids


def main() -> int:
    exported = subprocess.run(  # noqa: S603 - the project's own uv
        [str(UV), "export", "--frozen", "--no-hashes", "--all-groups", "--no-emit-project"],
        cwd=REPO,
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(REPO / ".venv")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as requirements:
        requirements.write(exported)
    try:
        audited = subprocess.run(  # noqa: S603 - the project's own pip-audit
            [
                str(PIP_AUDIT),
                "--disable-pip",
                "--no-deps",
                "-r",
                requirements.name,
                "-f",
                "json",
                "--progress-spinner",
                "off",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        Path(requirements.name).unlink()
    try:
        report = json.loads(audited.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit did not report (exit {audited.returncode}):\n{audited.stderr}", file=sys.stderr)
        return 1
    accepted = ignored_ids()
    found, skipped = [], []
    for dependency in report.get("dependencies", []):
        if "skip_reason" in dependency:
            skipped.append(f"{dependency['name']}: {dependency['skip_reason']}")
        for vulnerability in dependency.get("vulns", []):
            ids = {vulnerability["id"], *vulnerability.get("aliases", [])}
            if ids & accepted:
                print(f"accepted (listed in {IGNORE_FILE.name}): {dependency['name']} {vulnerability['id']}")
                continue
            fixes = ", ".join(vulnerability.get("fix_versions", [])) or "no fixed release"
            found.append(f"{dependency['name']} {dependency['version']}: {vulnerability['id']} (fix: {fixes})")
    audited_count = len(report.get("dependencies", [])) - len(skipped)
    print(f"pip-audit: {audited_count} locked packages audited, {len(skipped)} could not be looked up")
    for line in skipped:
        print(f"  not audited: {line}")
    for line in found:
        print(f"VULNERABLE: {line}", file=sys.stderr)
    if found:
        return 1
    if skipped and os.environ.get("ONABOARD_AUDIT_STRICT") == "1":
        print("ONABOARD_AUDIT_STRICT=1: every locked package must be audited", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
