"""The pages the benchmark requests, each with its target and its raw fetch.

A page is a named URL, the user who requests it and the query string; its *raw fetch* is the hand-written
SQL that reads the rows the page shows, nothing else, and is the floor the page is compared with. A page
whose view does not exist (yet) is reported as not available by the harness.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import models
from django.http import QueryDict
from django.utils import timezone

from clients.models import Client, DiseasePhase, SelfReport
from devtools.admin_options import changelist_options, registered_changelists
from devtools.bench.dataset import OWNER_USERNAME, RECORD_SIZE, TREND_SIZES, BenchData
from outcomes import selectors as outcomes_selectors
from outcomes.forms import ReportFilterForm
from practice.models import AuditEvent
from sessions.models import SessionAmendment, Technique, TechniqueUse, TreatmentSession

THERAPIST_TARGET_MS = 50.0
ADMIN_TARGET_MS = 200.0
TREND_RAW_RATIO_TARGET = 5.0
# Issue 13: the trend CSV within 3x its raw fetch, the portal's ZIP within 10x, the trend page under 200 KB,
# the caseload and the client record within 5x an empty view.
TREND_CSV_RAW_RATIO_TARGET = 3.0
EXPORT_RAW_RATIO_TARGET = 10.0
TREND_PAGE_SIZE_TARGET = 200_000
WORKSPACE_BARE_RATIO_TARGET = 5.0

# SQL statements with their parameters, run in order on a raw cursor.
Statements = list[tuple[str, list]]


@dataclass
class Page:
    name: str
    url_name: str
    user: str  # "therapist", "owner" or "portal"
    args: Callable[[BenchData], list] = lambda data: []
    query: str = ""
    method: str = "GET"
    target_ms: float | None = None
    raw_ratio_target: float | None = None
    raw: Callable[[BenchData], Statements] | None = None
    bare_ratio_target: float | None = None  # times the empty view, at most
    size_target_bytes: int | None = None  # the response body, under


def pages() -> list[Page]:
    """Every page measured, in the order of the report."""
    record = lambda data: [data.record_client.pk]  # noqa: E731
    form = lambda data: [data.form_client.pk]  # noqa: E731
    search_like = ["%patel%", "%patel%"]
    sessions_search = "WHERE (upper(c.last_name) LIKE upper(%s) OR upper(c.first_name) LIKE upper(%s))"
    clients_search = "AND (upper(c.last_name) LIKE upper(%s) OR upper(c.first_name) LIKE upper(%s))"
    year = _last_year()
    return [
        Page(
            "caseload (300 clients)",
            "clients:caseload",
            "therapist",
            target_ms=THERAPIST_TARGET_MS,
            raw=_caseload_raw,
            bare_ratio_target=WORKSPACE_BARE_RATIO_TARGET,
        ),
        Page(
            "client record (520 sessions)",
            "clients:detail",
            "therapist",
            record,
            target_ms=THERAPIST_TARGET_MS,
            raw=_record_raw,
            bare_ratio_target=WORKSPACE_BARE_RATIO_TARGET,
        ),
        Page("session form GET", "sessions:new", "therapist", form, target_ms=THERAPIST_TARGET_MS, raw=_form_raw),
        Page(
            "session form POST",
            "sessions:new",
            "therapist",
            form,
            method="POST",
            target_ms=THERAPIST_TARGET_MS,
            raw=_post_raw,
        ),
        *(
            Page(
                f"trend page ({size} sessions)",
                "trends:page",
                "therapist",
                _client_with(size),
                query="range=all",
                target_ms=THERAPIST_TARGET_MS,
                raw_ratio_target=TREND_RAW_RATIO_TARGET if size == RECORD_SIZE else None,
                raw=_trend_raw(size),
                size_target_bytes=TREND_PAGE_SIZE_TARGET if size == RECORD_SIZE else None,
            )
            for size in TREND_SIZES
        ),
        Page(
            f"trend CSV ({RECORD_SIZE} sessions)",
            "trends:csv",
            "therapist",
            _client_with(RECORD_SIZE),
            query="range=all",
            target_ms=THERAPIST_TARGET_MS,
            raw_ratio_target=TREND_CSV_RAW_RATIO_TARGET,
            raw=_trend_raw(RECORD_SIZE),
        ),
        Page("portal home", "portal:home", "portal", target_ms=THERAPIST_TARGET_MS, raw=_portal_home_raw),
        Page(
            "portal trends (last year)",
            "portal:trends",
            "portal",
            target_ms=THERAPIST_TARGET_MS,
            raw=_trend_raw(RECORD_SIZE, signed_only=True, since=timezone.localdate() - dt.timedelta(days=365)),
        ),
        Page(
            "portal trends (all 520)",
            "portal:trends",
            "portal",
            query="range=all",
            target_ms=THERAPIST_TARGET_MS,
            raw=_trend_raw(RECORD_SIZE, signed_only=True),
        ),
        Page(
            f"portal export ZIP ({RECORD_SIZE} sessions)",
            "portal:export_zip",
            "portal",
            target_ms=THERAPIST_TARGET_MS,
            raw_ratio_target=EXPORT_RAW_RATIO_TARGET,
            raw=_portal_export_raw,
        ),
        Page(
            "admin clients",
            "admin:clients_client_changelist",
            "owner",
            target_ms=ADMIN_TARGET_MS,
            raw=_admin_clients_raw(),
        ),
        Page(
            "admin clients, filter SPMS",
            "admin:clients_client_changelist",
            "owner",
            query="ms_type__exact=spms",
            target_ms=ADMIN_TARGET_MS,
            raw=_admin_clients_raw("AND c.ms_type = %s", ["spms"]),
        ),
        Page(
            "admin clients, search",
            "admin:clients_client_changelist",
            "owner",
            query="q=patel",
            target_ms=ADMIN_TARGET_MS,
            raw=_admin_clients_raw(clients_search, search_like),
        ),
        Page(
            "admin sessions",
            "admin:treatment_sessions_treatmentsession_changelist",
            "owner",
            target_ms=ADMIN_TARGET_MS,
            raw=_admin_sessions_raw(),
        ),
        Page(
            "admin sessions, filter home",
            "admin:treatment_sessions_treatmentsession_changelist",
            "owner",
            query="setting__exact=home",
            target_ms=ADMIN_TARGET_MS,
            raw=_admin_sessions_raw("WHERE s.setting = %s", ["home"]),
        ),
        Page(
            f"admin sessions, year {year}",
            "admin:treatment_sessions_treatmentsession_changelist",
            "owner",
            query=f"started_at__year={year}",
            target_ms=ADMIN_TARGET_MS,
            raw=_admin_sessions_raw(
                "WHERE s.started_at >= %s AND s.started_at < %s",
                [
                    timezone.make_aware(dt.datetime(year, 1, 1)),
                    timezone.make_aware(dt.datetime(year + 1, 1, 1)),
                ],
            ),
        ),
        Page(
            "admin sessions, search",
            "admin:treatment_sessions_treatmentsession_changelist",
            "owner",
            query="q=patel",
            target_ms=ADMIN_TARGET_MS,
            raw=_admin_sessions_raw(sessions_search, search_like),
        ),
        Page(
            "admin audit log",
            "admin:practice_auditevent_changelist",
            "owner",
            target_ms=ADMIN_TARGET_MS,
            raw=_audit_raw,
        ),
        *_outcomes_pages(),
    ]


def admin_option_pages() -> list[Page]:
    """Every filter, sortable column, search and drill-down level of every big changelist, as the owner.

    The same options the index-plan test checks (devtools/admin_options.py); each at the admin's target, with
    no raw fetch of its own (the plain changelists above have theirs). Names start "admin option"
    (``bench --only "admin option"``; ``--skip-admin-options`` leaves them out).
    """
    owner = User.objects.filter(username=OWNER_USERNAME).first()
    if owner is None:  # measured after dataset.prepare(), which creates the bench owner
        return []
    result: dict[str, Page] = {}
    for model_admin in registered_changelists():
        meta = model_admin.model._meta
        for query in changelist_options(model_admin, owner, year=_last_year(), search_term="patel"):
            name = f"admin option {meta.label_lower}?{query}"
            result[name] = Page(
                name,
                f"admin:{meta.app_label}_{meta.model_name}_changelist",
                "owner",
                query=query,
                target_ms=ADMIN_TARGET_MS,
            )
    return list(result.values())


# --- raw fetches: the rows each page shows, read with hand-written SQL ------------------------------------------------


def _t(model: type[models.Model]) -> str:
    return model._meta.db_table


def _caseload_raw(data: BenchData) -> Statements:
    client, phase, session, through = _t(Client), _t(DiseasePhase), _t(TreatmentSession), Client.therapists.through
    return [
        (
            f"SELECT c.*, (SELECT p.phase FROM {phase} p WHERE p.client_id = c.id AND p.ended_on IS NULL LIMIT 1), "
            f"(SELECT max(s.started_at) FROM {session} s WHERE s.client_id = c.id AND s.started_at <= %s) "
            f"FROM {client} c JOIN {_t(through)} t ON t.client_id = c.id "
            "WHERE t.user_id = %s AND c.archived_at IS NULL ORDER BY c.last_name, c.first_name, c.id LIMIT 25",
            [timezone.now(), data.therapist.pk],
        ),
        (
            f"SELECT count(*) FROM {client} c JOIN {_t(through)} t ON t.client_id = c.id "
            "WHERE t.user_id = %s AND c.archived_at IS NULL",
            [data.therapist.pk],
        ),
    ]


def _record_raw(data: BenchData) -> Statements:
    client_id = data.record_client.pk
    phase, session = _t(DiseasePhase), _t(TreatmentSession)
    return [
        (f"SELECT * FROM {_t(Client)} WHERE id = %s", [client_id]),
        (f"SELECT * FROM {phase} WHERE client_id = %s ORDER BY started_on DESC", [client_id]),
        (
            f"SELECT s.*, u.first_name, u.last_name, (SELECT p.phase FROM {phase} p WHERE p.client_id = s.client_id "
            "AND p.started_on <= CAST(s.started_at AS date) "
            "AND (p.ended_on IS NULL OR p.ended_on > CAST(s.started_at AS date)) LIMIT 1) "
            f"FROM {session} s JOIN {_t(User)} u ON u.id = s.therapist_id WHERE s.client_id = %s "
            "ORDER BY s.started_at DESC, s.id DESC LIMIT 20",
            [client_id],
        ),
        (f"SELECT count(*) FROM {session} WHERE client_id = %s", [client_id]),
    ]


def _form_raw(data: BenchData) -> Statements:
    client_id = data.form_client.pk
    return [
        (f"SELECT * FROM {_t(Client)} WHERE id = %s", [client_id]),
        (
            f"SELECT phase FROM {_t(DiseasePhase)} WHERE client_id = %s AND started_on <= %s "
            "AND (ended_on IS NULL OR ended_on > %s) LIMIT 1",
            [client_id, timezone.localdate(), timezone.localdate()],
        ),
        (f"SELECT * FROM {_t(Technique)} WHERE is_active ORDER BY name", []),
    ]


def _post_raw(data: BenchData) -> Statements:
    """Writing one session and its technique row, in a transaction rolled back by the caller."""
    now = timezone.now()
    session_columns = (
        "client_id, therapist_id, started_at, duration_minutes, setting, pain_before, fatigue_before, pain_after, "
        "fatigue_after, subjective, objective, assessment, plan, client_summary, safety_override_reason, status, "
        "version, created_at, updated_at"
    )
    technique = Technique.objects.order_by("pk").values_list("pk", flat=True).first()
    return [
        (
            f"INSERT INTO {_t(TreatmentSession)} ({session_columns}) VALUES "
            "(%s, %s, %s, 60, 'clinic', 6, 6, 4, 5, 'bench', '', '', '', '', '', 'draft', 1, %s, %s)",
            [data.form_client.pk, data.therapist.pk, now, now, now],
        ),
        (
            f"INSERT INTO {_t(TechniqueUse)} (session_id, technique_id, body_region, pressure) "
            f"SELECT max(id), %s, 'upper_back', 'light' FROM {_t(TreatmentSession)} WHERE client_id = %s",
            [technique, data.form_client.pk],
        ),
    ]


def _client_with(size: int) -> Callable[[BenchData], list]:
    """The arguments of a page about the bench client with ``size`` sessions."""
    return lambda data: [data.clients_by_size[size].pk]


def _trend_raw(
    size: int, *, signed_only: bool = False, since: dt.date | None = None
) -> Callable[[BenchData], Statements]:
    def statements(data: BenchData) -> Statements:
        client_id = data.clients_by_size[size].pk
        session, use = _t(TreatmentSession), _t(TechniqueUse)
        where = "s.client_id = %s" + (" AND s.status = 'signed'" if signed_only else "")
        params: list[Any] = [client_id]
        if since is not None:
            where += " AND s.started_at >= %s"
            params.append(since)
        columns = (
            "s.id, s.started_at, s.duration_minutes, s.setting, s.status, "
            "s.pain_before, s.pain_after, s.fatigue_before, s.fatigue_after"
        )
        rows = [
            (f"SELECT {columns} FROM {session} s WHERE {where} ORDER BY s.started_at, s.id", params),
            (
                f"SELECT u.session_id, t.name, u.body_region, u.pressure FROM {use} u "
                f"JOIN {_t(Technique)} t ON t.id = u.technique_id JOIN {session} s ON s.id = u.session_id "
                f"WHERE {where} ORDER BY u.id",
                params,
            ),
            (
                f"SELECT a.* FROM {_t(SessionAmendment)} a JOIN {session} s ON s.id = a.session_id WHERE {where}",
                params,
            ),
            (f"SELECT * FROM {_t(DiseasePhase)} WHERE client_id = %s ORDER BY started_on", [client_id]),
        ]
        rows.append((f"SELECT * FROM {_t(SelfReport)} WHERE client_id = %s ORDER BY recorded_on", [client_id]))
        return rows

    return statements


def _portal_home_raw(data: BenchData) -> Statements:
    client_id = data.record_client.pk
    session, use = _t(TreatmentSession), _t(TechniqueUse)
    return [
        (f"SELECT * FROM {_t(Client)} WHERE user_id = %s", [data.portal_user.pk]),
        (
            "SELECT s.id, s.started_at, s.duration_minutes, s.setting, s.pain_before, s.pain_after, "
            "s.fatigue_before, s.fatigue_after, s.client_summary, u.first_name, u.last_name "
            f"FROM {session} s JOIN {_t(User)} u ON u.id = s.therapist_id "
            "WHERE s.client_id = %s AND s.status = 'signed' ORDER BY s.started_at DESC, s.id DESC LIMIT 10",
            [client_id],
        ),
        (
            f"SELECT u.* FROM {use} u WHERE u.session_id IN (SELECT id FROM {session} WHERE client_id = %s "
            "AND status = 'signed' ORDER BY started_at DESC, id DESC LIMIT 10)",
            [client_id],
        ),
        (f"SELECT * FROM {_t(DiseasePhase)} WHERE client_id = %s ORDER BY started_on DESC", [client_id]),
        (f"SELECT count(*) FROM {session} WHERE client_id = %s AND status = 'signed'", [client_id]),
    ]


def _portal_export_raw(data: BenchData) -> Statements:
    """Each table "My data" holds, read once: the client and their therapists, the signed sessions with their
    therapist, their technique rows, their amendments, the phases and the self-reports."""
    client_id = data.record_client.pk
    session, use, signed = _t(TreatmentSession), _t(TechniqueUse), "s.client_id = %s AND s.status = 'signed'"
    through = _t(Client.therapists.through)
    return [
        (f"SELECT * FROM {_t(Client)} WHERE user_id = %s", [data.portal_user.pk]),
        (
            f"SELECT u.first_name, u.last_name, u.username FROM {through} t JOIN {_t(User)} u ON u.id = t.user_id "
            "WHERE t.client_id = %s",
            [client_id],
        ),
        (
            "SELECT s.id, s.started_at, s.duration_minutes, s.setting, s.pain_before, s.pain_after, "
            "s.fatigue_before, s.fatigue_after, s.client_summary, u.first_name, u.last_name, u.username "
            f"FROM {session} s JOIN {_t(User)} u ON u.id = s.therapist_id WHERE {signed} "
            "ORDER BY s.started_at, s.id",
            [client_id],
        ),
        (
            f"SELECT u.session_id, t.name, u.body_region, u.pressure FROM {use} u "
            f"JOIN {_t(Technique)} t ON t.id = u.technique_id JOIN {session} s ON s.id = u.session_id "
            f"WHERE {signed} ORDER BY u.id",
            [client_id],
        ),
        (
            f"SELECT a.session_id, a.changes FROM {_t(SessionAmendment)} a JOIN {session} s ON s.id = a.session_id "
            f"WHERE {signed} ORDER BY a.created_at, a.id",
            [client_id],
        ),
        (
            f"SELECT phase, started_on, ended_on FROM {_t(DiseasePhase)} WHERE client_id = %s ORDER BY started_on",
            [client_id],
        ),
        (f"SELECT * FROM {_t(SelfReport)} WHERE client_id = %s ORDER BY recorded_on", [client_id]),
    ]


def _admin_sessions_raw(where: str = "", params: list | None = None) -> Callable[[BenchData], Statements]:
    def statements(data: BenchData) -> Statements:
        return [
            (
                f"SELECT s.*, c.first_name, c.last_name, u.username, u.first_name, u.last_name "
                f"FROM {_t(TreatmentSession)} s JOIN {_t(Client)} c ON c.id = s.client_id "
                f"JOIN {_t(User)} u ON u.id = s.therapist_id {where} ORDER BY s.started_at DESC, s.id DESC LIMIT 50",
                list(params or []),
            )
        ]

    return statements


def _admin_clients_raw(where: str = "", params: list | None = None) -> Callable[[BenchData], Statements]:
    def statements(data: BenchData) -> Statements:
        client, phase, session, through = _t(Client), _t(DiseasePhase), _t(TreatmentSession), Client.therapists.through
        return [
            (
                f"SELECT c.*, (SELECT p.phase FROM {phase} p WHERE p.client_id = c.id AND p.ended_on IS NULL LIMIT 1), "
                f"(SELECT max(s.started_at) FROM {session} s WHERE s.client_id = c.id), "
                f"(SELECT count(*) FROM {session} s WHERE s.client_id = c.id) "
                f"FROM {client} c WHERE c.archived_at IS NULL {where} "
                "ORDER BY c.last_name, c.first_name, c.id LIMIT 50",
                list(params or []),
            ),
            (
                f"SELECT t.client_id, u.first_name, u.last_name FROM {_t(through)} t JOIN {_t(User)} u "
                f"ON u.id = t.user_id WHERE t.client_id IN (SELECT c.id FROM {client} c WHERE c.archived_at IS NULL "
                f"{where} ORDER BY c.last_name, c.first_name, c.id LIMIT 50)",
                list(params or []),
            ),
        ]

    return statements


def _audit_raw(data: BenchData) -> Statements:
    return [(f"SELECT * FROM {_t(AuditEvent)} ORDER BY sequence DESC LIMIT 50", [])]


def _last_year() -> int:
    return timezone.localdate().year - 1


OUTCOMES_TARGET_MS = 500.0


def _outcomes_pages() -> list[Page]:
    """The owner's outcomes report (issue 14): default range, all time, each filter, and each CSV file.

    The raw fetch is the report's own SQL for what the page or file shows (courses; techniques; visits by
    therapist), so the ratio to it is the cost of the view, the statistics and the rendering.
    """
    all_time = "start=&end="
    # The demo's first therapist (seed_demo), who saw a share of every large practice's clients.
    therapist = User.objects.filter(username="maria").values_list("pk", flat=True).first() or 0
    report = [
        ("outcomes report (last 12 months)", ""),
        ("outcomes report (all time)", all_time),
        ("outcomes report, filter MS type", "ms_type=rrms"),
        ("outcomes report, filter phase", "phase=remission"),
        ("outcomes report, filter therapist", f"therapist={therapist}"),
        ("outcomes report, 12 treatments, all time", f"{all_time}&treatments=12"),
    ]
    reads = {"summary": ("courses",), "courses": ("courses",), "techniques": ("techniques",), "therapists": ()}
    csvs = [
        (f"outcomes {name}.csv ({label})", f"outcomes:{name}_csv", query, reads[name])
        for name in ("summary", "courses", "techniques", "therapists")
        for label, query in (("last 12 months", ""), ("all time", all_time))
    ]
    everything = ("courses", "techniques", "therapists")
    return [
        *(
            Page(
                name,
                "outcomes:report",
                "owner",
                query=query,
                target_ms=OUTCOMES_TARGET_MS,
                raw=_outcomes_raw(query, everything),
            )
            for name, query in report
        ),
        *(
            Page(
                name,
                url,
                "owner",
                query=query,
                target_ms=OUTCOMES_TARGET_MS,
                raw=_outcomes_raw(query, parts or ("therapists",)),
            )
            for name, url, query, parts in csvs
        ),
    ]


def _outcomes_raw(query: str, parts: tuple[str, ...]) -> Callable[[BenchData], Statements]:
    def raw(data: BenchData) -> Statements:
        filters = ReportFilterForm(QueryDict(query)).filters()
        statements: Statements = []
        if "courses" in parts:
            statements.append(outcomes_selectors.courses_query(filters))
        if "techniques" in parts:
            statements.append(outcomes_selectors.techniques_query(filters))
        if "therapists" in parts:
            statements.append(outcomes_selectors.signed_visits_query(filters))
        return statements

    return raw
