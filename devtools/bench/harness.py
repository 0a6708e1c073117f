"""Measuring a page: timed requests through the whole middleware, the queries they make, and two floors.

- *bare*: a view that returns an empty response, through the same middleware as the same user;
- *raw fetch*: the page's hand-written SQL (``Page.raw``) run on a plain driver connection in autocommit, nothing
  else (see ``run_raw``).

Each page's CPU per request (this process: the view, templates, the driver; not the database server) is
reported beside its time.

Requests are made in-process with Django's test client, signed in with ``force_login``, and measured as
in production: no debug cursor, no two-factor prompt (the bench users have no device).
"""

import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, reset_queries, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client as TestClient
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, URLPattern, URLResolver, include, path, reverse

from devtools.bench.dataset import BenchData
from devtools.bench.pages import Page, Statements
from devtools.html_forms import SESSION_FORM_FIELD, FormFields, confirm_findings, fill_session_form

# In the notes of every session the "session form POST" page saves.
POST_MARKER = "bench: session form POST"
# The new-session form's one-time token (sessions.forms.SessionForm): the same form sent again saves nothing.
FORM_TOKEN_FIELD = "form_token"


@dataclass
class Result:
    name: str
    url: str
    status: str  # "ok", "not available", or what went wrong
    median_ms: float | None = None
    p95_ms: float | None = None
    queries: int | None = None
    bare_ms: float | None = None
    raw_ms: float | None = None
    x_bare: float | None = None
    x_raw: float | None = None
    cpu_ms: float | None = None  # median CPU of this process per request
    size_bytes: int | None = None  # the response body's size
    target: str = ""
    met: bool | None = None
    samples_ms: list[float] = field(default_factory=list)


