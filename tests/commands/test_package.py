"""The shared --json of the commands (onaboard/commands/__init__.py): every subcommand of `onaboard` takes it but
``serve``, whose help says why."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from onaboard.cli import app
from onaboard.commands import OUTPUT_NOT_STDOUT, output_problems


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


def test_serve_help_says_what_stops_it_in_plain_words():
    """`onaboard serve --help` says a deployment-check warning stops it too (it runs the check at fail level
    WARNING), names the data folder, and prints no reStructuredText double backticks in the terminal."""
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "``" not in result.stdout
    assert "manage.py check --deploy" in result.stdout
    assert "a warning as well as an error" in result.stdout
    assert "ONABOARD_DATA_DIR" in result.stdout


def test_stdout_as_output_is_a_problem_with_or_without_json():
    """``-o -`` is refused whatever the other options (these commands never write their file to stdout); a path
    is not."""
    assert output_problems(Path("-")) == [OUTPUT_NOT_STDOUT]
    assert output_problems(Path("out.csv")) == []


OUTPUT_TO_STDOUT = {
    ("backup",): ("backup", "-o", "-"),
    ("document",): ("document", "procedure", "--patient", "R-1", "-o", "-"),
    ("export", "diary"): ("export", "diary", "--patient", "R-1", "-o", "-"),
    ("export", "table"): ("export", "table", "sessions", "--patient", "R-1", "-o", "-"),
    ("fhir", "export"): ("fhir", "export", "--patient", "R-1", "-o", "-"),
}
"""Each subcommand with -o, asked to write to stdout without --json."""


def test_every_subcommand_with_an_output_file_is_checked_for_stdout():
    """The commands tried below are every leaf subcommand of `onaboard` that takes -o."""
    with_output = {
        words
        for words, command in _subcommands(typer.main.get_command(app))
        if any("-o" in parameter.opts for parameter in command.params)
    }
    assert with_output == set(OUTPUT_TO_STDOUT)


@pytest.mark.parametrize("args", OUTPUT_TO_STDOUT.values(), ids=" ".join)
def test_every_command_refuses_stdout_as_its_output_file_without_json(args, tmp_path, monkeypatch):
    """Without --json too, ``-o -`` exits 2 with the one message, prints nothing on stdout and writes no file named
    "-" (it did: `export diary -o -` exited 0)."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, list(args))
    assert (result.exit_code, result.stdout, result.stderr.strip()) == (2, "", OUTPUT_NOT_STDOUT)
    assert list(tmp_path.iterdir()) == []
