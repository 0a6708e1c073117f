"""Reads for the therapist's workspace: the caseload and one client's record.

Every per-client figure is a correlated subquery on the client queryset, so a page of the
caseload costs the same number of queries whether the practice has ten clients or ten thousand.
"""

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from clients.intake_review import relapse_reported_at, with_check_in_triage, with_relapse_facts
from clients.models import Client, ClientQuerySet, DiseasePhase, Intake, Phase, phase_label
from clients.selectors import with_latest_self_reports
from measures.selectors import with_questionnaire_due
from sessions.drafts import draft_age_days, draft_age_label
from sessions.models import TreatmentSession
from sessions.safety import Finding
from sessions.screening import screen_planned_session, with_treatment_consent
from sessions.trends.report import MEANINGFUL_CHANGE

# Studies of massage in MS ran weekly sessions; the next one is due a week after the last.
SESSION_CADENCE = dt.timedelta(days=7)
CASELOAD_PAGE_SIZE = 25
RECORD_SESSIONS_PAGE_SIZE = 20
# The record's phase timeline lists the newest this many unless all are asked for (``?phases=all``): ten years of
# relapses are some eighty episodes, which the trend page's bands show at a glance.
RECORD_PHASES_SHOWN = 12
# "Your drafts to sign" on the caseload: the oldest this many (the oldest need signing first).
DRAFTS_SHOWN = 20
# A "How I feel today" entry is news for the caseload while it is this recent and came after the last session.
NOTABLE_SELF_REPORT_DAYS = 14

# A client queryset of any class (ClientQuerySet keeps its methods through these helpers).
ClientsT = TypeVar("ClientsT", bound=QuerySet[Client])


def with_last_session(clients: ClientsT) -> ClientsT:
    """Annotate ``last_session_at``: the latest session that has begun (drafts count: the client was seen).

    The newest row first, one row: a backward probe of session_client_started_idx per client, where
    MAX() over the client's sessions would read all of them.
    """
    begun = (
        TreatmentSession.objects.filter(client=OuterRef("pk"), started_at__lte=timezone.now())
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    return clients.annotate(last_session_at=Subquery(begun))


def name_matches(clients: ClientsT, search: str) -> ClientsT:
    """Clients whose first, last or preferred name contains every word of ``search`` (any case)."""
    for word in search.split():
        clients = clients.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(preferred_name__icontains=word)
        )
    return clients


def caseload(user: AbstractBaseUser | AnonymousUser, *, search: str = "", archived: bool = False) -> QuerySet[Client]:
    """The clients ``user`` cares for (owners: everyone), annotated for the caseload table."""
    clients = Client.objects.cared_for_by(user)
    clients = clients if archived else clients.active()
    clients = name_matches(clients, search)
    clients = with_questionnaire_due(with_latest_self_reports(with_last_session(clients.with_current_phase())))
    return with_intake_facts(clients).order_by("last_name", "first_name", "pk")


def with_intake_facts(clients: ClientsT) -> ClientsT:
    """Annotate ``waiting_intake_id`` (the oldest submitted intake not yet reviewed) and the relapse report facts.

    Correlated subqueries (intake_waiting_idx, and clients/intake_review.py's): no query per row.
    """
    waiting = Intake.objects.waiting_for_review().filter(client=OuterRef("pk")).order_by("submitted_at", "pk")
    return with_relapse_facts(clients.annotate(waiting_intake_id=Subquery(waiting.values("pk")[:1])))


@dataclass(frozen=True)
class Feeling:
    """A client's latest "How I feel today" entry, with its rise against the entry before it.

    A rise is measured against the client's previous entry, not a session's before-score: both are the client's
    own ratings of a day at home, so the change says how they feel now against how they felt last time.
    """

    recorded_on: dt.date
    pain: int
    fatigue: int
    note: str
    previous_pain: int | None
    previous_fatigue: int | None

    @property
    def pain_rise(self) -> int:
        return 0 if self.previous_pain is None else self.pain - self.previous_pain

    @property
    def fatigue_rise(self) -> int:
        return 0 if self.previous_fatigue is None else self.fatigue - self.previous_fatigue

    @property
    def rises(self) -> list[str]:
        """The big rises (MEANINGFUL_CHANGE points or more) in words: "pain up 3 (3 → 6)"."""
        rises = []
        for name, rise, now in (("pain", self.pain_rise, self.pain), ("fatigue", self.fatigue_rise, self.fatigue)):
            if rise >= MEANINGFUL_CHANGE:
                rises.append(f"{name} up {rise} ({now - rise} → {now})")
        return rises

    def is_notable(self, last_session_at: dt.datetime | None) -> bool:
        """A big rise or a note, written in the last NOTABLE_SELF_REPORT_DAYS and not before the last session."""
        if not (self.rises or self.note):
            return False
        if self.recorded_on < timezone.localdate() - dt.timedelta(days=NOTABLE_SELF_REPORT_DAYS):
            return False
        return last_session_at is None or self.recorded_on >= timezone.localdate(last_session_at)


def latest_feeling(client: Client) -> Feeling | None:
    """The latest entry of a client from :func:`caseload` or :func:`record_clients` (annotated), or None."""
    recorded_on: dt.date | None = getattr(client, "latest_report_on", None)
    if recorded_on is None:
        return None
    return Feeling(
        recorded_on=recorded_on,
        pain=client.latest_report_pain,  # type: ignore[attr-defined]  # with_latest_self_reports()
        fatigue=client.latest_report_fatigue,  # type: ignore[attr-defined]  # likewise
        note=client.latest_report_note or "",  # type: ignore[attr-defined]  # likewise
        previous_pain=client.previous_report_pain,  # type: ignore[attr-defined]  # likewise
        previous_fatigue=client.previous_report_fatigue,  # type: ignore[attr-defined]  # likewise
    )


