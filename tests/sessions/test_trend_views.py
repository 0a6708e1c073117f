"""The trend page and its CSV through real URLs: ranges, values, access and query counts."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Phase, SelfReport
from sessions.models import Technique
from sessions.trends.export import CSV_COLUMNS
from tests import factories


def page_url(client) -> str:
    return f"/clients/{client.pk}/trends/"


def csv_url(client) -> str:
    return f"/clients/{client.pk}/trends.csv"


def days_ago(days: int, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def weekly_sessions(person, therapist, count: int, **fields):
    """``count`` signed sessions a week apart, the last one yesterday, each with two techniques."""
    uses = [("swedish", "upper_back", "light"), ("reflexology", "foot_left", "light")]
    return [
        factories.make_session(person, therapist, started_at=days_ago(1 + 7 * week), uses=uses, signed=True, **fields)
        for week in reversed(range(count))
    ]


def chart_json(response) -> dict:
    match = re.search(rb'<script id="trend-data" type="application/json">(.*?)</script>', response.content, re.S)
    assert match, "the page should carry its chart data"
    return json.loads(match.group(1))


def read_csv(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


# --- the page


def test_therapist_sees_the_chart_numbers_and_table_of_their_client(client, therapist, client_a):
    weekly_sessions(client_a, therapist, 4, pain_before=6, pain_after=3, fatigue_before=7, fatigue_after=5)
    client.force_login(therapist)

    response = client.get(page_url(client_a))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Pain and fatigue: Alice Ashby" in html
    assert 'data-trend-chart="pain"' in html and 'data-trend-chart="fatigue"' in html
    assert "vendor/chart.js/chart.umd.min.js" in html and "js/trends.js" in html
    assert len(chart_json(response)["sessions"]) == 4
    # The numbers: mean immediate change -3 pain and -2 fatigue over the 4 sessions.
    # Four sessions are flagged as few.
    assert re.search(
        r"All sessions</th>\s*<td[^>]*>4 <span[^>]*>few, read with care</span></td>"
        r"\s*<td[^>]*>-3\.0</td>\s*<td[^>]*>-2\.0</td>",
        html,
    )
    assert "Swedish massage" in html and "Reflexology" in html
    assert len(re.findall(r'<tr>\s*<th scope="row" class="text-nowrap">', html)) == 4


def test_page_lists_every_session_in_range_without_a_cap(client, therapist, client_a):
    weekly_sessions(client_a, therapist, 52)
    client.force_login(therapist)

    response = client.get(page_url(client_a), {"range": "all"})

    assert len(chart_json(response)["sessions"]) == 52
    assert response.context["report"].session_count == 52
    assert "All 52 sessions in this range, as a table" in response.content.decode()


def test_page_has_no_inline_script_code(client, therapist, client_a):
    weekly_sessions(client_a, therapist, 2)
    client.force_login(therapist)

    html = client.get(page_url(client_a)).content.decode()

    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert not re.search(r"\son[a-z]+=", html)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html), "nothing may load from another host"


def test_page_never_shows_soap_notes(client, therapist, client_a):
    factories.make_session(client_a, therapist, signed=True, subjective="Private clinical note XYZZY")
    client.force_login(therapist)

    assert "XYZZY" not in client.get(page_url(client_a), {"range": "all"}).content.decode()


def test_drafts_are_shown_to_the_therapist_marked_as_drafts(client, therapist, client_a):
    factories.make_session(client_a, therapist, started_at=days_ago(2))
    client.force_login(therapist)

    response = client.get(page_url(client_a))

    assert response.context["report"].session_count == 1
    assert "draft</span>" in response.content.decode()
    assert chart_json(response)["sessions"][0]["pain_after"] is None


def test_empty_range_says_so_and_still_offers_the_range_control(client, therapist, client_a):
    client.force_login(therapist)

    html = client.get(page_url(client_a)).content.decode()

    assert "No sessions or self-reports in this range." in html
    assert 'name="range"' in html
    assert "data-trend-chart" not in html


def test_phases_and_self_reports_reach_the_chart(client, therapist):
    today = timezone.localdate()
    person = factories.make_client(therapists=[therapist])
    factories.make_phase(person, Phase.REMISSION, today - dt.timedelta(days=60), today - dt.timedelta(days=30))
    factories.make_phase(person, Phase.ACUTE_FLARE, today - dt.timedelta(days=30), today - dt.timedelta(days=20))
    factories.make_phase(person, Phase.SUBACUTE, today - dt.timedelta(days=20))
    weekly_sessions(person, therapist, 3)
    SelfReport.objects.create(client=person, recorded_on=today - dt.timedelta(days=25), pain=8, fatigue=9)
    client.force_login(therapist)

    data = chart_json(client.get(page_url(person), {"range": "3m"}))

    assert [band["phase"] for band in data["bands"]] == ["remission", "acute_flare", "subacute"]
    assert [(r["pain"], r["fatigue"]) for r in data["self_reports"]] == [(8, 9)]


# --- the range control


@pytest.fixture
def spread(therapist, client_a):
    """Sessions 20 days, 200 days and 800 days ago."""
    for days, pain in [(20, 2), (200, 5), (800, 8)]:
        factories.make_session(client_a, therapist, started_at=days_ago(days), pain_before=pain, signed=True)
    return client_a


@pytest.mark.parametrize(
    ("params", "expected_pains"),
    [
        ({"range": "3m"}, [2]),
        ({"range": "1y"}, [5, 2]),
        ({}, [5, 2]),  # the default is the last year
        ({"range": "all"}, [8, 5, 2]),
    ],
)
def test_range_presets_choose_the_sessions(client, therapist, spread, params, expected_pains):
    client.force_login(therapist)

    response = client.get(page_url(spread), params)

    assert [s.pain_before for s in response.context["report"].sessions] == expected_pains


def test_custom_range_shows_only_sessions_between_the_dates(client, therapist, spread):
    today = timezone.localdate()
    start, end = today - dt.timedelta(days=300), today - dt.timedelta(days=100)
    client.force_login(therapist)

    response = client.get(page_url(spread), {"range": "custom", "start": start.isoformat(), "end": end.isoformat()})

    assert [s.pain_before for s in response.context["report"].sessions] == [5]
    assert f'value="{start.isoformat()}"' in response.content.decode()
    assert f"?range=custom&amp;start={start.isoformat()}&amp;end={end.isoformat()}" in response.content.decode()


def test_bad_custom_range_gets_a_clear_message_and_the_default_range(client, therapist, spread):
    client.force_login(therapist)

    response = client.get(page_url(spread), {"range": "custom", "start": "2025-06-01", "end": "2025-01-01"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "That custom range could not be used, so last year is shown instead." in html
    assert "The end date must be on or after the start date." in html
    assert 'aria-invalid="true"' in html
    assert [s.pain_before for s in response.context["report"].sessions] == [5, 2]


def test_garbled_date_gets_a_message_on_the_field(client, therapist, spread):
    client.force_login(therapist)

    html = client.get(page_url(spread), {"range": "custom", "start": "yesterday"}).content.decode()

    assert "Enter a valid date." in html


# --- the CSV


def test_csv_has_one_row_per_session_with_the_values_on_record(client, therapist):
    person = factories.make_client(therapists=[therapist], first_name="Zelda", last_name="Quartermaine")
    factories.make_phase(person, Phase.SUBACUTE, timezone.localdate() - dt.timedelta(days=100))
    first = factories.make_session(
        person,
        therapist,
        started_at=days_ago(14, hour=9),
        pain_before=7,
        pain_after=4,
        fatigue_before=6,
        fatigue_after=6,
        duration_minutes=45,
        setting="home",
        uses=[("swedish", "neck", "light"), ("reflexology", "foot_left", "light")],
        signed=True,
    )
    factories.make_session(person, therapist, started_at=days_ago(7), pain_before=3, fatigue_before=2)
    client.force_login(therapist)

    response = client.get(csv_url(person))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition == (f'attachment; filename="client-{person.pk}-trends-{timezone.localdate():%Y-%m-%d}.csv"')
    assert "Zelda" not in disposition and "Quartermaine" not in disposition
    assert response.content.decode("utf-8-sig").splitlines()[0] == ",".join(CSV_COLUMNS)
    rows = read_csv(response)
    assert len(rows) == 2
    assert rows[0] == {
        "date": timezone.localtime(first.started_at).date().isoformat(),
        "phase": "subacute",
        "duration_minutes": "45",
        "setting": "home",
        "techniques": "Swedish massage; Reflexology",
        "pain_before": "7",
        "pain_after": "4",
        "pain_change": "-3",
        "fatigue_before": "6",
        "fatigue_after": "6",
        "fatigue_change": "0",
        "time": "09:00",
        "status": "signed",
        "amended": "no",
        "kind": "session",
        "reported_pain": "",
        "reported_fatigue": "",
        "score": "",
    }
    assert (rows[1]["pain_before"], rows[1]["pain_after"], rows[1]["status"]) == ("3", "", "draft")


def test_csv_uses_the_same_range_as_the_page(client, therapist, spread):
    client.force_login(therapist)

    three_months = read_csv(client.get(csv_url(spread), {"range": "3m"}))
    everything = read_csv(client.get(csv_url(spread), {"range": "all"}))
    page = client.get(page_url(spread), {"range": "all"})

    assert [row["pain_before"] for row in three_months] == ["2"]
    assert [row["pain_before"] for row in everything] == ["8", "5", "2"]
    assert [str(s.pain_before) for s in page.context["report"].sessions] == [r["pain_before"] for r in everything]


def test_csv_lists_self_reports_after_the_sessions(client, therapist, client_a):
    factories.make_session(client_a, therapist, started_at=days_ago(10), signed=True)
    SelfReport.objects.create(
        client=client_a, recorded_on=timezone.localdate() - dt.timedelta(days=12), pain=6, fatigue=7
    )
    client.force_login(therapist)

    rows = read_csv(client.get(csv_url(client_a)))

    assert [row["kind"] for row in rows] == ["session", "self_report"]
    assert (rows[1]["reported_pain"], rows[1]["reported_fatigue"], rows[1]["phase"]) == ("6", "7", "remission")


def test_csv_quotes_text_a_spreadsheet_would_run_as_a_formula(client, therapist, client_a):
    Technique.objects.create(name="=HYPERLINK(1)", slug="formula", guidance="recommended", reason="Test.")
    factories.make_session(
        client_a, therapist, started_at=days_ago(3), pain_before=6, pain_after=3, uses=[("formula", "neck", "light")]
    )
    client.force_login(therapist)

    (row,) = read_csv(client.get(csv_url(client_a)))

    assert row["techniques"] == "'=HYPERLINK(1)"
    assert row["pain_change"] == "-3"


# --- access


@pytest.mark.parametrize("url", [page_url, csv_url])
def test_owner_can_open_any_clients_trends(client, owner, client_b, url):
    client.force_login(owner)

    assert client.get(url(client_b)).status_code == 200


@pytest.mark.parametrize("url", [page_url, csv_url])
def test_another_therapists_client_is_a_404(client, therapist, client_b, url):
    client.force_login(therapist)

    assert client.get(url(client_b)).status_code == 404


@pytest.mark.parametrize("url", [page_url, csv_url])
def test_clients_cannot_open_trend_pages_even_their_own(client, client_a, url):
    client.force_login(client_a.user)

    assert client.get(url(client_a)).status_code == 404


@pytest.mark.parametrize("url", [page_url, csv_url])
def test_anonymous_visitors_are_sent_to_sign_in(client, client_a, url):
    response = client.get(url(client_a))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_unknown_client_is_a_404(client, owner):
    client.force_login(owner)

    assert client.get("/clients/999999/trends/").status_code == 404


# --- queries

# Session, user, role groups, the client, five for the report, one for the questionnaire scores, and three for
# the audit event (practice.audit.record). The menu asks staff for no client record (practice.roles.is_client).
PAGE_QUERIES = 13


def _queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"range": "all"})
    assert response.status_code == 200
    return len(queries)


def test_page_and_csv_queries_do_not_grow_with_sessions(client, therapist, django_assert_num_queries):
    few = factories.make_client(therapists=[therapist])
    many = factories.make_client(therapists=[therapist])
    for person in (few, many):
        factories.make_phase(person, Phase.REMISSION, timezone.localdate() - dt.timedelta(days=800))
    weekly_sessions(few, therapist, 5)
    weekly_sessions(many, therapist, 52)
    client.force_login(therapist)
    client.get(page_url(few))  # warm up what is cached per process (content types, templates)

    assert _queries_for(client, page_url(few)) == _queries_for(client, page_url(many))
    assert _queries_for(client, csv_url(few)) == _queries_for(client, csv_url(many))
    with django_assert_num_queries(PAGE_QUERIES):
        client.get(page_url(many), {"range": "all"})


def test_session_table_escapes_what_it_shows():
    import datetime as dt

    from sessions.templatetags.trend_tags import trend_session_rows
    from sessions.trends.report import SessionPoint

    point = SessionPoint(
        id=1,
        started_at=dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.UTC),
        date=dt.date(2026, 1, 1),
        pain_before=5,
        pain_after=None,
        fatigue_before=6,
        fatigue_after=4,
        phase=None,
        duration_minutes=60,
        setting="clinic",
        techniques=('<script>alert(1)</script>"', "Reiki"),
        signed=False,
        amended=True,
    )
    html = trend_session_rows([point])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;, Reiki" in html
    assert '<span class="badge text-bg-secondary">draft</span>' in html
    assert '<span class="badge text-bg-light">amended</span>' in html
    assert '<td class="text-end">5</td><td class="text-end">–</td><td class="text-end">–</td>' in html
    assert '<td class="text-end">6</td><td class="text-end">4</td><td class="text-end">-2</td>' in html
    assert "trend-phase-none" in html
