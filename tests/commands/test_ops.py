"""`onaboard backup` and `onaboard restore` (onaboard/commands/ops.py): a snapshot of the demo clinic restored
into an empty database has every table with the same row count and content hash, on SQLite and on PostgreSQL; a
damaged file or a non-empty target is refused before anything is written."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from onaboard.commands import OUTPUT_NOT_STDOUT, SETUP_REFUSED
from onaboard.commands.ops import (
    CHECKSUM_MISMATCH,
    DATABASE_UNREACHABLE,
    FINGERPRINT_TIME_ZONE,
    MANIFEST,
    MIGRATIONS_DIFFER,
    POSTGRES_MEMBER,
    SQLITE_MEMBER,
    TARGET_NOT_EMPTY,
    postgres_fingerprints,
    sqlite_fingerprints,
)
from onaboard.web.config.settings.base import DATABASE_URL_UNUSABLE
from tests.ops.serving import ONABOARD, REPO, last_two_migrations, manage, production_env, throwaway_postgres

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

    with psycopg.connect(url, options=f"-c TimeZone={FINGERPRINT_TIME_ZONE}") as connection:
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
    before, latest = last_two_migrations("audit")  # its latest migration nothing depends on
    manage(source, "migrate", "--noinput", "audit", before)
    backup = tmp_path / "older.tar"
    assert _onaboard(source, "backup", "-o", str(backup)).returncode == 0
    warning = MIGRATIONS_DIFFER.format(path=backup, apps=f"audit: {before} in the backup, {latest} here")
    restored = _onaboard(production_env(tmp_path / "target"), "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert restored.stderr == warning + "\n"
    as_json = _onaboard(production_env(tmp_path / "again"), "restore", str(backup), "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["warnings"] == [warning]


needs_postgres = pytest.mark.skipif(
    not os.environ.get("ONABOARD_TEST_DATABASE_URL"), reason="needs ONABOARD_TEST_DATABASE_URL"
)


def _postgres_execute(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def _postgres_tables(url: str) -> set[str]:
    return set(_postgres_fingerprints(url))


@pytest.fixture(scope="module")
def postgres_backup(tmp_path_factory) -> Path:
    """A backup of a migrated PostgreSQL database (its django_migrations rows hold timestamps) whose own time zone
    is America/New_York."""
    folder = tmp_path_factory.mktemp("postgres_backup")
    with throwaway_postgres("tz_src") as url:
        name = url.rsplit("/", 1)[1]
        _postgres_execute(url, f"ALTER DATABASE \"{name}\" SET timezone = 'America/New_York'")
        env = production_env(folder / "source", url)
        manage(env, "migrate", "--noinput")
        backup = folder / "clinic.tar"
        made = _onaboard(env, "backup", "-o", str(backup))
        assert made.returncode == 0, made.stderr
    return backup


@needs_postgres
def test_a_postgresql_restore_matches_whatever_the_databases_time_zones(tmp_path, postgres_backup):
    """A backup of a database in New York's time zone restores into one set to Europe/London with every table
    matching (every table's content hash differed: timestamps were hashed with each session's zone)."""
    with throwaway_postgres("tz_dst") as url:
        name = url.rsplit("/", 1)[1]
        _postgres_execute(url, f"ALTER DATABASE \"{name}\" SET timezone = 'Europe/London'")
        restored = _onaboard(production_env(tmp_path / "target", url), "restore", str(postgres_backup))
    assert restored.returncode == 0, restored.stderr
    assert "every table matches" in restored.stdout


@needs_postgres
def test_restore_force_drops_the_tables_the_backup_does_not_have(tmp_path, postgres_backup):
    """``restore --force`` into a database holding tables the backup lacks, one with a foreign key to a table the
    backup restores, replaces everything: exit 0, the extra tables gone, every table as in the manifest (it exited
    2 on the foreign key, or 1 after committing, the extra table left)."""
    with throwaway_postgres("force_dst") as url:
        env = production_env(tmp_path / "target", url)
        first = _onaboard(env, "restore", str(postgres_backup))
        assert first.returncode == 0, first.stderr
        _postgres_execute(
            url,
            "CREATE TABLE extra_notes (id integer PRIMARY KEY, user_id bigint REFERENCES accounts_user (id))",
            "CREATE TABLE extra_plain (id integer)",
            "INSERT INTO extra_plain VALUES (1)",
        )
        forced = _onaboard(env, "restore", "--force", str(postgres_backup))
        tables = _postgres_tables(url)
    assert forced.returncode == 0, forced.stderr
    assert tables == set(_manifest(postgres_backup)["tables"])


def _postgres_backup_file(folder: Path) -> Path:
    """A file that passes restore's checks as a PostgreSQL backup (its dump is not one: nothing reaches it)."""
    dump = b"not restored"
    manifest = {
        "format": "onaboard-backup",
        "version": 1,
        "engine": "postgresql",
        "dump": {"name": POSTGRES_MEMBER, "bytes": len(dump), "sha256": hashlib.sha256(dump).hexdigest()},
        "migrations": {},
        "tables": {},
    }
    path = folder / "postgres.tar"
    with tarfile.open(path, "w") as archive:
        for name, data in ((POSTGRES_MEMBER, dump), (MANIFEST, json.dumps(manifest).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_backup_and_restore_of_an_unreachable_postgresql_exit_2_without_a_traceback(tmp_path):
    """A PostgreSQL server nobody listens for: backup and restore exit 2 with libpq's reason and no traceback (it
    was psycopg's OperationalError and exit 1, the code of a table that differs), never showing the password."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = production_env(tmp_path / "clinic", f"postgres://onaboard:s3cret-pw@127.0.0.1:{port}/onaboard")
    backup = _onaboard(env, "backup", "-o", str(tmp_path / "b.tar"))
    restore = _onaboard(env, "restore", str(_postgres_backup_file(tmp_path)))
    for done in (backup, restore):
        assert (done.returncode, done.stdout) == (2, "")
        assert done.stderr.startswith(DATABASE_UNREACHABLE.format(name="onaboard", reason="")), done.stderr
        assert "Traceback" not in done.stderr
        assert "s3cret-pw" not in done.stderr
    assert not (tmp_path / "b.tar").exists()


@needs_postgres
def test_restore_into_a_postgresql_database_that_does_not_exist_exits_2(tmp_path):
    """A DATABASE_URL naming a database the server does not have: exit 2 naming it, no traceback."""
    base = os.environ["ONABOARD_TEST_DATABASE_URL"]
    name = f"h_ops_missing_{os.getpid()}"
    env = production_env(tmp_path / "clinic", base.rsplit("/", 1)[0] + f"/{name}")
    done = _onaboard(env, "restore", str(_postgres_backup_file(tmp_path)))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(DATABASE_UNREACHABLE.format(name=name, reason="")), done.stderr
    assert f'database "{name}" does not exist' in done.stderr
    assert "Traceback" not in done.stderr


@needs_postgres
@pytest.mark.parametrize(
    ("script", "failing_tool"),
    [
        ("echo 'CREATE TABLE half_restored (id integer);'; exit 1", "pg_restore"),
        ("echo 'CREATE TABLE half_restored (id integer);'; echo 'SELECT no_such_column FROM half_restored;'", "psql"),
    ],
)
def test_a_forced_restore_that_fails_leaves_the_target_as_it_was(tmp_path, script, failing_tool):
    """The drop of every table and the restore are one transaction: when pg_restore fails part way (its script
    cut short) or the script fails in psql, nothing is dropped or created and the failing tool is named."""
    import dj_database_url

    from onaboard.commands.ops import OpsError, _pg_environment, _replace_postgres

    fake = tmp_path / "pg_restore"
    fake.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    fake.chmod(0o755)
    with throwaway_postgres("force_fail") as url:
        _postgres_execute(url, "CREATE TABLE kept (id integer)", "INSERT INTO kept VALUES (1)")
        env = _pg_environment(dj_database_url.parse(url))
        with pytest.raises(OpsError) as failed:
            _replace_postgres(str(fake), tmp_path / "dump", env, tmp_path)
        tables = _postgres_tables(url)
    assert str(failed.value).startswith(f"{failing_tool} failed")
    assert tables == {"kept"}


def test_a_malformed_database_url_exits_2_naming_the_variable(tmp_path):
    """DATABASE_URL with a misspelt scheme (postgress://): backup and restore exit 2 with one line naming the
    variable and the scheme (it was dj_database_url's traceback and exit 1), never the password."""
    env = production_env(tmp_path / "clinic", "postgress://onaboard:s3cret-pw@db1.internal/onaboard")
    reason = DATABASE_URL_UNUSABLE.format(reason="Scheme 'postgress://' is unknown.")
    backup = _onaboard(env, "backup", "-o", str(tmp_path / "b.tar"))
    restore = _onaboard(env, "restore", str(_postgres_backup_file(tmp_path)))
    for done in (backup, restore):
        assert (done.returncode, done.stdout, done.stderr) == (2, "", SETUP_REFUSED.format(reason=reason) + "\n")


def test_a_backup_is_readable_by_its_owner_only(tmp_path):
    """Under umask 022 the backup (every patient record, password hashes, two-step secrets) is written 0600, also
    over a partial file a killed backup left with a wider mode (it was -rw-r--r--)."""
    env = production_env(tmp_path / "clinic")
    manage(env, "migrate", "--noinput")
    backup = tmp_path / "b.tar"
    stale = tmp_path / ".b.tar.partial"
    stale.write_bytes(b"left by a killed backup")
    stale.chmod(0o644)
    made = subprocess.run(
        [ONABOARD, "backup", "-o", str(backup)],
        cwd=REPO, env=env, capture_output=True, text=True, check=False, umask=0o022,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert backup.stat().st_mode & 0o777 == 0o600
    assert not stale.exists()
