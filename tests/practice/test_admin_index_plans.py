"""Every changelist option an owner can click has an index plan: no option reads a big table whole.

At the size of a large practice (millions of sessions, audit events and history rows) an option that the
database can only answer by walking a whole table takes seconds. This test enumerates, from the admin's own
registry, every changelist's filter choices, sortable columns, search box and date drill-down levels (alone and
combined with a drill-down year), requests each page as the owner, and asks PostgreSQL for the plan of every
query the page made that touches a big table, with sequential scans priced out (``enable_seqscan = off``), so
that a plan that still reads a whole table shows that no index can serve it (see ``plan_problems``). A plan
passes when every scan of a big table is bounded:

- an index scan with an index condition, or a bitmap scan (a condition too); or
- an index scan without a condition that streams in index order into a LIMIT, with nothing between them that
  discards rows (no filter on the scan, no filtering join), so it reads about as many entries as it returns.

An option added without an index plan fails here: give it an index that serves its count and its date bounds, or
do not offer it. The timings at full size are ``manage.py bench``'s (``devtools/bench``).
"""

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from clients.models import Client, DiseasePhase, SelfReport
from devtools import demo
from devtools.admin_options import changelist_options, registered_changelists
from practice import audit
from practice.models import AuditEvent
from sessions.models import SessionAmendment, TechniqueUse, TreatmentSession

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="index plans are PostgreSQL's")

BIG_MODELS = [TreatmentSession, TechniqueUse, DiseasePhase, AuditEvent, SessionAmendment, SelfReport]
SEARCH_TERM = "ashby"
# Below this many rows the planner rightly reads a whole table; the data set gives every big table more.
MIN_ROWS = 1_000
YEAR = 2021
# Nodes that pass rows through in order without discarding any (a LIMIT above them still bounds the scan).
JOINS = {"Nested Loop", "Merge Join", "Hash Join"}
STREAMING = {"Limit", "Result", "Subquery Scan", "Gather Merge", "Incremental Sort", "Memoize", *JOINS}


def big_tables() -> set[str]:
    tables = {model._meta.db_table for model in BIG_MODELS}
    for model in admin.site._registry:  # the change-history tables grow with every write
        if model._meta.db_table.startswith("practice_historical"):
            tables.add(model._meta.db_table)
    return tables


def unbounded_scans(
    plan: dict[str, Any], big: set[str], rows: dict[str, float], path: tuple[dict, ...] = ()
) -> Iterator[str]:
    """The scans of the ``big`` tables in ``plan`` that may read much more than they return, described.

    ``rows``: the planner's row counts (after ANALYZE) of every table and index.
    """
    node_type = plan["Node Type"]
    relation = plan.get("Relation Name")
    if relation in big and node_type in ("Seq Scan", "Index Scan", "Index Only Scan"):
        # A partial index holds only its rows: reading it whole reads no more than that.
        available = rows.get(plan.get("Index Name", ""), rows[relation])
        if "Index Cond" not in plan and (read := _rows_read(plan, path, available)) is not None:
            using = f" using {plan['Index Name']}" if "Index Name" in plan else ""
            yield f"{node_type}{using} on {relation} reads about {read:,.0f} of {rows[relation]:,.0f} rows"
    for child in plan.get("Plans", ()):
        yield from unbounded_scans(child, big, rows, (*path, plan))


def _rows_read(scan: dict[str, Any], path: tuple[dict, ...], available: float) -> float | None:
    """How many rows a scan with no index condition reads, when that is too many; None when it is bounded.

    ``available``: the rows of what it scans (the table, or a partial index). Bounded: it streams (in index
    order, nothing between discarding rows) into a LIMIT of L rows, and its own filter keeps enough rows that
    about L / selectivity rows are read, no more than max(1,000, 10 x L, a tenth of what it scans); or what it
    scans is that small.
    """
    limit = _streaming_limit(path, scan)
    if available <= MIN_ROWS:
        return None
    if limit is None:
        return available
    matching = max(float(scan["Plan Rows"]), 1.0) if "Filter" in scan else available
    read = limit * available / matching
    # A walk that reads a tenth of what it scans would read millions of rows at full size.
    return read if read > max(float(MIN_ROWS), 10 * limit, 0.1 * available) else None


def _streaming_limit(path: tuple[dict, ...], scan: dict[str, Any]) -> float | None:
    """The rows of the LIMIT a scan streams into through nodes that discard nothing, or None.

    Through a join only from its outer side (the inner side of a hash join is read whole to build the hash),
    and only when the join's other side discards nothing (a join to a filtered table drops outer rows).
    """
    child = scan
    for ancestor in reversed(path):
        kind = ancestor["Node Type"]
        if kind == "Limit":
            return float(ancestor["Plan Rows"])
        if kind not in STREAMING or "Filter" in ancestor or "Join Filter" in ancestor:
            return None
        if kind in JOINS and (child is not ancestor["Plans"][0] or any(_filters(c) for c in ancestor["Plans"][1:])):
            return None
        child = ancestor
    return None


def _filters(plan: dict[str, Any]) -> bool:
    return "Filter" in plan or any(_filters(child) for child in plan.get("Plans", ()))


