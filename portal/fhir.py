"""A client's record as one FHIR R4 Bundle (type ``collection``): codes, shapes and sources in docs/fhir.md.

Two steps. ``fhir_record`` reads what the bundle needs (a fixed number of queries, whatever the number of
sessions) into plain frozen values; ``build_bundle`` is a pure function of those values and returns the
bundle as JSON-able dicts. Every ``fullUrl`` is ``urn:uuid:`` + a uuid5 of the practice's namespace and the
record's id, so the same record always gets the same address and every reference points inside the bundle.

Two audiences. The client's own bundle (the portal) is built from values loaded without SOAP notes or safety
override reasons at all: nothing here can put them in it. The clinician's bundle adds the SOAP note, as
corrected, to each session's Procedure as a note; override reasons are in neither (docs/fhir.md, section 5).
"""

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.apps import apps
from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.utils import timezone

from clients.body_regions import region_label
from clients.models import Client, Consent, DiseasePhase, Intake, MSType, Phase, PhaseTimeline
from clients.selectors import consent_history
from sessions.corrections import corrected
from sessions.models import REPORTED_FIELDS, TECHNIQUE_USES, Pressure, Setting, TechniqueUse, TreatmentSession

Audience = Literal["client", "clinician"]
CLIENT: Audience = "client"
CLINICIAN: Audience = "clinician"

FHIR_CONTENT_TYPE = "application/fhir+json"

# The practice's own URI: the namespace of every uuid5 and the root of its local code systems. One practice
# per deployment; a practice that exchanges records sets PRACTICE_FHIR_BASE to a URI it controls.
DEFAULT_PRACTICE_URI = "urn:ms-massage-practice"

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

# docs/fhir.md 2.1: SNOMED CT per MS type; CIS has no verified code and goes as text only.
MS_TYPE_SNOMED: dict[str, tuple[str, str]] = {
    MSType.UNKNOWN: ("24700007", "Multiple sclerosis"),
    MSType.RRMS: ("426373005", "Relapsing remitting multiple sclerosis"),
    MSType.SPMS: ("425500002", "Secondary progressive multiple sclerosis"),
    MSType.PPMS: ("428700003", "Primary progressive multiple sclerosis"),
}
MS_TYPE_TEXT: dict[str, str] = {
    MSType.UNKNOWN: "Multiple sclerosis",
    MSType.RRMS: "Relapsing-remitting multiple sclerosis",
    MSType.SPMS: "Secondary progressive multiple sclerosis",
    MSType.PPMS: "Primary progressive multiple sclerosis",
    MSType.CIS: "Clinically isolated syndrome",
}
EXACERBATION = ("192929006", "Exacerbation of multiple sclerosis")
MASSAGE = "387854002"  # docs/fhir.md 2.3: sent without a display until its preferred term is verified
PAIN_NRS = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")

# docs/fhir.md 2.2: the MS Condition's clinical status from the phase on the export date.
PHASE_CLINICAL_STATUS: dict[str, str] = {
    Phase.ACUTE_FLARE: "relapse",
    Phase.SUBACUTE: "active",
    Phase.REMISSION: "remission",
}
CLINICAL_STATUS_DISPLAY = {"active": "Active", "relapse": "Relapse", "remission": "Remission", "resolved": "Resolved"}

# docs/fhir.md 3: Encounter.class by setting (v3 ActCode).
SETTING_CLASS = {
    Setting.CLINIC: ("AMB", "ambulatory"),
    Setting.HOME: ("HH", "home health"),
    Setting.HOSPITAL: ("IMP", "inpatient encounter"),
    Setting.HOSPICE: ("IMP", "inpatient encounter"),
}

# A client's own bundle reads sessions.models.REPORTED_FIELDS of a session, nothing else; the clinician's adds
# the SOAP note.
SOAP_FIELDS = ("subjective", "objective", "assessment", "plan")
CLIENT_DEFERRED = (*SOAP_FIELDS, "client_summary", "safety_override_reason", "room_temperature_c")


# --- the plain values a bundle is built from -------------------------------------------------------------


@dataclass(frozen=True)
class TechniqueRow:
    name: str
    region: str  # BodyRegion value
    pressure: str  # Pressure value


