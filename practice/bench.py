"""The page benchmark behind ``manage.py bench``.

Against the configured database it prepares, idempotently, what the pages need inside the data set
(a therapist with 300 clients, clients with 5, 52 and 520 sessions, a portal account, an owner),
then requests each page in-process (Django's test client, signed in with ``force_login``, all the
middleware) and reports the median and 95th percentile server time, the number of queries, and
two floors measured in the same run:

- *bare*: a view that returns an empty response, through the same middleware as the same user;
- *raw fetch*: hand-written SQL that reads the rows the page shows, nothing else.

Pages whose view does not exist (yet) are reported as not available. Also here: a parser for the
fields of an HTML form and the filling of the session form, shared with the load test.
"""

import datetime as dt
import hashlib
import json
import platform
import random
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection, reset_queries, transaction
from django.http import HttpRequest, HttpResponse
from django.test import Client as TestClient
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone

from clients.body_regions import BodyRegion
from clients.models import Client, DiseasePhase, Phase, SelfReport
from practice import demo
from practice.audit import CHAIN_FIELDS
from practice.models import GENESIS_HASH, AuditChainHead, AuditEvent, canonical_bytes
from practice.roles import OWNER, THERAPIST
from sessions.models import SessionAmendment, Technique, TechniqueUse, TreatmentSession

BENCH_DOMAIN = "bench.invalid"
THERAPIST_USERNAME = "bench-therapist"
OWNER_USERNAME = "bench-owner"
PORTAL_USERNAME = "bench-portal"
CASELOAD_SIZE = 300
TREND_SIZES = (5, 52, 520)
RECORD_SIZE = 520
DEFAULT_AUDIT_EVENTS = 1_000_000

THERAPIST_TARGET_MS = 50.0
ADMIN_TARGET_MS = 200.0
TREND_RAW_RATIO_TARGET = 5.0


# --- the bench data set ----------------------------------------------------------------------------------------------


@dataclass
class BenchData:
    therapist: User
    owner: User
    portal_user: User
    clients_by_size: dict[int, Client]  # number of sessions -> client
    form_client: Client
    caseload_size: int
    audit_events: int

    @property
    def record_client(self) -> Client:
        return self.clients_by_size[RECORD_SIZE]


def bench_email(name: str) -> str:
    return f"bench-{name}@{BENCH_DOMAIN}"


def prepare(*, audit_events: int = DEFAULT_AUDIT_EVENTS, log: Callable[[str], None] = print) -> BenchData:
    """Create what the benchmark needs, once; later runs find it and change nothing."""
    therapist = _bench_user(THERAPIST_USERNAME, "Bench", "Therapist", group=THERAPIST)
    owner = _bench_user(OWNER_USERNAME, "Bench", "Owner", group=OWNER, is_staff=True)
    portal_user = _bench_user(PORTAL_USERNAME, "Bench", "Portal")
    by_size = {size: _client_with_sessions(size, therapist, log) for size in TREND_SIZES}
    record = by_size[RECORD_SIZE]
    if record.user_id is None:
        record.user = portal_user
        record.save(update_fields=["user"])
    form_client = _form_client(therapist)
    caseload = _fill_caseload(therapist, log)
    events = _fill_audit_log(audit_events, log)
    return BenchData(therapist, owner, portal_user, by_size, form_client, caseload, events)


def _bench_user(username: str, first: str, last: str, *, group: str | None = None, is_staff: bool = False) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"first_name": first, "last_name": last, "email": f"{username}@{BENCH_DOMAIN}", "is_staff": is_staff},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


