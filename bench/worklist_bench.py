"""The day's first worklist: a clinic's worklist with both pathway caches empty, against the same worklist warm.

    .venv/bin/python bench/worklist_bench.py [--patients 300] [--repeats 5]
    ONABOARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/worklist_bench.py

Every line's cache key holds the day, so the first worklist of each day computes every patient's line and writes it
to the shared cache (``CACHES["pathways"]``). Builds a throwaway database (SQLite in a temporary folder, with the
app's own SQLite settings; or, when ONABOARD_TEST_DATABASE_URL names a PostgreSQL server, a fresh database there,
dropped afterwards): migrations, the demo clinic, then copies of the demo patients (diaries and sessions) up to
``--patients``, as load_bench.py grows its clinic. Then, in this process, with each shared-cache backend in turn
(``django``: Django's ``DatabaseCache`` with each batch of lines in one transaction, as the worklist wrote them before
``BulkDatabaseCache``; ``bulk``: the configured ``BulkDatabaseCache``), ``--repeats`` times each:

- cold: ``worklist()`` with both caches empty (the day's first view), and within it ``write``, the shared-cache write
  of the computed lines (``clinic.selectors._share``);
- shared: with the shared cache full and this process's copy empty (another app server process's first view);
- warm: with both full.

Prints the median and best wall-clock ms, the median CPU ms of this process (the database server's work on
PostgreSQL is not in it) and the queries of each (counted on one more run, as counting slows every query), then
the ratios cold/warm and django/bulk.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.ops.serving import throwaway_postgres  # noqa: E402

CLINIC_PATIENTS = 300
"""A clinic of realistic size (load_bench.py's): the demo's 13 patients and copies of them."""


def _setup(database_url: str | None, data_dir: Path) -> None:
    """Django on the throwaway database: the app's base settings, its own SQLite file or ``database_url``."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "onaboard.web.config.settings.base"
    os.environ["ONABOARD_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.conf import settings

    used = str(settings.DATABASES["default"]["NAME"])
    if database_url is None and not used.startswith(str(data_dir)):
        raise SystemExit(f"refusing to measure on {used}: not the throwaway database")


def _grow_clinic(patients: int) -> tuple[int, int]:
    """Copies of the demo patients (diaries and sessions, no portal login) until the clinic has ``patients``."""
    from django.db import transaction

    from onaboard.web.diary.models import DiaryEntry
    from onaboard.web.injections.models import InjectionSession, SessionStatus
    from onaboard.web.patients.models import Patient

    def copied(row: Any, **changes: Any) -> Any:
        names = [f.attname for f in type(row)._meta.concrete_fields if f.name not in ("id", "external_id")]
        return type(row)(**{**{name: getattr(row, name) for name in names}, **changes})

    demo = list(Patient.objects.order_by("record_number"))
    diaries = {p.pk: list(DiaryEntry.objects.filter(patient=p)) for p in demo}
    sessions = {
        p.pk: list(InjectionSession.objects.filter(patient=p).exclude(status=SessionStatus.CANCELLED)) for p in demo
    }
    with transaction.atomic():
        for n in range(max(0, patients - len(demo))):
            source = demo[n % len(demo)]
            copy = copied(source, user_id=None, record_number=f"{source.record_number}-{n // len(demo) + 1:03d}")
            copy.save()
            DiaryEntry.objects.bulk_create([copied(row, patient_id=copy.pk) for row in diaries[source.pk]])
            InjectionSession.objects.bulk_create([copied(row, patient_id=copy.pk) for row in sessions[source.pk]])
    return Patient.objects.count(), DiaryEntry.objects.count()


def _backends() -> dict[str, Any]:
    """The shared-cache backends compared, on the configured pathway table and options."""
    from django.conf import settings
    from django.core.cache.backends.base import DEFAULT_TIMEOUT
    from django.core.cache.backends.db import DatabaseCache
    from django.db import router, transaction

    from onaboard.web.clinic.selectors import PATHWAY_CACHE
    from onaboard.web.common.cache import BulkDatabaseCache

    class DjangoBatched(DatabaseCache):
        """Django's database cache as the worklist used it before BulkDatabaseCache: a batch of lines in one
        transaction, each line written on its own (count, select, insert or update, in a savepoint)."""

        def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> list[str]:
            with transaction.atomic(using=router.db_for_write(self.cache_model_class)):
                return super().set_many(data, timeout=timeout, version=version)

    configured = settings.CACHES[PATHWAY_CACHE]
    return {
        name: backend(configured["LOCATION"], configured)
        for name, backend in (("django", DjangoBatched), ("bulk", BulkDatabaseCache))
    }


def _measure(repeats: int, prepare: Callable[[], None], run: Callable[[], object]) -> dict[str, float]:
    """Median and best wall-clock ms, median CPU ms of ``run`` after ``prepare``, and its queries on one more run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    walls, cpus = [], []
    for _ in range(repeats):
        prepare()
        wall, cpu = time.perf_counter(), time.process_time()
        run()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    prepare()
    with CaptureQueriesContext(connection) as queries:
        run()
    return {
        "median": statistics.median(walls),
        "best": min(walls),
        "cpu": statistics.median(cpus),
        "queries": len(queries),
    }


@contextlib.contextmanager
def _timed_writes(spent: list[float]) -> Iterator[None]:
    """Time every ``_share`` (the shared-cache write) while the worklist runs."""
    from onaboard.web.clinic import selectors

    real = selectors._share

    def timed(lines: dict[str, Any]) -> None:
        began = time.perf_counter()
        real(lines)
        spent.append((time.perf_counter() - began) * 1000)

    with mock.patch.object(selectors, "_share", timed):
        yield


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=CLINIC_PATIENTS, help="clinic size")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each measurement")
    options = parser.parse_args()
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="onaboard-worklist-")))
        database_url = None
        if os.environ.get("ONABOARD_TEST_DATABASE_URL"):
            database_url = stack.enter_context(throwaway_postgres("worklist"))
        _setup(database_url, folder)
        from django.core.management import call_command
        from django.db import connection, connections

        stack.callback(connections.close_all)

        from django.utils import timezone

        from onaboard.web.accounts.models import User
        from onaboard.web.clinic import selectors
        from onaboard.web.clinic.demo import demo_clinic_load

        today = timezone.localdate()  # the clinic's today, as the views take it
        call_command("migrate", verbosity=0)
        demo_clinic_load(today=today)
        patients, rows = _grow_clinic(options.patients)
        print(f"{connection.vendor}: {patients} patients, {rows} diary rows; {options.repeats} runs each")
        clinician = User.objects.get(username="dr.demo")

        def view() -> object:
            return selectors.worklist(user=clinician, today=today)

        results: dict[str, dict[str, dict[str, float]]] = {}
        for name, cache in _backends().items():
            with mock.patch.object(selectors, "caches", {selectors.PATHWAY_CACHE: cache}):
                writes: list[float] = []

                def empty(cache: Any = cache) -> None:
                    cache.clear()
                    selectors._LOCAL.clear()

                with _timed_writes(writes):
                    cold = _measure(options.repeats, empty, view)
                write = {"median": statistics.median(writes[:-1]), "best": min(writes[:-1]), "cpu": 0.0}
                shared = _measure(options.repeats, selectors._LOCAL.clear, view)
                warm = _measure(options.repeats, lambda: None, view)
                results[name] = {"cold": cold, "write": write, "shared": shared, "warm": warm}
                cache.clear()
        print(f"{'':14}{'median ms':>10}{'best ms':>9}{'CPU ms':>8}{'queries':>9}")
        for name, rows_of in results.items():
            for label, figures in rows_of.items():
                queries = f"{figures['queries']:.0f}" if "queries" in figures else ""
                cpu = f"{figures['cpu']:.0f}" if label != "write" else ""
                print(f"{name + ' ' + label:14}{figures['median']:10.0f}{figures['best']:9.0f}{cpu:>8}{queries:>9}")
        for name, rows_of in results.items():
            print(f"{name}: cold/warm {rows_of['cold']['median'] / rows_of['warm']['median']:.1f}")
        django, bulk = results["django"], results["bulk"]
        print(
            f"django/bulk: cold {django['cold']['median'] / bulk['cold']['median']:.2f}, "
            f"write {django['write']['median'] / bulk['write']['median']:.1f}, "
            f"cold queries {django['cold']['queries'] / bulk['cold']['queries']:.0f}"
        )
        print(f"load average {os.getloadavg()[0]:.1f} (1 min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