@dataclass(frozen=True)
class SessionRecord:
    id: int
    started_at: dt.datetime
    duration_minutes: int
    setting: str
    pain_before: int
    pain_after: int | None
    fatigue_before: int
    fatigue_after: int | None
    therapist: str
    techniques: tuple[TechniqueRow, ...]
    corrected: bool
    soap: tuple[tuple[str, str], ...] = ()  # (field, text); empty in a client's bundle


@dataclass(frozen=True)
class PhaseRecord:
    id: int
    phase: str
    started_on: dt.date
    ended_on: dt.date | None


@dataclass(frozen=True)
class InstrumentRecord:
    code: str
    short_name: str
    name: str
    items: tuple[Mapping[str, Any], ...]  # [{"link_id", "text", "options": [{"value", "label"}]}]
    instructions: str = ""  # the stem shown above every item ("Because of my fatigue during the past 4 weeks:")
    recall_period: str = ""  # "the past 4 weeks"


@dataclass(frozen=True)
class ResponseRecord:
    id: int
    instrument: str  # InstrumentRecord.code
    authored: dt.datetime
    answers: Mapping[str, int]  # link_id -> chosen value
    score: int


@dataclass(frozen=True)
class IntakeRecord:
    id: int
    submitted_at: dt.datetime
    answers: Mapping[str, Any]  # clients.models.INTAKE_FIELDS -> the client's answer


@dataclass(frozen=True)
class ConsentRecord:
    id: int
    kind: str  # ConsentKind value
    kind_label: str
    version: int
    typed_name: str
    agreed_at: dt.datetime
    withdrawn_at: dt.datetime | None


@dataclass(frozen=True)
class FhirRecord:
    client_id: int
    first_name: str
    last_name: str
    preferred_name: str
    birth_date: dt.date | None
    ms_type: str
    diagnosis_year: int | None
    current_phase: str | None
    phases: tuple[PhaseRecord, ...]
    sessions: tuple[SessionRecord, ...]
    instruments: tuple[InstrumentRecord, ...] = ()
    responses: tuple[ResponseRecord, ...] = ()
    intakes: tuple[IntakeRecord, ...] = ()
    consents: tuple[ConsentRecord, ...] = ()


# --- loading -------------------------------------------------------------------------------------------------


def fhir_sessions(client: Client, audience: Audience) -> QuerySet[TreatmentSession]:
    """The client's signed sessions with techniques and amendments: three queries in all, however many."""
    sessions = (
        TreatmentSession.objects.for_client(client)
        .signed()
        .select_related("therapist")
        .prefetch_related(
            Prefetch("technique_uses", queryset=TechniqueUse.objects.select_related("technique").order_by("pk"))
        )
        .with_corrections()
        .order_by("started_at", "pk")
    )
    # A client's bundle never loads the clinical fields, so no mistake below can put them in it.
    return sessions.defer(*CLIENT_DEFERRED) if audience == CLIENT else sessions.defer("safety_override_reason")


def session_record(session: TreatmentSession, audience: Audience) -> SessionRecord:
    """One signed session as corrected by its amendments (sessions.corrections, the one rule for every page)."""
    shown = corrected(session)
    names = REPORTED_FIELDS if audience == CLIENT else (*REPORTED_FIELDS, *SOAP_FIELDS)
    therapist = session.therapist
    soap = (
        tuple((name, text) for name in SOAP_FIELDS if (text := getattr(shown, name))) if audience == CLINICIAN else ()
    )
    return SessionRecord(
        id=session.pk,
        started_at=shown.started_at,
        duration_minutes=shown.duration_minutes,
        setting=shown.setting,
        pain_before=shown.pain_before,
        pain_after=shown.pain_after,
        fatigue_before=shown.fatigue_before,
        fatigue_after=shown.fatigue_after,
        therapist=therapist.get_full_name() or therapist.get_username(),
        techniques=tuple(TechniqueRow(use.technique, use.body_region, use.pressure) for use in shown.uses),
        corrected=any(shown.is_corrected(name) for name in (*names, TECHNIQUE_USES)),
        soap=soap,
    )


def measures_installed() -> bool:
    """Whether this build has the validated measures (MFIS-5 today): the measures app and its models."""
    if not apps.is_installed("measures"):
        return False
    try:
        apps.get_model("measures", "QuestionnaireResponse")
    except LookupError:
        return False
    return True


