"""What the benchmark measures against, found or made inside the configured data set.

A therapist with 300 clients, clients with 5, 52 and 520 sessions, a portal account, an owner, a client
whose session form saves at once, and an audit log of a million events. Prepared idempotently: a second
run finds everything and changes nothing.
"""

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group, User
from django.db import connection, transaction
from django.utils import timezone

from clients.models import Client, Consent, ConsentKind, ConsentText, DiseasePhase, Phase
from devtools import demo
from devtools.bulk import insert_rows
from practice.audit import CHAIN_FIELDS
from practice.models import GENESIS_HASH, AuditChainHead, AuditEvent, canonical_bytes, chain_hash, chain_key
from practice.roles import OWNER, THERAPIST
from sessions.models import TechniqueUse, TreatmentSession

BENCH_DOMAIN = "bench.invalid"
THERAPIST_USERNAME = "bench-therapist"
OWNER_USERNAME = "bench-owner"
PORTAL_USERNAME = "bench-portal"
CASELOAD_SIZE = 300
TREND_SIZES = (5, 52, 520)
RECORD_SIZE = 520
DEFAULT_AUDIT_EVENTS = 1_000_000


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
    events = fill_audit_log(audit_events, log)
    return BenchData(therapist, owner, portal_user, by_size, form_client, caseload, events)


def newest_session_id() -> int:
    """The id of the newest session (one index probe), 0 with none: what ``data_set_size`` counts up to."""
    return TreatmentSession.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def data_set_size(sessions_up_to: int | None = None) -> dict[str, int]:
    """Rows of the big tables; sessions (and their technique rows) up to the id ``sessions_up_to`` if given."""
    sessions = TreatmentSession.objects.all()
    uses = TechniqueUse.objects.all()
    if sessions_up_to is not None:
        sessions, uses = sessions.filter(pk__lte=sessions_up_to), uses.filter(session_id__lte=sessions_up_to)
    return {
        "clients": Client.objects.count(),
        "sessions": sessions.count(),
        "technique_uses": uses.count(),
        "phases": DiseasePhase.objects.count(),
        "audit_events": AuditEvent.objects.count(),
    }


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
    # An index no demo client has, odd so that no draft is left at the end (see demo.ClientPlan).
    plan = demo.ClientPlan(90_001 + 2 * size, random.Random(f"bench-{size}"), years, today)
    with transaction.atomic():
        client = plan.client()
        client.first_name, client.last_name, client.email = "Bench", f"Sessions{size:03d}", email
        client.save()
        client.therapists.add(therapist)
        phases = plan.phases(client.pk)
        sessions: list[tuple] = []
        uses: list[tuple] = []
        plan.sessions(client.pk, phases, therapist.pk, demo.recommended_techniques(), sessions, uses)
        keep_from = len(sessions) - size  # the most recent ``size`` sessions
        if keep_from < 0:
            raise RuntimeError(f"{years:.1f} years of weekly sessions gave only {len(sessions)} of {size}.")
        insert_rows(DiseasePhase, demo.PHASE_COLUMNS, phases)
        ids = insert_rows(TreatmentSession, demo.SESSION_COLUMNS, sessions[keep_from:], return_ids=True)
        with demo.techniques_of_sessions_loaded_signed():
            insert_rows(
                TechniqueUse,
                demo.USE_COLUMNS,
                [(ids[ref - keep_from], *rest) for ref, *rest in uses if ref >= keep_from],
            )
    return client


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
    # No session is saved without a current consent to treatment (sessions.services.create_refusal).
    text = ConsentText.objects.current(ConsentKind.TREATMENT)
    if text is not None and not Consent.objects.filter(client=client, consent_text=text).exists():
        Consent.objects.create(client=client, consent_text=text, typed_name=client.full_name)
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


def fill_audit_log(wanted: int, log: Callable[[str], None]) -> int:
    """Grow the audit log to ``wanted`` events, chained like practice.audit.append would (PostgreSQL only).

    Years of use leave millions of events; appending them one at a time through the chain lock would
    take hours, so they are hashed here and written with COPY, and the chain stays verifiable
    (``manage.py verify_audit_chain``). Returns how many events the log holds.
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
        insert_rows(AuditEvent, _AUDIT_COLUMNS, rows)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {head_table} SET length = %s WHERE id = 1", [length + len(rows)])
    return AuditEvent.objects.count()


# The same columns, in the same order, as the chain the verifier reads.
_AUDIT_COLUMNS = CHAIN_FIELDS


def _audit_rows(length: int, prev_hash: str | None, count: int) -> list[tuple]:
    rng = random.Random(f"bench-audit-{length}")
    users: list[tuple[int | None, str]] = list(
        User.objects.filter(groups__name=THERAPIST).values_list("pk", "username")
    ) or [(None, "")]
    client_ids: list[int | None] = list(Client.objects.values_list("pk", flat=True)[:10_000]) or [None]
    actions = ["read"] * 8 + ["create", "change", "sign", "login", "logout", "export"]
    prev = prev_hash or GENESIS_HASH
    now = timezone.now()
    # Spread over the last ten years, in order, as a chain is written.
    step = dt.timedelta(days=3650) / max(count, 1)
    key = chain_key()
    rows = []
    for n in range(count):
        sequence = length + n + 1
        actor_id, username = rng.choice(users)
        action = rng.choice(actions)
        client_id = rng.choice(client_ids) if action not in ("login", "logout") else None
        fields: dict[str, Any] = {
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
        digest = chain_hash(canonical_bytes(**fields), key)
        rows.append((*fields.values(), digest))
        prev = digest
    return rows