def _client_with_sessions(size: int, therapist: User, log: Callable[[str], None]) -> Client:
    """A client whose weekly history holds exactly ``size`` signed sessions, ending last week."""
    email = bench_email(str(size))
    client = Client.objects.filter(email=email).first()
    if client is not None:
        return client
    log(f"Preparing a client with {size} sessions...")
    today = timezone.localdate()
    years = size / 35 + 1  # weekly, less flares and missed weeks: never fewer than 35 a year
    # An index no demo client has, odd so that no draft is left at the end (see demo._ClientPlan).
    plan = demo._ClientPlan(90_001 + 2 * size, random.Random(f"bench-{size}"), years, today)
    with transaction.atomic():
        client = plan.client()
        client.first_name, client.last_name, client.email = "Bench", f"Sessions{size:03d}", email
        client.save()
        client.therapists.add(therapist)
        phases = plan.phases(client.pk)
        sessions, uses = [], []
        plan.sessions(client.pk, phases, therapist.pk, _techniques(), sessions, uses)
        keep_from = len(sessions) - size  # the most recent ``size`` sessions
        if keep_from < 0:
            raise RuntimeError(f"{years:.1f} years of weekly sessions gave only {len(sessions)} of {size}.")
        demo.insert_rows(DiseasePhase, demo.PHASE_COLUMNS, phases)
        ids = demo.insert_rows(TreatmentSession, demo.SESSION_COLUMNS, sessions[keep_from:], return_ids=True)
        demo.insert_rows(
            TechniqueUse,
            demo.USE_COLUMNS,
            [(ids[ref - keep_from], *rest) for ref, *rest in uses if ref >= keep_from],
        )
    return client


def _techniques() -> list[tuple[int, bool]]:
    recommended = Technique.objects.filter(guidance="recommended", is_active=True).order_by("slug")
    return [(t.pk, t.light_touch) for t in recommended]


def _form_client(therapist: User) -> Client:
    """A client in remission with nothing the safety screen stops or cautions about: the form saves at once."""
    email = bench_email("form")
    client = Client.objects.filter(email=email).first()
    if client is None:
        with transaction.atomic():
            client = Client.objects.create(
                first_name="Bench",
                last_name="Form",
                email=email,
                heat_sensitive=False,
                ms_type="rrms",
                diagnosis_year=timezone.localdate().year - 5,
            )
            client.therapists.add(therapist)
            DiseasePhase.objects.create(
                client=client, phase=Phase.REMISSION, started_on=timezone.localdate() - dt.timedelta(days=365)
            )
    return client


def _fill_caseload(therapist: User, log: Callable[[str], None]) -> int:
    """Give the bench therapist demo clients until their caseload holds CASELOAD_SIZE clients."""
    cared_for = Client.objects.filter(therapists=therapist)
    missing = CASELOAD_SIZE - cared_for.count()
    if missing > 0:
        others = (
            Client.objects.filter(email__endswith=f"@{demo.EMAIL_DOMAIN}", archived_at__isnull=True)
            .exclude(therapists=therapist)
            .order_by("pk")
            .values_list("pk", flat=True)[:missing]
        )
        through = Client.therapists.through
        through.objects.bulk_create([through(client_id=pk, user_id=therapist.pk) for pk in others])
        log(f"Caseload of {THERAPIST_USERNAME}: added {len(others)} demo clients.")
    return cared_for.count()


def _fill_audit_log(wanted: int, log: Callable[[str], None]) -> int:
    """Grow the audit log to ``wanted`` events, chained like practice.audit.append would (PostgreSQL only).

    Years of use leave millions of events; appending them one at a time through the chain lock would
    take hours, so they are hashed here and written with COPY, and the chain stays verifiable
    (``manage.py verify_audit_chain``).
    """
    have = AuditEvent.objects.count()
    if wanted <= have or connection.vendor != "postgresql":
        return have
    log(f"Writing {wanted - have:,} audit events...")
    with transaction.atomic():
        head_table = connection.ops.quote_name(AuditChainHead._meta.db_table)
        with connection.cursor() as cursor:
            # The same upsert appenders use: it locks the head row until this transaction ends.
            cursor.execute(
                f"INSERT INTO {head_table} (id, length) VALUES (1, 0) "
                f"ON CONFLICT (id) DO UPDATE SET length = {head_table}.length RETURNING length"
            )
            length = int(cursor.fetchone()[0])
        last = AuditEvent.objects.order_by("-sequence").values_list("hash", flat=True).first()
        rows = _audit_rows(length, last, wanted - have)
        demo.insert_rows(AuditEvent, _AUDIT_COLUMNS, rows)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {head_table} SET length = %s WHERE id = 1", [length + len(rows)])
    return AuditEvent.objects.count()