def questionnaire_records(client: Client) -> tuple[tuple[InstrumentRecord, ...], tuple[ResponseRecord, ...]]:
    """The client's submitted questionnaires (answers and score as corrected) and their instruments. Two queries."""
    if not measures_installed():
        return (), ()
    from measures.models import QuestionnaireAmendment, ResponseStatus
    from measures.models import apply_amendments as apply_answer_amendments
    from measures.selectors import responses_for_client

    amendments = QuestionnaireAmendment.objects.only("response_id", "changes", "created_at").order_by(
        "created_at", "pk"
    )
    responses = (
        responses_for_client(client)
        .filter(status=ResponseStatus.SUBMITTED)
        .prefetch_related(Prefetch("amendments", queryset=amendments))
        .order_by("submitted_at", "pk")
    )
    instruments: dict[str, InstrumentRecord] = {}
    records = []
    for response in responses:
        instrument = response.instrument
        instruments.setdefault(
            instrument.code,
            InstrumentRecord(
                instrument.code,
                instrument.short_name,
                instrument.name,
                tuple(instrument.items),
                instructions=instrument.instructions,
                recall_period=instrument.recall_period,
            ),
        )
        answers = apply_answer_amendments(response.answers, list(response.amendments.all()))
        assert response.submitted_at is not None  # submitted ones only
        records.append(
            ResponseRecord(
                id=response.pk,
                instrument=instrument.code,
                authored=response.submitted_at,
                answers={str(k): int(v) for k, v in answers.items() if v is not None},
                score=response.current_score,  # type: ignore[attr-defined]  # with_current_score()
            )
        )
    return tuple(instruments.values()), tuple(records)


def fhir_record(client: Client, audience: Audience) -> FhirRecord:
    """Everything a bundle of ``client``'s record needs, read in a fixed number of queries."""
    episodes = list(
        DiseasePhase.objects.for_client(client).only("phase", "started_on", "ended_on").order_by("started_on")
    )
    current = PhaseTimeline(episodes).phase_on(timezone.localdate())
    instruments, responses = questionnaire_records(client)
    return FhirRecord(
        client_id=client.pk,
        first_name=client.first_name,
        last_name=client.last_name,
        preferred_name=client.preferred_name,
        birth_date=client.date_of_birth,
        ms_type=client.ms_type,
        diagnosis_year=client.diagnosis_year,
        current_phase=current.phase if current else None,
        phases=tuple(PhaseRecord(p.pk, p.phase, p.started_on, p.ended_on) for p in episodes),
        sessions=tuple(session_record(s, audience) for s in fhir_sessions(client, audience)),
        instruments=instruments,
        responses=responses,
        intakes=tuple(
            IntakeRecord(i.pk, i.submitted_at, i.answers)
            for i in Intake.objects.for_client(client).submitted().only("submitted_at", "answers").order_by("pk")
        ),
        consents=tuple(_consent_record(c) for c in reversed(consent_history(client))),
    )


def _consent_record(consent: Consent) -> ConsentRecord:
    withdrawal = getattr(consent, "withdrawal", None)
    return ConsentRecord(
        id=consent.pk,
        kind=consent.consent_text.kind,
        kind_label=consent.consent_text.get_kind_display(),
        version=consent.consent_text.version,
        typed_name=consent.typed_name,
        agreed_at=consent.agreed_at,
        withdrawn_at=withdrawal.withdrawn_at if withdrawal else None,
    )


# --- building (pure) -------------------------------------------------------------------------------------------


def practice_uri() -> str:
    return getattr(settings, "PRACTICE_FHIR_BASE", "") or DEFAULT_PRACTICE_URI


class Addresses:
    """Stable ``urn:uuid:`` addresses: a uuid5 of the practice's namespace and a record's kind and id."""

    def __init__(self, base: str):
        self.base = base
        self.namespace = uuid.uuid5(uuid.NAMESPACE_URL, base)

    def uuid(self, key: str) -> str:
        return str(uuid.uuid5(self.namespace, key))

    def url(self, key: str) -> str:
        return f"urn:uuid:{self.uuid(key)}"

    def system(self, name: str) -> str:
        """A local code system or identifier system of the practice, under its URI."""
        separator = ":" if self.base.startswith("urn:") else "/"
        return f"{self.base}{separator}{name}"


