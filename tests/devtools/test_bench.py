"""The page benchmark: what it prepares, what it counts and computes, and the report it writes.

How fast anything is stays out of these tests: one timed request proves nothing and varies with the
machine. They check the figures the benchmark derives, the rows it measured against and the shape of
its output.
"""

import dataclasses
import json
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from clients.models import Client, DiseasePhase
from devtools import demo
from devtools.bench import dataset, harness, pages, report
from practice import audit
from sessions.models import TechniqueUse, TreatmentSession

META_KEYS = {
    "time",
    "database",
    "data_set",
    "caseload_size",
    "repeat",
    "warmup",
    "machine",
    "python",
    "django",
    "commit",
}
DATA_SET_KEYS = {"clients", "sessions", "technique_uses", "phases", "audit_events"}
ROLES = {"therapist", "owner", "portal"}


def quiet(message: str) -> None:
    pass


@pytest.mark.django_db
class TestBench:
    @pytest.fixture
    def report(self, tmp_path, owner):
        """One run of ``manage.py bench`` over a small demo practice: its JSON figures and its table."""
        demo.build_demo(clients=6, years=1)
        out, err = StringIO(), StringIO()
        path = tmp_path / "bench.json"
        call_command(
            "bench",
            "--repeat",
            "1",
            "--warmup",
            "0",
            "--audit-events",
            "20",
            "--skip-admin-options",
            "--json",
            str(path),
            stdout=out,
            stderr=err,
        )
        return json.loads(path.read_text()), out.getvalue()

    def test_measures_every_page_and_prints_a_table_of_them(self, report):
        figures, table = report
        names = [page["name"] for page in figures["pages"]]
        assert len(names) == len(pages.pages())
        assert names == [page.name for page in pages.pages()]
        assert {page["status"] for page in figures["pages"]} == {"ok"}, figures["pages"]
        assert "caseload (300 clients)" in table and "x raw" in table
        assert all(name in table for name in names)

    def test_counts_the_queries_of_one_request_and_computes_the_ratios_to_both_floors(self, report):
        figures, _table = report
        for page in figures["pages"]:
            assert isinstance(page["queries"], int) and page["queries"] > 0
            assert len(page["samples_ms"]) == 1
            assert page["median_ms"] > 0 and page["p95_ms"] == page["median_ms"]  # one sample: both are it
            assert page["bare_ms"] > 0 and page["raw_ms"] is not None and page["raw_ms"] > 0
            assert page["x_bare"] == pytest.approx(page["median_ms"] / page["bare_ms"])
            assert page["x_raw"] == pytest.approx(page["median_ms"] / page["raw_ms"])
            assert page["bare_ms"] == pytest.approx(figures["bare_ms"][_role(page)], abs=1e-3)
            assert "ms" in page["target"] and page["met"] in (True, False)
        assert set(figures["bare_ms"]) == ROLES and all(ms > 0 for ms in figures["bare_ms"].values())
        caseload = next(page for page in figures["pages"] if page["name"] == "caseload (300 clients)")
        browser = Browser()
        browser.force_login(User.objects.get(username=dataset.THERAPIST_USERNAME))
        with override_settings(DEBUG=False, PRACTICE_REQUIRE_2FA=False):
            browser.get(caseload["url"])
            with CaptureQueriesContext(connection) as captured:
                assert browser.get(caseload["url"]).status_code == 200
        assert caseload["queries"] == len(captured)

    def test_reports_the_data_set_it_measured_against_in_its_json(self, report):
        figures, _table = report
        meta = figures["meta"]
        assert set(figures) == {"meta", "bare_ms", "pages"}
        assert set(meta) == META_KEYS and set(meta["data_set"]) == DATA_SET_KEYS
        assert (meta["repeat"], meta["warmup"]) == (1, 0)
        assert "cores" in meta["machine"]
        assert all(page["cpu_ms"] is not None for page in figures["pages"] if page["status"] == "ok")
        assert meta["database"]["vendor"] == connection.vendor
        assert meta["data_set"]["clients"] == Client.objects.count()
        assert meta["data_set"]["phases"] == DiseasePhase.objects.count()
        # The data set measured against: the session form POST page's new sessions are not in it.
        posted = TreatmentSession.objects.filter(subjective=harness.POST_MARKER)
        assert posted.exists()
        assert meta["data_set"]["sessions"] == TreatmentSession.objects.count() - posted.count()
        assert meta["data_set"]["technique_uses"] == TechniqueUse.objects.exclude(session__in=posted).count()
        bench_therapist = User.objects.get(username=dataset.THERAPIST_USERNAME)
        assert meta["caseload_size"] == Client.objects.filter(therapists=bench_therapist).count()
        for page in figures["pages"]:
            assert {field.name for field in dataclasses.fields(harness.Result)} == set(page)
            assert page["url"].startswith("/")

    def test_preparing_twice_changes_nothing(self, db):
        demo.build_demo(clients=3, years=1)
        first = dataset.prepare(audit_events=0, log=quiet)
        counts = (Client.objects.count(), TreatmentSession.objects.count(), User.objects.count())
        second = dataset.prepare(audit_events=0, log=quiet)
        assert (Client.objects.count(), TreatmentSession.objects.count(), User.objects.count()) == counts
        assert first.record_client == second.record_client
        assert {size: c.sessions.count() for size, c in second.clients_by_size.items()} == {5: 5, 52: 52, 520: 520}
        assert second.portal_user.client_profile == second.record_client

    def test_a_page_without_a_view_is_reported_not_available(self, db):
        demo.build_demo(clients=2, years=1)
        data = dataset.prepare(audit_events=0, log=quiet)
        page = pages.Page("nowhere", "clients:no-such-page", "therapist")
        assert harness.Bench(data, repeat=1, warmup=0).run(page).status == "not available"

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="the bench writes audit events on PostgreSQL only")
    def test_the_audit_log_it_writes_is_a_valid_chain(self, therapist):
        audit.record(None, audit.LOGIN, actor=therapist)
        assert dataset.fill_audit_log(50, log=quiet) == 50
        assert audit.verify_database().ok

    @pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL gets the audit log written")
    def test_the_audit_log_is_left_alone_elsewhere(self, db):
        assert dataset.fill_audit_log(50, log=quiet) == 0


