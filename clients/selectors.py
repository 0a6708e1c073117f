"""Reads of a client's own record, each scoped to who asks."""

import datetime as dt
from collections.abc import Iterable
from typing import TypeVar

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from clients.models import Client, ClientQuerySet, Consent, ConsentKind, ConsentText, DiseasePhase, Intake, SelfReport
from practice.access import get_reachable_or_404

# A client queryset of any class (ClientQuerySet keeps its methods through the annotation).
ClientsT = TypeVar("ClientsT", bound=QuerySet[Client])


def client_for_user(request: HttpRequest, pk: int, *, clients: ClientQuerySet | None = None) -> Client:
    """The client ``pk`` if the signed-in user cares for them (owners: anyone); otherwise a 404, audited.

    ``clients`` narrows or annotates the queryset; it is scoped to the user here whatever is passed.
    """
    queryset = (clients if clients is not None else Client.objects.all()).cared_for_by(request.user)
    return get_reachable_or_404(request, queryset, object_type="client", client_field="pk", pk=pk)


def todays_self_report(client: Client) -> SelfReport | None:
    # order_by("pk"): the model's default ordering goes through the client's name, a needless join.
    return SelfReport.objects.for_client(client).filter(recorded_on=timezone.localdate()).order_by("pk").first()


def with_latest_self_reports(clients: ClientsT) -> ClientsT:
    """Annotate each client's latest "How I feel today" entry and the entry before it, in the same query.

    ``latest_report_on``, ``latest_report_pain``, ``latest_report_fatigue``, ``latest_report_note`` and
    ``previous_report_pain``, ``previous_report_fatigue`` (None without such an entry). Each is a probe of
    self_report_one_per_day (client, recorded_on) from its newest end: a page of clients costs one query,
    however long their diaries.
    """
    reports = SelfReport.objects.filter(client=OuterRef("pk")).order_by("-recorded_on")
    latest, previous = reports[:1], reports[1:2]
    return clients.annotate(
        latest_report_on=Subquery(latest.values("recorded_on")),
        latest_report_pain=Subquery(latest.values("pain")),
        latest_report_fatigue=Subquery(latest.values("fatigue")),
        latest_report_note=Subquery(latest.values("note")),
        previous_report_pain=Subquery(previous.values("pain")),
        previous_report_fatigue=Subquery(previous.values("fatigue")),
    )


def phase_on(client: Client, day: dt.date) -> str | None:
    """The client's phase on ``day`` (one query), or None when no episode covers it."""
    return DiseasePhase.objects.for_client(client).on_date(day).values_list("phase", flat=True).first()


# The intake and consents (written by clients/intake.py) ------------------------------------------------------


def latest_intake(client: Client) -> Intake | None:
    """The client's newest intake, whatever its status."""
    return Intake.objects.for_client(client).order_by("-created_at", "-pk").first()


def last_submitted_intake(client: Client) -> Intake | None:
    """The intake the client sent last (waiting for review or reviewed), if any."""
    return Intake.objects.for_client(client).submitted().order_by("-submitted_at", "-pk").first()


def open_intake(client: Client) -> Intake | None:
    """The intake the client is filling in (or was asked for), if any."""
    return Intake.objects.for_client(client).in_progress().order_by("pk").first()


def intake_waiting_for_review(client_ids: Iterable[int]) -> set[int]:
    """Which of these clients have a submitted intake not yet reviewed (one query, on intake_waiting_idx)."""
    return set(
        Intake.objects.waiting_for_review()
        .filter(client_id__in=list(client_ids))
        .order_by()
        .values_list("client_id", flat=True)
        .distinct()
    )


def current_consent(client: Client, kind: str) -> Consent | None:
    """The client's newest consent to the current version of ``kind`` that is not withdrawn, or None.

    A consent to an older version is not current: a new version asks the client again.
    """
    text = ConsentText.objects.current(kind)
    if text is None:
        return None
    return (
        Consent.objects.for_client(client)
        .not_withdrawn()
        .filter(consent_text=text)
        .select_related("consent_text")
        .order_by("-agreed_at", "-pk")
        .first()
    )


def current_consent_texts() -> dict[str, ConsentText]:
    """The current (newest) text of each kind the practice has written, in one query (versions are few)."""
    texts: dict[str, ConsentText] = {}
    for text in ConsentText.objects.order_by("kind", "-version"):
        texts.setdefault(text.kind, text)
    return texts


def current_consents(client: Client, texts: dict[str, ConsentText] | None = None) -> dict[str, Consent]:
    """The client's current consent of each kind (as ``current_consent``), in one query given ``texts``."""
    texts = current_consent_texts() if texts is None else texts
    consents = (
        Consent.objects.for_client(client)
        .not_withdrawn()
        .filter(consent_text__in=list(texts.values()))
        .select_related("consent_text")
        .order_by("agreed_at", "pk")
    )
    return {consent.consent_text.kind: consent for consent in consents}  # the newest of a kind comes last


def consents_needed(client: Client) -> list[str]:
    """The consent kinds the practice has a text for that the client has not agreed to in their current version."""
    texts = current_consent_texts()
    given = current_consents(client, texts)
    return [kind for kind in ConsentKind.values if kind in texts and kind not in given]


def consent_history(client: Client) -> list[Consent]:
    """Every consent the client gave, newest first, with its text and any withdrawal (one query)."""
    return list(
        Consent.objects.for_client(client).select_related("consent_text", "withdrawal").order_by("-agreed_at", "-pk")
    )
