"""The database cache that writes many keys in a few statements (onaboard/web/common/cache.py)."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core.cache.backends.db import DatabaseCache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onaboard.web.common.cache import BulkDatabaseCache

TABLE = settings.CACHES["pathways"]["LOCATION"]
"""The pathway lines' table, which the migrations create (the tests empty it first: a transactional test elsewhere
may have left entries in it, as the cache table is no model that a flush would empty)."""


def _cache(**options) -> BulkDatabaseCache:
    cache = BulkDatabaseCache(TABLE, {"OPTIONS": options})
    cache.clear()
    return cache


def _rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(TABLE)}")  # noqa: S608 - a fixed name
        return cursor.fetchone()[0]


def _lines(count: int, *, prefix: str = "line") -> dict[str, tuple]:
    return {f"{prefix}:{n:03d}": ("eligible", f"summary {n}", date(2026, 6, 30), None, None) for n in range(count)}


@pytest.mark.django_db
def test_writing_fifty_keys_costs_the_same_queries_as_writing_five():
    """``set_many`` counts the table once and writes every key in one statement: 5 keys and 50 cost the same few
    queries (Django's database cache spends five on each key)."""
    cache = _cache()
    with CaptureQueriesContext(connection) as few:
        assert cache.set_many(_lines(5, prefix="few")) == []
    with CaptureQueriesContext(connection) as many:
        assert cache.set_many(_lines(50, prefix="many")) == []
    assert len(few) == len(many) <= 4
    assert cache.get_many([*_lines(5, prefix="few"), *_lines(50, prefix="many")]) == {
        **_lines(5, prefix="few"),
        **_lines(50, prefix="many"),
    }


@pytest.mark.django_db
def test_values_round_trip_and_a_second_write_replaces_the_first():
    """What ``set_many`` and ``set`` write reads back equal (tuples, dates, None, text beyond ASCII), and writing a
    key again replaces its value."""
    cache = _cache()
    values = {"tuple": ("not_eligible", "ICHD-3 1.3 A: période 1", None, date(2026, 1, 2)), "number": 17, "none": None}
    cache.set_many(values)
    cache.set("single", ["a", "list"])
    assert cache.get_many([*values, "single", "absent"]) == {**values, "single": ["a", "list"]}
    cache.set_many({"number": 18, "new": "n"})
    cache.set("single", "replaced")
    assert cache.get_many(["number", "new", "single", "tuple"]) == {
        "number": 18,
        "new": "n",
        "single": "replaced",
        "tuple": values["tuple"],
    }
    assert _rows() == 5


@pytest.mark.django_db
def test_entries_expire_after_their_timeout_and_never_without_one():
    """An entry is read until its timeout has passed and not after (nor one written with timeout 0); one written
    with no timeout is still read centuries later."""
    cache = _cache()
    cache.set_many({"hour": 1, "two-hours": 2}, timeout=3600)
    cache.set_many({"at-once": 3}, timeout=0)
    cache.set_many({"forever": 4}, timeout=None)
    assert cache.get_many(["hour", "two-hours", "at-once", "forever"]) == {"hour": 1, "two-hours": 2, "forever": 4}
    later = timezone.now() + timedelta(hours=1, minutes=1)
    with mock.patch("django.core.cache.backends.db.tz_now", return_value=later):
        assert cache.get_many(["hour", "two-hours", "forever"]) == {"forever": 4}
    with mock.patch("django.core.cache.backends.db.tz_now", return_value=later.replace(year=2900)):
        assert cache.get_many(["forever"]) == {"forever": 4}


@pytest.mark.django_db
def test_culling_keeps_the_table_within_max_entries_and_removes_expired_entries_first():
    """A write that would take the table over MAX_ENTRIES culls first: the table never holds more than MAX_ENTRIES,
    a write's own keys are all kept, and expired entries go before live ones."""
    cache = _cache(MAX_ENTRIES=10, CULL_FREQUENCY=3)
    for batch in range(6):
        lines = _lines(4, prefix=f"batch-{batch}")
        cache.set_many(lines)
        assert _rows() <= 10
        assert cache.get_many(list(lines)) == lines
    cache.clear()
    live = _lines(6, prefix="live")
    cache.set_many(live)
    cache.set_many(_lines(4, prefix="expired"), timeout=0)
    cache.set_many(_lines(3, prefix="new"))
    assert cache.get_many([*live, *_lines(3, prefix="new")]) == {**live, **_lines(3, prefix="new")}
    assert _rows() == 9


@pytest.mark.django_db
def test_culling_frequency_zero_empties_the_table_and_one_write_larger_than_the_table_is_kept_whole():
    """With CULL_FREQUENCY 0 a full table is emptied before the write (Django's meaning), and a single write of more
    keys than MAX_ENTRIES keeps all of them."""
    cache = _cache(MAX_ENTRIES=5, CULL_FREQUENCY=0)
    cache.set_many(_lines(5, prefix="old"))
    cache.set_many(_lines(2, prefix="new"))
    assert cache.get_many([*_lines(5, prefix="old"), *_lines(2, prefix="new")]) == _lines(2, prefix="new")
    cache = _cache(MAX_ENTRIES=5, CULL_FREQUENCY=3)
    cache.set_many(_lines(5, prefix="old"))
    cache.set_many(_lines(8, prefix="big"))
    assert cache.get_many(list(_lines(8, prefix="big"))) == _lines(8, prefix="big")
    assert _rows() == 8


@pytest.mark.django_db
def test_a_failed_write_returns_its_keys_and_leaves_the_callers_transaction_usable():
    """A database error (here: no such table) fails only the cache write: ``set_many`` returns the keys it could not
    write, and the caller's transaction goes on."""
    cache = BulkDatabaseCache("onaboard_no_such_cache_table", {})
    with transaction.atomic():
        assert sorted(cache.set_many({"b": 1, "a": 2})) == ["a", "b"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)


@pytest.mark.django_db
def test_a_database_without_upserts_keeps_djangos_key_by_key_writes():
    """Where the database cannot update a conflicting row in an INSERT, ``set_many`` writes as Django's database
    cache does, one key at a time, and the values read back the same."""
    cache = _cache()
    lines = _lines(3)
    with (
        mock.patch.object(connection.features, "supports_update_conflicts_with_target", False),
        CaptureQueriesContext(connection) as queries,
    ):
        assert cache.set_many(lines) == []
    assert len(queries) >= 3 * 3
    assert cache.get_many(list(lines)) == lines


@pytest.mark.django_db(transaction=True)
def test_a_key_another_writer_is_inserting_is_written_after_it_not_dropped():
    """Two writers of the same keys at once (PostgreSQL): the second waits for the first's transaction and then
    replaces its values, where Django's check-then-insert met a unique-key error and dropped its write."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite lets one writer at a time in (its write lock), so two writers cannot interleave")
    cache = _cache()
    keys = list(_lines(20))
    first_written = threading.Event()
    errors = []

    def first_writer() -> None:
        try:
            with transaction.atomic():
                cache.set_many(dict.fromkeys(keys, "first"))
                first_written.set()
                time.sleep(0.5)  # hold the new rows, uncommitted, while the second writer writes
        except Exception as error:  # reported by the main thread
            errors.append(error)
            first_written.set()
        finally:
            connection.close()

    thread = threading.Thread(target=first_writer)
    thread.start()
    first_written.wait(timeout=10)
    failed = cache.set_many(dict.fromkeys(keys, "second"))
    thread.join(timeout=10)
    stored = cache.get_many(keys)
    cache.clear()
    assert errors == []
    assert failed == []
    assert stored == dict.fromkeys(keys, "second")


def test_djangos_database_cache_is_what_it_extends():
    """The backend is Django's database cache (its table, ``get_many``, ``add``, ``touch`` and ``createcachetable``)
    with only the writes of ``set`` and ``set_many`` replaced."""
    assert issubclass(BulkDatabaseCache, DatabaseCache)
    assert BulkDatabaseCache.get_many is DatabaseCache.get_many