def build_bundle(record: FhirRecord, *, audience: Audience, now: dt.datetime, base: str | None = None) -> dict:
    """The FHIR R4 Bundle (type ``collection``) of ``record``, as JSON-able dicts. Pure: no database, no clock."""
    ids = Addresses(base or practice_uri())
    patient_key = f"client/{record.client_id}"
    entries = [_entry(ids, patient_key, _patient(record, ids))]
    entries.append(_entry(ids, f"{patient_key}/ms", _ms_condition(record, ids, patient_key)))
    for phase in record.phases:
        entries += _phase_entries(phase, ids, patient_key)
    for session in record.sessions:
        entries += _session_entries(session, ids, patient_key, audience)
    entries += _questionnaire_entries(record, ids, patient_key)
    entries += _intake_entries(record, ids, patient_key)
    entries += _consent_entries(record, ids, patient_key)
    return {
        "resourceType": "Bundle",
        "id": ids.uuid(f"{patient_key}/bundle/{audience}"),
        "type": "collection",
        "timestamp": now.isoformat(timespec="seconds"),
        "entry": entries,
    }


def bundle_json(bundle: Mapping[str, Any]) -> bytes:
    return json.dumps(bundle, indent=1, ensure_ascii=False).encode("utf-8")


def _entry(ids: Addresses, key: str, resource: dict) -> dict:
    return {
        "fullUrl": ids.url(key),
        "resource": {"resourceType": resource.pop("resourceType"), "id": ids.uuid(key), **resource},
    }


def _ref(ids: Addresses, key: str) -> dict:
    return {"reference": ids.url(key)}


def _coding(system: str, code: str, display: str = "") -> dict:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def _concept(system: str, code: str, display: str = "", text: str = "") -> dict:
    return {"coding": [_coding(system, code, display)], **({"text": text} if text else {})}


def _patient(record: FhirRecord, ids: Addresses) -> dict:
    names: list[dict] = [{"use": "official", "family": record.last_name, "given": [record.first_name]}]
    if record.preferred_name:
        names.append({"use": "usual", "given": [record.preferred_name]})
    return {
        "resourceType": "Patient",
        "identifier": [{"system": ids.system("client-id"), "value": str(record.client_id)}],
        "name": names,
        **({"birthDate": record.birth_date.isoformat()} if record.birth_date else {}),
    }


def _ms_code(ms_type: str, ids: Addresses) -> dict:
    text = MS_TYPE_TEXT.get(ms_type, MS_TYPE_TEXT[MSType.UNKNOWN])
    if ms_type in MS_TYPE_SNOMED:
        code, display = MS_TYPE_SNOMED[ms_type]
        return _concept(SNOMED, code, display, text)
    # No verified SNOMED CT code (CIS): the practice's own code and the words.
    return _concept(ids.system("ms-type"), ms_type, text, text)


