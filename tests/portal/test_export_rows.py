""" "My data" read as plain rows (issue 13) says what the portal's session cards say (``portal_session``), and
record.json, now compact, holds the same content as the indented file it was."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.utils import timezone

from clients.models import Phase, SelfReport
from portal.exports import (
    SESSION_COLUMNS,
    ClientExport,
    PortalSession,
    phase_row,
    portal_phases,
    portal_session_list,
    portal_sessions,
    profile_data,
)
from practice.spreadsheets import csv_bytes
from sessions.models import SessionAmendment, Setting
from tests import factories

pytestmark = pytest.mark.django_db

USES = [("swedish", "shoulder_left", "light"), ("reflexology", "foot_right", "moderate"), ("swedish", "neck", "firm")]


def card_row(session: PortalSession) -> dict:
    """A session card's values as a row of sessions.csv: the export's rows before they were read as tuples."""
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


@pytest.fixture
def record(client_a, therapist, other_therapist):
    """Sessions with two therapists (one without a name), a draft, and corrections of each kind a client sees."""
    other_therapist.first_name = other_therapist.last_name = ""
    other_therapist.save()
    client_a.therapists.add(other_therapist)
    now = timezone.now()
    for week in range(8):
        factories.make_session(
            client_a,
            other_therapist if week % 3 == 0 else therapist,
            started_at=now - dt.timedelta(days=1 + 7 * week, hours=week),
            uses=USES[week % 3 :],
            signed=week != 2,
            setting=Setting.HOME if week % 2 else Setting.CLINIC,
            client_summary="=1+1" if week == 3 else f"Summary {week}",
            subjective="SUBJECTIVE-never-exported",
        )
    moved, rescored, rewritten, clinical, *_ = client_a.sessions.signed().order_by("started_at")
    corrections = [
        (moved, {"started_at": {"from": moved.started_at.isoformat(), "to": now.isoformat()}}),
        (rescored, {"pain_after": {"from": 3, "to": 1}, "setting": {"from": "clinic", "to": "hospital"}}),
        (rescored, {"pain_after": {"from": 1, "to": 2}}),  # the latest correction wins
        (
            rewritten,
            {
                "client_summary": {"from": "x", "to": "Rest well."},
                "technique_uses": {
                    "from": [],
                    "to": [{"technique": 1, "technique_name": "Reiki", "body_region": "neck", "pressure": "light"}],
                },
            },
        ),
        (clinical, {"subjective": {"from": "a", "to": "b"}}),  # the clinic's own: not a correction the client sees
    ]
    for session, changes in corrections:
        SessionAmendment.objects.create(session=session, author=therapist, reason="fix", changes=changes)
    factories.make_phase(
        client_a, Phase.ACUTE_FLARE, now.date() - dt.timedelta(days=400), now.date() - dt.timedelta(days=200)
    )
    SelfReport.objects.create(client=client_a, recorded_on=now.date(), pain=4, fatigue=5, note="«hot» day")
    return client_a


def test_sessions_csv_says_what_the_cards_say(record):
    cards = reversed(portal_session_list(portal_sessions(record)))

    rows = ClientExport(record).sessions_csv().content

    assert rows == csv_bytes(SESSION_COLUMNS, [card_row(card) for card in cards])
    assert b"'=1+1" in rows and b"Reiki" in rows and b"SUBJECTIVE" not in rows


def test_record_json_is_compact_with_the_content_it_had(record):
    export = ClientExport(record)
    content = export.record_json().content
    data = json.loads(content)
    as_indented = {
        **data,  # intakes and consents: read as before
        "exported_on": export.today.isoformat(),
        "profile": profile_data(record),
        "phases": [phase_row(phase) for phase in portal_phases(record).order_by("started_on")],
        "sessions": [card_row(card) for card in reversed(portal_session_list(portal_sessions(record)))],
        "self_reports": [
            {"date": r.recorded_on.isoformat(), "pain": r.pain, "fatigue": r.fatigue, "note": r.note}
            for r in record.self_reports.order_by("recorded_on", "pk")
        ],
    }
    before = json.dumps(as_indented, indent=2, ensure_ascii=False).encode("utf-8")

    assert data == json.loads(before)
    assert list(data) == list(json.loads(before))
    assert b"\n" not in content and b'"corrected_by_therapist":"yes"' in content and "«hot»".encode() in content
    assert sum(row["corrected_by_therapist"] == "yes" for row in data["sessions"]) == 3


def test_the_archive_holds_the_single_downloads(client, record):
    client.force_login(record.user)
    archive = zipfile.ZipFile(io.BytesIO(client.get("/portal/export/my-record.zip").content))
    today = timezone.localdate().isoformat()

    for name in ("sessions.csv", "self_reports.csv", "phases.csv", "trends.csv", "record.json"):
        stem, extension = name.split(".")
        assert archive.read(f"{stem}-{today}.{extension}") == client.get(f"/portal/export/{name}").content, name
