"""Writing millions of generated rows quickly: the loader behind ``seed_demo --clients 10000 --years 10``.

Rows are plain tuples, never model instances: COPY on PostgreSQL, one executemany elsewhere. Neither
path calls save() or sends signals, so the change history (django-simple-history) starts with the first
edit after loading, as for any bulk import. Nothing here knows what the rows mean; ``devtools.demo``
and the benchmark's data set (``devtools.bench.dataset``) generate them.
"""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import DatabaseError, connection, models, transaction
from django.db.models.options import Options
from django.utils import timezone
from psycopg import sql


def insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: list[tuple], *, return_ids: bool = False
) -> list[int]:
    """Insert ``rows`` (values for ``columns``, by attribute name); other columns take the model's defaults.

    One statement per call whatever the number of rows, and no model instances, save() or signals:
    COPY on PostgreSQL (ids drawn from the table's sequence when asked for), executemany elsewhere.
    Returns the new ids, in the order of ``rows``, if asked for.
    """
    if not rows:
        return []
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    fields = [by_attname[name] for name in columns]
    # Fields the generator does not fill (created_at, version, fields added later...) get their defaults.
    rest = [field for field in meta.concrete_fields if not field.primary_key and field.attname not in columns]
    now = timezone.now()
    tail = tuple(_db_default(field, now) for field in rest)
    names = [_column(field) for field in fields] + [_column(field) for field in rest]
    if connection.vendor == "postgresql":
        return _copy_rows(meta, names, rows, tail, return_ids)
    return _executemany_rows(meta, names, fields, rows, tail, return_ids)


def skip_foreign_key_checks() -> None:
    """On PostgreSQL, let this transaction skip the per-row foreign-key triggers, if the role may.

    Checking each of millions of generated rows costs more than writing them; the ids come from rows
    this transaction has just written, so there is nothing to check. It is what pg_restore does with
    --disable-triggers, it needs a superuser (or SET granted on the parameter), and ends with the
    transaction. Without the privilege the checks simply run.
    """
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        pass


def analyze(*tables: type[models.Model]) -> None:
    """Fresh planner statistics and visibility maps after a bulk load, rather than whenever autovacuum gets to it.

    VACUUM sets the visibility map, without which an index-only scan still visits the table for every row;
    it cannot run inside a transaction, so there (tests, callers' atomic blocks) statistics alone are taken.
    """
    if connection.vendor != "postgresql":
        return
    command = "ANALYZE {}" if connection.in_atomic_block else "VACUUM (ANALYZE) {}"
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(sql.SQL(command).format(sql.Identifier(model._meta.db_table)))


def _copy_rows(meta: Options, names: list[str], rows: list[tuple], tail: tuple, return_ids: bool) -> list[int]:
    ids: list[int] = []
    with connection.cursor() as cursor:
        if return_ids:
            # nextval() is safe beside other writers: each id is handed out once, whoever asks.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, _column(meta.pk), len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            names = [_column(meta.pk), *names]
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(meta.db_table), sql.SQL(", ").join(map(sql.Identifier, names))
        )
        # psycopg adapts the Python values itself (aware datetimes, Decimals...).
        with cursor.cursor.copy(statement) as copy:
            if return_ids:
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row((pk, *row, *tail))
            else:
                for row in rows:
                    copy.write_row((*row, *tail))
    return ids


def _executemany_rows(
    meta: Options, names: list[str], fields: list[models.Field], rows: list[tuple], tail: tuple, return_ids: bool
) -> list[int]:
    prepared = [
        (*(field.get_db_prep_save(value, connection) for field, value in zip(fields, row, strict=True)), *tail)
        for row in rows
    ]
    ids: list[int] = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if return_ids:
            if not connection.in_atomic_block:
                raise transaction.TransactionManagementError("insert_rows(return_ids=True) needs a transaction.")
            # SQLite: the transaction has written already (the batch's clients), so it holds the database's
            # write lock and nobody else can take ids above the current highest until it commits.
            cursor.execute(f"SELECT COALESCE(MAX({quote(_column(meta.pk))}), 0) FROM {quote(meta.db_table)}")
            first = cursor.fetchone()[0] + 1
            ids = list(range(first, first + len(rows)))
            names = [_column(meta.pk), *names]
            prepared = [(pk, *row) for pk, row in zip(ids, prepared, strict=True)]
        cursor.executemany(
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, names))}) "
            f"VALUES ({', '.join(['%s'] * len(names))})",
            prepared,
        )
    return ids


def _column(field: models.Field) -> str:
    """A concrete field's column: only fields with no column of their own (many-to-many) have None."""
    assert field.column is not None, field
    return field.column


def _db_default(field: models.Field, now: dt.datetime) -> Any:
    value = now if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) else field.get_default()
    return field.get_db_prep_save(value, connection)