def _ms_condition(record: FhirRecord, ids: Addresses, patient_key: str) -> dict:
    status = "active"
    if record.ms_type != MSType.PPMS and record.current_phase in PHASE_CLINICAL_STATUS:
        status = PHASE_CLINICAL_STATUS[record.current_phase]
    condition = {
        "resourceType": "Condition",
        "clinicalStatus": _concept(CONDITION_CLINICAL, status, CLINICAL_STATUS_DISPLAY[status]),
        "verificationStatus": _concept(CONDITION_VERIFICATION, "confirmed", "Confirmed"),
        "category": [_concept(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
        "code": _ms_code(record.ms_type, ids),
        "subject": _ref(ids, patient_key),
    }
    if record.diagnosis_year:
        condition["onsetDateTime"] = str(record.diagnosis_year)
    return condition


PHASE_TEXT: dict[str, str] = {
    Phase.ACUTE_FLARE: "Acute flare (relapse)",
    Phase.SUBACUTE: "Subacute (recovering)",
    Phase.REMISSION: "Remission",
}


def _phase_text(phase: str) -> str:
    return PHASE_TEXT.get(phase, phase)


def _phase_entries(phase: PhaseRecord, ids: Addresses, patient_key: str) -> list[dict]:
    key = f"phase/{phase.id}"
    period = {"start": phase.started_on.isoformat(), **({"end": phase.ended_on.isoformat()} if phase.ended_on else {})}
    entries = [
        _entry(
            ids,
            key,
            {
                "resourceType": "Observation",
                "status": "final",
                "code": _concept(ids.system("observation"), "ms-phase", "MS phase", "MS phase"),
                "subject": _ref(ids, patient_key),
                "effectivePeriod": period,
                "valueCodeableConcept": _concept(
                    ids.system("ms-phase"), phase.phase, _phase_text(phase.phase), _phase_text(phase.phase)
                ),
            },
        )
    ]
    if phase.phase == Phase.ACUTE_FLARE:
        # con-4: an abated Condition is inactive, resolved or in remission; an ended flare is resolved.
        status = "resolved" if phase.ended_on else "active"
        flare = {
            "resourceType": "Condition",
            "clinicalStatus": _concept(CONDITION_CLINICAL, status, CLINICAL_STATUS_DISPLAY[status]),
            "verificationStatus": _concept(CONDITION_VERIFICATION, "confirmed", "Confirmed"),
            "category": [_concept(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
            "code": _concept(SNOMED, *EXACERBATION, text="MS relapse (acute flare)"),
            "subject": _ref(ids, patient_key),
            "onsetDateTime": phase.started_on.isoformat(),
            **({"abatementDateTime": phase.ended_on.isoformat()} if phase.ended_on else {}),
        }
        entries.append(_entry(ids, f"{key}/flare", flare))
    return entries


def _pressure_label(value: str) -> str:
    try:
        return str(Pressure(value).label).lower()
    except ValueError:
        return value


def _session_entries(session: SessionRecord, ids: Addresses, patient_key: str, audience: Audience) -> list[dict]:
    key = f"session/{session.id}"
    start = session.started_at
    end = start + dt.timedelta(minutes=session.duration_minutes)
    period = {"start": start.isoformat(timespec="seconds"), "end": end.isoformat(timespec="seconds")}
    class_code, class_display = SETTING_CLASS.get(Setting(session.setting), SETTING_CLASS[Setting.CLINIC])
    setting_label = Setting(session.setting).label
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": _coding(ACT_CODE, class_code, class_display),
        "type": [{"text": f"Massage therapy session ({setting_label})"}],
        "subject": _ref(ids, patient_key),
        "participant": [{"individual": {"display": session.therapist}}],
        "period": period,
    }
    used = "; ".join(
        f"{t.name} ({region_label(t.region).lower()}, {_pressure_label(t.pressure)} pressure)"
        for t in session.techniques
    )
    regions = list(dict.fromkeys(t.region for t in session.techniques))
    procedure: dict[str, Any] = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": {
            "coding": [_coding(SNOMED, MASSAGE)],
            "text": f"Massage therapy: {used}" if used else "Massage therapy",
        },
        "subject": _ref(ids, patient_key),
        "encounter": _ref(ids, f"{key}/encounter"),
        "performedPeriod": period,
    }
    if regions:
        procedure["bodySite"] = [
            {"coding": [_coding(ids.system("body-region"), r, region_label(r))], "text": region_label(r)}
            for r in regions
        ]
    notes = []
    if session.corrected:
        notes.append({"text": "Corrected by the therapist after signing; the corrected values are shown."})
    if audience == CLINICIAN and session.soap:
        notes.append({"text": "\n".join(f"{name.title()}: {text}" for name, text in session.soap)})
    if notes:
        procedure["note"] = notes
    entries = [_entry(ids, f"{key}/encounter", encounter), _entry(ids, f"{key}/procedure", procedure)]
    scores = (
        ("pain-before", PAIN_NRS, session.pain_before, start, "Before the session"),
        ("pain-after", PAIN_NRS, session.pain_after, end, "After the session"),
        ("fatigue-before", None, session.fatigue_before, start, "Before the session"),
        ("fatigue-after", None, session.fatigue_after, end, "After the session"),
    )
    for name, loinc, value, when, note in scores:
        if value is None:
            continue
        code = (
            _concept(LOINC, *loinc)
            if loinc
            # docs/fhir.md 2.4: no verified LOINC code for a 0-10 fatigue rating; the practice's own code.
            else _concept(ids.system("measures"), "fatigue-nrs", "Fatigue severity 0-10 numeric rating", "Fatigue 0-10")
        )
        observation = {
            "resourceType": "Observation",
            "status": "final",
            "category": [_concept(OBSERVATION_CATEGORY, "survey", "Survey")],
            "code": code,
            "subject": _ref(ids, patient_key),
            "encounter": _ref(ids, f"{key}/encounter"),
            "partOf": [_ref(ids, f"{key}/procedure")],
            "effectiveDateTime": when.isoformat(timespec="seconds"),
            "valueInteger": value,
            "note": [{"text": note}],
        }
        entries.append(_entry(ids, f"{key}/{name}", observation))
    return entries


def _questionnaire_entries(record: FhirRecord, ids: Addresses, patient_key: str) -> list[dict]:
    entries = []
    for instrument in record.instruments:
        entries.append(_entry(ids, f"questionnaire/{instrument.code}", _questionnaire(instrument, ids)))
    by_code = {instrument.code: instrument for instrument in record.instruments}
    for response in record.responses:
        instrument = by_code[response.instrument]
        key = f"questionnaire-response/{response.id}"
        entries.append(_entry(ids, key, _response(response, instrument, ids, patient_key)))
        entries.append(_entry(ids, f"{key}/score", _score_observation(response, instrument, ids, patient_key, key)))
    return entries


def _score_observation(
    response: ResponseRecord, instrument: InstrumentRecord, ids: Addresses, patient_key: str, response_key: str
) -> dict:
    # docs/fhir.md 2.4: no LOINC code found for the MFIS-5 or PDDS total; the practice's own code and the words.
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [_concept(OBSERVATION_CATEGORY, "survey", "Survey")],
        "code": _concept(
            ids.system("measures"), f"{instrument.code}-total", f"{instrument.short_name} score", instrument.name
        ),
        "subject": _ref(ids, patient_key),
        "effectiveDateTime": response.authored.isoformat(timespec="seconds"),
        "valueInteger": response.score,
        "derivedFrom": [_ref(ids, response_key)],
    }


