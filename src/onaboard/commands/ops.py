"""`onaboard` serve, backup and restore: running the app in production.

``onaboard serve`` checks the production settings (secret key, allowed hosts, ``check --deploy``) and that the
database has every migration (unless ``--migrate`` applies them), gathers the static files for whitenoise and
replaces itself with gunicorn. ``onaboard backup -o FILE`` writes one consistent
snapshot of the database (SQLite's online backup API, or ``pg_dump`` inside an exported snapshot) into a tar file
with a manifest of SHA-256 checksums and, per table, the row count and a content hash. ``onaboard restore FILE``
checks every checksum before touching the target, refuses a database that already holds tables unless
``--force`` (which replaces every table, in the restore's transaction), restores, and compares every table with the
manifest. Backups are written 0600.

``backup`` and ``restore`` take ``--json``: a summary of what was done as exactly one JSON document on stdout.
``serve`` does not: it becomes gunicorn, whose access log is its stdout.

Django is set up inside the commands, so ``import onaboard.cli`` stays quick.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from onaboard.commands import JsonFlag, output_problems, print_json, setup_django
from onaboard.outputs import not_writable, written_whole

PRODUCTION_SETTINGS = "onaboard.web.config.settings.production"
DATABASE_SETTINGS = "onaboard.web.config.settings.base"
"""Backup and restore need only the database, which every settings module reads from the same environment."""

BACKUP_FORMAT = "onaboard-backup"
BACKUP_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
HASH_CHUNK = 1 << 20
BACKUP_MODE = 0o600
"""A backup holds every patient record, password hashes and two-step secrets: its owner alone reads it."""
FINGERPRINT_TIME_ZONE = "UTC"
"""The session time zone PostgreSQL's fingerprints are read in (``time_zone`` in the manifest): a timestamp's value is
hashed with its zone, so without one fixed zone a backup and its restore on servers (or databases) in different
zones differed in every table with a timestamp."""

# --- Messages (tests assert them exactly) -----------------------------------------------------------------------

SERVE_REFUSED = "onaboard serve: {reason}"
DEPLOY_CHECK_FAILED = "onaboard serve: the deployment check failed:\n{report}"
MIGRATIONS_NOT_APPLIED = (
    "{count} migrations not applied ({first} first): run manage.py migrate, or onaboard serve --migrate on one server"
)
MIGRATIONS_UNCHECKED = "onaboard serve: warning: could not check the database's migrations: {reason}"
BACKUP_WRITTEN = "Backup written to {path}: {tables} tables, {rows} rows ({engine})."
RESTORED = "Restored {path} into the {engine} database: {tables} tables, {rows} rows, every table matches."
NOT_A_BACKUP = "{path}: not an onaboard backup ({reason})"
CHECKSUM_MISMATCH = "{path}: {member} does not match its checksum in the manifest; nothing was restored"
WRONG_ENGINE = "{path}: this is a {found} backup; the configured database is {expected}"
TARGET_NOT_EMPTY = (
    "The {engine} database already holds {tables} tables: restore only into an empty database, or pass --force "
    "to replace everything in it"
)
TABLE_MISMATCH = "after restoring, {table}: {what} differs from the backup ({found} instead of {expected})"
TOOL_MISSING = "{tool} is not installed: install the PostgreSQL client (version {version} or newer)"
TOOL_FAILED = "{tool} failed (exit {code}): {stderr}"
UNSUPPORTED_ENGINE = "backups cover SQLite and PostgreSQL; the configured engine is {engine}"
MIGRATIONS_DIFFER = (
    "warning: {path} was taken at other migrations than this code's ({apps}): before serving it, run manage.py "
    "migrate (an older backup), or use the code that wrote it (a newer one)"
)
DATABASE_UNREACHABLE = "cannot connect to the PostgreSQL database {name}: {reason}"
NO_DATABASE = "the configured SQLite database {path} does not exist (nothing to back up)"


class OpsError(RuntimeError):
    """A backup or restore was refused or failed; the message says why and what was (not) changed."""


class RestoreMismatchError(OpsError):
    """The restored database differs from the backup's manifest."""


# --- Django ---------------------------------------------------------------------------------------------------


