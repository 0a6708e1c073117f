"""The practice-wide records: the audit trail, and the change history of clinical records."""

import datetime as dt
import hashlib
import hmac
import json

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.crypto import salted_hmac

# The first event of the chain points at this instead of a previous hash.
GENESIS_HASH = "0" * 64


class AuditAction(models.TextChoices):
    READ = "read", "Read"
    CREATE = "create", "Create"
    CHANGE = "change", "Change"
    SIGN = "sign", "Sign"
    AMEND = "amend", "Amend"
    ARCHIVE = "archive", "Archive"
    PHASE_CHANGE = "phase_change", "Phase change"
    LOGIN = "login", "Sign-in"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOGOUT = "logout", "Sign-out"
    ACCESS_DENIED = "access_denied", "Access denied"
    EXPORT = "export", "Export"
    CHAIN_HEAD_RESTORED = "chain_restored", "Audit chain head restored"
    # One event per safety stop a therapist went ahead despite, naming the finding's code (no health text).
    SAFETY_OVERRIDE = "safety_override", "Safety stop overridden"
    # Reading a report across clients (the owner's outcomes): which report and filters, never health data.
    REPORT_READ = "report_read", "Report read"


class AuditOutcome(models.TextChoices):
    OK = "ok", "OK"
    DENIED = "denied", "Denied"
    FAILED = "failed", "Failed"


class AuditLogImmutableError(Exception):
    """Audit events are written once and never changed or deleted."""


class AuditEventQuerySet(models.QuerySet):
    def for_client(self, client_id: int):
        return self.filter(client_id=client_id)

    def update(self, **kwargs):
        raise AuditLogImmutableError("Audit events cannot be changed.")

    def delete(self):
        raise AuditLogImmutableError("Audit events cannot be deleted.")

    def bulk_create(self, *args, **kwargs):
        # Every event must be chained on its own, under the chain lock: see practice.audit.
        raise AuditLogImmutableError("Audit events are appended one at a time through practice.audit.record().")

    def bulk_update(self, *args, **kwargs):
        raise AuditLogImmutableError("Audit events cannot be changed.")


class AuditEvent(models.Model):
    """One thing someone did to (or tried to do to) a record. No health data: ids and names of actions only.

    ``sequence`` numbers events 1, 2, 3... without gaps; ``hash`` covers the event's fields and the
    previous event's hash, so an edited, removed or inserted event breaks the chain
    (``manage.py verify_audit_chain``). Append through ``practice.audit.record()``.
    """

    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    time = models.DateTimeField(default=timezone.now, db_index=True)
    # No database constraint: the log must never stop a user account from being removed, and the
    # username copy keeps the event readable afterwards.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # A plain number, not a foreign key: the log never blocks or cascades with the clinical tables.
    client_id = models.PositiveBigIntegerField(null=True, blank=True)
    ip_address = models.CharField("IP address", max_length=45, blank=True)
    outcome = models.CharField(max_length=10, choices=AuditOutcome.choices, default=AuditOutcome.OK)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence"]
        get_latest_by = "sequence"
        indexes = [
            models.Index(fields=["client_id", "time"], name="audit_client_time_idx"),
            models.Index(fields=["actor", "time"], name="audit_actor_time_idx"),
            # Searches by the typed username (the admin's, any case) and the sign-in cool-down's count.
            models.Index(Upper("actor_username"), "time", name="audit_actor_name_time_idx"),
            # The admin's filters: each serves its count, its page newest first and its date drill-down's first
            # and last time (tests/practice/test_admin_index_plans.py).
            models.Index(fields=["action", "time"], name="audit_action_time_idx"),
            models.Index(fields=["outcome", "time"], name="audit_outcome_time_idx"),
            models.Index(fields=["object_type", "time"], name="audit_object_time_idx"),
        ]

    def __str__(self) -> str:
        who = self.actor_username or "anonymous"
        what = f" {self.object_type} {self.object_id}".rstrip()
        return f"#{self.sequence} {who} {self.get_action_display().lower()}{what} ({self.outcome})"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogImmutableError("Audit events cannot be changed.")
        if not self.hash or self.hash != self.compute_hash():
            raise AuditLogImmutableError("Audit events are appended through practice.audit.record().")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogImmutableError("Audit events cannot be deleted.")

    def canonical(self) -> bytes:
        """The bytes the hash covers: every field but the hash itself, in a fixed order and format."""
        return canonical_bytes(
            sequence=self.sequence,
            time=self.time,
            actor_id=self.actor_id,
            actor_username=self.actor_username,
            action=self.action,
            object_type=self.object_type,
            object_id=self.object_id,
            client_id=self.client_id,
            ip_address=self.ip_address,
            outcome=self.outcome,
            prev_hash=self.prev_hash,
        )

    def compute_hash(self) -> str:
        return chain_hash(self.canonical())


