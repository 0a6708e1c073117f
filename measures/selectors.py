"""Reads of questionnaires: a client's responses and scores, which are due, and the fetch-or-404 for one.

"Due" follows the issue: a course of treatment asks at its start and every 4 weeks. A client is due an
instrument when they are in a course (a session, draft or signed, in the last DUE_EVERY_DAYS days, or no session
yet: a new client at the start of theirs) and they submitted none of it
- in the last DUE_EVERY_DAYS days (every 4 weeks), or
- since PAIRING_DAYS days before the first session of a course that began lately (a session after a gap of more
  than RUN_GAP_DAYS days): the baseline the outcomes report pairs with the follow-up (measures/schedule.py).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from django.db.models import (
    BooleanField,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import TruncDate
from django.db.models.lookups import GreaterThan, IsNull
from django.http import HttpRequest
from django.utils import timezone

from clients.models import Client
from measures.models import Instrument, QuestionnaireResponse, ResponseStatus
from measures.schedule import DUE_EVERY_DAYS, PAIRING_DAYS, RUN_GAP_DAYS
from practice.access import get_reachable_or_404
from practice.dates import local_midnight

ClientsT = TypeVar("ClientsT", bound=QuerySet[Client])


def active_instruments() -> list[Instrument]:
    return list(Instrument.objects.active())


def instrument_by_code(code: str) -> Instrument | None:
    return Instrument.objects.active().filter(code=code).first()


def responses_for_client(client: Client) -> QuerySet[QuestionnaireResponse]:
    """Every questionnaire of the client, newest first, with its instrument and its score after corrections."""
    return (
        QuestionnaireResponse.objects.for_client(client)
        .select_related("instrument")
        .with_current_score()
        .order_by("-started_at", "-pk")
    )


def response_for_client_or_404(
    request: HttpRequest, client: Client, pk: int, *, entered_in: str | None = None
) -> QuestionnaireResponse:
    """Questionnaire ``pk`` if it is ``client``'s (and entered ``entered_in``); otherwise a 404, audited."""
    queryset = QuestionnaireResponse.objects.for_client(client).select_related("instrument", "client")
    if entered_in is not None:
        queryset = queryset.filter(entered_in=entered_in)
    return get_reachable_or_404(request, queryset, object_type="questionnaire", client_field="client_id", pk=pk)


@dataclass(frozen=True)
class Score:
    """One submitted questionnaire as the trend pages, the record and the portal show it."""

    instrument_code: str
    instrument_name: str
    short_name: str
    completed_on: dt.date
    score: int
    score_min: int
    score_max: int
    mcid: Decimal | None
    higher_is_worse: bool
    response_id: int
    amended: bool = False
    original_score: int | None = None  # as submitted, before any correction


def scores_for_client(client: Client, start: dt.date | None = None, end: dt.date | None = None) -> list[Score]:
    """The client's submitted scores, oldest first (after corrections), completed within [start, end]. One query."""
    responses = responses_for_client(client).filter(status=ResponseStatus.SUBMITTED)
    if start:
        responses = responses.filter(submitted_at__date__gte=start)
    if end:
        responses = responses.filter(submitted_at__date__lte=end)
    return [_score(r) for r in responses.order_by("submitted_at", "pk")]


def newest_score(client: Client) -> Score | None:
    """The client's newest submitted questionnaire, any instrument (after corrections), or None. One query."""
    newest = (
        responses_for_client(client).filter(status=ResponseStatus.SUBMITTED).order_by("-submitted_at", "-pk").first()
    )
    return None if newest is None else _score(newest)


def _score(response: QuestionnaireResponse) -> Score:
    """A response from :func:`responses_for_client` (its instrument and current score loaded) as a Score."""
    instrument = response.instrument
    return Score(
        instrument_code=instrument.code,
        instrument_name=instrument.name,
        short_name=instrument.short_name,
        completed_on=timezone.localdate(response.submitted_at),
        score=response.current_score,  # type: ignore[attr-defined]  # with_current_score()
        score_min=instrument.score_min,
        score_max=instrument.score_max,
        mcid=instrument.mcid,
        higher_is_worse=instrument.higher_is_worse,
        response_id=response.pk,
        amended=response.is_amended,  # type: ignore[attr-defined]  # likewise
        original_score=response.score,
    )


def _window_start(today: dt.date, days: int) -> dt.datetime:
    """The first moment of the ``days`` local days ending with ``today``."""
    return local_midnight(today - dt.timedelta(days=days - 1))


def _since(today: dt.date) -> dt.datetime:
    return _window_start(today, DUE_EVERY_DAYS)


# Only a course that began in the last COURSE_START_DAYS days (today included) can make a client due whom the
# 4-weekly rhythm does not: for one that began earlier, the baseline window (from PAIRING_DAYS days before its first
# session) starts no later than the rhythm's DUE_EVERY_DAYS, so an answer in the one is an answer in the other.
# Looking only at these days keeps it to a few index probes; and as they span less than RUN_GAP_DAYS, they hold at
# most one course's start: their first session, if the session before it is more than RUN_GAP_DAYS days earlier.
COURSE_START_DAYS = DUE_EVERY_DAYS - 1 - PAIRING_DAYS


