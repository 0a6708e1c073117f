"""Small factory functions for tests: real rows, sensible defaults, keyword overrides."""

import datetime as dt
import itertools

from django.contrib.auth.models import Group, User
from django.utils import timezone

from clients.models import Client, Consent, ConsentKind, ConsentText, DiseasePhase, Phase
from practice.history import history_recorded_by_app
from practice.models import record_history
from practice.roles import OWNER, THERAPIST
from sessions.models import SessionStatus, Technique, TechniqueUse, TreatmentSession

PASSWORD = "correct-horse-battery-staple"
# The follow-up answers of a check-in whose new symptom reads as a possible relapse (docs/relapse.md).
POSSIBLE_RELAPSE_ANSWERS = {
    "lasted_over_24_hours": "yes",
    "days_since_last_relapse_began": "30_or_more",
    "fever_or_infection": "no",
    "explained_by_heat": "no",
}
_counter = itertools.count(1)


def make_user(username: str | None = None, *, role: str | None = None, **fields) -> User:
    username = username or f"user{next(_counter)}"
    fields.setdefault("first_name", username.title())
    fields.setdefault("is_staff", role == OWNER)
    user = User.objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.org", **fields)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def make_owner(username: str = "owner") -> User:
    return make_user(username, role=OWNER)


def make_therapist(username: str | None = None) -> User:
    return make_user(username, role=THERAPIST)


def make_client(*, therapists=(), consented: bool = True, **fields) -> Client:
    """A client; ``consented``: agreed to the practice's consent to treatment, once it has a text (issue 15)."""
    n = next(_counter)
    fields.setdefault("first_name", f"Client{n}")
    fields.setdefault("last_name", f"Surname{n}")
    client = Client.objects.create(**fields)
    client.therapists.set(therapists)
    if consented and (text := ConsentText.objects.current(ConsentKind.TREATMENT)) is not None:
        Consent.objects.create(client=client, consent_text=text, typed_name=client.full_name)
    return client


def make_consent_text(kind: str = ConsentKind.TREATMENT, text: str = "I agree to massage treatment.") -> ConsentText:
    """A new version of a consent text (the newest is current)."""
    latest = ConsentText.objects.current(kind)
    return ConsentText.objects.create(kind=kind, version=latest.version + 1 if latest else 1, text=text)


def consent(client: Client, kind: str = ConsentKind.TREATMENT) -> Consent:
    """The client agrees to the current version of ``kind`` (made if the practice has none yet)."""
    text = ConsentText.objects.current(kind) or make_consent_text(kind)
    return Consent.objects.create(client=client, consent_text=text, typed_name=client.full_name)


def make_phase(client: Client, phase: str = Phase.REMISSION, started_on=None, ended_on=None) -> DiseasePhase:
    started_on = started_on or timezone.localdate() - dt.timedelta(days=90)
    return DiseasePhase.objects.create(client=client, phase=phase, started_on=started_on, ended_on=ended_on)


def technique(slug: str) -> Technique:
    return Technique.objects.get(slug=slug)


def make_session(client: Client, therapist: User, *, uses=(), signed: bool = False, **fields) -> TreatmentSession:
    fields.setdefault("started_at", timezone.now() - dt.timedelta(days=1))
    fields.setdefault("pain_before", 5)
    fields.setdefault("fatigue_before", 6)
    if signed:
        fields.setdefault("pain_after", 3)
        fields.setdefault("fatigue_after", 4)
    if signed and uses:
        # A session is signed with its techniques in place: rows cannot be added to a signed session.
        session = TreatmentSession.objects.create(client=client, therapist=therapist, **fields)
        _add_uses(session, uses)
        with history_recorded_by_app(TreatmentSession):
            TreatmentSession.objects.filter(pk=session.pk).update(
                status=SessionStatus.SIGNED, signed_at=timezone.now(), signed_by=therapist
            )
        record_history(TreatmentSession.objects.get(pk=session.pk), user=therapist, reason="Signed")
        return TreatmentSession.objects.get(pk=session.pk)
    if signed:
        fields.update(status=SessionStatus.SIGNED, signed_at=timezone.now(), signed_by=therapist)
    session = TreatmentSession.objects.create(client=client, therapist=therapist, **fields)
    _add_uses(session, uses)
    return session


def _add_uses(session: TreatmentSession, uses) -> None:
    for slug, region, pressure in uses:
        TechniqueUse.objects.create(session=session, technique=technique(slug), body_region=region, pressure=pressure)