# The same columns, in the same order, as the chain the verifier reads.
_AUDIT_COLUMNS = CHAIN_FIELDS


def _audit_rows(length: int, prev_hash: str | None, count: int) -> list[tuple]:
    rng = random.Random(f"bench-audit-{length}")
    users = list(User.objects.filter(groups__name=THERAPIST).values_list("pk", "username")) or [(None, "")]
    client_ids = list(Client.objects.values_list("pk", flat=True)[:10_000]) or [None]
    actions = ["read"] * 8 + ["create", "change", "sign", "login", "logout", "export"]
    prev = prev_hash or GENESIS_HASH
    now = timezone.now()
    # Spread over the last ten years, in order, as a chain is written.
    step = dt.timedelta(days=3650) / max(count, 1)
    rows = []
    for n in range(count):
        sequence = length + n + 1
        actor_id, username = rng.choice(users)
        action = rng.choice(actions)
        client_id = rng.choice(client_ids) if action not in ("login", "logout") else None
        fields = {
            "sequence": sequence,
            "time": now - step * (count - n),
            "actor_id": actor_id,
            "actor_username": username,
            "action": action,
            "object_type": "client" if client_id else "",
            "object_id": str(client_id) if client_id else "",
            "client_id": client_id,
            "ip_address": f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 254)}",
            "outcome": "ok",
            "prev_hash": prev,
        }
        digest = hashlib.sha256(canonical_bytes(**fields)).hexdigest()
        rows.append((*fields.values(), digest))
        prev = digest
    return rows


