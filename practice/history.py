"""The change history of clinical records, and which of their UPDATEs the application records itself.

Each clinical app calls :func:`track_changes` for its models at the end of its ``models.py``. The
history tables live in this app (``app="practice"``) so that the clinical apps' migrations stay their
own. Saves through the ORM are recorded on every database; bulk_create() is not (docs/backup-restore.md).

On PostgreSQL a trigger (migration practice 0004) writes a history row for every UPDATE of those tables,
so that ``queryset.update()``, ``bulk_update()`` and raw SQL are kept as well. Where the application
records the change itself (django-simple-history after ``save()``, ``record_history()`` after a
conditional ``update()``), the UPDATE statement starts with ``HISTORY_BY_APP_MARKER`` and the trigger
leaves it to the application, which knows the user and the reason: one history row per change.

The marker travels in the statement itself (the trigger reads ``current_query()``), so ordinary saves
cost no extra query. SQLite has no trigger: nothing here runs there.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import simple_history
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import DEFERRED, Model
from django.db.models.signals import post_save, pre_save

# Keep in step with practice/migrations/0004_postgresql_history_capture.py.
HISTORY_BY_APP_MARKER = "/* practice:history-recorded-by-app */ "
# The tables migration practice 0004 gives the history trigger; a model tracked here must be among them.
TRACKED_TABLES = (
    "clients_client",
    "clients_diseasephase",
    "clients_selfreport",
    "treatment_sessions_treatmentsession",
)


class HistoryRowLockedError(Exception):
    """A change history row records what was; it is never changed."""


def _refuse_history_change(sender: type[Model], instance: Model, raw: bool = False, **kwargs: Any) -> None:
    if not raw and not instance._state.adding:
        raise HistoryRowLockedError("A change history row is never changed.")


# (table, pk, number of parameters) of the save whose UPDATE is expected next on this connection.
_PENDING_SAVE = "practice_history_pending_save"


def _mark_saves(execute, sql, params, many, context):
    connection = context["connection"]
    pending = getattr(connection, _PENDING_SAVE, None)
    if pending is not None and sql.startswith("UPDATE "):
        # One shot: save() sends its UPDATE right after pre_save, and any other UPDATE disarms. With the
        # checks below, a save refused before its UPDATE does not hide the next update() from the trigger.
        setattr(connection, _PENDING_SAVE, None)
        table, pk, param_count = pending
        quoted = connection.ops.quote_name(table)
        # save()'s UPDATE sets every saved field and ends "WHERE id = pk": a queryset update() of the same
        # row after a refused save would set fewer fields. A mismatch only means a second history row.
        if (
            not many
            and sql.startswith(f"UPDATE {quoted} SET ")
            and params
            and len(params) == param_count
            and params[-1] == pk
        ):
            sql = HISTORY_BY_APP_MARKER + sql
    return execute(sql, params, many, context)


def _expect_save(
    sender, instance: Model, raw: bool = False, using: str | None = None, update_fields=None, **kwargs
) -> None:
    connection = connections[using or DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql" or instance.pk is None or raw:
        return
    # Saves django-simple-history skips are left to the trigger (mirrors HistoricalRecords.post_save).
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or hasattr(instance, "skip_history_when_saving"):
        return
    # The UPDATE save() sends has one parameter per saved value and one for the pk. None is written as
    # NULL; auto_now fields get their value after this signal.
    param_count = 1
    for field in sender._meta.local_concrete_fields:
        if field.primary_key or field.generated:
            continue
        if update_fields is not None and field.name not in update_fields and field.attname not in update_fields:
            continue
        if getattr(field, "auto_now", False):
            param_count += 1
            continue
        value = instance.__dict__.get(field.attname, DEFERRED)
        if value is DEFERRED or hasattr(value, "resolve_expression"):
            return  # parameters that cannot be counted here: the trigger records this save as well
        param_count += value is not None
    if _mark_saves not in connection.execute_wrappers:
        # First in the list, so that other code's execute_wrapper() push and pop never removes it.
        connection.execute_wrappers.insert(0, _mark_saves)
    setattr(connection, _PENDING_SAVE, (sender._meta.db_table, instance.pk, param_count))


def _saved(sender, instance: Model, using: str | None = None, **kwargs) -> None:
    connection = connections[using or DEFAULT_DB_ALIAS]
    if getattr(connection, _PENDING_SAVE, None) is not None:
        setattr(connection, _PENDING_SAVE, None)


def track_changes(model: type[Model]) -> None:
    """Keep the full change history of ``model``: one history row per save, and on PostgreSQL per UPDATE."""
    if model._meta.db_table not in TRACKED_TABLES:
        raise ValueError(f"{model._meta.db_table} has no history trigger: add it to migration practice 0004's list.")
    simple_history.register(model, app="practice")
    history_model = model.history.model  # type: ignore[attr-defined]
    pre_save.connect(
        _refuse_history_change, sender=history_model, dispatch_uid=f"practice_history_locked_{model.__name__}"
    )
    pre_save.connect(_expect_save, sender=model, dispatch_uid=f"practice_history_expect_{model.__name__}")
    post_save.connect(_saved, sender=model, dispatch_uid=f"practice_history_saved_{model.__name__}")


@contextmanager
def history_recorded_by_app(model: type[Model], using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Mark the UPDATEs of ``model``'s table made inside the block as recorded by the application.

    For writes that go around ``save()`` and are followed by ``practice.models.record_history()``:
    without the mark, PostgreSQL's trigger would record the same change a second time.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    prefix = f"UPDATE {connection.ops.quote_name(model._meta.db_table)} SET "

    def mark(execute, sql, params, many, context):
        if sql.startswith(prefix):
            sql = HISTORY_BY_APP_MARKER + sql
        return execute(sql, params, many, context)

    with connection.execute_wrapper(mark):
        yield
