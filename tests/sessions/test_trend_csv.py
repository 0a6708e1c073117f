"""The trend CSV written straight from its rows (issue 13) is the file the loaded report gives, byte for byte:
drafts, corrections (a moved date, new techniques, a new score), phases, self-reports, formula-like text and
every kind of range, in the report's five queries."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Phase, SelfReport
from practice.spreadsheets import csv_bytes
from sessions.models import SessionAmendment, Technique
from sessions.trends.export import CSV_COLUMNS, all_time_csv_bytes, csv_rows, trend_csv_bytes
from sessions.trends.queries import all_time_report, trend_report
from tests import factories

USES = [("swedish", "upper_back", "light"), ("reflexology", "foot_left", "light"), ("swedish", "neck", "firm")]


def report_file(person, **kwargs) -> bytes:
    return csv_bytes(CSV_COLUMNS, csv_rows(trend_report(person, **kwargs)))


@pytest.fixture
def history(therapist):
    """Ten weekly sessions (one a draft) across two phases, one moved, one re-scored, self-reports between."""
    client_a = factories.make_client(therapists=[therapist])
    today = timezone.localdate()
    factories.make_phase(client_a, Phase.ACUTE_FLARE, today - dt.timedelta(days=60), today - dt.timedelta(days=30))
    factories.make_phase(client_a, Phase.REMISSION, today - dt.timedelta(days=30))
    Technique.objects.create(name="=HYPERLINK(1)", slug="formula", guidance="recommended", reason="Test.")
    now = timezone.now()
    for week in range(10):
        factories.make_session(
            client_a,
            therapist,
            started_at=now - dt.timedelta(days=2 + 7 * week, hours=week),
            uses=[("formula", "neck", "light")] if week == 4 else USES,
            signed=week != 1,
            pain_before=week % 10,
        )
    moved, rescored, *_ = client_a.sessions.signed().order_by("started_at")
    SessionAmendment.objects.create(
        session=moved,
        author=therapist,
        reason="wrong day",
        changes={"started_at": {"from": moved.started_at.isoformat(), "to": (now - dt.timedelta(days=1)).isoformat()}},
    )
    SessionAmendment.objects.create(
        session=rescored,
        author=therapist,
        reason="typo",
        changes={
            "pain_after": {"from": 3, "to": 1},
            "technique_uses": {
                "from": [],
                "to": [{"technique": 1, "technique_name": "Reiki", "body_region": "neck", "pressure": "light"}],
            },
        },
    )
    for days in (3, 17, 45, 100):
        SelfReport.objects.create(
            client=client_a, recorded_on=today - dt.timedelta(days=days), pain=7, fatigue=days % 11
        )
    return client_a


@pytest.mark.parametrize(
    "days",
    [(None, None), (None, 20), (20, None), (40, 10), (70, 0), (5, 0)],
    ids=["all", "open-start", "open-end", "middle", "moved-into-range", "short"],
)
@pytest.mark.parametrize("signed_only", [False, True])
def test_the_file_is_the_reports_byte_for_byte(history, django_assert_num_queries, days, signed_only):
    today = timezone.localdate()
    start, end = (None if d is None else today - dt.timedelta(days=d) for d in days)

    with django_assert_num_queries(5):
        content = trend_csv_bytes(history, start=start, end=end, signed_only=signed_only)

    assert content == report_file(history, start=start, end=end, signed_only=signed_only)
    assert content.startswith(b"\xef\xbb\xbf") and content.endswith(b"\r\n")


def test_an_empty_record_is_the_header_alone(client_a):
    assert trend_csv_bytes(client_a, start=None, end=None) == report_file(client_a, start=None, end=None)


def test_the_all_time_file_from_loaded_rows_is_the_all_time_reports(history, django_assert_num_queries):
    signed = list(history.sessions.signed().prefetch_related("technique_uses__technique", "amendments"))
    rows = [(s.pk, s.status, s.started_at, s.duration_minutes, s.setting, *_scores(s), "ignored") for s in signed]
    techniques = {s.pk: tuple(dict.fromkeys(u.technique.name for u in s.technique_uses.all())) for s in signed}
    amendments = {s.pk: [a.changes for a in s.amendments.order_by("created_at", "pk")] for s in signed}
    reports = list(history.self_reports.order_by("recorded_on", "pk"))
    phases = list(history.phases.all())

    with django_assert_num_queries(0):
        content = all_time_csv_bytes(
            reversed(rows),
            techniques=techniques,
            amendments=amendments,
            self_reports=[(r.recorded_on, r.pain, r.fatigue) for r in reports],
            phases=phases,
        )

    uses = {s.pk: list(s.technique_uses.all()) for s in signed}
    expected = all_time_report(signed, technique_uses=uses, amendments=amendments, self_reports=reports, phases=phases)
    assert content == csv_bytes(CSV_COLUMNS, csv_rows(expected))
    assert content == report_file(history, start=None, end=None, signed_only=True)


def test_the_download_is_the_file_in_the_reports_queries(client, therapist, history):
    client.force_login(therapist)
    url = f"/clients/{history.pk}/trends.csv"
    client.get(url, {"range": "all"})  # warm up what is cached per process

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"range": "all"})

    assert response.content == report_file(history, start=None, end=None)
    assert b",'=HYPERLINK(1)," in response.content and b",Reiki," in response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="client-{history.pk}-trends-')
    report_queries = [q["sql"] for q in queries.captured_queries if "treatment_sessions_" in q["sql"]]
    assert len(report_queries) == 3  # sessions, technique rows, amendments: each table once


def _scores(session):
    return session.pain_before, session.pain_after, session.fatigue_before, session.fatigue_after
