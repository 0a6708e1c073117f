"""The PostgreSQL backend reads timestamptz with psycopg's own loader where it gives what Django's would."""

import datetime as dt

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import get_adapters_template
from django.test.utils import override_settings
from psycopg.pq import Format

from practice.postgres.base import TIMESTAMPTZ_OID

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend only"),
]

MOMENTS = ("2014-10-24 10:30:00+00", "2026-03-29 00:59:59.999999+00", "2026-03-29 01:00:00+01", "1999-12-31 23:00-05")
MOMENTS_SQL = " UNION ALL ".join(f"SELECT '{moment}'::timestamptz" for moment in MOMENTS)


def _read(sql: str) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def _timestamps() -> list[dt.datetime]:
    return _read(MOMENTS_SQL)


def test_aware_utc_datetimes_come_from_psycopgs_loader():
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    assert loader is psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)  # not Django's pure-Python subclass
    assert loader.__module__.startswith("psycopg_binary")  # the compiled one, as requirements.txt installs

    read = _timestamps()
    assert read == [
        dt.datetime(2014, 10, 24, 10, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2000, 1, 1, 4, 0, tzinfo=dt.UTC),
    ]
    assert all(moment.tzinfo is dt.UTC for moment in read)


def test_the_same_values_as_djangos_own_loader():
    fast = _timestamps()
    with connection.cursor() as cursor:
        django_loader = get_adapters_template(True, dt.UTC).get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        cursor.cursor.adapters.register_loader(TIMESTAMPTZ_OID, django_loader)
        cursor.execute(MOMENTS_SQL)
        djangos = [row[0] for row in cursor.fetchall()]
    assert djangos == fast
    assert [moment.tzinfo for moment in djangos] == [moment.tzinfo for moment in fast]


def test_naive_datetimes_without_use_tz_keep_djangos_loader():
    with override_settings(USE_TZ=False):
        assert connection.timezone is None
        assert not connection.reads_utc_natively()
        with connection.cursor() as cursor:
            loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        assert loader.__module__.startswith("django")
