"""Questionnaire scores on the trend pages (therapist and portal) and in their CSVs (issue 12)."""

import csv
import datetime as dt
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions.trends.export import CSV_COLUMNS
from sessions.trends.questionnaires import charts_for, questionnaire_charts
from tests import factories
from tests.measures.helpers import corrected, make_instrument, mfis5, submitted


def page_url(person) -> str:
    return f"/clients/{person.pk}/trends/"


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def section(response) -> str:
    html = response.content.decode()
    match = re.search(r'<section class="trend-questionnaires".*?</section>', html, re.S)
    assert match, "the page should carry the questionnaire section"
    return match.group(0)


@pytest.fixture
def scored(client_a):
    """Three MFIS-5 (12, 9, 5) and two TRI-3 (test scale with MCID 2: 4, 1) questionnaires in the last 60 days."""
    instrument = mfis5()
    submitted(client_a, instrument, [3, 3, 2, 2, 2], by=client_a.user, days_ago=60)  # 12
    submitted(client_a, instrument, [2, 2, 2, 2, 1], by=client_a.user, days_ago=30)  # 9
    submitted(client_a, instrument, [1, 1, 1, 1, 1], by=client_a.user, days_ago=2)  # 5
    tri = make_instrument()
    submitted(client_a, tri, [2, 1, 1], by=client_a.user, days_ago=40)  # 4
    submitted(client_a, tri, [1, 0, 0], by=client_a.user, days_ago=5)  # 1
    return client_a


# --- the pure layout


def test_the_first_score_is_marked_and_the_band_is_the_mcid_around_it(scored):
    charts = questionnaire_charts(scored, start=None, end=None)

    assert [c.code for c in charts] == ["mfis5", "tri3"]
    mfis, tri = charts
    assert [p.score.score for p in mfis.points] == [12, 9, 5]
    assert [p.change for p in mfis.points] == [0, -3, -7]
    assert [p.first for p in mfis.points] == [True, False, False]
    assert mfis.mcid is None and mfis.band is None and mfis.change_beyond_mcid is None
    # TRI-3 runs 0-6 over a plot 114 units high from y=10: 4 +- 2 spans scores 6 to 2, y 10 to 86.
    top, height = tri.band
    assert (round(top, 1), round(height, 1)) == (10.0, 76.0)
    assert tri.change_beyond_mcid is True  # 1 - 4 = -3, beyond 2
    # Oldest at the left edge of the plot, newest at the right.
    assert mfis.points[0].x == 34 and mfis.points[-1].x == 308


def test_a_band_is_clipped_to_the_scale_and_a_single_score_sits_in_the_middle(client_a):
    submitted(client_a, make_instrument(), [2, 2, 2], by=client_a.user)  # 6, the top of the scale

    (chart,) = questionnaire_charts(client_a, start=None, end=None)

    top, height = chart.band
    assert top == 10  # clipped at the top of the plot, not drawn above it
    assert round(height, 1) == 38.0  # 6 - 2 = 4 is 2/6 of 114 down
    assert chart.points[0].x == 34 + 274 / 2


def test_no_scores_no_charts(client_a):
    assert questionnaire_charts(client_a, start=None, end=None) == []
    assert charts_for([], start=None, end=None) == []


# --- the pages


def test_therapist_page_shows_each_instrument_with_its_table_and_the_mcid_in_words(client, therapist, scored):
    client.force_login(therapist)

    html = section(client.get(page_url(scored), {"range": "all"}))

    assert html.count('class="tq-chart"') == 2
    assert html.count('class="tq-point tq-first"') == 2  # one first-score mark per instrument
    assert html.count('class="tq-band"') == 1  # TRI-3 has an MCID, MFIS-5 none
    assert "MFIS-5 has no published minimal important difference" in html
    assert "2 points either side of it" in html
    mfis_table = re.search(r'id="tq-mfis5-table".*?</table>', html, re.S).group(0)
    assert re.findall(r'<td class="text-end">(-?\+?\d+|–)', mfis_table) == ["12", "–", "9", "-3", "5", "-7"]
    assert "style=" not in html and "<script" not in html  # the CSP allows neither


def test_the_range_limits_the_scores(client, therapist, scored):
    client.force_login(therapist)

    html = section(client.get(page_url(scored), {"range": "custom", "start": "", "end": ""}))  # falls back: 1 year
    assert html.count('class="tq-chart"') == 2
    start = (timezone.localdate() - dt.timedelta(days=10)).isoformat()
    html = section(client.get(page_url(scored), {"range": "custom", "start": start, "end": ""}))

    mfis_table = re.search(r'id="tq-mfis5-table".*?</table>', html, re.S).group(0)
    assert mfis_table.count("<tr") == 2  # the header and the one score in range: it is now the first
    assert "(first)" in mfis_table


