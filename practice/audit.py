"""The audit trail: who did what to which clinical record, chained so that tampering shows.

Views call one function::

    from practice import audit
    audit.record(request, audit.READ, obj=client)
    audit.record(request, audit.SIGN, obj=session)
    audit.record(request, audit.EXPORT, object_type="trends_csv", client_id=client.pk)
    audit.record(request, audit.ACCESS_DENIED, object_type="client", object_id=pk, outcome=audit.DENIED)

Each call costs three queries on either database (bump the chain head, read the previous hash,
insert). Never put health data in ``object_type`` or ``object_id``: ids and kinds of things only.
Record after the write succeeded, outside long transactions: appending holds the chain head's
lock until the surrounding transaction ends. Admin pages of clinical records: AuditedAdminMixin.
"""

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.db import connection, transaction
from django.db.models import Model
from django.http import HttpRequest
from django.utils import timezone

from practice.models import (
    GENESIS_HASH,
    AuditAction,
    AuditChainHead,
    AuditEvent,
    AuditOutcome,
    canonical_bytes,
    chain_hash,
    chain_key,
)
from practice.security import client_ip

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    _ModelAdmin = ModelAdmin[Any]
else:
    _ModelAdmin = object  # AuditedAdminMixin is mixed into ModelAdmins; only the type checker needs to know

READ = AuditAction.READ
CREATE = AuditAction.CREATE
CHANGE = AuditAction.CHANGE
SIGN = AuditAction.SIGN
AMEND = AuditAction.AMEND
ARCHIVE = AuditAction.ARCHIVE
PHASE_CHANGE = AuditAction.PHASE_CHANGE
LOGIN = AuditAction.LOGIN
LOGIN_FAILED = AuditAction.LOGIN_FAILED
LOGOUT = AuditAction.LOGOUT
ACCESS_DENIED = AuditAction.ACCESS_DENIED
EXPORT = AuditAction.EXPORT
CHAIN_HEAD_RESTORED = AuditAction.CHAIN_HEAD_RESTORED

OK = AuditOutcome.OK
DENIED = AuditOutcome.DENIED
FAILED = AuditOutcome.FAILED

# Short, stable names for the records the log points at.
OBJECT_TYPES = {
    "clients.client": "client",
    "clients.diseasephase": "phase",
    "clients.selfreport": "self_report",
    "treatment_sessions.treatmentsession": "session",
    "treatment_sessions.sessionamendment": "amendment",
    "treatment_sessions.techniqueuse": "technique_use",
    "measures.questionnaireresponse": "questionnaire",
    "measures.questionnaireamendment": "questionnaire_amendment",
    "clients.intake": "intake",
    "clients.consent": "consent",
    "clients.consentwithdrawal": "consent_withdrawal",
    "clients.consenttext": "consent_text",
}

# The fields the chain covers, in the order the verifier reads them.
CHAIN_FIELDS = (
    "sequence",
    "time",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "client_id",
    "ip_address",
    "outcome",
    "prev_hash",
    "hash",
)


def record(
    request: HttpRequest | None,
    action: str,
    *,
    obj: Model | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    client_id: int | None = None,
    outcome: str = OK,
    actor=None,
    username: str | None = None,
) -> AuditEvent:
    """Append one event. ``obj`` (a Client, TreatmentSession, DiseasePhase, ...) fills in what it can.

    The actor is the signed-in user of ``request`` unless ``actor`` is given; ``username`` records
    the name typed at a failed sign-in, where there is no actor.
    """
    if obj is not None:
        derived_type, derived_id, derived_client = describe(obj)
        object_type = object_type or derived_type
        object_id = derived_id if object_id is None else object_id
        client_id = derived_client if client_id is None else client_id
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    return append(
        actor_id=actor.pk if actor is not None else None,
        actor_username=(actor.get_username() if actor is not None else username or "")[:150],
        action=AuditAction(action).value,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        client_id=client_id,
        ip_address=client_ip(request) if request is not None else "",
        outcome=AuditOutcome(outcome).value,
    )


