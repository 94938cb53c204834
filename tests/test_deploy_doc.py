"""docs/deploy.md's samples do what the guide says: the app server's environment file holds every variable the
table calls required, the backup cron lines export their files and name the command by its path, each file they
source is shown, and an app server is installed without the dev tools."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "deploy.md"


def _text() -> str:
    return DOC.read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    """The bodies of the guide's fenced blocks in ``language``."""
    return re.findall(rf"```{language}\n(.*?)```", _text(), flags=re.DOTALL)


def test_the_sample_environment_file_sets_every_required_variable():
    """Every variable the table marks required ("yes", in production or behind a proxy) is in /etc/onaboard.env."""
    required = re.findall(r"^\| `([A-Z_]+)` \| yes", _text(), flags=re.MULTILINE)
    assert "ONABOARD_TRUSTED_PROXIES" in required
    sample = _text().split("`/etc/onaboard.env`", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    variables = {line.split("=", 1)[0] for line in sample.splitlines() if "=" in line}
    assert set(required) <= variables


def test_the_backup_cron_lines_export_their_files_and_name_the_command_by_path():
    """Each cron line sources its file with ``set -a`` (a plain ``.`` exports nothing) and runs the venv's
    onaboard (cron's PATH has no .venv); every file it sources is shown with its contents."""
    (crontab,) = _blocks("cron")
    jobs = [line for line in crontab.splitlines() if line and not line.startswith("#")]
    assert len(jobs) == 2
    shown = {block.splitlines()[0].split(":")[0].removeprefix("# ") for block in _blocks("sh")}
    for job in jobs:
        sourced = re.findall(r"\. (/etc/\S+?);", job)
        assert sourced, job
        assert f"set -a; . {sourced[0]}; set +a;" in job
        assert re.findall(r"(\S*onaboard) (?:backup|restore)", job) == ["/srv/onaboard/.venv/bin/onaboard"]
        assert sourced[0] in shown


def test_the_restore_check_restores_into_its_own_scratch_database():
    """The restore check's DATABASE_URL names onaboard_check, the database the cron line drops and creates, not
    the clinic's."""
    (check,) = [block for block in _blocks("sh") if block.startswith("# /etc/onaboard-restore-check.env")]
    url = re.search(r"^DATABASE_URL=(\S+)$", check, flags=re.MULTILINE).group(1)
    assert url.endswith("/onaboard_check")
    assert "dropdb --if-exists onaboard_check && createdb onaboard_check" in _blocks("cron")[0]


def test_app_servers_are_installed_without_the_dev_tools():
    """The guide installs and upgrades app servers with ``make install-prod`` (no dev group, no npm), never the
    development ``make install``."""
    assert "make -C /srv/onaboard install-prod" in "\n".join(_blocks("sh"))
    uses = re.findall(r"make (?:-C \S+ )?install(?!-prod)[^)]*", _text())
    assert uses == ["make install`, for development, adds them"]
