"""The "My data" archive reads each table once (issue 13): a pinned number of queries whatever the number of
sessions, and its trends.csv is the same file the trend report's own queries give."""

import datetime as dt
import io
import zipfile

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Phase, SelfReport
from portal.exports import ClientExport
from practice.spreadsheets import csv_bytes
from sessions.models import SessionAmendment
from sessions.trends.export import CSV_COLUMNS, csv_rows
from sessions.trends.queries import trend_report
from tests import factories

# Session, user, the portal's client, role groups, then one query for each table the archive holds (signed
# sessions, their therapists, the technique catalogue, technique rows, amendments, phases, self-reports, the
# client's therapists, intakes, consents and questionnaire scores) and three for the audit event.
ZIP_QUERIES = 18
USES = [("swedish", "upper_back", "light"), ("reflexology", "foot_left", "light")]


def _sessions(person, therapist, count: int) -> None:
    now = timezone.now()
    for week in range(count):
        factories.make_session(
            person, therapist, started_at=now - dt.timedelta(days=1 + 7 * week), uses=USES, signed=True
        )


def _zip_queries(browser) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = browser.get("/portal/export/my-record.zip")
    assert response.status_code == 200
    return len(queries)


def test_the_archive_costs_the_same_queries_for_few_and_many_sessions(
    client, client_a, therapist, django_assert_num_queries
):
    _sessions(client_a, therapist, 2)
    client.force_login(client_a.user)
    few = _zip_queries(client)
    _sessions(client_a, therapist, 30)

    assert _zip_queries(client) == few
    with django_assert_num_queries(ZIP_QUERIES):
        client.get("/portal/export/my-record.zip")


def test_the_archives_trends_file_is_the_trend_reports(client, client_a, therapist):
    """Read from the rows the other files read, it matches the report's own five queries, corrections included."""
    today = timezone.localdate()
    factories.make_phase(client_a, Phase.ACUTE_FLARE, today - dt.timedelta(days=400), today - dt.timedelta(days=380))
    _sessions(client_a, therapist, 6)
    factories.make_session(client_a, therapist, pain_before=9)  # a draft: never in the client's files
    moved, rescored, *_ = client_a.sessions.signed().order_by("started_at")
    author = therapist
    SessionAmendment.objects.create(
        session=moved,
        author=author,
        reason="wrong day",
        changes={"started_at": {"from": moved.started_at.isoformat(), "to": timezone.now().isoformat()}},
    )
    SessionAmendment.objects.create(
        session=rescored,
        author=author,
        reason="typo",
        changes={
            "pain_after": {"from": 3, "to": 1},
            "technique_uses": {
                "from": [],
                "to": [{"technique": 1, "technique_name": "Reiki", "body_region": "neck", "pressure": "light"}],
            },
        },
    )
    SelfReport.objects.create(client=client_a, recorded_on=today - dt.timedelta(days=3), pain=7, fatigue=6, note="hot")
    client.force_login(client_a.user)

    archive = zipfile.ZipFile(io.BytesIO(client.get("/portal/export/my-record.zip").content))
    (name,) = [n for n in archive.namelist() if n.startswith("trends-")]
    expected = trend_report(client_a, start=None, end=None, signed_only=True)

    assert archive.read(name) == csv_bytes(CSV_COLUMNS, csv_rows(expected))
    assert ClientExport(client_a).trends_csv().content == archive.read(name)