def describe(obj: Model) -> tuple[str, Any, int | None]:
    """(object type, object id, client id) of a clinical record."""
    label = obj._meta.label_lower
    object_type = OBJECT_TYPES.get(label, str(obj._meta.model_name))
    if label == "clients.client":
        return object_type, obj.pk, obj.pk
    client_id = getattr(obj, "client_id", None)
    if client_id is None and getattr(obj, "session_id", None) is not None:
        client_id = cast(Any, obj).session.client_id  # a session's part: techniques used, amendments
    return object_type, obj.pk, client_id


def append(**fields: Any) -> AuditEvent:
    """Chain and insert one event. The chain head upsert serialises appenders (see AuditChainHead)."""
    with transaction.atomic(savepoint=False):
        sequence, restored = _next_sequence()
        if restored:
            # The head row was gone (a TRUNCATE, a hand-made fix): it was rebuilt from the log itself, and
            # that is recorded in the chain before the event that noticed it, for verify_audit_chain to show.
            _insert(sequence, fields | _incident_fields())
            sequence, _ = _next_sequence()
        return _insert(sequence, fields)


def _insert(sequence: int, fields: dict[str, Any]) -> AuditEvent:
    last = list(AuditEvent.objects.order_by("-sequence").values_list("hash", flat=True)[:1])
    event = AuditEvent(sequence=sequence, time=timezone.now(), prev_hash=last[0] if last else GENESIS_HASH, **fields)
    event.hash = event.compute_hash()
    event.save(force_insert=True)
    return event


def _incident_fields() -> dict[str, Any]:
    return {"action": CHAIN_HEAD_RESTORED, "object_type": "audit_chain", "object_id": "", "outcome": FAILED}


def _next_sequence() -> tuple[int, bool]:
    """The next event's number, and whether the head row had to be rebuilt from the log.

    The UPDATE takes the head row's lock (PostgreSQL) or SQLite's write lock, so appenders queue here.
    Without the row, the next number comes from the newest event in the log, never from 1.
    """
    table = connection.ops.quote_name(AuditChainHead._meta.db_table)
    events = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET length = length + 1 WHERE id = 1 RETURNING length")
        row = cursor.fetchone()
        if row is not None:
            return int(row[0]), False
        # No head row: the first event ever, or the row was removed. Rebuild it from the log; when two
        # appenders race here, the second finds the row made and counts on from it.
        cursor.execute(
            # "WHERE true": SQLite would otherwise read ON CONFLICT as the SELECT's join condition.
            f"INSERT INTO {table} (id, length) SELECT 1, COALESCE(MAX(sequence), 0) + 1 FROM {events} WHERE true "
            "ON CONFLICT (id) DO NOTHING RETURNING length"
        )
        row = cursor.fetchone()
        if row is not None:
            return int(row[0]), int(row[0]) > 1
        cursor.execute(f"UPDATE {table} SET length = length + 1 WHERE id = 1 RETURNING length")
        return int(cursor.fetchone()[0]), False


@dataclass(frozen=True)
class ChainReport:
    checked: int
    problem: str = ""
    sequence: int | None = None
    last_hash: str = GENESIS_HASH
    # Events that record the chain head rebuilt from the log (a removed head row): worth a look.
    incidents: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problem


