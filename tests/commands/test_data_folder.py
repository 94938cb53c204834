"""ONABOARD_DATA_DIR that cannot be the data folder (a file, below a file, not writable): the settings refuse it
naming the setting and the path, and the commands show that as one line with exit 2, not a traceback."""

from __future__ import annotations

import os
import subprocess

import pytest

from onaboard.commands import SETUP_REFUSED
from onaboard.commands.ops import SERVE_REFUSED
from onaboard.web.config.env import ImproperlyConfiguredError
from onaboard.web.config.settings.base import DATA_DIR_UNUSABLE, data_folder
from tests.ops.serving import ONABOARD, REPO, production_env


def test_a_missing_data_folder_is_created(tmp_path):
    """A data folder that does not exist yet is made, parents included, and returned."""
    folder = tmp_path / "a" / "b"
    assert data_folder(folder) == folder
    assert folder.is_dir()


def test_a_file_is_refused_as_the_data_folder(tmp_path):
    """A path naming a file is refused with the setting, the path and the reason."""
    file = tmp_path / "onaboard.env"
    file.write_text("", encoding="utf-8")
    with pytest.raises(ImproperlyConfiguredError) as refused:
        data_folder(file)
    assert str(refused.value) == DATA_DIR_UNUSABLE.format(path=file, reason="it is not a folder")


def test_a_data_folder_below_a_file_is_refused(tmp_path):
    """A folder that cannot be created (its parent is a file) is refused with the operating system's reason."""
    file = tmp_path / "onaboard.env"
    file.write_text("", encoding="utf-8")
    with pytest.raises(ImproperlyConfiguredError) as refused:
        data_folder(file / "data")
    assert str(refused.value) == DATA_DIR_UNUSABLE.format(
        path=file / "data", reason="it cannot be created (Not a directory)"
    )


def test_a_data_folder_this_user_may_not_write_is_refused(tmp_path, monkeypatch):
    """A folder the process may not write in is refused (root may write anywhere, so the check is faked here)."""
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(ImproperlyConfiguredError) as refused:
        data_folder(tmp_path)
    assert str(refused.value) == DATA_DIR_UNUSABLE.format(path=tmp_path, reason="this user may not write in it")


def _run(env, *args):
    return subprocess.run([ONABOARD, *args], cwd=REPO, env=env, capture_output=True, text=True, check=False)


def test_serve_refuses_a_file_as_the_data_folder_in_one_line(tmp_path):
    """``onaboard serve`` with ONABOARD_DATA_DIR naming a file exits 2 with one line naming the setting and the
    path (it was a NotADirectoryError or FileExistsError traceback and exit 1), and starts no server."""
    file = tmp_path / "data"
    file.write_text("", encoding="utf-8")
    env = production_env(file)
    done = _run(env, "serve", "--bind=127.0.0.1:8198")
    reason = DATA_DIR_UNUSABLE.format(path=file, reason="it is not a folder")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", SERVE_REFUSED.format(reason=reason) + "\n")


def test_a_database_command_refuses_a_data_folder_below_a_file_in_one_line(tmp_path):
    """A command on the app's database (here ``onaboard backup``) refuses the same way as other unusable
    settings: exit 2 and one line on stderr."""
    file = tmp_path / "data"
    file.write_text("", encoding="utf-8")
    done = _run(production_env(file / "below"), "backup", "-o", str(tmp_path / "backup.tar"))
    reason = DATA_DIR_UNUSABLE.format(path=file / "below", reason="it cannot be created (Not a directory)")
    assert (done.returncode, done.stdout, done.stderr) == (2, "", SETUP_REFUSED.format(reason=reason) + "\n")
