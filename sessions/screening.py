"""The safety screen's inputs, gathered in one place.

``sessions.safety`` is pure: it is handed the phase and the technique rows. Its callers have a client, a
moment (a session's start, or just a day) and the rows; here the phase on that day is found
(``clients.selectors.phase_on``: one query, none when the phase is already known) and the screen is run.
The therapist's form, the admin, a saved session's page and the caseload all come through here.
"""

import datetime as dt
import enum
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Final, Literal, TypeVar

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone

from clients.intake_review import unsettled_relapse_report, with_relapse_facts
from clients.models import Client, Consent, ConsentKind, ConsentText, DiseasePhase
from clients.selectors import phase_on
from sessions.models import TechniqueUse, TreatmentSession
from sessions.safety import Finding, PlannedUse, screen_session


class _Phase(enum.Enum):
    UNKNOWN = "unknown"


# The default ``phase``: look it up. None cannot say so, as None is a phase too ("no phase recorded").
PHASE_UNKNOWN: Final = _Phase.UNKNOWN


# ``relapse_reported_at=LOOK_UP``: find whether a reported relapse is waiting for the phase (the planning screens).
LOOK_UP: Final = _Phase.UNKNOWN


def screen_planned_session(
    *,
    client: Client,
    when: dt.datetime | dt.date,
    uses: Iterable[PlannedUse] = (),
    room_temperature_c: Decimal | None = None,
    pain_before: int | None = None,
    phase: str | None | Literal[_Phase.UNKNOWN] = PHASE_UNKNOWN,
    relapse_reported_at: dt.datetime | None | Literal[_Phase.UNKNOWN] = None,
) -> list[Finding]:
    """Every finding for a session of ``client`` at ``when`` (its start, or a day) with these rows, stop first.

    The phase is the client's phase on that day: looked up (one query) unless ``phase`` gives it. Without
    rows, room temperature or pain score, the findings are what applies before any plan (the alerts).

    ``relapse_reported_at`` is an unsettled relapse report (clients/intake_review.py): a stop for planning a
    session now. Corrections of past sessions leave it None; the session form and the admin pass LOOK_UP, and
    it is read with the phase in the same one query.
    """
    if relapse_reported_at is LOOK_UP:
        looked_up_phase, relapse_reported_at = client_facts(client, session_day(when))
        phase = looked_up_phase if phase is PHASE_UNKNOWN else phase
    elif phase is PHASE_UNKNOWN:
        phase = phase_on(client, session_day(when))
    return screen_session(
        client=client,
        phase=phase,
        uses=uses,
        room_temperature_c=room_temperature_c,
        pain_before=pain_before,
        relapse_reported_at=relapse_reported_at,
    )


def client_facts(client: Client, day: dt.date) -> tuple[str | None, dt.datetime | None]:
    """The client's phase on ``day`` and their unsettled relapse report (or None), in one query."""
    phase = DiseasePhase.objects.for_client(client.pk).on_date(day).values("phase")[:1]
    row = (
        with_relapse_facts(Client.objects.filter(pk=client.pk))
        .annotate(phase_on_day=Subquery(phase))
        .values("phase_on_day", "relapse_check_in_at", "relapse_intake_at", "phase_recorded_at", "relapse_dismissed_at")
        .first()
    )
    if row is None:
        return None, None
    reported = unsettled_relapse_report(
        check_in_at=row["relapse_check_in_at"],
        intake_at=row["relapse_intake_at"],
        phase_recorded_at=row["phase_recorded_at"],
        dismissed_at=row["relapse_dismissed_at"],
    )
    return row["phase_on_day"], reported


