"""Keep the stored visits current: a client's rows are rewritten when their signed sessions or phases change,
and paired again with their questionnaires when one is submitted or corrected.

Connected in OutcomesConfig.ready(). The sessions app announces signatures and amendments with
``signed_sessions_changed`` (it must not import this app); phases are watched with Django's own signals.
Both run inside the writer's transaction, so the report and the records change together.
"""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from clients.models import Client, DiseasePhase
from measures.models import QuestionnaireAmendment, QuestionnaireResponse, ResponseStatus
from outcomes.glance import forget_outcomes_headline
from outcomes.models import REPORTED_INSTRUMENT, VisitTechnique
from outcomes.storage import client_questionnaires_refresh, client_visits_rebuild
from sessions.signals import signed_sessions_changed


def rebuild(client_id: int) -> None:
    """Rewrite the client's stored visits; once that is committed, the admin index's cached headline is stale."""
    client_visits_rebuild(client_id)
    # After the commit: forgotten earlier, a request could cache the old figures again before the commit lands.
    transaction.on_commit(forget_outcomes_headline)


def rebuild_after_signed_change(sender: Any, client_id: int, **kwargs: Any) -> None:
    rebuild(client_id)


def rebuild_after_phase_change(
    sender: type[DiseasePhase], instance: DiseasePhase, raw: bool = False, **kwargs: Any
) -> None:
    # A phase decides the "phase on the session date" of the client's visits; fixtures (raw) are rebuilt by command.
    if not raw:
        rebuild(instance.client_id)


def rebuild_after_ms_type_change(
    sender: type[Client], instance: Client, raw: bool = False, created: bool = False, **kwargs: Any
) -> None:
    # The techniques table's weekly cells are kept per MS type: a client whose type changed moves to other cells.
    # A client read from the database knows the type it was read with, so an ordinary save costs no query here.
    if raw or created or instance.loaded_ms_type == instance.ms_type:
        instance.loaded_ms_type = instance.ms_type
        return
    if VisitTechnique.objects.filter(client_id=instance.pk).exclude(ms_type=instance.ms_type).exists():
        rebuild(instance.pk)
    instance.loaded_ms_type = instance.ms_type


def repair_after_questionnaire(
    sender: type[QuestionnaireResponse | QuestionnaireAmendment],
    instance: QuestionnaireResponse | QuestionnaireAmendment,
    raw: bool = False,
    **kwargs: Any,
) -> None:
    # A submitted questionnaire, or a correction of one, may be the one a visit pairs with; answers saved on the
    # way to submitting are not (and cost nothing here). Fixtures (raw) are rebuilt by command.
    if raw:
        return
    response = instance if isinstance(instance, QuestionnaireResponse) else instance.response
    # The instrument is loaded already where it was scored; only the reported one is paired with visits.
    if response.status == ResponseStatus.SUBMITTED and response.instrument.code == REPORTED_INSTRUMENT:
        client_questionnaires_refresh(response.client_id)


def connect() -> None:
    signed_sessions_changed.connect(rebuild_after_signed_change, dispatch_uid="outcomes_rebuild_after_signed_change")
    post_save.connect(rebuild_after_phase_change, sender=DiseasePhase, dispatch_uid="outcomes_rebuild_after_phase")
    post_save.connect(rebuild_after_ms_type_change, sender=Client, dispatch_uid="outcomes_rebuild_after_ms_type")
    for model in (QuestionnaireResponse, QuestionnaireAmendment):
        post_save.connect(repair_after_questionnaire, sender=model, dispatch_uid=f"outcomes_repair_{model.__name__}")
