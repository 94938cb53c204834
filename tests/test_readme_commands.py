"""The `onaboard` examples of README.md run as written on the demo files, and the JSON example is what its comment
says: the first example's verdicts for P001, as one JSON document."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ONABOARD = Path(sys.executable).with_name("onaboard")
WRITES_FILES = ("synth", "cohort")
"""Examples that write under var/ (and take a while): not run here."""


def _examples() -> list[list[str]]:
    """The README's `.venv/bin/onaboard ...` lines of its command section, as argument lists without comments."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## The `onaboard` command", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [re.sub(r"\s+#.*$", "", line) for line in section.splitlines() if line.startswith(".venv/bin/onaboard ")]
    return [shlex.split(line)[1:] for line in lines]


def _onaboard(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ONABOARD), *args], cwd=REPO, capture_output=True, text=True, check=False)


def test_every_readme_example_runs():
    """Each example that writes no file exits 0 with output and nothing on stderr (one asked for a patient the
    demo file does not hold)."""
    examples = [args for args in _examples() if args[0] not in WRITES_FILES]
    assert len(examples) >= 7
    for args in examples:
        done = _onaboard(args)
        assert (done.returncode, done.stderr) == (0, ""), args
        assert done.stdout.strip(), args


def test_the_json_example_is_p001_of_the_text_example():
    """The ``--json`` example is one JSON document holding P001 alone, with the verdicts the text example prints
    for P001 (the label criteria met: the birth date is given in both)."""
    assess = [args for args in _examples() if args[0] == "assess"]
    text_args, json_args = (next(a for a in assess if ("--json" in a) is want) for want in (False, True))
    text = _onaboard(text_args).stdout
    p001 = text.split("P001", 1)[1].split("\nP002", 1)[0]
    document = json.loads(_onaboard(json_args).stdout)
    (patient,) = document["patients"]
    assert patient["patient_id"] == "P001"
    for verdict, label in [
        ("chronic_migraine", "Chronic migraine"),
        ("medication_overuse", "Medication overuse"),
        ("label_criteria", "BOTOX label criteria"),
    ]:
        assert f"{label}: {patient[verdict]['verdict']}\n" in p001, verdict
    assert patient["label_criteria"]["verdict"] == "met"