def _django(settings_module: str) -> None:
    """Set up Django with ``settings_module`` unless the caller named one in DJANGO_SETTINGS_MODULE."""
    setup_django(settings_module)


def _database_settings() -> dict[str, Any]:
    from django.db import connections

    return connections["default"].settings_dict


def _engine(settings_dict: dict[str, Any]) -> str:
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        return "sqlite"
    if engine.endswith("postgresql"):
        return "postgresql"
    raise OpsError(UNSUPPORTED_ENGINE.format(engine=engine))


# --- Table fingerprints -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableFingerprint:
    """Row count and a SHA-256 over every row (ordered by all columns) of one table."""

    rows: int
    sha256: str


def _fingerprint(cursor: Any, table: str, quote: str = '"') -> TableFingerprint:
    quoted = quote + table.replace(quote, quote * 2) + quote
    cursor.execute(f"SELECT * FROM {quoted} WHERE 1 = 0")  # noqa: S608 - table names come from the catalogue
    width = len(cursor.description)
    order = ", ".join(str(i) for i in range(1, width + 1))
    cursor.execute(f"SELECT * FROM {quoted} ORDER BY {order}")  # noqa: S608
    digest = hashlib.sha256()
    rows = 0
    while batch := cursor.fetchmany(1000):
        for row in batch:
            digest.update(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode())
            digest.update(b"\n")
            rows += 1
    return TableFingerprint(rows=rows, sha256=digest.hexdigest())


