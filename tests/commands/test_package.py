"""The shared --json of the commands (onaboard/commands/__init__.py): every subcommand of `onaboard` takes it but
``serve``, whose help says why."""

from __future__ import annotations

from pathlib import Path

import typer.main
from typer.testing import CliRunner

from onaboard.cli import app
from onaboard.commands import JSON_NEEDS_A_FILE, stdout_problems


def _subcommands(command, path: tuple[str, ...] = ()):
    """Every leaf subcommand of ``command`` with its words (``("fhir", "export")``)."""
    children = getattr(command, "commands", None)
    if not children:
        yield path, command
        return
    for name, child in children.items():
        yield from _subcommands(child, (*path, name))


def test_every_subcommand_but_serve_takes_json():
    """Each leaf subcommand of `onaboard` has a --json option, except serve (it becomes gunicorn)."""
    missing = [
        " ".join(words)
        for words, command in _subcommands(typer.main.get_command(app))
        if not any("--json" in parameter.opts for parameter in command.params)
    ]
    assert missing == ["serve"]


def test_serve_help_says_why_it_has_no_json():
    """`onaboard serve --help` says it takes no --json because its stdout is gunicorn's access log."""
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "No --json" in result.stdout
    assert "access log" in result.stdout


def test_stdout_as_output_is_a_problem_only_with_json():
    """``-o -`` is refused naming both options with --json (stdout carries the summary), and not otherwise."""
    assert stdout_problems(Path("-"), as_json=True) == [JSON_NEEDS_A_FILE]
    assert stdout_problems(Path("-"), as_json=False) == []
    assert stdout_problems(Path("out.csv"), as_json=True) == []
