"""`onaboard backup` and `onaboard restore` (onaboard/commands/ops.py): a snapshot of the demo clinic restored
into an empty database has every table with the same row count and content hash, on SQLite and on PostgreSQL; a
damaged file or a non-empty target is refused before anything is written."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from onaboard.commands import OUTPUT_NOT_STDOUT
from onaboard.commands.ops import (
    CHECKSUM_MISMATCH,
    MANIFEST,
    MIGRATIONS_DIFFER,
    POSTGRES_MEMBER,
    SQLITE_MEMBER,
    TARGET_NOT_EMPTY,
    postgres_fingerprints,
    sqlite_fingerprints,
)
from tests.ops.serving import ONABOARD, REPO, manage, production_env, throwaway_postgres

pytestmark = pytest.mark.slow

CORE_TABLES = (
    "accounts_user",
    "patients_patient",
    "diary_diaryentry",
    "injections_injectionsession",
    "audit_auditevent",
)


def _onaboard(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ONABOARD, *args], cwd=REPO, env=env, capture_output=True, text=True, check=False)


def _demo(env: dict[str, str]) -> None:
    manage(env, "migrate", "--noinput")
    manage(env, "load_demo")


def _manifest(path: Path) -> dict:
    with tarfile.open(path) as archive:
        return json.loads(archive.extractfile(MANIFEST).read())


def _altered(path: Path, member: str, change: Callable[[bytes], bytes], out: Path) -> Path:
    """A copy of the backup with ``member``'s bytes changed by ``change`` (every other member untouched)."""
    with tarfile.open(path) as source, tarfile.open(out, "w") as target:
        for info in source.getmembers():
            data = source.extractfile(info).read()
            if info.name == member:
                data = change(data)
                info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return out


def _backup_of_an_empty_clinic(tmp_path: Path) -> Path:
    """A backup of a migrated database with nothing in it."""
    source = production_env(tmp_path / "source")
    manage(source, "migrate", "--noinput")
    backup = tmp_path / "clinic.tar"
    assert _onaboard(source, "backup", "-o", str(backup)).returncode == 0
    return backup


def _postgres_fingerprints(url: str) -> dict:
    import psycopg

    with psycopg.connect(url) as connection:
        return postgres_fingerprints(connection.cursor())


def test_a_sqlite_backup_restores_into_an_empty_database_table_for_table(tmp_path):
    """Every table of the restored SQLite database has the source's row count and content hash, as the manifest
    says; restoring again over it is refused without --force and accepted with it."""
    source = production_env(tmp_path / "source")
    _demo(source)
    backup = tmp_path / "clinic.tar"
    made = _onaboard(source, "backup", "-o", str(backup))
    assert made.returncode == 0, made.stderr

    manifest = _manifest(backup)
    before = sqlite_fingerprints(tmp_path / "source" / "onaboard.sqlite3")
    assert manifest["engine"] == "sqlite"
    assert {name: (t["rows"], t["sha256"]) for name, t in manifest["tables"].items()} == {
        name: (fp.rows, fp.sha256) for name, fp in before.items()
    }
    assert all(before[table].rows > 0 for table in CORE_TABLES)

    target = production_env(tmp_path / "target")
    restored = _onaboard(target, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "every table matches" in restored.stdout
    assert sqlite_fingerprints(tmp_path / "target" / "onaboard.sqlite3") == before

    again = _onaboard(target, "restore", str(backup))
    assert again.returncode == 2
    assert again.stderr.strip() == TARGET_NOT_EMPTY.format(engine="SQLite", tables=len(before))
    forced = _onaboard(target, "restore", "--force", str(backup))
    assert forced.returncode == 0, forced.stderr
    assert sqlite_fingerprints(tmp_path / "target" / "onaboard.sqlite3") == before


def test_a_damaged_backup_is_refused_before_the_target_is_touched(tmp_path):
    """One flipped byte in the dump fails its SHA-256: restore exits 2 and the target gets no database file."""
    damaged = _altered(
        _backup_of_an_empty_clinic(tmp_path),
        SQLITE_MEMBER,
        lambda data: data[:100] + bytes([data[100] ^ 0xFF]) + data[101:],
        tmp_path / "damaged.tar",
    )

    target = production_env(tmp_path / "target")
    refused = _onaboard(target, "restore", str(damaged))
    assert refused.returncode == 2
    assert refused.stderr.strip() == CHECKSUM_MISMATCH.format(path=damaged, member=SQLITE_MEMBER)
    assert not (tmp_path / "target" / "onaboard.sqlite3").exists()


def test_a_file_that_is_not_a_backup_is_refused(tmp_path):
    """A file that is not a tar with a manifest is refused with exit 2, naming the file."""
    env = production_env(tmp_path / "target")
    junk = tmp_path / "junk.tar"
    junk.write_text("not a backup", encoding="utf-8")
    refused = _onaboard(env, "restore", str(junk))
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"{junk}: not an onaboard backup")


def test_a_manifest_without_its_tables_is_refused_before_the_target_is_touched(tmp_path):
    """A backup whose manifest lost its table list is refused whole (it was restored, then failed reading it)."""

    def without_tables(data: bytes) -> bytes:
        manifest = json.loads(data)
        del manifest["tables"]
        return json.dumps(manifest).encode()

    broken = _altered(_backup_of_an_empty_clinic(tmp_path), MANIFEST, without_tables, tmp_path / "broken.tar")
    target = production_env(tmp_path / "target")
    refused = _onaboard(target, "restore", str(broken))
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"{broken}: not an onaboard backup")
    assert not (tmp_path / "target" / "onaboard.sqlite3").exists()