def chain_key() -> bytes:
    """The audit chain's HMAC key: AUDIT_CHAIN_KEY, or one derived from SECRET_KEY (never stored)."""
    key = settings.PRACTICE_AUDIT_CHAIN_KEY or salted_hmac("practice.audit.chain", "key").hexdigest()
    return key.encode()


def chain_hash(canonical: bytes, key: bytes | None = None) -> str:
    """The keyed hash of one event's canonical bytes: without the key, a rewritten chain cannot be made to fit."""
    return hmac.new(key or chain_key(), canonical, hashlib.sha256).hexdigest()


def canonical_bytes(
    *,
    sequence: int,
    time: dt.datetime,
    actor_id: int | None,
    actor_username: str,
    action: str,
    object_type: str,
    object_id: str,
    client_id: int | None,
    ip_address: str,
    outcome: str,
    prev_hash: str,
) -> bytes:
    # Times are hashed in UTC with microseconds, as both databases store them.
    record = {
        "sequence": int(sequence),
        "time": time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": actor_id,
        "actor_username": actor_username,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "client_id": client_id,
        "ip_address": ip_address,
        "outcome": outcome,
        "prev_hash": prev_hash,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class AuditChainHead(models.Model):
    """One row holding the length of the audit chain.

    Appending bumps ``length`` with an upsert first, which locks this row until the transaction
    ends (PostgreSQL) or takes SQLite's write lock: appenders queue here, so two events can never
    chain onto the same predecessor. The length also shows when the newest events were removed,
    which a hash chain alone cannot.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    length = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(name="audit_chain_head_single_row", condition=models.Q(id=1))]

    def __str__(self) -> str:
        return f"audit chain of {self.length} events"


def record_history(instance: models.Model, *, user=None, reason: str = "") -> None:
    """Store the current state of a tracked record as one history row.

    For writes that go around ``save()``, such as the conditional ``update()`` in
    ``sessions.services.session_sign``: django-simple-history only sees saves. Make that update inside
    ``practice.history.history_recorded_by_app()``, or on PostgreSQL the trigger records it as well.
    The model's app registers it with :func:`practice.history.track_changes`.
    """
    history_model = instance.history.model  # type: ignore[attr-defined]  # added by track_changes()
    state = {field.attname: getattr(instance, field.attname) for field in history_model.tracked_fields}
    history_model.objects.create(
        history_date=timezone.now(),
        history_type="~",
        history_user=user,
        history_change_reason=reason[:100] or None,
        **state,
    )


class TwoFactorEnrolmentQuerySet(models.QuerySet):
    def open(self):
        """Links neither used nor voided (expired ones included)."""
        return self.filter(used_at__isnull=True, voided_at__isnull=True)

    def usable(self, now: dt.datetime | None = None):
        return self.open().filter(expires_at__gt=now or timezone.now())


class TwoFactorEnrolment(models.Model):
    """An owner's leave for one staff member to set up an authenticator: a single-use link that expires.

    Only the SHA-256 of the link's token is kept, so this table holds no working link. Issuing a new link
    voids the open one; setting up the authenticator spends it (``practice.two_factor``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="two_factor_enrolments")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # Empty when an operator issued the link with ``manage.py issue_enrolment_link``.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)

    objects = TwoFactorEnrolmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open link per person: issuing voids the old one in the same transaction.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(used_at__isnull=True, voided_at__isnull=True),
                name="two_factor_enrolment_one_open_per_user",
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="two_factor_enrolment_expires_after_issue",
            ),
            models.CheckConstraint(
                condition=models.Q(used_at__isnull=True) | models.Q(voided_at__isnull=True),
                name="two_factor_enrolment_used_or_voided_not_both",
            ),
        ]

    def __str__(self) -> str:
        return f"two-factor enrolment link for user #{self.user_id}, issued {self.created_at:%Y-%m-%d %H:%M}"


class FormAutosave(models.Model):
    """What someone had typed in one form (its path), kept so an idle sign-out loses none of it.

    One row per person and form, written by the page's script while they type, restored after they sign in
    again, deleted when the form is saved and purged after ``PRACTICE_FORM_AUTOSAVE_MAX_AGE``
    (``practice.autosave``). Never in the admin or the audit trail: it is the typist's own scratch copy.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=500)
    # The form's fields as {name: [values]}, as a QueryDict holds them.
    data = models.JSONField()
    # Indexed for the purge of old rows.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "path"], name="form_autosave_one_per_user_and_path")]

    def __str__(self) -> str:
        return f"autosave of {self.path} for user #{self.user_id}"