def verify_chain(events: Iterable[Mapping[str, Any]], expected_length: int | None = None) -> ChainReport:
    """Walk events in sequence order and report the first broken link.

    ``events`` are mappings with the CHAIN_FIELDS (ORM ``values()`` rows, or rows read from a
    restored copy of the database); ``expected_length`` is the chain head's length.
    """
    key = chain_key()
    previous_hash = GENESIS_HASH
    expected_sequence = 1
    incidents: list[int] = []
    for event in events:
        sequence = int(event["sequence"])
        if sequence != expected_sequence:
            missing = f"#{expected_sequence}" + (f" to #{sequence - 1}" if sequence - 1 > expected_sequence else "")
            return ChainReport(
                expected_sequence - 1, f"event {missing} is missing (removed) before event #{sequence}.", sequence
            )
        if event["prev_hash"] != previous_hash:
            return ChainReport(
                expected_sequence - 1,
                f"event #{sequence} does not follow the event before it (that event was changed or removed).",
                sequence,
            )
        fields = {name: event[name] for name in CHAIN_FIELDS if name != "hash"}
        if not hmac.compare_digest(chain_hash(canonical_bytes(**fields), key), event["hash"]):
            return ChainReport(expected_sequence - 1, f"event #{sequence} was changed after it was written.", sequence)
        if event["action"] == CHAIN_HEAD_RESTORED:
            incidents.append(sequence)
        previous_hash = event["hash"]
        expected_sequence += 1
    checked = expected_sequence - 1
    if expected_length is not None and checked != expected_length:
        return ChainReport(
            checked,
            f"the chain head records {expected_length} events but {checked} were found: "
            "the newest events were removed, or the head was altered.",
            checked + 1,
            incidents=tuple(incidents),
        )
    return ChainReport(checked, last_hash=previous_hash, incidents=tuple(incidents))


def verify_database(anchors: Iterable[Mapping[str, Any]] = ()) -> ChainReport:
    """Verify the chain stored in the default database, and that it still holds every anchored event."""
    head = AuditChainHead.objects.filter(pk=1).values_list("length", flat=True).first() or 0
    rows = AuditEvent.objects.order_by("sequence").values(*CHAIN_FIELDS).iterator(chunk_size=2000)
    report = verify_chain(rows, expected_length=head)
    if not report.ok:
        return report
    for anchor in anchors:
        problem = _anchor_problem(anchor)
        if problem:
            return ChainReport(report.checked, problem, int(anchor.get("sequence") or 0), incidents=report.incidents)
    return report


# --- anchors: the chain's newest link, signed with the chain key and kept outside the database


def anchor_now() -> dict[str, Any]:
    """The newest event's number and hash, signed, for operators to keep somewhere else (a log, a ticket).

    ``verify_audit_chain --anchors FILE`` then proves that no anchored event was removed or rewritten,
    even by someone who also lowered the chain head: the one thing a chain inside the database cannot show.
    """
    newest = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
    sequence, digest = (newest["sequence"], newest["hash"]) if newest else (0, GENESIS_HASH)
    return {
        "sequence": sequence,
        "hash": digest,
        "anchored_at": timezone.now().isoformat(),
        "signature": _anchor_signature(sequence, digest),
    }


def _anchor_signature(sequence: int, digest: str) -> str:
    return chain_hash(f"anchor:{sequence}:{digest}".encode())


def _anchor_problem(anchor: Mapping[str, Any]) -> str:
    try:
        sequence, digest = int(anchor["sequence"]), str(anchor["hash"])
        signature = str(anchor["signature"])
    except (KeyError, TypeError, ValueError):
        return "an anchor is not readable (it needs sequence, hash and signature)."
    if not hmac.compare_digest(_anchor_signature(sequence, digest), signature):
        return f"the anchor for event #{sequence} is not signed with this chain's key."
    if sequence == 0:
        return ""
    stored = AuditEvent.objects.filter(sequence=sequence).values_list("hash", flat=True).first()
    if stored is None:
        return f"event #{sequence}, anchored on {anchor.get('anchored_at', '?')}, is missing: events were removed."
    if stored != digest:
        return (
            f"event #{sequence} differs from its anchor of {anchor.get('anchored_at', '?')}: the chain was rewritten."
        )
    return ""


class AuditedAdminMixin(_ModelAdmin):
    """For the ModelAdmins of clinical records: opening a change page is a read, saving a create or change.

    ``class ClientAdmin(AuditedAdminMixin, NoDeleteAdminMixin, LargeTableAdmin): ...``
    Admin actions (archive, ...) record their own events.
    """

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and request.method == "GET":
            record(request, READ, obj=obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def log_addition(self, request, obj, message):
        record(request, CREATE, obj=obj)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        record(request, CHANGE, obj=obj)
        return super().log_change(request, obj, message)