def test_a_backup_of_nothing_or_into_a_folder_is_refused(tmp_path):
    """No database file to back up (connecting would have created an empty one and backed it up) and a folder as
    -o (a traceback, with a partial file left) each exit 2 naming the problem, and nothing is left behind."""
    env = production_env(tmp_path / "clinic")
    missing = _onaboard(env, "backup", "-o", str(tmp_path / "b.tar"))
    assert missing.returncode == 2
    assert "does not exist (nothing to back up)" in missing.stderr
    assert not list((tmp_path / "clinic").glob("*.sqlite3"))
    manage(env, "migrate", "--noinput")
    folder = tmp_path / "backups"
    folder.mkdir()
    refused = _onaboard(env, "backup", "-o", str(folder))
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"-o: cannot write {folder}: ")
    assert list(tmp_path.glob("*.partial")) == []
    assert not (tmp_path / "b.tar").exists()


@pytest.mark.skipif(not os.environ.get("ONABOARD_TEST_DATABASE_URL"), reason="needs ONABOARD_TEST_DATABASE_URL")
def test_a_postgresql_backup_restores_into_an_empty_database_table_for_table(tmp_path):
    """pg_dump of the demo clinic restored into a fresh PostgreSQL database: every table has the same row count and
    content hash, matching the manifest; a non-empty target is refused."""
    with throwaway_postgres("backup_src") as source_url, throwaway_postgres("backup_dst") as target_url:
        source = production_env(tmp_path / "source", source_url)
        _demo(source)
        backup = tmp_path / "clinic.tar"
        made = _onaboard(source, "backup", "-o", str(backup))
        assert made.returncode == 0, made.stderr
        manifest = _manifest(backup)
        assert manifest["engine"] == "postgresql"
        assert manifest["dump"]["name"] == POSTGRES_MEMBER
        before = _postgres_fingerprints(source_url)
        assert {name: (t["rows"], t["sha256"]) for name, t in manifest["tables"].items()} == {
            name: (fp.rows, fp.sha256) for name, fp in before.items()
        }
        assert all(before[table].rows > 0 for table in CORE_TABLES)

        target = production_env(tmp_path / "target", target_url)
        restored = _onaboard(target, "restore", str(backup))
        assert restored.returncode == 0, restored.stderr
        assert _postgres_fingerprints(target_url) == before

        again = _onaboard(target, "restore", str(backup))
        assert again.returncode == 2
        assert again.stderr.strip() == TARGET_NOT_EMPTY.format(engine="PostgreSQL", tables=len(before))
        forced = _onaboard(target, "restore", "--force", str(backup))
        assert forced.returncode == 0, forced.stderr
        assert _postgres_fingerprints(target_url) == before


def test_backup_and_restore_json_summarise_what_was_done(tmp_path):
    """``backup --json`` and ``restore --json`` each print exactly one JSON document (nothing else on stdout)
    naming the file, its size, the engine and the tables and rows written or restored."""
    source = production_env(tmp_path / "source")
    manage(source, "migrate", "--noinput")
    backup = tmp_path / "clinic.tar"
    made = _onaboard(source, "backup", "-o", str(backup), "--json")
    assert made.returncode == 0, made.stderr
    written = json.loads(made.stdout)
    manifest = _manifest(backup)
    rows = sum(table["rows"] for table in manifest["tables"].values())
    assert written == {
        "file": str(backup),
        "bytes": backup.stat().st_size,
        "sha256": hashlib.sha256(backup.read_bytes()).hexdigest(),
        "engine": "sqlite",
        "tables": len(manifest["tables"]),
        "rows": rows,
        "created_at": manifest["created_at"],
        "onaboard_version": manifest["onaboard"],
    }
    restored = _onaboard(production_env(tmp_path / "target"), "restore", str(backup), "--json")
    assert restored.returncode == 0, restored.stderr
    assert json.loads(restored.stdout) == {
        "file": str(backup),
        "bytes": backup.stat().st_size,
        "engine": "sqlite",
        "tables": len(manifest["tables"]),
        "rows": rows,
        "force": False,
        "created_at": manifest["created_at"],
        "onaboard_version": manifest["onaboard"],
        "warnings": [],
    }


def test_backup_and_restore_json_refused_print_nothing_on_stdout(tmp_path):
    """With --json, ``backup -o -`` exits 2 (the backup never goes to stdout) and a file that is not
    a backup exits 2 naming it; neither prints anything on stdout."""
    env = production_env(tmp_path / "clinic")
    to_stdout = _onaboard(env, "backup", "-o", "-", "--json")
    assert (to_stdout.returncode, to_stdout.stdout, to_stdout.stderr.strip()) == (2, "", OUTPUT_NOT_STDOUT)
    junk = tmp_path / "junk.tar"
    junk.write_text("not a backup", encoding="utf-8")
    refused = _onaboard(env, "restore", str(junk), "--json")
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr.startswith(f"{junk}: not an onaboard backup")


def test_restoring_a_backup_at_other_migrations_warns_to_migrate(tmp_path):
    """A backup of a database one migration behind the code restores (exit 0) with a warning on stderr naming the
    app and both migrations, and the same warning in --json's ``warnings``: serving it before ``migrate`` fails."""
    source = production_env(tmp_path / "source")
    manage(source, "migrate", "--noinput")
    manage(source, "migrate", "--noinput", "accounts", "0005")
    backup = tmp_path / "older.tar"
    assert _onaboard(source, "backup", "-o", str(backup)).returncode == 0
    warning = MIGRATIONS_DIFFER.format(
        path=backup, apps="accounts: 0005_api_token_expiry in the backup, 0006_rate_limit_refunds_db_default here"
    )
    restored = _onaboard(production_env(tmp_path / "target"), "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert restored.stderr == warning + "\n"
    as_json = _onaboard(production_env(tmp_path / "again"), "restore", str(backup), "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["warnings"] == [warning]