def data_set_size() -> dict[str, int]:
    return {
        "clients": Client.objects.count(),
        "sessions": TreatmentSession.objects.count(),
        "technique_uses": TechniqueUse.objects.count(),
        "phases": DiseasePhase.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


# --- HTML forms, as a browser would send them ------------------------------------------------------------------------


class FormFields(HTMLParser):
    """The fields of a POST form in a page, with the values a browser would send untouched.

    The form is the first one with a field named ``containing`` (pages have a sign-out form too).
    ``fields`` maps each name to its values; ``options`` maps each <select> to its (value, label) pairs.
    """

    def __init__(self, html: str, containing: str = "csrfmiddlewaretoken"):
        super().__init__(convert_charrefs=True)
        self.containing = containing
        self.fields: dict[str, list[str]] = {}
        self.options: dict[str, list[tuple[str, str]]] = {}
        self._state = "before"
        self._select: str | None = None
        self._selected = False
        self._option: str | None = None
        self._textarea: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and self._state == "before" and a.get("method", "").lower() == "post":
            self._state = "in"
        if self._state != "in" or not a.get("name") and tag not in ("option",):
            if tag == "option" and self._select is not None:
                self._start_option(a)
            return
        name = a.get("name", "")
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                self.fields.setdefault(name, [])
                return
            self.fields.setdefault(name, []).append(a.get("value", "on" if kind in ("checkbox", "radio") else ""))
        elif tag == "select":
            self._select, self._selected = name, False
            self.options[name] = []
            self.fields.setdefault(name, [])
        elif tag == "option" and self._select is not None:
            self._start_option(a)
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = [""]

    def _start_option(self, a: dict[str, str]) -> None:
        self._option = a.get("value", "")
        self.options[self._select].append((self._option, ""))
        if "selected" in a:
            self.fields[self._select] = [self._option]
            self._selected = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea][-1] += data
        elif self._select is not None and self._option is not None:
            value, label = self.options[self._select][-1]
            self.options[self._select][-1] = (value, label + data.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._state == "in":
            if self.containing in self.fields:
                self._state = "after"
            else:  # not the form wanted: forget it and look further
                self._state = "before"
                self.fields, self.options = {}, {}
        elif tag == "textarea":
            self._textarea = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            if not self._selected and self.options[self._select]:
                self.fields[self._select] = [self.options[self._select][0][0]]  # a browser sends the first
            self._select = None


SESSION_FORM_FIELD = "pain_before"


def fill_session_form(form: FormFields, *, marker: str, region: str = BodyRegion.UPPER_BACK) -> dict[str, list[str]]:
    """The new-session form filled in as a therapist would: scores, one technique row, ``marker`` in the notes."""
    data = {name: list(values) for name, values in form.fields.items() if values}
    data.update(
        pain_before=["6"],
        fatigue_before=["6"],
        pain_after=["4"],
        fatigue_after=["5"],
        subjective=[marker],
        client_summary=["Gentle work on the upper back. Rest this evening."],
    )
    technique = next(
        (name for name in form.options if name.endswith("-technique")), None
    )  # the first technique row (uses-0-technique)
    if technique is not None:
        prefix = technique[: -len("technique")]
        choices = [(value, label) for value, label in form.options[technique] if value]
        swedish = next((value for value, label in choices if label.startswith("Swedish")), choices[0][0])
        data.update({technique: [swedish], f"{prefix}body_region": [region], f"{prefix}pressure": ["light"]})
    return data


def confirm_findings(form: FormFields, data: dict[str, list[str]]) -> dict[str, list[str]]:
    """After the form came back with safety findings: keep what was typed, confirm, give a reason."""
    again = dict(data)
    for name in ("reviewed", "csrfmiddlewaretoken", "version"):
        if form.fields.get(name):
            again[name] = form.fields[name]
    again["confirm_cautions"] = ["on"]
    again["safety_override_reason"] = ["Checked with the client and their physician before the session."]
    return again


# --- pages and floors ------------------------------------------------------------------------------------------------


def empty_view(request: HttpRequest) -> HttpResponse:
    """The bare floor: all the middleware, no work."""
    return HttpResponse(b"")


class _Urls:
    """A URLconf with the bench's empty view in front of the project's own (used as ROOT_URLCONF while measuring)."""

    def __init__(self, root: str):
        self.root = root

    @property
    def urlpatterns(self):
        return [path("__bench__/empty/", empty_view, name="bench-empty"), path("", include(self.root))]


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
    raw: Callable[[BenchData], list[tuple[str, list]]] | None = None


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
    target: str = ""
    met: bool | None = None
    samples_ms: list[float] = field(default_factory=list)


def _t(model) -> str:
    return model._meta.db_table


def _caseload_raw(data: BenchData) -> list[tuple[str, list]]:
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


def _record_raw(data: BenchData) -> list[tuple[str, list]]:
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


def _form_raw(data: BenchData) -> list[tuple[str, list]]:
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


def _post_raw(data: BenchData) -> list[tuple[str, list]]:
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


def _trend_raw(size: int, *, signed_only: bool = False, since: dt.date | None = None):
    def statements(data: BenchData) -> list[tuple[str, list]]:
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


def _portal_home_raw(data: BenchData) -> list[tuple[str, list]]:
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


def _admin_sessions_raw(where: str = "", params: list | None = None):
    def statements(data: BenchData) -> list[tuple[str, list]]:
        return [
            (
                f"SELECT s.*, c.first_name, c.last_name, u.username, u.first_name, u.last_name "
                f"FROM {_t(TreatmentSession)} s JOIN {_t(Client)} c ON c.id = s.client_id "
                f"JOIN {_t(User)} u ON u.id = s.therapist_id {where} ORDER BY s.started_at DESC, s.id DESC LIMIT 50",
                list(params or []),
            )
        ]

    return statements


def _admin_clients_raw(where: str = "", params: list | None = None):
    def statements(data: BenchData) -> list[tuple[str, list]]:
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


def _audit_raw(data: BenchData) -> list[tuple[str, list]]:
    return [(f"SELECT * FROM {_t(AuditEvent)} ORDER BY sequence DESC LIMIT 50", [])]


def _last_year() -> int:
    return timezone.localdate().year - 1


def pages() -> list[Page]:
    record = lambda data: [data.record_client.pk]  # noqa: E731
    form = lambda data: [data.form_client.pk]  # noqa: E731
    search_like = ["%patel%", "%patel%"]
    sessions_search = "WHERE (upper(c.last_name) LIKE upper(%s) OR upper(c.first_name) LIKE upper(%s))"
    clients_search = "AND (upper(c.last_name) LIKE upper(%s) OR upper(c.first_name) LIKE upper(%s))"
    year = _last_year()
    return [
        Page(
            "caseload (300 clients)", "clients:caseload", "therapist", target_ms=THERAPIST_TARGET_MS, raw=_caseload_raw
        ),
        Page(
            "client record (520 sessions)",
            "clients:detail",
            "therapist",
            record,
            target_ms=THERAPIST_TARGET_MS,
            raw=_record_raw,
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
                lambda data, size=size: [data.clients_by_size[size].pk],
                query="range=all",
                target_ms=THERAPIST_TARGET_MS,
                raw_ratio_target=TREND_RAW_RATIO_TARGET if size == RECORD_SIZE else None,
                raw=_trend_raw(size),
            )
            for size in TREND_SIZES
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
    ]


# --- measuring -------------------------------------------------------------------------------------------------------


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least ``fraction`` of the samples at or below it."""
    ordered = sorted(samples)
    rank = max(1, int(-(-fraction * len(ordered) // 1)))
    return ordered[rank - 1]


def _timed(call: Callable[[], Any], repeat: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _run_raw(statements: list[tuple[str, list]]) -> None:
    writes = any(sql.lstrip().upper().startswith("INSERT") for sql, _params in statements)
    with transaction.atomic():
        with connection.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                if cursor.description is not None:
                    cursor.fetchall()
        if writes:
            transaction.set_rollback(True)


class Bench:
    def __init__(self, data: BenchData, *, repeat: int, warmup: int, log: Callable[[str], None] = print):
        self.data, self.repeat, self.warmup, self.log = data, repeat, warmup, log
        self._clients: dict[str, TestClient] = {}
        self._bare: dict[str, float] = {}

    def client(self, role: str) -> TestClient:
        if role not in self._clients:
            user = {"therapist": self.data.therapist, "owner": self.data.owner, "portal": self.data.portal_user}[role]
            client = TestClient()
            client.force_login(user)
            self._clients[role] = client
        return self._clients[role]

    def bare_ms(self, role: str) -> float:
        if role not in self._bare:
            client = self.client(role)
            url = reverse("bench-empty")
            self._bare[role] = statistics.median(_timed(lambda: client.get(url), self.repeat, self.warmup))
        return self._bare[role]

    def run(self, page: Page) -> Result:
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
                return client.post(url, payload)
        else:
            expected = 200

            def call():
                return client.get(url)

        response = call()
        if response.status_code != expected:
            where = response.get("Location", "")
            return Result(page.name, url, f"HTTP {response.status_code} {where}".strip())
        reset_queries()  # the log is a bounded deque: once full, CaptureQueriesContext would count nothing
        with CaptureQueriesContext(connection) as captured:
            call()
        queries = len(captured)  # now: the next request empties the log it reads from
        samples = _timed(call, self.repeat, self.warmup)
        result = Result(
            page.name,
            url,
            "ok",
            median_ms=statistics.median(samples),
            p95_ms=percentile(samples, 0.95),
            queries=queries,
            samples_ms=[round(s, 3) for s in samples],
        )
        result.bare_ms = self.bare_ms(page.user)
        result.x_bare = result.median_ms / result.bare_ms
        statements = page.raw(self.data) if page.raw else []
        if statements:
            result.raw_ms = statistics.median(_timed(lambda: _run_raw(statements), self.repeat, self.warmup))
            result.x_raw = result.median_ms / result.raw_ms
        self._judge(page, result)
        return result

    def _post_data(self, client: TestClient, url: str) -> dict[str, list[str]]:
        form = FormFields(client.get(url).content.decode(), SESSION_FORM_FIELD)
        data = fill_session_form(form, marker="bench: session form POST")
        first = client.post(url, data)
        if first.status_code == 200:  # the safety screen asked for a confirmation: answer it once
            data = confirm_findings(FormFields(first.content.decode(), SESSION_FORM_FIELD), data)
        return data

    @staticmethod
    def _judge(page: Page, result: Result) -> None:
        checks, targets = [], []
        if page.target_ms is not None:
            targets.append(f"< {page.target_ms:.0f} ms")
            checks.append(result.median_ms < page.target_ms)
        if page.raw_ratio_target is not None and result.x_raw is not None:
            targets.append(f"<= {page.raw_ratio_target:.0f}x raw")
            checks.append(result.x_raw <= page.raw_ratio_target)
        result.target = ", ".join(targets)
        result.met = all(checks) if checks else None


def run_bench(
    *, repeat: int, warmup: int, only: str = "", audit_events: int = DEFAULT_AUDIT_EVENTS, log=print
) -> dict[str, Any]:
    """Prepare, measure every page, and return the report (as written to JSON)."""
    data = prepare(audit_events=audit_events, log=log)
    size = data_set_size()
    root = settings.ROOT_URLCONF
    results = []
    # Measured as in production: no debug cursor, no 2FA prompt (the bench users have no device).
    with override_settings(
        ROOT_URLCONF=_Urls(root),
        DEBUG=False,
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        PRACTICE_REQUIRE_2FA=False,
    ):
        bench = Bench(data, repeat=repeat, warmup=warmup, log=log)
        for page in pages():
            if only and only.lower() not in page.name.lower():
                continue
            log(f"  {page.name}...")
            results.append(bench.run(page))
    return {
        "meta": {
            "time": timezone.now().isoformat(timespec="seconds"),
            "database": {"vendor": connection.vendor, "name": str(connection.settings_dict["NAME"])},
            "data_set": size,
            "caseload_size": data.caseload_size,
            "repeat": repeat,
            "warmup": warmup,
            "python": platform.python_version(),
            "django": django.get_version(),
            "commit": _git_commit(),
        },
        "bare_ms": {role: round(ms, 3) for role, ms in bench._bare.items()},
        "pages": [asdict(result) for result in results],
    }


def _git_commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(settings.BASE_DIR),
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def format_table(report: dict[str, Any]) -> str:
    meta = report["meta"]
    size = ", ".join(f"{name.replace('_', ' ')} {count:,}" for name, count in meta["data_set"].items())
    lines = [
        f"Database: {meta['database']['vendor']} {meta['database']['name']} ({size})",
        f"Each page {meta['repeat']} times after {meta['warmup']} warm-up requests; times are server time in ms.",
        "Bare floor (empty view, same middleware): "
        + ", ".join(f"{role} {ms:.1f} ms" for role, ms in report["bare_ms"].items()),
        "",
    ]
    header = ("page", "median", "p95", "queries", "x bare", "raw ms", "x raw", "target", "met")
    rows = [header]
    for page in report["pages"]:
        if page["status"] != "ok":
            rows.append((page["name"], page["status"], "", "", "", "", "", page["target"], ""))
            continue
        rows.append(
            (
                page["name"],
                f"{page['median_ms']:.1f}",
                f"{page['p95_ms']:.1f}",
                str(page["queries"]),
                f"{page['x_bare']:.1f}",
                "" if page["raw_ms"] is None else f"{page['raw_ms']:.1f}",
                "" if page["x_raw"] is None else f"{page['x_raw']:.1f}",
                page["target"],
                {True: "yes", False: "NO", None: ""}[page["met"]],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for number, row in enumerate(rows):
        cells = [cell.ljust(widths[i]) if i in (0, 7) else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        if row[1] and not row[1][0].isdigit() and number:
            cells = [row[0].ljust(widths[0]), row[1]]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write_json(report: dict[str, Any], path: str) -> None:
    Path(path).write_text(json.dumps(report, indent=2, default=str) + "\n")