def test_a_corrected_score_is_shown_corrected(client, therapist, client_a):
    corrected(client_a, therapist)  # 15 submitted, question 2 corrected from 3 to 1: 13
    client.force_login(therapist)

    html = section(client.get(page_url(client_a)))

    assert '13 <span class="tq-corrected">(corrected from 15)</span>' in html


def test_empty_and_the_words_for_the_client(client, therapist, client_a, scored):
    other = factories.make_client(therapists=[therapist])
    client.force_login(therapist)
    assert "No questionnaires completed in this range." in section(client.get(page_url(other)))

    client.force_login(scored.user)
    html = section(client.get("/portal/trends/", {"range": "all"}))
    assert "Your questionnaire scores" in html
    assert html.count('class="tq-chart"') == 2


def test_the_portal_shows_only_the_clients_own_scores(client, client_a, client_b, scored):
    submitted(client_b, mfis5(), [4, 4, 4, 4, 4], by=client_b.user, days_ago=3)
    client.force_login(client_b.user)

    html = section(client.get("/portal/trends/", {"range": "all"}))

    assert html.count('class="tq-chart"') == 1
    assert re.findall(r'<td class="text-end">(\d+)', html) == ["20"]


def _queries(browser, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url, {"range": "all"}).status_code == 200
    return len(queries)


def test_one_query_for_the_scores_however_many(client, therapist, client_a, django_assert_num_queries):
    from tests.sessions.test_trend_views import PAGE_QUERIES, weekly_sessions

    weekly_sessions(client_a, therapist, 3)
    client.force_login(therapist)
    client.get(page_url(client_a))  # warm up per-process caches
    none = _queries(client, page_url(client_a))
    submitted(client_a, mfis5(), [1, 1, 1, 1, 1], by=client_a.user, days_ago=9)
    one = _queries(client, page_url(client_a))
    for days in range(10, 40):
        submitted(client_a, mfis5(), [2, 1, 1, 1, 1], by=client_a.user, days_ago=days)
    submitted(client_a, make_instrument(), [1, 1, 1], by=client_a.user, days_ago=4)

    assert none == one == _queries(client, page_url(client_a))
    with django_assert_num_queries(PAGE_QUERIES):  # the trend page's pinned count includes the scores' one query
        client.get(page_url(client_a), {"range": "all"})
    csv_url = f"/clients/{client_a.pk}/trends.csv"
    assert _queries(client, csv_url) == _queries(client, csv_url)

    client.force_login(client_a.user)
    client.get("/portal/trends/")
    portal = _queries(client, "/portal/trends/")
    submitted(client_a, mfis5(), [0, 0, 0, 0, 0], by=client_a.user, days_ago=50)
    assert _queries(client, "/portal/trends/") == portal


# --- the CSVs


def test_the_csv_has_a_row_per_score_with_the_instrument_code_as_kind(client, therapist, client_a, scored):
    factories.make_session(client_a, therapist, signed=True, pain_before=5, pain_after=3)
    client.force_login(therapist)

    rows = read_csv(client.get(f"/clients/{client_a.pk}/trends.csv", {"range": "all"}))

    assert list(rows[0]) == list(CSV_COLUMNS) and CSV_COLUMNS[-1] == "score"
    session, *scores = rows
    assert session["kind"] == "session" and session["score"] == ""
    today = timezone.localdate()
    # Oldest first over all instruments, after the sessions and self-reports.
    assert [(r["date"], r["kind"], r["score"], r["amended"]) for r in scores] == [
        ((today - dt.timedelta(days=days)).isoformat(), kind, score, "no")
        for days, kind, score in [
            (60, "mfis5", "12"),
            (40, "tri3", "4"),
            (30, "mfis5", "9"),
            (5, "tri3", "1"),
            (2, "mfis5", "5"),
        ]
    ]
    assert all(r["pain_before"] == "" and r["status"] == "" for r in scores)


def test_the_csv_follows_the_range_and_marks_corrections(client, therapist, client_a, scored):
    corrected(client_a, therapist)
    client.force_login(therapist)

    rows = read_csv(client.get(f"/clients/{client_a.pk}/trends.csv", {"range": "3m"}))
    start = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    recent = read_csv(client.get(f"/clients/{client_a.pk}/trends.csv", {"range": "custom", "start": start}))

    assert len(rows) == 6
    assert [(r["kind"], r["score"], r["amended"]) for r in recent] == [("mfis5", "5", "no"), ("mfis5", "13", "yes")]


def test_the_portal_trends_csv_has_the_scores(client, client_a, scored):
    client.force_login(client_a.user)

    for query in ({}, {"range": "3m"}):
        rows = read_csv(client.get("/portal/export/trends.csv", query))
        assert sorted(r["score"] for r in rows if r["kind"] == "mfis5") == ["12", "5", "9"]
