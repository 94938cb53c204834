"""How long the assessment takes on a big clinic's diary: parse, assess, and the ``onaboard assess`` command.

Builds once (cached under bench/out/, git-ignored) a synthetic diary of 100 patients x 10 years (3650 days,
95 % of days recorded, about 347,000 rows, 19 MB) with ``onaboard.synthetic``, then times in one run, best of
``--repeats``:

- parse: ``parse_diary`` on the file's bytes (already read into memory);
- assess: ``onaboard.clinical.assess`` of every patient of the parsed diary (parsing not included);
- command: ``onaboard assess FILE --json`` as a subprocess, end to end (interpreter start-up, reading,
  parsing, assessing, JSON on stdout);
- start-up: ``onaboard --help`` as a subprocess: the floor under every command.

Each is printed in seconds per patient-year (one patient's 365.25 days of diary), and the last lines are the
ratios. Run it with ``make bench`` or ``.venv/bin/python bench/assess_bench.py [--repeats N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import onaboard.synthetic
from onaboard.clinical import assess
from onaboard.clinical.diary import parse_diary, write_diary
from onaboard.synthetic import synthetic_diary

OUT_DIR = Path(__file__).resolve().parent / "out"
PATIENTS = 100
DAYS = 3650
SEED = 20261127
START = date(2016, 1, 1)
DAYS_PER_YEAR = 365.25
ONABOARD = Path(sys.executable).with_name("onaboard")


def _generator_version() -> str:
    """A short hash of synthetic.py, so a changed generator never reuses a stale cached file."""
    source = Path(onaboard.synthetic.__file__).read_bytes()
    return hashlib.sha256(source).hexdigest()[:10]


def diary_file(patients: int, days: int) -> Path:
    """The cached synthetic diary CSV, built on first use (written to a temporary name, then renamed)."""
    path = OUT_DIR / f"diary-{patients}x{days}-seed{SEED}-{_generator_version()}.csv"
    if path.exists():
        return path
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    text = write_diary(synthetic_diary(patients, start=START, days=days, seed=SEED))
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8", newline="")
    partial.replace(path)
    print(f"built {path.name} in {time.perf_counter() - began:.1f} s")
    return path


def best_of(repeats: int, action: Callable[[], object]) -> float:
    """The shortest wall-clock time of ``repeats`` runs of ``action``, in seconds."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        action()
        times.append(time.perf_counter() - began)
    return min(times)


def run_command(*args: str) -> None:
    """Run the installed ``onaboard`` with these arguments; stop the benchmark if it fails."""
    result = subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(ONABOARD), *args], capture_output=True, check=False, env={**os.environ, "NO_COLOR": "1"}
    )
    if result.returncode != 0:
        sys.exit(f"onaboard {' '.join(args)} exited {result.returncode}: {result.stderr.decode()[-2000:]}")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measurement; the best is kept")
    parser.add_argument("--patients", type=int, default=PATIENTS)
    parser.add_argument("--days", type=int, default=DAYS)
    return parser.parse_args()


def main() -> None:
    """Build or reuse the diary, time the four measurements and print them, ratios last."""
    args = _parse_args()
    path = diary_file(args.patients, args.days)
    source = path.read_bytes()
    today = START + timedelta(days=args.days - 1)
    patient_years = args.patients * args.days / DAYS_PER_YEAR

    diaries = parse_diary(source, today=today)
    rows = sum(len(diary.days) for diary in diaries)
    print(f"{path.name}: {len(diaries)} patients, {rows} rows, {len(source) / 1e6:.1f} MB, ", end="")
    print(f"{patient_years:.0f} patient-years; best of {args.repeats}; {os.cpu_count()} CPUs")

    parse = best_of(args.repeats, lambda: parse_diary(source, today=today))
    assessing = best_of(args.repeats, lambda: [assess(diary) for diary in diaries])
    command = best_of(args.repeats, lambda: run_command("assess", str(path), "--json"))
    startup = best_of(args.repeats, lambda: run_command("--help"))

    for name, seconds in (("parse", parse), ("assess", assessing), ("command", command)):
        per_year_ms = 1000 * seconds / patient_years
        print(f"{name:<8} {seconds:7.2f} s  {per_year_ms:7.2f} ms per patient-year")
    print(f"{'start-up':<8} {startup:7.2f} s  (onaboard --help)")
    print(f"assess/parse   {assessing / parse:.2f}")
    print(f"command/assess {command / assessing:.2f}")


if __name__ == "__main__":
    main()