def _canonical(instrument: InstrumentRecord, ids: Addresses) -> str:
    return ids.system(f"Questionnaire/{instrument.code}")


def _option_system(instrument: InstrumentRecord, ids: Addresses) -> str:
    return ids.system(f"CodeSystem/{instrument.code}-answers")


def _stem_link_id(instrument: InstrumentRecord) -> str:
    return f"{instrument.code}-stem"


def _questionnaire(instrument: InstrumentRecord, ids: Addresses) -> dict:
    # The stem and the recall period give the answers their meaning ("Never", but over what and when?): the stem
    # as a display item before the questions, as the client saw it, and the recall period in the description.
    stem = (
        [{"linkId": _stem_link_id(instrument), "text": instrument.instructions, "type": "display"}]
        if instrument.instructions
        else []
    )
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "url": _canonical(instrument, ids),
        "name": "".join(ch for ch in instrument.code.title() if ch.isalnum()) or "Questionnaire",
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
    }
    if instrument.recall_period:
        resource["description"] = f"{instrument.short_name}. Recall period: {instrument.recall_period}."
    resource["item"] = [
        *stem,
        *(
            {
                "linkId": str(item["link_id"]),
                "text": str(item["text"]),
                "type": "choice",
                "required": True,
                "answerOption": [
                    {"valueCoding": _coding(_option_system(instrument, ids), str(o["value"]), str(o["label"]))}
                    for o in item.get("options", ())
                ],
            }
            for item in instrument.items
        ),
    ]
    return resource


