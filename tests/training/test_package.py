"""The training package stays framework-free, like the engine it teaches from."""

from __future__ import annotations

import subprocess
import sys


def test_the_training_package_imports_no_web_framework():
    """Importing every onaboard.training module in a fresh interpreter loads neither Django nor django-ninja."""
    code = (
        "import sys, onaboard.training.course, onaboard.training.quiz, onaboard.training.sites,"
        " onaboard.training.cases, onaboard.training.certificate;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'ninja'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