def screen_saved_session(session: TreatmentSession, uses: Iterable[TechniqueUse]) -> list[Finding]:
    """The screen for a saved session and its rows (loaded with their techniques).

    A session from ``TreatmentSession.objects.with_phase()`` carries its phase: then there is no query.
    """
    return screen_planned_session(
        client=session.client,
        when=session.started_at,
        uses=[PlannedUse.of(use) for use in uses],
        room_temperature_c=session.room_temperature_c,
        pain_before=session.pain_before,
        phase=getattr(session, "phase_on_date", PHASE_UNKNOWN),
    )


ClientsT = TypeVar("ClientsT", bound=QuerySet[Client])


def with_treatment_consent(clients: ClientsT) -> ClientsT:
    """Annotate ``treatment_text_id`` (the current consent-to-treatment text, if the practice wrote one) and
    ``treatment_consented`` (the client agreed to that version and did not withdraw): read with the client.
    """
    text = ConsentText.objects.of_kind(ConsentKind.TREATMENT).order_by("-version").values("pk")[:1]
    agreed = Consent.objects.filter(client=OuterRef("pk"), consent_text=Subquery(text), withdrawal__isnull=True)
    return clients.annotate(treatment_text_id=Subquery(text), treatment_consented=Exists(agreed))


def consent_to_treatment_missing(client: Client) -> bool:
    """Whether the client lacks a current consent to treatment: then no session may be saved for them.

    Current: agreed to the newest version of the practice's consent-to-treatment text and not withdrawn. Until
    the owner has written that text there is nothing to agree to, and the rule waits for it. A client from
    ``with_treatment_consent`` costs no query; any other, one, whose answer it keeps (a draft's page asks for
    both the edit and the sign refusal).
    """
    if not hasattr(client, "treatment_consented"):
        facts = with_treatment_consent(Client.objects.filter(pk=client.pk).only("pk")).get()
        client.treatment_text_id = facts.treatment_text_id  # type: ignore[attr-defined]  # with_treatment_consent()
        client.treatment_consented = facts.treatment_consented  # type: ignore[attr-defined]  # likewise
    return client.treatment_text_id is not None and not client.treatment_consented  # type: ignore[attr-defined]


# A safety override is a clinical decision, kept with the session: it takes a sentence, not a keystroke.
OVERRIDE_REASON_MIN_LENGTH = 15
OVERRIDE_REASON_EXPECTED = "Say why it is safe to go ahead despite the stop, in a sentence."
# Words that say nothing about why going ahead is safe: what gets typed to get past a prompt.
_FILLER_WORDS = frozenset(
    {"na", "ok", "okay", "test", "testing", "override", "overridden", "asdf", "qwerty", "none", "nil", "null", "tbd"}
)
_LETTER_WORDS = re.compile(r"[^\W\d_]+")
# "asdfasdf", "xoxoxo", "aaaa": a short run of letters typed again and again.
_REPEATED_RUN = re.compile(r"(.{1,4})\1+")


def override_reason_problem(reason: str) -> str | None:
    """What is wrong with ``reason`` as the reason for going ahead despite a safety stop, or None if it will do.

    Pure, so every writer (the therapist's form, the admin, the services) applies the same rule. A reason is at
    least OVERRIDE_REASON_MIN_LENGTH characters (spaces trimmed) with at least two different words of two or more
    letters that are not filler ("x", "n/a", "ok", "test", "override", "asdf", "none", "-", "...", repeated
    characters).
    """
    text = " ".join(reason.split())
    if len(text) < OVERRIDE_REASON_MIN_LENGTH:
        return OVERRIDE_REASON_EXPECTED
    words = {word for word in _LETTER_WORDS.findall(text.lower()) if len(word) >= 2}
    meaningful = {word for word in words if word not in _FILLER_WORDS and not _REPEATED_RUN.fullmatch(word)}
    if len(meaningful) < 2:
        return OVERRIDE_REASON_EXPECTED
    return None


def session_day(when: dt.datetime | dt.date) -> dt.date:
    """The practice's day of ``when``, as phases are recorded by day."""
    return timezone.localdate(when) if isinstance(when, dt.datetime) else when
