"""A database cache whose ``set_many`` writes many keys in a few statements (settings.CACHES["pathways"]).

Django's ``DatabaseCache`` writes ``set_many`` one key at a time, and each key costs a count of the whole table (for
culling), a SELECT of the key, an INSERT or UPDATE and a savepoint around them: five statements a key. The day's
first worklist of a 300-patient clinic wrote 300 pathway lines that way, 1,500 statements. ``BulkDatabaseCache``
counts the table once per call, culls once, and writes the keys with multi-row ``INSERT ... ON CONFLICT (cache_key)
DO UPDATE`` statements (UPSERT_ROWS a statement), all in one transaction: a count and one INSERT for 5 keys or 250.

What stays Django's: the table (``createcachetable``), the stored form (pickled, base64), expiry (an entry past its
``expires`` is never returned and is deleted when read) and ``get_many``, which is already one SELECT (and one DELETE
of the expired keys it met). Culling keeps Django's settings (MAX_ENTRIES, CULL_FREQUENCY: expired entries first,
then the first 1/CULL_FREQUENCY of the keys in key order, all of them at 0) and a stricter bound: a write that would
take the table over MAX_ENTRIES culls first, counting every key it writes as new, so after a write the table holds
at most MAX_ENTRIES entries (or the write's own keys, when one write holds more than that).

Two writers of the same key do not fail: the upsert waits for another transaction inserting that key and then
updates its row, where Django's SELECT-then-INSERT meets a unique-key error there and drops the write (it swallows
database errors). Keys are written in sorted order so that two writers of overlapping keys lock their rows in the
same order and cannot deadlock each other. A database error still fails only the cache write, never the caller: the
keys come back from ``set_many`` as not written and the caller's transaction goes on (the write runs in its own
transaction, or in a savepoint inside the caller's).

Databases without ``INSERT ... ON CONFLICT ... DO UPDATE`` on a named key (Django's
``supports_update_conflicts_with_target``: SQLite 3.24 and later, PostgreSQL) keep Django's key-by-key writes.
"""

from __future__ import annotations

import base64
import pickle
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache
from django.db import DatabaseError, connections, router, transaction
from django.db.models.constants import OnConflict
from django.utils.timezone import now as tz_now

UPSERT_ROWS = 500
"""The most keys one INSERT statement writes (three parameters a key: within SQLite's 999-parameter floor once
split by ``max_query_params``, and far within PostgreSQL's 65,535)."""


class BulkDatabaseCache(DatabaseCache):
    """Django's database cache, with ``set`` and ``set_many`` counting and culling the table once per call and
    writing every key with multi-row upserts in one transaction (module docstring)."""

    def set(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self.set_many({key: value}, timeout=timeout, version=version)

    def set_many(
        self, data: Mapping[str, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[str]:
        """Write every key of ``data``; return the keys that could not be written (all of them after a database
        error, as Django's ``set`` swallows one), as ``BaseCache.set_many`` does."""
        if not data:
            return []
        database = router.db_for_write(self.cache_model_class)
        connection = connections[database]
        if not connection.features.supports_update_conflicts_with_target:
            for key, value in data.items():  # Django's writes, key by key (its set_many would call this set)
                super().set(key, value, timeout=timeout, version=version)
            return []
        rows = sorted(
            (self.make_and_validate_key(key, version=version), self._encoded(value), key) for key, value in data.items()
        )
        expires = connection.ops.adapt_datetimefield_value(self._expiry(timeout))
        limit = connection.features.max_query_params
        per_statement = UPSERT_ROWS if limit is None else max(1, min(UPSERT_ROWS, limit // 3))
        try:
            with transaction.atomic(using=database), connection.cursor() as cursor:
                self._make_room(connection, cursor, incoming=len(rows))
                for start in range(0, len(rows), per_statement):
                    self._upsert(connection, cursor, rows[start : start + per_statement], expires)
        except DatabaseError:
            return [key for _stored, _value, key in rows]
        return []

    def _encoded(self, value: Any) -> str:
        # The stored form Django's DatabaseCache reads: pickled, base64 as text (refs Django #19274).
        return base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")

    def _expiry(self, timeout: float | None) -> datetime:
        """When an entry written now with ``timeout`` expires, to the second, as Django's ``_base_set`` has it."""
        absolute = self.get_backend_timeout(timeout)
        if absolute is None:
            return datetime.max.replace(microsecond=0)  # noqa: DTZ901 - Django's own "never", as its get_many reads it
        return datetime.fromtimestamp(absolute, tz=UTC if settings.USE_TZ else None).replace(microsecond=0)

    def _make_room(self, connection: Any, cursor: Any, *, incoming: int) -> None:
        """Cull before writing ``incoming`` keys when the table would hold more than MAX_ENTRIES: Django's culling
        (expired entries, then 1/CULL_FREQUENCY of the keys, or all of them at 0), removing more keys when that is
        not enough room for the write."""
        quote = connection.ops.quote_name
        table = quote(self._table)
        cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - the configured table's quoted name
        count = cursor.fetchone()[0]
        if count + incoming <= self._max_entries:
            return
        if self._cull_frequency == 0:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            return
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        cursor.execute(f"DELETE FROM {table} WHERE {quote('expires')} < %s", [now])  # noqa: S608
        remaining = count - cursor.rowcount
        if remaining + incoming <= self._max_entries:
            return
        cull = max(remaining // self._cull_frequency, remaining + incoming - self._max_entries)
        if cull >= remaining:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            return
        cursor.execute(connection.ops.cache_key_culling_sql() % table, [cull])
        first_kept = cursor.fetchone()
        if first_kept:
            cursor.execute(f"DELETE FROM {table} WHERE {quote('cache_key')} < %s", [first_kept[0]])  # noqa: S608

    def _upsert(self, connection: Any, cursor: Any, rows: Sequence[tuple[str, str, str]], expires: Any) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(name) for name in ("cache_key", "value", "expires"))
        conflict = connection.ops.on_conflict_suffix_sql(
            [], OnConflict.UPDATE, update_fields=["value", "expires"], unique_fields=["cache_key"]
        )
        values = ", ".join(["(%s, %s, %s)"] * len(rows))
        parameters = [part for stored, value, _key in rows for part in (stored, value, expires)]
        cursor.execute(
            f"INSERT INTO {quote(self._table)} ({columns}) VALUES {values} {conflict}",  # noqa: S608
            parameters,
        )