def _sessions() -> QuerySet[Any]:
    # measures sits below sessions in the layout: the reverse relation names their table without an import.
    model: Any = Client._meta.get_field("sessions").related_model
    return model._default_manager.order_by()


def _days_apart(later: Any, earlier: Any) -> ExpressionWrapper:
    """Local days from ``earlier`` to ``later`` (two moments) as a duration, as outcomes counts a run's gaps."""
    return ExpressionWrapper(TruncDate(later) - TruncDate(earlier), output_field=DurationField())


def _in_a_course(today: dt.date, client: OuterRef) -> Q:
    begun = _sessions().filter(client=client)
    recent = begun.filter(started_at__gte=_since(today))
    return Q(Exists(recent)) | ~Q(Exists(begun))


def _submitted(instrument: Instrument | OuterRef, client: OuterRef) -> QuerySet[QuestionnaireResponse]:
    # Probes of questionnaire_submitted_idx (client, instrument, submitted_at, id), partial on submitted ones.
    return QuestionnaireResponse.objects.filter(client=client, instrument=instrument, status=ResponseStatus.SUBMITTED)


def _course_start_unanswered(instrument: Instrument | OuterRef, today: dt.date, client: OuterRef) -> Q:
    """A course began in the last COURSE_START_DAYS days, and ``instrument`` was not submitted since PAIRING_DAYS
    days before its first session (the baseline the outcomes report pairs with a follow-up).

    Three index probes: the first session of those days, the last session before them, the latest answer.
    """
    start, end = _window_start(today, COURSE_START_DAYS), local_midnight(today + dt.timedelta(days=1))
    first = _sessions().filter(client=client, started_at__gte=start, started_at__lt=end).order_by("started_at")
    before = _sessions().filter(client=client, started_at__lt=start).order_by("-started_at")
    answers = _submitted(instrument, client)
    first_at = Subquery(first.values("started_at")[:1], output_field=DateTimeField())
    before_at = Subquery(before.values("started_at")[:1], output_field=DateTimeField())
    answered_at = Subquery(answers.order_by("-submitted_at").values("submitted_at")[:1], output_field=DateTimeField())
    began = Q(IsNull(before_at, True)) | Q(GreaterThan(_days_apart(first_at, before_at), dt.timedelta(RUN_GAP_DAYS)))
    # With no answer at all the difference is NULL; _due's every-4-weeks clause already holds then.
    unanswered = Q(GreaterThan(_days_apart(first_at, answered_at), dt.timedelta(PAIRING_DAYS)))
    return Q(IsNull(first_at, False)) & began & unanswered


def _due(instrument: Instrument | OuterRef, today: dt.date, client: OuterRef) -> Q:
    """Due ``instrument``: in a course, and nothing submitted in DUE_EVERY_DAYS days or since a recent course's
    baseline window opened."""
    answered_lately = _submitted(instrument, client).filter(submitted_at__gte=_since(today))
    return _in_a_course(today, client) & (
        ~Q(Exists(answered_lately)) | _course_start_unanswered(instrument, today, client)
    )


def due_for_clients(client_ids: Iterable[int], today: dt.date) -> dict[int, list[Instrument]]:
    """The active instruments each client is due, by client id (clients due nothing are left out). Two queries."""
    instruments = active_instruments()
    if not instruments:
        return {}
    flags = {f"due_{i.pk}": _flag(_due(i, today, OuterRef("pk"))) for i in instruments}
    rows = Client.objects.filter(pk__in=list(client_ids)).annotate(**flags).values("pk", *flags).order_by()
    result: dict[int, list[Instrument]] = {}
    for row in rows:
        due = [i for i in instruments if row[f"due_{i.pk}"]]
        if due:
            result[row["pk"]] = due
    return result


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


def with_questionnaire_due(clients: ClientsT, today: dt.date | None = None) -> ClientsT:
    """Annotate ``questionnaire_due``: whether the client is due any active instrument. No extra query."""
    today = today or timezone.localdate()
    return clients.annotate(questionnaire_due=_any_instrument_due(today, timezone.get_current_timezone_name()))


@lru_cache(maxsize=8)
def _any_instrument_due(today: dt.date, zone: str) -> ExpressionWrapper:
    """The ``questionnaire_due`` expression of a day in a time zone, built once: building it took 1.7 ms of every
    caseload and record page. The instruments are still read by the query. Reuse is safe: Django copies an
    expression as it resolves it into a query, so no query changes this one."""
    any_due = Exists(Instrument.objects.active().filter(_due(OuterRef("pk"), today, OuterRef(OuterRef("pk")))))
    return _flag(Q(any_due))
