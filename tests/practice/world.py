"""A small practice with two clients whose records carry distinctive markers, for the security tests.

Client A is cared for by maria and has the portal account ``aqx_portal``; client B by james, with
``bqy_portal``. Every free-text field of each record holds a marker that appears nowhere else, so a test can
say "this person received nothing of A's" by searching a response for A's markers. Markers of what stays
with the clinical team (SOAP notes, phase notes, drafts, amendment reasons) are kept apart: a client sees
their own record, but never those.
"""

import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils import timezone

from clients.models import Client, DiseasePhase, Phase, SelfReport
from practice.roles import OWNER, THERAPIST
from sessions.models import AMENDABLE_FIELDS, SessionAmendment, Technique, TechniqueUse, TreatmentSession
from sessions.services import amended_values, session_amend
from tests import factories
from tests.factories import PASSWORD, make_session, make_user

ANON, CLIENT_A, CLIENT_B, THERAPIST_A, THERAPIST_OTHER, OWNER_ROLE = (
    "anonymous",
    "client A",
    "client B",
    "therapist caring for A",
    "therapist not caring for A",
    "owner",
)
ROLES = (ANON, CLIENT_A, CLIENT_B, THERAPIST_A, THERAPIST_OTHER, OWNER_ROLE)


@dataclass(frozen=True)
class Markers:
    """What one client's record holds: shown to the client (``own``) or kept in the clinic (``clinic``)."""

    own: tuple[str, ...]
    clinic: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.own + self.clinic


def _markers(tag: str, first: str, last: str) -> Markers:
    return Markers(
        own=(first, last, f"{tag}-ADDRESS", f"{tag}-SUMMARY", f"{tag}-SELF-NOTE", f"{tag.lower()}_portal"),
        clinic=(
            f"{tag}-SOAP-S",
            f"{tag}-SOAP-O",
            f"{tag}-SOAP-A",
            f"{tag}-SOAP-P",
            f"{tag}-PHASE-NOTE",
            f"{tag}-DRAFT-SUMMARY",
            f"{tag}-DRAFT-SOAP",
            f"{tag}-AMEND-REASON",
            f"{tag}-EMERGENCY",
        ),
    )


A_MARKERS = _markers("AQX", "Zephyrine", "Quillfeather")
B_MARKERS = _markers("BQY", "Barnaby", "Oxleyworth")


@dataclass
class World:
    owner: User
    maria: User
    james: User
    client_a: Client
    client_b: Client
    a_signed: TreatmentSession
    a_draft: TreatmentSession
    b_signed: TreatmentSession
    b_draft: TreatmentSession

    def user(self, role: str) -> User | None:
        return {
            ANON: None,
            CLIENT_A: self.client_a.user,
            CLIENT_B: self.client_b.user,
            THERAPIST_A: self.maria,
            THERAPIST_OTHER: self.james,
            OWNER_ROLE: self.owner,
        }[role]


def forbidden_markers(role: str) -> tuple[str, ...]:
    """What ``role`` must never receive: the other client's record, and the clinic's notes about oneself."""
    return {
        ANON: A_MARKERS.all + B_MARKERS.all,
        CLIENT_A: B_MARKERS.all + A_MARKERS.clinic,
        CLIENT_B: A_MARKERS.all + B_MARKERS.clinic,
        THERAPIST_A: B_MARKERS.all,
        THERAPIST_OTHER: A_MARKERS.all,
        OWNER_ROLE: (),
    }[role]


def _client(tag: str, first: str, last: str, therapist: User) -> Client:
    portal_user = make_user(f"{tag.lower()}_portal", first_name=first)
    client = Client.objects.create(
        first_name=first,
        last_name=last,
        email=f"{tag.lower()}@example.org",
        address=f"{tag}-ADDRESS, 1 Harbour Row",
        emergency_contact_name=f"{tag}-EMERGENCY",
        user=portal_user,
    )
    client.therapists.set([therapist])
    DiseasePhase.objects.create(
        client=client,
        phase=Phase.REMISSION,
        started_on=timezone.localdate() - dt.timedelta(days=90),
        notes=f"{tag}-PHASE-NOTE",
    )
    SelfReport.objects.create(
        client=client,
        recorded_on=timezone.localdate() - dt.timedelta(days=1),
        pain=2,
        fatigue=3,
        note=f"{tag}-SELF-NOTE",
    )
    return client


def _sessions(client: Client, therapist: User, tag: str) -> tuple[TreatmentSession, TreatmentSession]:
    signed = make_session(
        client,
        therapist,
        signed=True,
        started_at=timezone.now() - dt.timedelta(days=3),
        subjective=f"{tag}-SOAP-S",
        objective=f"{tag}-SOAP-O",
        assessment=f"{tag}-SOAP-A",
        plan=f"{tag}-SOAP-P",
        client_summary=f"{tag}-SUMMARY",
        uses=[("swedish", "upper_back", "light")],
    )
    session_amend(session=signed, author=therapist, reason=f"{tag}-AMEND-REASON", changes={"pain_after": 2})
    # A draft ready to sign: its after-scores are in.
    draft = make_session(
        client,
        therapist,
        started_at=timezone.now() - dt.timedelta(hours=2),
        pain_after=2,
        fatigue_after=3,
        subjective=f"{tag}-DRAFT-SOAP",
        client_summary=f"{tag}-DRAFT-SUMMARY",
        uses=[("reflexology", "foot_left", "light")],
    )
    return signed, draft


