"""What a client may see of their own record, and the files of "My data".

Everything the portal shows or exports about a session is copied field by field from an explicit list into a
``PortalSession``. SOAP notes, safety override reasons and drafts never reach a client because nothing here
reads them; templates and files only ever receive these plain values.
"""

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from clients.body_regions import region_label
from clients.models import Client, DiseasePhase, SelfReport, phase_label
from practice.serialization import jsonable
from practice.spreadsheets import csv_bytes
from sessions.corrections import corrected
from sessions.models import TECHNIQUE_USES, Pressure, ScoreChanges, Setting, TechniqueUse, TreatmentSession
from sessions.trends.export import CSV_COLUMNS as TREND_COLUMNS
from sessions.trends.export import csv_rows
from sessions.trends.queries import trend_report
from sessions.trends.ranges import TrendRange

# The fields of a session a client sees; corrections (amendments) to these are applied, others ignored.
CLIENT_SESSION_FIELDS = (
    "duration_minutes",
    "setting",
    "pain_before",
    "pain_after",
    "fatigue_before",
    "fatigue_after",
    "client_summary",
)
# Never loaded for the portal, so a template mistake cannot show them.
CLINICAL_ONLY_FIELDS = ("subjective", "objective", "assessment", "plan", "safety_override_reason", "room_temperature_c")


@dataclass(frozen=True)
class PortalTechnique:
    technique: str
    region_code: str
    region: str
    pressure: str


@dataclass(frozen=True)
class PortalSession(ScoreChanges):
    started_at: dt.datetime
    therapist: str
    duration_minutes: int
    setting: str
    pain_before: int
    pain_after: int | None
    fatigue_before: int
    fatigue_after: int | None
    summary: str
    techniques: tuple[PortalTechnique, ...]
    corrected: bool
    # (what, as signed, as corrected), in words, for the corrections of what the client sees.
    corrections: tuple[tuple[str, str, str], ...] = ()
    summary_corrected: bool = False

    @property
    def region_codes(self) -> list[str]:
        return list(dict.fromkeys(use.region_code for use in self.techniques))

    @property
    def regions(self) -> list[str]:
        return list(dict.fromkeys(use.region for use in self.techniques))

    @property
    def pain_change_text(self) -> str:
        return change_words(self.pain_change)

    @property
    def fatigue_change_text(self) -> str:
        return change_words(self.fatigue_change)


def change_words(change: int | None) -> str:
    """A change in score in plain words: "2 points lower", "1 point higher", "no change"."""
    if change is None:
        return ""
    if change == 0:
        return "no change"
    points = "point" if abs(change) == 1 else "points"
    return f"{abs(change)} {points} {'lower' if change < 0 else 'higher'}"


def portal_sessions(client: Client) -> QuerySet[TreatmentSession]:
    """The client's signed sessions, newest first, with everything a card needs in a fixed number of queries."""
    return (
        TreatmentSession.objects.for_client(client)
        .signed()
        .select_related("therapist")
        .defer(*CLINICAL_ONLY_FIELDS)
        .prefetch_related(
            Prefetch("technique_uses", queryset=TechniqueUse.objects.select_related("technique").order_by("pk")),
        )
        .with_corrections()
        .order_by("-started_at", "-pk")
    )


def portal_session(session: TreatmentSession) -> PortalSession:
    """The client's view of one signed session, as the therapist corrected it (``sessions.corrections``)."""
    shown = corrected(session)
    values = {name: getattr(shown, name) for name in CLIENT_SESSION_FIELDS}
    # Only corrections of what the client sees count: a corrected clinical note is the clinic's own.
    visible = [name for name in ("started_at", *CLIENT_SESSION_FIELDS, TECHNIQUE_USES) if shown.is_corrected(name)]
    therapist = session.therapist
    return PortalSession(
        started_at=shown.started_at,
        therapist=therapist.get_full_name() or therapist.get_username(),
        duration_minutes=values["duration_minutes"],
        setting=_label(Setting, values["setting"]),
        pain_before=values["pain_before"],
        pain_after=values["pain_after"],
        fatigue_before=values["fatigue_before"],
        fatigue_after=values["fatigue_after"],
        summary=values["client_summary"] or "",
        techniques=tuple(
            PortalTechnique(
                technique=use.technique,
                region_code=use.body_region,
                region=region_label(use.body_region),
                pressure=_label(Pressure, use.pressure),
            )
            for use in shown.uses
        ),
        corrected=bool(visible),
        # A rewritten summary's first wording stays with the clinic (it may be what was wrong): said, not shown.
        corrections=tuple(shown.correction_rows(name for name in visible if name != "client_summary")),
        summary_corrected="client_summary" in visible,
    )


def portal_session_list(sessions: Iterable[TreatmentSession]) -> list[PortalSession]:
    return [portal_session(session) for session in sessions]


def portal_phases(client: Client) -> QuerySet[DiseasePhase]:
    """The client's MS phases, newest first. The therapist's free-text phase notes stay in the clinic."""
    return DiseasePhase.objects.for_client(client).only("phase", "started_on", "ended_on").order_by("-started_on")


def _label(choices, value: str) -> str:
    try:
        return choices(value).label
    except ValueError:
        return str(value)


# --- "My data": the downloads -------------------------------------------------------------------------------

