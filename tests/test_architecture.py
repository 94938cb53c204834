"""House rules that keep the code base honest: a framework-free engine and tests that pytest really collects."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import onaboard.clinical

TESTS = Path(__file__).parent
ENGINE = Path(onaboard.clinical.__file__).parent

FORBIDDEN_IN_ENGINE = ("django", "ninja", "typer", "rich", "click", "ibis", "duckdb", "pyspark", "matplotlib")


def test_the_engine_imports_no_framework():
    """Importing onaboard.clinical in a fresh interpreter loads no web, CLI, analytics or plotting framework."""
    code = (
        "import sys, onaboard.clinical;"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN_IN_ENGINE!r})))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_command_line_imports_no_web_framework():
    """The onaboard command starts without loading Django or django-ninja, so engine commands stay quick."""
    code = "import sys, onaboard.cli; print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'ninja'}))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


# Attributes that read the clock, whatever the module or alias (`dt.datetime.today`, `D.today`, `time.monotonic`);
# `.time` is judged apart, as a call without arguments (`time.time()`), since `dt.time(9, 0)` builds a value.
CLOCK_READS = frozenset(
    {
        "today", "now", "utcnow", "time_ns", "monotonic", "monotonic_ns", "perf_counter", "perf_counter_ns",
        "process_time", "process_time_ns", "localtime", "gmtime",
    }
)  # fmt: skip
# Modules that read the clock, the environment, files, the network or a database, besides the frameworks.
IO_MODULES = frozenset(
    {
        "time", "os", "pathlib", "shutil", "tempfile", "glob", "fileinput", "importlib", "socket", "ssl", "http",
        "urllib", "requests", "httpx", "subprocess", "sqlite3", "psycopg", *FORBIDDEN_IN_ENGINE,
    }
)  # fmt: skip
IN_MEMORY_IO = frozenset({"StringIO", "BytesIO"})  # io's buffers over a string the caller passed are not I/O


def _clock_or_io(source: str, where: str) -> list[str]:
    """Clock reads and I/O in an engine module's source, each as `where:line what`.

    Read from the syntax tree, not the text, so an alias (`from datetime import date as D; D.today()`) or another
    spelling (`dt.datetime.utcnow()`, `time.monotonic()`) is caught and a docstring mentioning `open(` is not.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in CLOCK_READS:
            found.append(f"{where}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "time":
            if not node.args and not node.keywords:
                found.append(f"{where}:{node.lineno} .time()")
        elif isinstance(node, ast.Attribute) and node.attr == "open":  # io.open, Path.open, gzip.open ...
            found.append(f"{where}:{node.lineno} .open")
        elif isinstance(node, ast.Name) and node.id in {"open", "__import__"}:
            found.append(f"{where}:{node.lineno} {node.id}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "io":
            if node.attr not in IN_MEMORY_IO:
                found.append(f"{where}:{node.lineno} io.{node.attr}")
        elif isinstance(node, ast.Import):
            found.extend(
                f"{where}:{node.lineno} import {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] in IO_MODULES
            )
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module.split(".")[0]
            if module in IO_MODULES:
                found.append(f"{where}:{node.lineno} from {node.module} import")
            elif module == "io":
                found.extend(
                    f"{where}:{node.lineno} from io import {alias.name}"
                    for alias in node.names
                    if alias.name not in IN_MEMORY_IO
                )
    return found


def test_the_engine_reads_no_clock_and_does_no_io():
    """No engine module reads the clock or opens files: callers pass today's date and the data."""
    offenders = [
        hit for path in ENGINE.glob("*.py") for hit in _clock_or_io(path.read_text(encoding="utf-8"), path.name)
    ]
    assert offenders == []


# Functions pytest itself calls in a test module although their names do not start with "test".
PYTEST_CALLS = frozenset({"setup_module", "teardown_module", "setup_function", "teardown_function"})


def _uncollectable(source: str, where: str) -> list[str]:
    """Functions in a test module that pytest would not collect and nothing calls: a typo such as `tset_x` hides a test.

    A top-level function is flagged when it is public, not named `test*` (pytest's rule), not decorated (fixtures and
    hypothesis strategies are) and never named elsewhere in its module (the helpers tests call are): so a misspelt
    test is caught whatever the misspelling, not only when its name still contains "test". A function defined again
    further down is flagged at its first definition, which pytest never collects and nothing can call.
    """
    tree = ast.parse(source)
    names = Counter(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    last = {node.name: node for node in functions}
    found = [f"{where}:{node.lineno} {node.name} (defined again)" for node in functions if last[node.name] is not node]
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            named_within = sum(1 for inner in ast.walk(node) if isinstance(inner, ast.Name) and inner.id == node.name)
            named_elsewhere = names[node.name] > named_within  # a recursive call alone does not count
            ignored = node.name.startswith(("test", "_", "pytest_")) or node.name in PYTEST_CALLS
            if not ignored and not node.decorator_list and not named_elsewhere:
                found.append(f"{where}:{node.lineno} {node.name}")
        if isinstance(node, ast.ClassDef) and not node.name.startswith("Test"):
            found.extend(
                f"{where}:{item.lineno} {node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test")
            )
    return found


def test_every_test_like_function_is_collected():
    """No test module holds a function or class of tests that pytest would silently skip and nothing calls."""
    found = [
        hit
        for path in TESTS.rglob("test_*.py")
        for hit in _uncollectable(path.read_text(encoding="utf-8"), str(path.relative_to(TESTS)))
    ]
    assert found == []


def test_every_test_states_its_behaviour():
    """Each test function carries a one-sentence docstring saying what behaviour it checks."""
    missing = []
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test") and not ast.get_docstring(node):
                missing.append(f"{path.relative_to(TESTS)}:{node.lineno} {node.name}")
    assert missing == []


# The checkers above are tested on small sources, so a weakened checker cannot pass the house rules silently.
A_TEST_MODULE = """
import pytest


@pytest.fixture
def patient():
    return "patient"


def diary_of(patient):
    return [patient]


def _private():
    return None


def test_the_diary_holds_the_patient(patient):
    assert diary_of(patient) == [patient]
"""


def test_a_test_module_of_tests_fixtures_and_used_helpers_is_clean():
    """Tests, fixtures, private functions and helpers the tests call are not flagged as uncollected tests."""
    assert _uncollectable(A_TEST_MODULE, "test_x.py") == []


@pytest.mark.parametrize(
    ("hidden", "name"),
    [
        ("def tset_week24_is_day_167():\n    assert False\n", "tset_week24_is_day_167"),
        ("def week24_is_day_167():\n    assert False\n", "week24_is_day_167"),
        ("async def tets_booking():\n    assert False\n", "tets_booking"),
        ("def tset_recursion(n=1):\n    assert n == 0 or tset_recursion(n - 1)\n", "tset_recursion"),
    ],
)
def test_a_function_pytest_would_not_collect_is_flagged(hidden, name):
    """A public, undecorated function nothing else names and pytest would not collect (a misspelt test) is flagged."""
    line = A_TEST_MODULE.count("\n") + 1
    assert _uncollectable(A_TEST_MODULE + hidden, "test_x.py") == [f"test_x.py:{line} {name}"]


PURE_ENGINE_MODULE = """
import csv
import datetime as dt
import io
from datetime import date, timedelta


def week_24(start: date) -> date:
    return start + timedelta(days=167)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def at_nine() -> dt.time:
    return dt.time(9, 0)
"""


def test_a_pure_engine_module_is_clean():
    """Date arithmetic, date and time constructors and reading CSV from a string in memory are neither clock nor I/O."""
    assert _clock_or_io(PURE_ENGINE_MODULE, "pure.py") == []


@pytest.mark.parametrize(
    "impure",
    [
        "dt.datetime.today()",
        "time.time()",
        "dt.datetime.utcnow()",
        "dt.datetime.now(dt.UTC)",
        "date.today()",
        "from datetime import date as D\nD.today()",
        "clock = date.today",
        "import time\ntime.monotonic()",
        "from time import perf_counter\nperf_counter()",
        "open('diary.csv')",
        "io.open('diary.csv')",
        "from io import FileIO",
        "import os\nos.environ['TZ']",
        "from pathlib import Path\nPath('diary.csv').read_text()",
        "import socket",
        "from django.utils import timezone",
        "import requests",
    ],
)
def test_a_clock_read_or_io_in_the_engine_is_flagged(impure):
    """Reading the clock under any spelling or alias, opening a file, or importing a file, OS, network or web
    module is flagged."""
    assert _clock_or_io(PURE_ENGINE_MODULE + impure + "\n", "impure.py") != []


@pytest.mark.parametrize("name", ["test_the_diary_holds_the_patient", "diary_of"])
def test_a_function_defined_twice_is_flagged_at_the_first(name):
    """A test or helper defined again further down is flagged where it is first defined: pytest collects, and the
    module calls, only the last definition."""
    first = next(number for number, text in enumerate(A_TEST_MODULE.splitlines(), 1) if f"def {name}(" in text)
    again = f"def {name}(patient):\n    assert patient\n"
    assert _uncollectable(A_TEST_MODULE + again, "test_x.py") == [f"test_x.py:{first} {name} (defined again)"]