def measure(
    data: BenchData, pages: list[Page], *, repeat: int, warmup: int, only: str = "", log: Callable[[str], None] = print
) -> tuple[list[Result], dict[str, float]]:
    """Measure each page whose name contains ``only``; returns the results and the bare floor of each role."""
    results = []
    # Measured as in production: no debug cursor, no 2FA prompt (the bench users have no device).
    with override_settings(
        ROOT_URLCONF=BenchUrls(settings.ROOT_URLCONF),
        DEBUG=False,
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        PRACTICE_REQUIRE_2FA=False,
    ):
        bench = Bench(data, repeat=repeat, warmup=warmup, log=log)
        try:
            for page in pages:
                if only and only.lower() not in page.name.lower():
                    continue
                log(f"  {page.name}...")
                results.append(bench.run(page))
        finally:
            close_plain_connections()
    return results, dict(bench.bare)


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least ``fraction`` of the samples at or below it."""
    ordered = sorted(samples)
    rank = max(1, int(-(-fraction * len(ordered) // 1)))
    return ordered[rank - 1]


def timed(call: Callable[[], Any], repeat: int, warmup: int, cpu: list[float] | None = None) -> list[float]:
    """Milliseconds each of ``repeat`` calls took, after ``warmup`` untimed calls.

    ``cpu``, if given, receives the CPU milliseconds this process spent on each call (the app's own work:
    the database server's time is not in it).
    """
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        samples.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) * 1000)
    return samples


def run_raw(statements: Statements) -> None:
    """Run a raw fetch and read every row: the floor a page's own reads cannot beat.

    A read-only fetch runs on a plain driver connection (psycopg's or sqlite3's own, ``plain_connection``), in
    autocommit, with no Django cursor wrapper, adapters or transaction around it: the cheapest way to get those
    rows. Only a fetch that writes runs on Django's connection inside a transaction, so that what it writes can
    be rolled back.
    """
    writes = any(sql.lstrip().upper().startswith("INSERT") for sql, _params in statements)
    if writes:
        with transaction.atomic():
            with connection.cursor() as cursor:
                _fetch_all(cursor, statements)
            transaction.set_rollback(True)
        return
    raw_cursor = plain_connection().cursor()
    try:
        if connection.vendor == "sqlite":  # sqlite3's own placeholders
            statements = [(sql.replace("%s", "?"), params) for sql, params in statements]
        _fetch_all(raw_cursor, statements)
    finally:
        raw_cursor.close()


_plain_connections: dict[tuple, psycopg.Connection] = {}


def plain_connection() -> Any:
    """The driver's own connection to the database Django uses, as a hand-written script would open it.

    On PostgreSQL: psycopg with its default adapters (Django's connection carries its own, slower timestamp
    loader), in autocommit, with the session settings Django's connection has (time zone, no JIT), opened once.
    On SQLite: Django's sqlite3 connection itself, which has no adapters of Django's in the way.
    """
    connection.ensure_connection()
    if connection.vendor != "postgresql":
        return connection.connection
    params = connection.settings_dict
    key = (params["NAME"], params["USER"], params["HOST"], params["PORT"])
    plain = _plain_connections.get(key)
    if plain is None or plain.closed:
        options = " ".join([params.get("OPTIONS", {}).get("options", ""), f"-c TimeZone={connection.timezone_name}"])
        given = {"dbname": params["NAME"], "user": params["USER"], "password": params["PASSWORD"]}
        given |= {"host": params["HOST"], "port": params["PORT"], "options": options.strip()}
        plain = psycopg.connect(autocommit=True, **{name: value for name, value in given.items() if value})
        _plain_connections[key] = plain
    return plain


def close_plain_connections() -> None:
    """Close what ``plain_connection`` opened (a test database cannot be dropped while one is open)."""
    while _plain_connections:
        _plain_connections.popitem()[1].close()


def _fetch_all(cursor: Any, statements: Statements) -> None:
    for sql, params in statements:
        cursor.execute(sql, params)
        if cursor.description is not None:
            cursor.fetchall()


def empty_view(request: HttpRequest) -> HttpResponse:
    """The bare floor: all the middleware, no work."""
    return HttpResponse(b"")


class BenchUrls:
    """A URLconf with the bench's empty view in front of the project's own (used as ROOT_URLCONF while measuring)."""

    def __init__(self, root: str) -> None:
        self.root = root

    @property
    def urlpatterns(self) -> list[URLPattern | URLResolver]:
        return [path("__bench__/empty/", empty_view, name="bench-empty"), path("", include(self.root))]


class Bench:
    """Measures pages for the bench users of ``data``, one signed-in test client per role."""

    def __init__(self, data: BenchData, *, repeat: int, warmup: int, log: Callable[[str], None] = print) -> None:
        self.data, self.repeat, self.warmup, self.log = data, repeat, warmup, log
        self._clients: dict[str, TestClient] = {}
        self.bare: dict[str, float] = {}  # role -> median ms of the empty view, once measured

    def client(self, role: str) -> TestClient:
        if role not in self._clients:
            user = {"therapist": self.data.therapist, "owner": self.data.owner, "portal": self.data.portal_user}[role]
            client = TestClient()
            client.force_login(user)
            self._clients[role] = client
        return self._clients[role]

    def bare_ms(self, role: str) -> float:
        if role not in self.bare:
            client = self.client(role)
            url = reverse("bench-empty")
            self.bare[role] = statistics.median(timed(lambda: client.get(url), self.repeat, self.warmup))
        return self.bare[role]

    def run(self, page: Page) -> Result:
        """Measure one page; a page that cannot be measured gets a status that says why."""
        try:
            url = reverse(page.url_name, args=page.args(self.data))
        except NoReverseMatch:
            return Result(page.name, "", "not available")
        url = f"{url}?{page.query}" if page.query else url
        try:
            return self._measure(page, url)
        except Exception as error:  # a half-built page must not stop the other measurements
            return Result(page.name, url, f"error: {type(error).__name__}: {error}"[:200])

    def _measure(self, page: Page, url: str) -> Result:
        client = self.client(page.user)
        if page.method == "POST":
            payload = self._post_data(client, url)
            expected = 302

            def call():
                # Each sample logs a new session, as from a newly opened form: the same token every time
                # would measure the answer to a form sent twice, which saves nothing.
                return client.post(url, {**payload, FORM_TOKEN_FIELD: [str(uuid.uuid4())]})
        else:
            expected = 200

            def call():
                return client.get(url)

        response = call()
        if response.status_code != expected:
            where = response.get("Location", "")
            return Result(page.name, url, f"HTTP {response.status_code} {where}".strip())
        size_bytes = len(response.getvalue()) if response.streaming else len(response.content)
        reset_queries()  # the log is a bounded deque: once full, CaptureQueriesContext would count nothing
        with CaptureQueriesContext(connection) as captured:
            call()
        queries = len(captured)  # now: the next request empties the log it reads from
        cpu: list[float] = []
        samples = timed(call, self.repeat, self.warmup, cpu)
        median_ms = statistics.median(samples)
        result = Result(
            page.name,
            url,
            "ok",
            median_ms=median_ms,
            p95_ms=percentile(samples, 0.95),
            queries=queries,
            cpu_ms=statistics.median(cpu),
            size_bytes=size_bytes,
            samples_ms=[round(s, 3) for s in samples],
        )
        result.bare_ms = self.bare_ms(page.user)
        result.x_bare = median_ms / result.bare_ms
        statements = page.raw(self.data) if page.raw else []
        if statements:
            raw_ms = statistics.median(timed(lambda: run_raw(statements), self.repeat, self.warmup))
            result.raw_ms = raw_ms
            result.x_raw = median_ms / raw_ms
        self._judge(page, result)
        return result

    def _post_data(self, client: TestClient, url: str) -> dict[str, list[str]]:
        form = FormFields(client.get(url).content.decode(), SESSION_FORM_FIELD)
        data = fill_session_form(form, marker=POST_MARKER)
        first = client.post(url, data)
        if first.status_code == 200:  # the safety screen asked for a confirmation: answer it once
            data = confirm_findings(FormFields(first.content.decode(), SESSION_FORM_FIELD), data)
        return data

    @staticmethod
    def _judge(page: Page, result: Result) -> None:
        checks, targets = [], []
        if page.target_ms is not None:
            assert result.median_ms is not None  # judged once measured
            targets.append(f"< {page.target_ms:.0f} ms")
            checks.append(result.median_ms < page.target_ms)
        if page.raw_ratio_target is not None and result.x_raw is not None:
            targets.append(f"<= {page.raw_ratio_target:.0f}x raw")
            checks.append(result.x_raw <= page.raw_ratio_target)
        if page.bare_ratio_target is not None and result.x_bare is not None:
            targets.append(f"<= {page.bare_ratio_target:.0f}x bare")
            checks.append(result.x_bare <= page.bare_ratio_target)
        if page.size_target_bytes is not None and result.size_bytes is not None:
            targets.append(f"< {page.size_target_bytes // 1000} KB")
            checks.append(result.size_bytes < page.size_target_bytes)
        result.target = ", ".join(targets)
        result.met = all(checks) if checks else None