SESSION_COLUMNS = (
    "date",
    "time",
    "therapist",
    "duration_minutes",
    "setting",
    "pain_before",
    "pain_after",
    "fatigue_before",
    "fatigue_after",
    "techniques",
    "body_regions",
    "summary",
    "corrected_by_therapist",
)
PHASE_COLUMNS = ("phase", "started_on", "ended_on")
SELF_REPORT_COLUMNS = ("date", "pain", "fatigue", "note")
# Profile fields a client gets back: who they are and the health profile their care is based on.
PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "preferred_name",
    "date_of_birth",
    "email",
    "phone",
    "address",
    "ms_type",
    "diagnosis_year",
    "edss",
    "heat_sensitive",
    "cold_sensitive",
    "goals",
)


@dataclass(frozen=True)
class ExportFile:
    name: str
    content_type: str
    content: bytes


def export_date() -> dt.date:
    return timezone.localdate()


def dated_name(filename: str, day: dt.date) -> str:
    """``sessions.csv`` on 1 May 2026 is downloaded as ``sessions-2026-05-01.csv``."""
    stem, _, extension = filename.rpartition(".")
    return f"{stem}-{day.isoformat()}.{extension}"


def session_row(session: PortalSession) -> dict[str, Any]:
    local = timezone.localtime(session.started_at)
    return {
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "therapist": session.therapist,
        "duration_minutes": session.duration_minutes,
        "setting": session.setting,
        "pain_before": session.pain_before,
        "pain_after": session.pain_after,
        "fatigue_before": session.fatigue_before,
        "fatigue_after": session.fatigue_after,
        "techniques": "; ".join(
            f"{use.technique} ({use.region}, {use.pressure.lower()} pressure)" for use in session.techniques
        ),
        "body_regions": "; ".join(session.regions),
        "summary": session.summary,
        "corrected_by_therapist": "yes" if session.corrected else "no",
    }


def phase_row(phase: DiseasePhase) -> dict[str, Any]:
    return {
        "phase": phase_label(phase.phase),
        "started_on": phase.started_on.isoformat(),
        "ended_on": phase.ended_on.isoformat() if phase.ended_on else "",
    }


def self_report_row(report: SelfReport) -> dict[str, Any]:
    return {
        "date": report.recorded_on.isoformat(),
        "pain": report.pain,
        "fatigue": report.fatigue,
        "note": report.note,
    }


def profile_data(client: Client) -> dict[str, Any]:
    data = {name: jsonable(getattr(client, name)) for name in PROFILE_FIELDS}
    data["ms_type"] = client.get_ms_type_display()
    data["therapists"] = [t.get_full_name() or t.get_username() for t in client.therapists.all()]
    return data


class ClientExport:
    """Everything in one client's "My data" download, loaded once and rendered as files."""

    def __init__(self, client: Client, *, today: dt.date | None = None, trend_range: TrendRange | None = None):
        self.client = client
        self.today = today or export_date()
        self.trend_range = trend_range or TrendRange("all", None, None)

    # Loaded on first use: a single download reads only what its file needs.
    @cached_property
    def sessions(self) -> list[PortalSession]:
        return portal_session_list(portal_sessions(self.client))

    @cached_property
    def phases(self) -> list[DiseasePhase]:
        return list(portal_phases(self.client).order_by("started_on"))

    @cached_property
    def self_reports(self) -> list[SelfReport]:
        return list(SelfReport.objects.for_client(self.client).order_by("recorded_on"))

    def dated(self, filename: str) -> str:
        return dated_name(filename, self.today)

    def sessions_csv(self) -> ExportFile:
        rows = (session_row(session) for session in reversed(self.sessions))  # oldest first, like the others
        return ExportFile(self.dated("sessions.csv"), "text/csv", csv_bytes(SESSION_COLUMNS, rows))

    def phases_csv(self) -> ExportFile:
        rows = (phase_row(phase) for phase in self.phases)
        return ExportFile(self.dated("phases.csv"), "text/csv", csv_bytes(PHASE_COLUMNS, rows))

    def self_reports_csv(self) -> ExportFile:
        rows = (self_report_row(report) for report in self.self_reports)
        return ExportFile(self.dated("self_reports.csv"), "text/csv", csv_bytes(SELF_REPORT_COLUMNS, rows))

    def trends_csv(self) -> ExportFile:
        """The trend page's CSV (sessions/trends.py), signed sessions only, for the chosen range."""
        report = trend_report(self.client, start=self.trend_range.start, end=self.trend_range.end, signed_only=True)
        return ExportFile(self.dated("trends.csv"), "text/csv", csv_bytes(TREND_COLUMNS, csv_rows(report)))

    def record_json(self) -> ExportFile:
        record = {
            "exported_on": self.today.isoformat(),
            "profile": profile_data(self.client),
            "phases": [phase_row(phase) for phase in self.phases],
            "sessions": [session_row(session) for session in reversed(self.sessions)],
            "self_reports": [self_report_row(report) for report in self.self_reports],
        }
        content = json.dumps(record, indent=2, ensure_ascii=False).encode("utf-8")
        return ExportFile(self.dated("record.json"), "application/json", content)

    def files(self) -> list[ExportFile]:
        return [self.sessions_csv(), self.phases_csv(), self.self_reports_csv(), self.trends_csv(), self.record_json()]

    def archive(self) -> ExportFile:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in self.files():
                archive.writestr(file.name, file.content)
        return ExportFile(self.dated("my-record.zip"), "application/zip", buffer.getvalue())
