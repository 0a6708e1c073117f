"""Clinical records are kept: archived or corrected, never deleted. Each clinical app guards its own models."""

from typing import Any

from django.db.models import Model
from django.db.models.signals import pre_delete


class ClinicalRecordDeletionError(Exception):
    """Clinical records are archived, never deleted."""


def _refuse_delete(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    raise ClinicalRecordDeletionError(f"{str(sender._meta.verbose_name).capitalize()} records are never deleted.")


def never_delete(*models: type[Model]) -> None:
    """Refuse every deletion of ``models`` through the ORM.

    Model.delete() and QuerySet.delete() are refused by the models themselves; querysets and cascades
    still send pre_delete, which this catches. On PostgreSQL, triggers (migration practice 0003) refuse
    SQL that bypasses the ORM.
    """
    for model in models:
        pre_delete.connect(_refuse_delete, sender=model, dispatch_uid=f"practice_refuse_delete_{model.__name__}")