@dataclass(frozen=True)
class CaseloadRow:
    """One client as the caseload shows them: phase, cadence, the safety findings that apply now, how they feel."""

    client: Client
    phase: str | None
    last_session_at: dt.datetime | None
    next_due_on: dt.date | None
    alerts: list[Finding]
    feeling: Feeling | None = None
    # No MFIS-5 (or other active instrument) in the last 4 weeks of a course (measures.selectors).
    questionnaire_due: bool = False
    # A submitted intake waiting for the therapist's review (workspace/intake_review.py): its id.
    waiting_intake_id: int | None = None
    # A possible relapse the client reported that no phase or "not a relapse" note has settled yet.
    relapse_reported_at: dt.datetime | None = None

    @property
    def phase_label(self) -> str:
        return phase_label(self.phase)

    @property
    def is_paused(self) -> bool:
        """In an acute flare now: massage is not advised, so no session is due (nor overdue) until it settles."""
        return self.phase == Phase.ACUTE_FLARE

    @property
    def is_overdue(self) -> bool:
        return not self.is_paused and self.next_due_on is not None and self.next_due_on < timezone.localdate()

    @property
    def notable_feeling(self) -> Feeling | None:
        """The latest "How I feel today" entry when the caseload should flag it (a big rise, a note), else None."""
        return self.feeling if self.feeling is not None and self.feeling.is_notable(self.last_session_at) else None


def next_due_on(last_session_at: dt.datetime | None) -> dt.date | None:
    if last_session_at is None:
        return None
    return timezone.localdate(last_session_at) + SESSION_CADENCE


def caseload_row(client: Client) -> CaseloadRow:
    """Needs a client from :func:`caseload` (annotated with its current phase and last session)."""
    phase: str | None = client.current_phase  # type: ignore[attr-defined]  # caseload(), record_clients()
    last_session_at: dt.datetime | None = client.last_session_at  # type: ignore[attr-defined]  # likewise
    relapse = relapse_reported_at(client)
    return CaseloadRow(
        client=client,
        phase=phase,
        last_session_at=last_session_at,
        next_due_on=next_due_on(last_session_at),
        alerts=screen_planned_session(
            client=client, when=timezone.localdate(), phase=phase, relapse_reported_at=relapse
        ),
        feeling=latest_feeling(client),
        questionnaire_due=bool(getattr(client, "questionnaire_due", False)),
        waiting_intake_id=getattr(client, "waiting_intake_id", None),
        relapse_reported_at=relapse,
    )


def record_clients() -> ClientQuerySet:
    """Clients annotated like caseload rows, with their portal account (archived ones too).

    Pass it to ``clients.selectors.client_for_user``, which scopes it to who asks.
    """
    clients = with_latest_self_reports(with_last_session(Client.objects.with_current_phase().select_related("user")))
    clients = with_treatment_consent(with_intake_facts(with_questionnaire_due(clients)))
    # The record's intake panel: an update asked for and not yet sent, and what the latest check-in's symptom
    # answers read as. Correlated subqueries (intake_one_open, self_report_one_per_day): no extra query.
    requested = Intake.objects.update_requested().filter(client=OuterRef("pk"))
    return with_check_in_triage(clients.annotate(update_requested_at=Subquery(requested.values("requested_at")[:1])))


def treatment_consent_missing(client: Client) -> bool | None:
    """For a client from :func:`record_clients`: True without a current consent to treatment, None without a text."""
    if getattr(client, "treatment_text_id", None) is None:
        return None
    return not client.treatment_consented  # type: ignore[attr-defined]  # with_treatment_consent()


def phase_history(client: Client, *, limit: int | None = None) -> list[DiseasePhase]:
    """The client's phases, newest first; the newest ``limit`` (and one more, to tell that there are more)."""
    phases = DiseasePhase.objects.for_client(client).order_by("-started_on")
    return list(phases if limit is None else phases[: limit + 1])


def record_sessions(client: Client) -> QuerySet[TreatmentSession]:
    """The client's sessions, newest first, with the phase on each session's date."""
    return (
        TreatmentSession.objects.for_client(client)
        .select_related("therapist")
        .with_phase()
        .order_by("-started_at", "-pk")
    )


@dataclass(frozen=True)
class DraftToSign:
    session: TreatmentSession
    age_days: int

    @property
    def age_label(self) -> str:
        return draft_age_label(self.age_days)


def drafts_to_sign(user: AbstractBaseUser | AnonymousUser) -> list[DraftToSign]:
    """``user``'s own unsigned drafts, oldest session first, with their age in days: the oldest DRAFTS_SHOWN + 1.

    One query. Drafts of archived clients, or of clients ``user`` no longer cares for, are left out: they cannot
    be signed from here. The age counts from the session's day, as a note is best signed the day it is written.
    """
    drafts = (
        TreatmentSession.objects.drafts()
        .visible_to(user)
        .filter(therapist_id=user.pk, client__archived_at__isnull=True)
        .select_related("client")
        .order_by("started_at", "pk")[: DRAFTS_SHOWN + 1]
    )
    today = timezone.localdate()
    return [DraftToSign(draft, draft_age_days(draft.started_at, today=today)) for draft in drafts]
