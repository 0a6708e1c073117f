"""The trend page's session table on a long range (issue 13): the last year of sessions, the rest one link away,
and the print view with them all; the chart keeps every session."""

import re

from sessions.trend_views import TABLE_ROWS_SHOWN
from tests.sessions.test_trend_views import PAGE_QUERIES, chart_json, page_url, weekly_sessions

ROW = re.compile(r'<tr><th scope="row" class="text-nowrap">')


def test_a_long_range_lists_the_last_sessions_and_links_to_them_all(client, therapist, client_a):
    weekly_sessions(client_a, therapist, TABLE_ROWS_SHOWN + 8)
    client.force_login(therapist)

    html = client.get(page_url(client_a), {"range": "all"}).content.decode()

    assert len(ROW.findall(html)) == TABLE_ROWS_SHOWN
    assert f"The last {TABLE_ROWS_SHOWN} of {TABLE_ROWS_SHOWN + 8} sessions in this range" in html
    assert f'href="?range=all&amp;table=all#trend-sessions">Show all {TABLE_ROWS_SHOWN + 8} sessions' in html
    assert 'data-trend-print-href="?range=all&amp;table=all&amp;print=1"' in html
    assert "data-trend-autoprint" not in html


def test_the_full_table_and_the_print_view_list_every_session(client, therapist, client_a, django_assert_num_queries):
    weekly_sessions(client_a, therapist, TABLE_ROWS_SHOWN + 8)
    client.force_login(therapist)

    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(page_url(client_a), {"range": "all", "table": "all"})
    html = response.content.decode()
    printed = client.get(page_url(client_a), {"range": "all", "table": "all", "print": "1"}).content.decode()

    assert len(ROW.findall(html)) == TABLE_ROWS_SHOWN + 8
    assert f"All {TABLE_ROWS_SHOWN + 8} sessions in this range, as a table" in html
    assert "data-trend-print-href" not in html and "data-trend-autoprint" not in html
    assert "data-trend-autoprint" in printed and len(ROW.findall(printed)) == TABLE_ROWS_SHOWN + 8


def test_the_chart_keeps_every_session_with_technique_names_once(client, therapist, client_a):
    weekly_sessions(client_a, therapist, TABLE_ROWS_SHOWN + 8)
    client.force_login(therapist)

    data = chart_json(client.get(page_url(client_a), {"range": "all"}))

    assert len(data["sessions"]) == TABLE_ROWS_SHOWN + 8
    names = data["technique_names"]
    assert sorted(names) == ["Reflexology", "Swedish massage"]
    assert [names[i] for i in data["sessions"][0]["techniques"]] == ["Swedish massage", "Reflexology"]
    assert data["phases"]["remission"] == "Remission" and data["no_phase"] == "No phase recorded"
    assert "phase" in data["sessions"][0] and "phase_label" not in data["sessions"][0]  # trends.js names it


def test_the_portal_lists_the_last_sessions_and_them_all_on_request(client, therapist, client_a):
    weekly_sessions(client_a, therapist, TABLE_ROWS_SHOWN + 3)
    client.force_login(client_a.user)

    short = client.get("/portal/trends/", {"range": "all"}).content.decode()
    full = client.get("/portal/trends/", {"range": "all", "table": "all"}).content.decode()

    assert len(ROW.findall(short)) == TABLE_ROWS_SHOWN and "Show all" in short
    assert len(ROW.findall(full)) == TABLE_ROWS_SHOWN + 3
