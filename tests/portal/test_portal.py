"""The client portal: my sessions, my phases and my data, as the client sees them."""

import csv
import datetime as dt
import io
import json
import re
import zipfile

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.intake import INTAKE_VALID_FOR, intake_start, intake_submit, request_intake_update
from clients.models import Phase, SelfReport
from sessions.models import Setting
from sessions.services import session_amend
from tests import factories

pytestmark = pytest.mark.django_db

SOAP = {
    "subjective": "SUBJECTIVE-says-legs-heavy",
    "objective": "OBJECTIVE-tone-raised",
    "assessment": "ASSESSMENT-possible-flare",
    "plan": "PLAN-refer-neurologist",
}


@pytest.fixture
def signed_session(client_a, therapist):
    return factories.make_session(
        client_a,
        therapist,
        signed=True,
        started_at=timezone.now() - dt.timedelta(days=2),
        setting=Setting.HOME,
        duration_minutes=45,
        pain_before=7,
        pain_after=4,
        fatigue_before=6,
        fatigue_after=6,
        client_summary="Keep your feet up after long walks.",
        safety_override_reason="OVERRIDE-reason-text",
        uses=[("swedish", "shoulder_left", "light"), ("reflexology", "foot_right", "moderate")],
        **SOAP,
    )


def zip_members(response) -> dict[str, bytes]:
    archive = zipfile.ZipFile(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    return {name: archive.read(name) for name in archive.namelist()}


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_client_is_sent_from_home_to_portal(client, client_a):
    client.force_login(client_a.user)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


def test_portal_shows_a_signed_session_with_what_the_client_needs(client, client_a, therapist, signed_session):
    therapist.first_name, therapist.last_name = "Maria", "Santos"
    therapist.save()
    client.force_login(client_a.user)
    response = client.get("/portal/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Keep your feet up after long walks." in html
    assert "with Maria Santos" in html
    assert "45 minutes" in html
    assert "Client&#x27;s home" in html
    assert "7 before, 4 after" in html and "3 points lower" in html
    assert "6 before, 6 after" in html and "no change" in html
    assert "Swedish massage: left shoulder, light pressure" in html
    assert "Reflexology: right foot, moderate pressure" in html
    assert "Body regions:</strong> Left shoulder, Right foot" in html
    # The same regions are highlighted on the body map.
    assert 'class="body-map__region is-selected" d=' in html
    assert html.count("is-selected") == 4  # two regions, each on the front and back view


def test_portal_never_shows_drafts_soap_notes_or_override_reasons(client, client_a, therapist, signed_session):
    factories.make_session(client_a, therapist, client_summary="DRAFT-summary-not-signed", **SOAP)
    client.force_login(client_a.user)
    html = client.get("/portal/").content.decode()
    for text in [*SOAP.values(), "OVERRIDE-reason-text", "DRAFT-summary-not-signed"]:
        assert text not in html
    assert html.count('class="portal-card session-card"') == 1


def test_portal_lists_sessions_newest_first(client, client_a, therapist):
    for days, summary in [(30, "OLDEST-visit"), (2, "NEWEST-visit"), (10, "MIDDLE-visit")]:
        factories.make_session(
            client_a,
            therapist,
            signed=True,
            started_at=timezone.now() - dt.timedelta(days=days),
            client_summary=summary,
        )
    client.force_login(client_a.user)
    html = client.get("/portal/").content.decode()
    assert html.index("NEWEST-visit") < html.index("MIDDLE-visit") < html.index("OLDEST-visit")


def test_portal_shows_the_therapists_corrections_to_a_signed_session(client, client_a, therapist, signed_session):
    session_amend(
        session=signed_session,
        author=therapist,
        reason="Typed the wrong score",
        changes={"pain_after": 2, "client_summary": "Corrected summary for you.", "plan": "PLAN-amended-secret"},
    )
    client.force_login(client_a.user)
    html = client.get("/portal/").content.decode()
    assert "7 before, 2 after" in html
    assert "Corrected summary for you." in html
    assert "Keep your feet up" not in html
    assert "PLAN-amended-secret" not in html
    assert "Your therapist corrected this record" in html


def test_portal_shows_the_ms_phase_history_newest_first(client, client_a):
    client_a.phases.update(ended_on=timezone.localdate() - dt.timedelta(days=10))
    factories.make_phase(client_a, Phase.ACUTE_FLARE, started_on=timezone.localdate() - dt.timedelta(days=10))
    client.force_login(client_a.user)
    html = client.get("/portal/").content.decode()
    assert "My MS phases" in html
    assert html.index("Acute flare") < html.index("Remission")
    assert "(now)" in html


def test_portal_paginates_sessions(client, client_a, therapist):
    for day in range(12):
        factories.make_session(
            client_a,
            therapist,
            signed=True,
            started_at=timezone.now() - dt.timedelta(days=day + 1),
            client_summary=f"Visit number {day:02d}.",
        )
    client.force_login(client_a.user)
    first = client.get("/portal/").content.decode()
    second = client.get("/portal/?page=2").content.decode()
    assert "Visit number 00." in first and "Visit number 09." in first and "Visit number 10." not in first
    assert "Visit number 10." in second and "Visit number 11." in second and "Visit number 00." not in second
    assert "Page 1 of 2" in first and "Older sessions" in first


def _make_signed_sessions(client_a, therapist, count: int) -> None:
    for day in range(count):
        session = factories.make_session(
            client_a,
            therapist,
            signed=True,
            started_at=timezone.now() - dt.timedelta(days=day + 1),
            uses=[("swedish", "upper_back", "light"), ("reiki", "head", "light")],
        )
        session_amend(session=session, author=therapist, reason="Score typo", changes={"pain_after": 2})


def _queries(django_client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        assert django_client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    "url",
    ["/portal/", "/portal/trends/", "/portal/export/", "/portal/export/my-record.zip", "/portal/export/trends.csv"],
)
def test_portal_query_count_does_not_grow_with_sessions(client, client_a, therapist, url):
    client.force_login(client_a.user)
    _make_signed_sessions(client_a, therapist, 3)
    few = _queries(client, url)
    _make_signed_sessions(client_a, therapist, 27)
    many = _queries(client, url)
    assert few == many


def test_portal_home_query_count_is_pinned(client, client_a, therapist, django_assert_num_queries):
    _make_signed_sessions(client_a, therapist, 30)
    client.force_login(client_a.user)
    # web session, user, client profile, roles; sessions count and page, technique uses, amendments;
    # today's self-report; phases; two for whether an intake is due (asked for, sent this year); three for the
    # audit event.
    intake_submit(intake=intake_start(client=client_a))
    with django_assert_num_queries(15):
        client.get("/portal/")
    with time_machine.travel(timezone.now() + INTAKE_VALID_FOR):
        client.force_login(client_a.user)
        client.get("/portal/")
        # ... a year on it is due: both checks, then the open intake (did the therapist ask, is it begun).
        with django_assert_num_queries(16):
            client.get("/portal/")
        request_intake_update(client=client_a, by=therapist)
        with django_assert_num_queries(15):  # asked for: the first check answers "due"
            client.get("/portal/")


def test_the_home_page_says_when_the_intake_is_due_or_asked_for(client, client_a, therapist):
    client.force_login(client_a.user)
    page = client.get("/portal/").content.decode()
    assert 'data-intake="due"' in page and "Please fill in your health details" in page
    assert 'href="/portal/intake/">Go to my health details' in page
    intake = intake_start(client=client_a)
    assert "Carry on with my health details" in client.get("/portal/").content.decode()
    intake_submit(intake=intake)
    assert 'data-intake="due"' not in client.get("/portal/").content.decode()  # sent this year: nothing to ask
    asked = request_intake_update(client=client_a, by=therapist)
    page = client.get("/portal/").content.decode()
    assert f"Your therapist asked you on {timezone.localtime(asked.requested_at):%-d %B %Y}" in page
    assert 'href="/portal/intake/">Go to my health details' in page
    intake_submit(intake=intake_start(client=client_a))
    assert 'data-intake="due"' not in client.get("/portal/").content.decode()
    with time_machine.travel(timezone.now() + INTAKE_VALID_FOR + dt.timedelta(days=1)):
        client.force_login(client_a.user)
        page = client.get("/portal/").content.decode()
        assert "Please fill in your health details" in page and "asked you" not in page  # a year since


def test_export_page_offers_dated_downloads(client, client_a, signed_session):
    client.force_login(client_a.user)
    today = timezone.localdate().isoformat()
    html = client.get("/portal/export/").content.decode()
    assert 'href="/portal/export/my-record.zip"' in html
    assert f"my-record-{today}.zip" in html
    for name in ("sessions", "phases", "self_reports", "trends"):
        assert f'href="/portal/export/{name}.csv"' in html
        assert f"{name}-{today}.csv" in html
    assert f"record-{today}.json" in html
    assert "1 signed session," in html


def test_export_archive_holds_dated_files_with_the_clients_record(client, client_a, signed_session, therapist):
    factories.make_session(client_a, therapist, client_summary="DRAFT-summary-not-signed", **SOAP)
    SelfReport.objects.create(client=client_a, recorded_on=timezone.localdate(), pain=3, fatigue=5, note="Tired.")
    client.force_login(client_a.user)
    response = client.get("/portal/export/my-record.zip")
    today = timezone.localdate().isoformat()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="my-record-{today}.zip"'
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    files = zip_members(response)
    assert sorted(files) == sorted(
        [
            f"sessions-{today}.csv",
            f"phases-{today}.csv",
            f"self_reports-{today}.csv",
            f"trends-{today}.csv",
            f"questionnaires-{today}.csv",
            f"record-{today}.json",
        ]
    )
    everything = b"".join(files.values()).decode("utf-8-sig", errors="replace")
    for text in [*SOAP.values(), "OVERRIDE-reason-text", "DRAFT-summary-not-signed"]:
        assert text not in everything

    (session,) = csv_rows(files[f"sessions-{today}.csv"])
    assert session["pain_before"] == "7" and session["pain_after"] == "4"
    assert session["fatigue_before"] == "6" and session["fatigue_after"] == "6"
    assert session["duration_minutes"] == "45"
    assert session["setting"] == "Client's home"
    assert session["summary"] == "Keep your feet up after long walks."
    assert session["body_regions"] == "Left shoulder; Right foot"
    assert "Swedish massage (Left shoulder, light pressure)" in session["techniques"]

    (phase,) = csv_rows(files[f"phases-{today}.csv"])
    assert phase == {"phase": "Remission", "started_on": client_a.phases.get().started_on.isoformat(), "ended_on": ""}

    (report,) = csv_rows(files[f"self_reports-{today}.csv"])
    assert report == {"date": today, "pain": "3", "fatigue": "5", "note": "Tired."}

    trend_rows = csv_rows(files[f"trends-{today}.csv"])
    assert [(row["kind"], row["status"], row["pain_before"], row["reported_pain"]) for row in trend_rows] == [
        ("session", "signed", "7", ""),
        ("self_report", "", "", "3"),
    ]

    record = json.loads(files[f"record-{today}.json"])
    assert record["profile"]["first_name"] == "Alice"
    assert record["profile"]["last_name"] == "Ashby"
    assert len(record["sessions"]) == 1 and record["sessions"][0]["summary"] == "Keep your feet up after long walks."
    assert record["phases"][0]["phase"] == "Remission"
    assert record["self_reports"][0]["note"] == "Tired."
    assert "subjective" not in json.dumps(record)


@pytest.mark.parametrize(
    ("address", "download", "content_type"),
    [
        ("sessions.csv", "sessions", "text/csv"),
        ("phases.csv", "phases", "text/csv"),
        ("self_reports.csv", "self_reports", "text/csv"),
        ("trends.csv", "trends", "text/csv"),
        ("record.json", "record", "application/json"),
    ],
)
def test_each_export_file_downloads_on_its_own_with_the_date(
    client, client_a, signed_session, address, download, content_type
):
    client.force_login(client_a.user)
    response = client.get(f"/portal/export/{address}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    extension = address.rsplit(".", 1)[1]
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="{download}-{timezone.localdate().isoformat()}.{extension}"'
    )


def test_unknown_export_file_is_not_found(client, client_a):
    client.force_login(client_a.user)
    assert client.get("/portal/export/passwords.csv").status_code == 404


def test_export_csv_keeps_formulas_as_text(client, client_a):
    SelfReport.objects.create(client=client_a, pain=1, fatigue=1, note='=HYPERLINK("http://evil")')
    client.force_login(client_a.user)
    (row,) = csv_rows(client.get("/portal/export/self_reports.csv").content)
    assert row["note"] == '\'=HYPERLINK("http://evil")'


def test_portal_pages_have_labelled_navigation_and_large_text_stylesheet(client, client_a):
    client.force_login(client_a.user)
    html = client.get("/portal/").content.decode()
    assert '<nav class="portal-nav" aria-label="My portal">' in html
    assert 'href="/portal/" aria-current="page"' in html
    assert "css/portal.css" in html


def trend_data(response) -> dict:
    match = re.search(
        r'<script id="trend-data" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert match, "the page should carry the chart data"
    return json.loads(match.group(1))


def test_trends_show_signed_sessions_only_in_words_for_the_client(client, client_a, therapist, signed_session):
    factories.make_session(client_a, therapist, pain_before=10, fatigue_before=10)  # a draft
    client.force_login(client_a.user)
    response = client.get("/portal/trends/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your pain and fatigue over time" in html
    assert 'href="/portal/trends/" aria-current="page"' in html
    data = trend_data(response)
    assert [(s["pain_before"], s["pain_after"], s["signed"]) for s in data["sessions"]] == [(7, 4, True)]
    assert 'src="/static/js/trends.js"' in html


def test_trends_csv_follows_the_chosen_range(client, client_a, therapist):
    for days, pain in [(400, 9), (20, 4)]:
        factories.make_session(
            client_a, therapist, signed=True, started_at=timezone.now() - dt.timedelta(days=days), pain_before=pain
        )
    client.force_login(client_a.user)
    everything = csv_rows(client.get("/portal/export/trends.csv").content)
    last_3_months = csv_rows(client.get("/portal/export/trends.csv?range=3m").content)
    assert [row["pain_before"] for row in everything] == ["9", "4"]
    assert [row["pain_before"] for row in last_3_months] == ["4"]
    assert 'href="/portal/export/trends.csv?range=1y"' in client.get("/portal/trends/").content.decode()