def table_rows() -> dict[str, float]:
    """The planner's rows of every table and index here (after ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relkind IN ('r', 'i')")
        return {name: float(rows) for name, rows in cursor.fetchall()}


def explain(sql: str, *, seqscan: bool) -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL enable_seqscan = {'on' if seqscan else 'off'}")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
        cursor.execute("SET LOCAL enable_seqscan = on")
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def plan_problems(sql: str, big: set[str], rows: dict[str, float]) -> list[str]:
    """What reads a big table whole in the best plan there is for ``sql``; nothing when one plan is bounded.

    Two plans: the planner's own, and one with sequential scans priced out. At this data set's size the first
    may rightly read a small table whole; the second shows whether an index could serve the query, but it
    also keeps the small tables off sequential scans, which can force a merge join that reads a big table in
    key order. An option has an index plan when either plan is bounded.
    """
    problems = list(unbounded_scans(explain(sql, seqscan=False), big, rows))
    if problems and list(unbounded_scans(explain(sql, seqscan=True), big, rows)):
        return problems
    return []


@pytest.fixture
def practice(owner, therapist):
    """A practice big enough that the planner chooses as it would at full size.

    Clients, phases, sessions and technique rows from the bulk demo seed (about 17,000 sessions), then audit
    events, change-history rows, amendments and self-reports written in bulk with SQL.
    """
    demo.build_demo(clients=40, years=10, today=dt.date(2026, 6, 1))
    for client in Client.objects.order_by("pk")[:20:2]:
        client.last_name = "Ashby"
        client.save(update_fields=["last_name"])
    audit.record(None, audit.READ, obj=Client.objects.first(), actor=therapist)
    sessions = TreatmentSession._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {AuditEvent._meta.db_table}
                (sequence, time, actor_username, action, object_type, object_id, client_id, ip_address, outcome,
                 prev_hash, hash, actor_id)
            SELECT 1000 + g, now() - g * interval '7 minutes', 'maria', 'read', 'client', g %% 40, g %% 40,
                   '127.0.0.1', 'success', '', '', %s
            FROM generate_series(1, 30000) AS g""",
            [therapist.pk],
        )
        cursor.execute(
            f"""INSERT INTO {SelfReport._meta.db_table}
                (client_id, recorded_on, pain, fatigue, note, created_at, updated_at)
            SELECT c.id, DATE '2021-01-01' + d, 3, 4, '', now(), now()
            FROM {Client._meta.db_table} AS c CROSS JOIN generate_series(0, 199) AS d"""
        )
        # The change history: five rows per record, as if each had been saved five times through the app.
        for model in (Client, DiseasePhase, TreatmentSession, SelfReport):
            history_model = model.history.model  # type: ignore[attr-defined]
            kept = {field.column for field in history_model._meta.concrete_fields}
            columns = ", ".join(f.column for f in model._meta.concrete_fields if f.column in kept)
            cursor.execute(
                f"""INSERT INTO {history_model._meta.db_table} ({columns}, history_date, history_type)
                SELECT {columns}, now() - (id % 3000 + copy) * interval '1 day', '+'
                FROM {model._meta.db_table} CROSS JOIN generate_series(1, 5) AS copy"""
            )
        cursor.execute(
            f"""INSERT INTO {SessionAmendment._meta.db_table} (session_id, author_id, created_at, reason, changes)
            SELECT id, therapist_id, started_at + interval '1 day', 'typo', '{{}}'
            FROM {sessions} WHERE status = 'signed' AND id % 10 = 0"""
        )
        for table in sorted(big_tables()):
            cursor.execute(f'ANALYZE "{table}"')


@pytest.mark.django_db
def test_every_changelist_option_has_an_index_plan(client, owner, practice):
    client.force_login(owner)
    rows = table_rows()
    tables = {table for table in big_tables() if rows.get(table, 0) >= MIN_ROWS}
    # The data set is big enough to judge every table that grows with the practice's work.
    assert {model._meta.db_table for model in BIG_MODELS} <= tables
    problems: dict[str, list[str]] = {}
    with override_settings(PRACTICE_REQUIRE_2FA=False):
        for model_admin in registered_changelists():
            model = model_admin.model
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            for query in changelist_options(model_admin, owner, year=YEAR, search_term=SEARCH_TERM):
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(f"{url}?{query}")
                assert response.status_code == 200, f"{url}?{query}: {response.status_code}"
                for executed in captured.captured_queries:
                    sql = executed["sql"]
                    if not sql.lstrip().upper().startswith("SELECT") or not any(f'"{t}"' in sql for t in tables):
                        continue
                    if found := plan_problems(sql, tables, rows):
                        problems.setdefault(f"{model._meta.label}?{query}", []).extend(found)
    assert problems == {}, "changelist options without an index plan:\n" + "\n".join(
        f"{option}: {sorted(set(found))}" for option, found in problems.items()
    )


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["status__exact=signed", "over_stop=no"])
def test_a_years_count_under_an_unselective_filter_reads_only_what_session_started_idx_holds(
    client, owner, practice, query
):
    """Signed, or not over a stop, is nearly every session: counting a year of them by walking the table from its
    start until 10,001 match read 4,000 blocks at full size (seconds when not cached). session_started_idx holds
    every column of the table that the capped count reads (started_at, status, id), so at full size, vacuumed,
    PostgreSQL counts with an index-only scan of it (``manage.py bench``); at this size it rightly does not."""
    client.force_login(owner)
    url = reverse("admin:treatment_sessions_treatmentsession_changelist")
    with override_settings(PRACTICE_REQUIRE_2FA=False), CaptureQueriesContext(connection) as captured:
        assert client.get(f"{url}?{query}&started_at__year={YEAR}").status_code == 200
    counts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT(*) FROM (SELECT")]
    assert len(counts) == 1
    table = TreatmentSession._meta.db_table
    assert set(re.findall(rf'"{table}"\."(\w+)"', counts[0])) <= {"started_at", "status", "id"}, counts[0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'session_started_idx'")
        (definition,) = cursor.fetchone()
    assert definition.endswith(f"ON public.{table} USING btree (started_at) INCLUDE (id, status)")
