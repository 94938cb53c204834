"""House rules that keep the code base honest: a framework-free engine and tests that pytest really collects."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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


def test_the_engine_reads_no_clock_and_does_no_io():
    """No engine module reads the clock or opens files: callers pass today's date and the data."""
    banned = ("date.today(", "datetime.now(", "time.time(", "open(", "Path(", "os.environ", "requests")
    offenders = [
        f"{path.name}: {word}"
        for path in ENGINE.glob("*.py")
        for word in banned
        if word in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def _uncollectable(path: Path) -> list[str]:
    """Public functions in a test module that pytest would not collect: a typo such as `tset_x` hides a test."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            decorated = bool(node.decorator_list)  # fixtures, strategies and the like are decorated
            if not node.name.startswith(("test", "_")) and not decorated and "test" in node.name.lower():
                found.append(f"{path.relative_to(TESTS)}:{node.lineno} {node.name}")
        if isinstance(node, ast.ClassDef) and not node.name.startswith("Test"):
            found.extend(
                f"{path.relative_to(TESTS)}:{item.lineno} {node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef) and item.name.startswith("test")
            )
    return found


def test_every_test_like_function_is_collected():
    """No test module holds a test-like function or class that pytest would silently skip."""
    assert [hit for path in TESTS.rglob("test_*.py") for hit in _uncollectable(path)] == []


def test_every_test_states_its_behaviour():
    """Each test function carries a one-sentence docstring saying what behaviour it checks."""
    missing = []
    for path in TESTS.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test") and not ast.get_docstring(node):
                missing.append(f"{path.relative_to(TESTS)}:{node.lineno} {node.name}")
    assert missing == []