def sqlite_fingerprints(path: Path) -> dict[str, TableFingerprint]:
    """Every user table of the SQLite file at ``path`` (SQLite's own ``sqlite_*`` tables are left out)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cursor = connection.cursor()
        names = [
            name
            for (name,) in cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            ).fetchall()
        ]
        return {name: _fingerprint(cursor, name) for name in names}
    finally:
        connection.close()


def _postgres_tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [name for (name,) in cursor.fetchall()]


def postgres_fingerprints(cursor: Any) -> dict[str, TableFingerprint]:
    """Every table of the current schema, read through ``cursor`` (inside the caller's snapshot)."""
    return {name: _fingerprint(cursor, name) for name in _postgres_tables(cursor)}


# --- Files --------------------------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _applied_migrations(cursor: Any, tables: dict[str, TableFingerprint]) -> dict[str, str]:
    """The latest applied migration per app, so a restore can be matched with the code that wrote it."""
    if "django_migrations" not in tables:
        return {}
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY id")
    latest: dict[str, str] = {}
    for app, name in cursor.fetchall():
        latest[app] = name
    return latest


def _write_archive(output: Path, dump: Path, member: str, manifest: dict[str, Any]) -> None:
    """Write the tar next to ``output`` and move it into place, so a crash never leaves half a backup."""
    try:
        if output.name:
            output.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(output, mode=BACKUP_MODE) as partial:
            with tarfile.open(partial, "w") as archive:
                archive.add(dump, arcname=member)
                body = json.dumps(manifest, indent=2, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(body)
                info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
                archive.addfile(info, io.BytesIO(body))
            with partial.open("rb") as handle:
                os.fsync(handle.fileno())
    except OSError as error:
        raise OpsError(not_writable("-o", output, error)) from None


def _manifest(engine: str, member: str, dump: Path, tables: dict[str, TableFingerprint], migrations: Any) -> dict:
    from onaboard import __version__

    return {
        "format": BACKUP_FORMAT,
        "version": BACKUP_VERSION,
        "onaboard": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "engine": engine,
        "dump": {"name": member, "bytes": dump.stat().st_size, "sha256": _sha256_file(dump)},
        "migrations": migrations,
        "tables": {name: {"rows": fp.rows, "sha256": fp.sha256} for name, fp in sorted(tables.items())},
    }


# --- PostgreSQL client tools ------------------------------------------------------------------------------------


def _pg_environment(settings_dict: dict[str, Any]) -> dict[str, str]:
    """libpq's variables for the configured database, so no password appears on a command line."""
    env = dict(os.environ)
    pairs = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
    }
    for key, value in pairs.items():
        if value not in (None, ""):
            env[key] = str(value)
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise OpsError(TOOL_MISSING.format(tool=name, version=15))
    return path


def _run_tool(args: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tool
    if completed.returncode != 0:
        tool = Path(args[0]).name
        raise OpsError(TOOL_FAILED.format(tool=tool, code=completed.returncode, stderr=completed.stderr.strip()))


@contextlib.contextmanager
def _pg_connection(settings_dict: dict[str, Any], *, time_zone: str | None = FINGERPRINT_TIME_ZONE) -> Iterator[Any]:
    """A connection to the configured database whose session reads timestamps in ``time_zone`` (``None``: the
    database's own), so a table's fingerprint does not depend on the server's or the database's time zone. A
    database that cannot be reached is an ``OpsError`` giving libpq's reason (it names no password)."""
    import psycopg

    params = {
        "dbname": settings_dict.get("NAME"),
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
    }
    if time_zone is not None:
        params["options"] = f"-c TimeZone={time_zone}"
    try:
        connection = psycopg.connect(**{key: str(value) for key, value in params.items() if value not in (None, "")})
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split())
        if settings_dict.get("PASSWORD"):
            reason = reason.replace(str(settings_dict["PASSWORD"]), "***")
        raise OpsError(DATABASE_UNREACHABLE.format(name=settings_dict.get("NAME"), reason=reason)) from None
    try:
        yield connection
    finally:
        connection.close()


# --- Backup ---------------------------------------------------------------------------------------------------


def backup_sqlite(settings_dict: dict[str, Any], output: Path) -> dict[str, Any]:
    """Copy the live SQLite database with the online backup API (writers may carry on) and describe the copy."""
    if not Path(str(settings_dict["NAME"])).is_file():  # connecting would create an empty one and back that up
        raise OpsError(NO_DATABASE.format(path=settings_dict["NAME"]))
    with tempfile.TemporaryDirectory(prefix="onaboard-backup-") as folder:
        snapshot = Path(folder) / SQLITE_MEMBER
        source = sqlite3.connect(str(settings_dict["NAME"]), timeout=30)
        target = sqlite3.connect(str(snapshot))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        tables = sqlite_fingerprints(snapshot)
        reader = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
        try:
            migrations = _applied_migrations(reader.cursor(), tables)
        finally:
            reader.close()
        manifest = _manifest("sqlite", SQLITE_MEMBER, snapshot, tables, migrations)
        _write_archive(output, snapshot, SQLITE_MEMBER, manifest)
    return manifest


def backup_postgres(settings_dict: dict[str, Any], output: Path) -> dict[str, Any]:
    """``pg_dump`` (custom format) of a snapshot exported by a read-only repeatable-read transaction; the table
    fingerprints are read in that same snapshot, so the manifest describes exactly what was dumped."""
    pg_dump = _pg_tool("pg_dump")
    env = _pg_environment(settings_dict)
    with tempfile.TemporaryDirectory(prefix="onaboard-backup-") as folder, _pg_connection(settings_dict) as conn:
        dump = Path(folder) / POSTGRES_MEMBER
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot_id = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        args = [pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot_id}"]
        process = subprocess.Popen(  # noqa: S603 - the PostgreSQL client with fixed arguments
            [*args, f"--file={dump}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        cursor = conn.cursor()
        tables = postgres_fingerprints(cursor)
        migrations = _applied_migrations(cursor, tables)
        _, stderr = process.communicate()
        conn.execute("COMMIT")
        if process.returncode != 0:
            raise OpsError(TOOL_FAILED.format(tool="pg_dump", code=process.returncode, stderr=stderr.strip()))
        manifest = {
            **_manifest("postgresql", POSTGRES_MEMBER, dump, tables, migrations),
            "time_zone": FINGERPRINT_TIME_ZONE,
        }
        _write_archive(output, dump, POSTGRES_MEMBER, manifest)
    return manifest


def backup(output: Path) -> dict[str, Any]:
    """Back up the configured database into ``output``; returns the manifest."""
    settings_dict = _database_settings()
    engine = _engine(settings_dict)
    if engine == "sqlite":
        return backup_sqlite(settings_dict, output)
    return backup_postgres(settings_dict, output)


# --- Restore --------------------------------------------------------------------------------------------------


def _check_manifest(manifest: Any) -> None:
    """Every part of the manifest the restore reads, with its type (``KeyError`` or ``TypeError`` otherwise), so a
    damaged manifest is refused before anything is restored."""
    dump, tables = manifest["dump"], manifest["tables"]
    if not (
        isinstance(manifest["engine"], str)
        and isinstance(dump["name"], str)
        and isinstance(dump["sha256"], str)
        and isinstance(dump["bytes"], int)
        and isinstance(tables, dict)
        and all(isinstance(t["rows"], int) and isinstance(t["sha256"], str) for t in tables.values())
    ):
        raise TypeError("the manifest's engine, dump or tables are not as written by `onaboard backup`")


def read_backup(path: Path, folder: Path) -> tuple[dict[str, Any], Path]:
    """Unpack ``path`` into ``folder`` and check it: the manifest's format and the dump's SHA-256.

    Raises ``OpsError`` before anything is restored when the file is not a complete, unaltered backup.
    """
    try:
        with tarfile.open(path, "r") as archive:
            names = set(archive.getnames())
            if MANIFEST not in names:
                raise OpsError(NOT_A_BACKUP.format(path=path, reason=f"no {MANIFEST}"))
            manifest_file = archive.extractfile(MANIFEST)
            manifest = json.loads(manifest_file.read()) if manifest_file else {}
            if manifest.get("format") != BACKUP_FORMAT or manifest.get("version") != BACKUP_VERSION:
                raise OpsError(NOT_A_BACKUP.format(path=path, reason="unknown format or version"))
            _check_manifest(manifest)
            member = manifest["dump"]["name"]
            if member not in {SQLITE_MEMBER, POSTGRES_MEMBER} or member not in names:
                raise OpsError(NOT_A_BACKUP.format(path=path, reason=f"{member!r} is missing"))
            archive.extract(member, folder, filter="data")
    except (tarfile.TarError, OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise OpsError(NOT_A_BACKUP.format(path=path, reason=error)) from None
    dump = folder / member
    if _sha256_file(dump) != manifest["dump"]["sha256"] or dump.stat().st_size != manifest["dump"]["bytes"]:
        raise OpsError(CHECKSUM_MISMATCH.format(path=path, member=member))
    return manifest, dump


def _compare(manifest: dict[str, Any], found: dict[str, TableFingerprint]) -> None:
    expected = manifest["tables"]
    for table in sorted(set(expected) | set(found)):
        if table not in found or table not in expected:
            what = "presence"
            raise RestoreMismatchError(
                TABLE_MISMATCH.format(table=table, what=what, found=table in found, expected=table in expected)
            )
        if found[table].rows != expected[table]["rows"]:
            raise RestoreMismatchError(
                TABLE_MISMATCH.format(
                    table=table, what="row count", found=found[table].rows, expected=expected[table]["rows"]
                )
            )
        if found[table].sha256 != expected[table]["sha256"]:
            raise RestoreMismatchError(
                TABLE_MISMATCH.format(
                    table=table,
                    what="content hash",
                    found=found[table].sha256[:12],
                    expected=expected[table]["sha256"][:12],
                )
            )


def restore_sqlite(settings_dict: dict[str, Any], dump: Path, *, force: bool) -> dict[str, TableFingerprint]:
    """Copy the snapshot into the configured SQLite file with the backup API (one step, all or nothing)."""
    target_path = Path(settings_dict["NAME"])
    target_path.parent.mkdir(parents=True, exist_ok=True)
    target = sqlite3.connect(str(target_path), timeout=30)
    try:
        existing = target.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchone()[0]
        if existing and not force:
            raise OpsError(TARGET_NOT_EMPTY.format(engine="SQLite", tables=existing))
        source = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
        try:
            source.backup(target)
        finally:
            source.close()
    finally:
        target.close()
    return sqlite_fingerprints(target_path)


def _drop_every_table_sql() -> str:
    """SQL dropping every table, view, materialised view, sequence and foreign table of the current schema (with
    what depends on them), so a forced restore leaves none the backup does not have."""
    return """DO $drop$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT c.relname, CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
            WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
        FROM pg_catalog.pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        -- tables first: an identity column's sequence goes with its table (and cannot be dropped before it)
        ORDER BY c.relkind NOT IN ('r', 'p', 'f'), c.relkind, c.relname
    LOOP
        EXECUTE format('DROP %s IF EXISTS %I.%I CASCADE', item.kind, current_schema(), item.relname);
    END LOOP;
END
$drop$;"""


def _replace_postgres(pg_restore: str, dump: Path, env: dict[str, str], folder: Path) -> None:
    """Drop every table of the target's schema and restore ``dump`` in ONE transaction: ``psql --single-transaction``
    runs the drop, then the script ``pg_restore -f -`` writes, then commits. The script passes through here, and
    psql's input is closed (so it commits) only once pg_restore has exited 0; otherwise psql is killed and the
    server rolls everything back, the target left as it was."""
    psql = _pg_tool("psql")
    restore_errors = (folder / "pg_restore.err").open("w+")
    psql_errors = (folder / "psql.err").open("w+")
    with restore_errors, psql_errors:
        writer = subprocess.Popen(  # noqa: S603 - the PostgreSQL client with fixed arguments
            [pg_restore, "--no-owner", "--no-privileges", "--clean", "--if-exists", "--file=-", str(dump)],
            env=env, stdout=subprocess.PIPE, stderr=restore_errors,
        )  # fmt: skip
        runner = subprocess.Popen(  # noqa: S603
            [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction", "-c", _drop_every_table_sql(),
             "-f", "-", f"--dbname={env.get('PGDATABASE', '')}"],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors,
        )  # fmt: skip
        psql_stopped = False
        try:
            while chunk := writer.stdout.read(HASH_CHUNK):
                runner.stdin.write(chunk)
        except BrokenPipeError:  # psql stopped on an error (ON_ERROR_STOP) and the server rolled back
            psql_stopped = True
            writer.kill()
        writer.stdout.close()
        if writer.wait() != 0 and not psql_stopped:
            runner.kill()  # before its input ends, so it never sends COMMIT: the server rolls back
            runner.wait()
            with contextlib.suppress(BrokenPipeError):
                runner.stdin.close()
            restore_errors.seek(0)
            stderr = restore_errors.read().strip()
            raise OpsError(TOOL_FAILED.format(tool="pg_restore", code=writer.returncode, stderr=stderr))
        with contextlib.suppress(BrokenPipeError):
            runner.stdin.close()
        if runner.wait() != 0 or psql_stopped:
            psql_errors.seek(0)
            raise OpsError(TOOL_FAILED.format(tool="psql", code=runner.returncode, stderr=psql_errors.read().strip()))


def restore_postgres(
    settings_dict: dict[str, Any], dump: Path, *, force: bool, time_zone: str | None = FINGERPRINT_TIME_ZONE
) -> dict[str, TableFingerprint]:
    """``pg_restore`` in one transaction (all or nothing). With ``force``, a database already holding tables has
    every table of its schema dropped first, in that same transaction (``_replace_postgres``), so none the backup
    lacks is left behind. The fingerprints are read in ``time_zone``, the one the backup's were."""
    pg_restore = _pg_tool("pg_restore")
    env = _pg_environment(settings_dict)
    with _pg_connection(settings_dict) as conn:
        existing = len(_postgres_tables(conn.cursor()))
    if existing and not force:
        raise OpsError(TARGET_NOT_EMPTY.format(engine="PostgreSQL", tables=existing))
    if existing:
        _replace_postgres(pg_restore, dump, env, dump.parent)
    else:
        args = [pg_restore, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
        _run_tool([*args, f"--dbname={env.get('PGDATABASE', '')}", str(dump)], env)
    with _pg_connection(settings_dict, time_zone=time_zone) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        found = postgres_fingerprints(conn.cursor())
        conn.execute("COMMIT")
    return found


def migrations_differing(backup_migrations: Any) -> list[str]:
    """Each app whose latest migration in a backup's manifest is not the code's latest, as ``app: A in the backup,
    B here`` (``none`` for an app without migrations on one side); ``[]`` when they are the same."""
    from django.db.migrations.loader import MigrationLoader

    here = dict(sorted(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()))
    taken = backup_migrations if isinstance(backup_migrations, dict) else {}
    return [
        f"{app}: {taken.get(app) or 'none'} in the backup, {here.get(app) or 'none'} here"
        for app in sorted(set(here) | set(taken))
        if taken.get(app) != here.get(app)
    ]


def restore(path: Path, *, force: bool) -> dict[str, Any]:
    """Check ``path`` and restore it into the configured database; returns the manifest after comparing every
    table's row count and content hash with it."""
    settings_dict = _database_settings()
    engine = _engine(settings_dict)
    with tempfile.TemporaryDirectory(prefix="onaboard-restore-") as folder:
        manifest, dump = read_backup(path, Path(folder))
        if manifest["engine"] != engine:
            raise OpsError(WRONG_ENGINE.format(path=path, found=manifest["engine"], expected=engine))
        from django.db import connections

        connections.close_all()
        if engine == "sqlite":
            found = restore_sqlite(settings_dict, dump, force=force)
        else:
            # a backup from before the manifest named its zone was hashed in the database's own: read it so
            found = restore_postgres(settings_dict, dump, force=force, time_zone=manifest.get("time_zone"))
    _compare(manifest, found)
    return manifest


# --- Serve ----------------------------------------------------------------------------------------------------


SERVE_THREADS = 4
"""Threads per gunicorn worker by default (``onaboard serve --threads``)."""


def default_workers() -> int:
    """Worker processes by default (``onaboard serve --workers 0``): 2 x cores + 1, at most 9."""
    return min(2 * (os.cpu_count() or 1) + 1, 9)


def _refuse(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def gunicorn_arguments(*, bind: str, workers: int, threads: int, timeout: int) -> list[str]:
    """The gunicorn command line ``onaboard serve`` runs (GUNICORN_CMD_ARGS adds to it)."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "onaboard.web.config.wsgi:application",
        f"--bind={bind}",
        f"--workers={workers}",
        "--worker-class=gthread",
        f"--threads={threads}",
        f"--timeout={timeout}",
        "--graceful-timeout=30",
        "--max-requests=2000",
        "--max-requests-jitter=200",
        "--access-logfile=-",
        # the path without its query string (%(U)s, not the request line) and no referrer: no patient data in logs
        '--access-logformat=%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms',
        # and gunicorn's own messages through the same filter as Django's (it quotes malformed request lines)
        "--logger-class=onaboard.web.audit.logfilters.GunicornLogger",
        "--no-control-socket",  # several servers may share a host; nothing here uses gunicorn's control socket
        "--worker-tmp-dir=/dev/shm" if Path("/dev/shm").is_dir() else "--worker-tmp-dir=/tmp",  # noqa: S108
    ]


def pending_migrations() -> list[str]:
    """The code's migrations the configured database lacks (``app.name``), in the order ``migrate`` applies them."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, backwards in plan if not backwards]


def _refuse_pending_migrations() -> None:
    """Exit 2 when the database lacks migrations: the app would start (``/healthz`` ok) and fail every request.
    A database that cannot be reached is not refused (a warning only): the server answers once it is back, and
    systemd would give up restarting a unit that exits while the database host reboots."""
    from django.db import DatabaseError

    try:
        pending = pending_migrations()
    except DatabaseError as error:
        typer.echo(MIGRATIONS_UNCHECKED.format(reason=str(error).strip()), err=True)
        return
    if pending:
        _refuse(SERVE_REFUSED.format(reason=MIGRATIONS_NOT_APPLIED.format(count=len(pending), first=pending[0])))


def serve_command(
    bind: Annotated[str, typer.Option(help="Address to listen on (the TLS proxy forwards here).")] = "127.0.0.1:8000",
    workers: Annotated[int, typer.Option(min=0, help="Worker processes (0: 2 x cores + 1, at most 9).")] = 0,
    threads: Annotated[int, typer.Option(min=1, help="Threads per worker.")] = SERVE_THREADS,
    timeout: Annotated[int, typer.Option(min=5, help="Seconds before a stuck worker is restarted.")] = 30,
    migrate: Annotated[bool, typer.Option(help="Apply database migrations first (run on one server only).")] = False,
    collectstatic: Annotated[bool, typer.Option(help="Gather the static files for whitenoise first.")] = True,
    settings: Annotated[str, typer.Option(help="Django settings module.")] = PRODUCTION_SETTINGS,
) -> None:
    """Serve the web app under gunicorn with the production settings.

    Refuses to start (exit 2, naming the reason) without a strong
    ONABOARD_SECRET_KEY and ONABOARD_ALLOWED_HOSTS, when ONABOARD_DATA_DIR is
    not a folder it can write, when Django's deployment check
    (manage.py check --deploy) reports anything, a warning as well as an error,
    or, without --migrate, when the database lacks any of the code's
    migrations.

    No --json (the one command without it): serve becomes gunicorn, and its
    stdout is gunicorn's access log, not a document.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    from django.core.exceptions import ImproperlyConfigured  # onaboard's ImproperlyConfiguredError is one

    try:
        import django

        django.setup()
    except ImproperlyConfigured as error:
        _refuse(SERVE_REFUSED.format(reason=error))
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError
    from django.db import connections

    try:
        call_command("check", deploy=True, fail_level="WARNING", stdout=io.StringIO(), stderr=io.StringIO())
    except SystemCheckError as error:
        _refuse(DEPLOY_CHECK_FAILED.format(report=error))
    if migrate:
        call_command("migrate", interactive=False, verbosity=1)
    else:
        _refuse_pending_migrations()
    if collectstatic:
        call_command("collectstatic", interactive=False, verbosity=0)
    connections.close_all()
    args = gunicorn_arguments(bind=bind, workers=workers or default_workers(), threads=threads, timeout=timeout)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, args)  # noqa: S606 - gunicorn takes over this process, keeping its id for supervisors


def backup_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="The backup file to write (a tar).")],
    as_json: JsonFlag = False,
) -> None:
    """Write a consistent snapshot of the database with a checksum manifest.

    With --json, one JSON object with the keys:
    file, bytes (the backup's size), sha256 (the backup file's), engine
    (sqlite or postgresql), tables, rows (in all tables), created_at,
    onaboard_version (of the onaboard that wrote it).
    The backup always goes to -o, never to stdout: -o - exits 2.
    """
    for problem in output_problems(output):
        _refuse(problem)
    _django(DATABASE_SETTINGS)
    try:
        manifest = backup(output)
    except OpsError as error:
        _refuse(str(error))
    rows = sum(t["rows"] for t in manifest["tables"].values())
    if as_json:
        print_json(
            {
                "file": str(output),
                "bytes": output.stat().st_size,
                "sha256": _sha256_file(output),
                "engine": manifest["engine"],
                "tables": len(manifest["tables"]),
                "rows": rows,
                "created_at": manifest["created_at"],
                "onaboard_version": manifest["onaboard"],
            }
        )
        return
    typer.echo(BACKUP_WRITTEN.format(path=output, tables=len(manifest["tables"]), rows=rows, engine=manifest["engine"]))


def restore_command(
    path: Annotated[Path, typer.Argument(help="A file written by `onaboard backup`.")],
    force: Annotated[bool, typer.Option(help="Replace everything in a database that already holds tables.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Restore a backup into the configured database after checking its checksums, then compare every table.

    With --json, one JSON object with the keys:
    file, bytes (the backup's size), engine (sqlite or postgresql), tables,
    rows (in all tables, each table matching the backup), force (whether
    --force was given), created_at and onaboard_version (of the backup, null
    when its manifest does not say), warnings (each also on stderr: a backup
    taken at other migrations than this code's must be migrated before
    serving).
    """
    if not path.is_file():
        _refuse(f"{path}: no such file")
    _django(DATABASE_SETTINGS)
    try:
        manifest = restore(path, force=force)
    except RestoreMismatchError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from None
    except OpsError as error:
        _refuse(str(error))
    rows = sum(t["rows"] for t in manifest["tables"].values())
    differing = migrations_differing(manifest.get("migrations"))
    warnings = [MIGRATIONS_DIFFER.format(path=path, apps="; ".join(differing))] if differing else []
    for warning in warnings:
        typer.echo(warning, err=True)
    if as_json:
        print_json(
            {
                "file": str(path),
                "bytes": path.stat().st_size,
                "engine": manifest["engine"],
                "tables": len(manifest["tables"]),
                "rows": rows,
                "force": force,
                "created_at": manifest.get("created_at"),  # restore reads no more of the manifest than it checks
                "onaboard_version": manifest.get("onaboard"),
                "warnings": warnings,
            }
        )
        return
    typer.echo(RESTORED.format(path=path, engine=manifest["engine"], tables=len(manifest["tables"]), rows=rows))


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `onaboard` command."""
    app.command("serve")(serve_command)
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