def _response(response: ResponseRecord, instrument: InstrumentRecord, ids: Addresses, patient_key: str) -> dict:
    labels = {
        str(item["link_id"]): {str(o["value"]): str(o["label"]) for o in item.get("options", ())}
        for item in instrument.items
    }
    texts = {str(item["link_id"]): str(item["text"]) for item in instrument.items}
    # In the instrument's item order, not the stored answers' (PostgreSQL's jsonb orders keys by length, then
    # bytes); an answer to no item (none is accepted today) follows rather than being dropped.
    answers = {str(link_id): value for link_id, value in response.answers.items()}
    order = [link_id for link_id in texts if link_id in answers]
    order += [link_id for link_id in answers if link_id not in texts]
    items = []
    for link_id in order:
        code = str(answers[link_id])
        items.append(
            {
                "linkId": link_id,
                **({"text": texts[link_id]} if link_id in texts else {}),
                "answer": [
                    {
                        "valueCoding": _coding(
                            _option_system(instrument, ids), code, labels.get(link_id, {}).get(code, "")
                        )
                    }
                ],
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": _canonical(instrument, ids),
        "status": "completed",
        "subject": _ref(ids, patient_key),
        "authored": response.authored.isoformat(timespec="seconds"),
    }
    if items:
        resource["item"] = items
    return resource


# docs/fhir.md 2.6: the consent scopes and category; each consent points at the practice's text and version.
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_SCOPES = {"treatment": ("treatment", "Treatment"), "data_use": ("patient-privacy", "Privacy Consent")}
PATIENT_CONSENT = ("59284-0", "Patient Consent")


def _consent_entries(record: FhirRecord, ids: Addresses, patient_key: str) -> list[dict]:
    entries = []
    for consent in record.consents:
        scope = CONSENT_SCOPES.get(consent.kind, ("patient-privacy", "Privacy Consent"))
        resource = {
            "resourceType": "Consent",
            # A withdrawn consent no longer applies: inactive (R4 Consent.status).
            "status": "inactive" if consent.withdrawn_at else "active",
            "scope": _concept(CONSENT_SCOPE, *scope),
            "category": [_concept(LOINC, *PATIENT_CONSENT)],
            "patient": _ref(ids, patient_key),
            "dateTime": consent.agreed_at.isoformat(timespec="seconds"),
            "policy": [{"uri": ids.system(f"consent-text/{consent.kind}/{consent.version}")}],
            "provision": {"type": "permit"},
            "sourceAttachment": {
                "title": f"{consent.kind_label}, version {consent.version}, signed by typing the name "
                f"{consent.typed_name}"
                + (f"; withdrawn {consent.withdrawn_at.isoformat(timespec='seconds')}" if consent.withdrawn_at else "")
            },
        }
        entries.append(_entry(ids, f"consent/{consent.id}", resource))
    return entries


def _intake_answer(value: Any, link_id: str, ids: Addresses) -> list[dict]:
    """An intake answer as QuestionnaireResponse answers: yes/no, a year, text, or one coding per choice."""
    if isinstance(value, bool):
        return [{"valueBoolean": value}]
    if isinstance(value, int):
        return [{"valueInteger": value}]
    if isinstance(value, list):
        return [{"valueCoding": _coding(ids.system(f"intake/{link_id}"), code)} for code in value]
    if isinstance(value, dict):
        text = " · ".join(part for part in value.values() if part)
        return [{"valueString": text}] if text else []
    if isinstance(value, str) and value:
        if link_id == "ms_type":
            return [{"valueCoding": _coding(ids.system("intake/ms_type"), value)}]
        return [{"valueString": value}]
    return []


def _intake_entries(record: FhirRecord, ids: Addresses, patient_key: str) -> list[dict]:
    entries = []
    for intake in record.intakes:
        items = []
        for link_id, value in intake.answers.items():
            answers = _intake_answer(value, link_id, ids)
            if answers:
                items.append({"linkId": link_id, "answer": answers})
        resource: dict[str, Any] = {
            "resourceType": "QuestionnaireResponse",
            "questionnaire": ids.system("Questionnaire/intake"),
            "status": "completed",
            "subject": _ref(ids, patient_key),
            "authored": intake.submitted_at.isoformat(timespec="seconds"),
            "author": _ref(ids, patient_key),
        }
        if items:
            resource["item"] = items
        entries.append(_entry(ids, f"intake/{intake.id}", resource))
    return entries


def references(bundle: Mapping[str, Any]) -> Iterable[str]:
    """Every ``reference`` inside the bundle's resources (for checks that each resolves to an entry)."""

    def walk(value: Any) -> Iterable[str]:
        if isinstance(value, Mapping):
            for name, inner in value.items():
                if name == "reference" and isinstance(inner, str):
                    yield inner
                else:
                    yield from walk(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from walk(inner)

    for entry in bundle.get("entry", ()):
        yield from walk(entry["resource"])


def client_bundle(client: Client, audience: Audience, *, now: dt.datetime | None = None) -> dict:
    """``client``'s record as a FHIR Bundle for ``audience``: load, then build."""
    return build_bundle(fhir_record(client, audience), audience=audience, now=now or timezone.now())


def bundle_response(bundle: Mapping[str, Any], filename: str) -> HttpResponse:
    response = HttpResponse(bundle_json(bundle), content_type=FHIR_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