def _role(page: dict) -> str:
    """Who requested the page in a report, from its definition."""
    return next(p.user for p in pages.pages() if p.name == page["name"])


def test_the_bare_floor_is_an_empty_response_through_the_whole_middleware(rf):
    assert harness.empty_view(rf.get("/")).content == b""
    assert reverse("bench-empty", urlconf=harness.BenchUrls("practice.urls")) == "/__bench__/empty/"


@pytest.mark.parametrize(
    ("samples", "fraction", "expected"),
    [([5.0], 0.95, 5.0), ([3.0, 1.0, 2.0], 0.5, 2.0), ([float(n) for n in range(1, 21)], 0.95, 19.0)],
)
def test_percentile_is_the_nearest_rank(samples, fraction, expected):
    assert harness.percentile(samples, fraction) == expected


def test_a_read_only_raw_fetch_runs_on_the_drivers_own_cursor_not_djangos(monkeypatch, db):
    """The baseline is honest: a read reaches the driver with no Django cursor wrapper (and no atomic block)."""
    from django.db import connection as conn

    def no_django_cursor():
        raise AssertionError("the raw fetch used Django's cursor")

    with monkeypatch.context() as patched:
        patched.setattr(conn, "cursor", no_django_cursor)
        patched.setattr(harness.transaction, "atomic", no_django_cursor)
        try:
            harness.run_raw([("SELECT %s", [1])])
        finally:
            harness.close_plain_connections()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL: Django's connection has adapters of its own")
def test_on_postgresql_the_raw_fetch_uses_a_plain_psycopg_connection_not_djangos(db):
    """A hand-written script would not load timestamps with Django's pure-Python loader: neither does the floor."""
    import psycopg
    from psycopg.pq import Format

    from practice.postgres.base import TIMESTAMPTZ_OID

    plain = harness.plain_connection()
    try:
        connection.ensure_connection()
        assert plain is not connection.connection and plain.autocommit
        timestamptz = plain.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        assert timestamptz is psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        with plain.cursor() as cursor:
            cursor.execute("SHOW TimeZone")
            assert cursor.fetchone() == ("UTC",)  # the session Django's connection has, so timestamps read alike
        assert harness.plain_connection() is plain  # opened once
    finally:
        harness.close_plain_connections()
    assert plain.closed


@pytest.mark.django_db
def test_the_admin_options_are_pages_of_their_own_once_the_bench_owner_exists(owner):
    assert pages.admin_option_pages() == []  # no bench owner yet: nothing to measure as
    dataset.prepare(audit_events=0, log=lambda message: None)
    options = pages.admin_option_pages()
    names = [page.name for page in options]
    assert len(names) == len(set(names)) > 20
    assert "admin option treatment_sessions.treatmentsession?" in names
    assert any(name.startswith("admin option practice.auditevent?action__exact=") for name in names)
    assert all(page.user == "owner" and page.target_ms == pages.ADMIN_TARGET_MS for page in options)


def test_the_readme_table_is_written_from_a_saved_run(tmp_path):
    page = {
        "name": "caseload (300 clients)",
        "status": "ok",
        "median_ms": 12.3,
        "p95_ms": 15.0,
        "queries": 6,
        "x_bare": 4.1,
        "x_raw": 3.0,
        "size_bytes": 41_000,
        "target": "< 50 ms",
        "met": True,
    }
    option = {**page, "name": "admin option practice.auditevent?action__exact=read", "median_ms": 250.0, "met": False}
    saved = {
        "meta": {
            "time": "2026-11-29T05:00:00+00:00",
            "commit": "abc1234",
            "machine": "AMD EPYC, 2 cores, 24 GiB",
            "database": {"vendor": "postgresql", "name": "fullsize"},
            "data_set": {"clients": 10_004, "sessions": 4_393_790},
            "repeat": 30,
            "warmup": 2,
        },
        "bare_ms": {"therapist": 3.0},
        "pages": [page, option],
    }
    path = tmp_path / "bench.json"
    report.write_json(saved, str(path))
    table = report.format_markdown(report.read_json(str(path)))
    assert "AMD EPYC, 2 cores, 24 GiB" in table and "10,004 clients" in table and "abc1234" in table
    assert "| caseload (300 clients) | 12 | 15 | 6 | 4.1 | 3.0 | 41 | < 50 ms | yes |" in table
    assert "Every admin changelist option (1 page: each filter" in table
    assert "slowest median 250 ms (practice.auditevent?action__exact=read); 1 over their target" in table