def build_world() -> World:
    owner = make_user("owner", role=OWNER, first_name="Olive")
    maria = make_user("maria", role=THERAPIST, first_name="Maria")
    james = make_user("james", role=THERAPIST, first_name="James")
    client_a = _client("AQX", "Zephyrine", "Quillfeather", maria)
    client_b = _client("BQY", "Barnaby", "Oxleyworth", james)
    a_signed, a_draft = _sessions(client_a, maria, "AQX")
    b_signed, b_draft = _sessions(client_b, james, "BQY")
    return World(owner, maria, james, client_a, client_b, a_signed, a_draft, b_signed, b_draft)


# --- what forms post


def local_minute(moment: dt.datetime | None = None) -> str:
    return timezone.localtime(moment or timezone.now() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")


def session_post(*, version: int | None = None, technique: str = "swedish", **fields) -> dict:
    """A valid session form POST with one technique row (a light Swedish massage, no safety findings)."""
    data = {
        "started_at": local_minute(),
        "duration_minutes": "60",
        "setting": "clinic",
        "room_temperature_c": "21",
        "pain_before": "4",
        "fatigue_before": "5",
        "pain_after": "",
        "fatigue_after": "",
        "subjective": "",
        "objective": "",
        "assessment": "",
        "plan": "",
        "client_summary": "",
        "safety_override_reason": "",
        "uses-TOTAL_FORMS": "1",
        "uses-INITIAL_FORMS": "0",
        "uses-0-technique": str(Technique.objects.get(slug=technique).pk) if technique else "",
        "uses-0-body_region": "upper_back",
        "uses-0-pressure": "light",
    }
    if version is not None:
        data["version"] = str(version)
    data.update({name: str(value) for name, value in fields.items()})
    return data


def amend_post(session: TreatmentSession, **fields) -> dict:
    """A valid amendment POST: the current values, with ``fields`` changed (pain_after by default)."""
    current = amended_values(session)
    data = {name: "" if current[name] is None else str(current[name]) for name in AMENDABLE_FIELDS}
    data.update(pain_after="0", reason="Typed the wrong score.")
    data.update({name: str(value) for name, value in fields.items()})
    return data


def profile_post(client: Client, **fields) -> dict:
    """A valid profile form POST with the client's current names and ``fields`` changed."""
    data = {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "preferred_name": client.preferred_name,
        "email": client.email,
        "phone": client.phone,
        "address": client.address,
        "emergency_contact_name": client.emergency_contact_name,
        "ms_type": client.ms_type,
        "heat_sensitive": "on" if client.heat_sensitive else "",
    }
    data.update({name: str(value) for name, value in fields.items()})
    return {name: value for name, value in data.items() if value != ""}


def password_post() -> dict:
    new = "a-much-longer-new-passphrase-42"
    return {"old_password": PASSWORD, "new_password1": new, "new_password2": new}


# --- reading what came back


def body_text(response) -> str:
    """Everything a response carries for a person to read: the page, or each file inside an archive."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    headers = " ".join(f"{name}: {value}" for name, value in response.headers.items())
    if response.get("Content-Type", "").startswith("application/zip"):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = [archive.read(name).decode() for name in archive.namelist()]
        return headers + "\n" + "\n".join(parts)
    if response.get("Content-Type", "").startswith("application/pdf"):
        return headers + "\n" + pdf_text(content)
    text = content.decode("utf-8", errors="replace")
    if response.get("Content-Type", "").startswith("application/json"):
        # JSON may escape characters of a marker; compare the decoded values as well.
        text += "\n" + json.dumps(json.loads(text), ensure_ascii=False)
    return headers + "\n" + text


def snapshot() -> dict:
    """The clinical tables and the accounts, to show that a refused request changed nothing."""

    def rows(model, *exclude):
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in exclude]
        return sorted(model._base_manager.values_list(*fields))

    return {
        "clients": rows(Client),
        "clients_therapists": sorted(Client.therapists.through.objects.values_list("client_id", "user_id")),
        "phases": rows(DiseasePhase),
        "sessions": rows(TreatmentSession),
        "uses": rows(TechniqueUse),
        "amendments": rows(SessionAmendment),
        "self_reports": rows(SelfReport),
        # last_login moves when a test signs someone in; passwords and the rest must not.
        "users": rows(User, "last_login"),
    }


def admin_session_post(client: Client, therapist, *rows, **fields) -> dict:
    """The admin's add-session form as a browser sends it, with technique ``rows`` (slug, region, pressure)."""
    started = timezone.localtime() - dt.timedelta(hours=3)
    data = {
        "client": client.pk,
        "therapist": therapist.pk,
        "started_at_0": started.strftime("%Y-%m-%d"),
        "started_at_1": started.strftime("%H:%M:%S"),
        "duration_minutes": "60",
        "setting": "clinic",
        "room_temperature_c": "",
        "pain_before": "4",
        "fatigue_before": "4",
        "pain_after": "",
        "fatigue_after": "",
        "safety_override_reason": "",
        "technique_uses-TOTAL_FORMS": str(len(rows)),
        "technique_uses-INITIAL_FORMS": "0",
        "technique_uses-MIN_NUM_FORMS": "0",
        "technique_uses-MAX_NUM_FORMS": "1000",
        "amendments-TOTAL_FORMS": "0",
        "amendments-INITIAL_FORMS": "0",
        "amendments-MIN_NUM_FORMS": "0",
        "amendments-MAX_NUM_FORMS": "0",
    }
    for index, (slug, region, pressure) in enumerate(rows):
        data.update(
            {
                f"technique_uses-{index}-technique": factories.technique(slug).pk,
                f"technique_uses-{index}-body_region": region,
                f"technique_uses-{index}-pressure": pressure,
            }
        )
    data.update(fields)
    return {name: str(value) for name, value in data.items()}


def pdf_text(content: bytes) -> str:
    """The words of a PDF (poppler's pdftotext), so the leak checks read a summary PDF as a person would."""
    import subprocess

    return subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
