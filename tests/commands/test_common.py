"""What the database commands share (onaboard/commands/common.py)."""

from __future__ import annotations

from datetime import date

import pytest

from onaboard.commands.common import iso_date


@pytest.mark.parametrize(
    ("text", "day"),
    [("2026-03-02", date(2026, 3, 2)), ("2026-02-30", None), ("2026-3-2", None), ("20260302", None), ("", None)],
)
def test_a_date_argument_is_a_real_day_written_yyyy_mm_dd(text, day):
    """``--as-of`` and ``--end`` take a real day written YYYY-MM-DD and nothing else (the caller names the option)."""
    assert iso_date(text) == day


def test_the_engine_commands_can_import_the_shared_helpers_without_django():
    """``onaboard.cohort.cli`` imports ``iso_date`` from here, so importing this module loads no Django."""
    import subprocess
    import sys

    code = "import sys, onaboard.commands.common; sys.exit('django' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
