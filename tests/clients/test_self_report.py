"""How I feel today: the client's own pain and fatigue between sessions."""

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.utils import timezone

from clients.models import SelfReport
from clients.services import self_report_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, client_a):
    client.force_login(client_a.user)
    return client


def test_client_records_how_they_feel_today(signed_in, client_a):
    response = signed_in.post("/portal/today/", {"pain": "3", "fatigue": "7", "note": "Hot day, legs heavy."})
    assert response.status_code == 302
    assert response["Location"] == "/portal/"
    report = SelfReport.objects.get()
    assert (report.client, report.recorded_on) == (client_a, timezone.localdate())
    assert (report.pain, report.fatigue, report.note) == (3, 7, "Hot day, legs heavy.")
    page = signed_in.get("/portal/").content.decode()
    assert "Thank you. Today&#x27;s entry is saved." in page
    assert "You already told us today: pain 3, fatigue 7." in page


def test_a_second_entry_the_same_day_updates_the_first(signed_in, client_a):
    signed_in.post("/portal/today/", {"pain": "3", "fatigue": "7", "note": "Morning."})
    response = signed_in.post("/portal/today/", {"pain": "5", "fatigue": "2"}, follow=True)
    report = SelfReport.objects.get()
    assert (report.pain, report.fatigue, report.note) == (5, 2, "")
    assert "Today&#x27;s entry is updated." in response.content.decode()


def test_entries_on_different_days_are_kept_apart(client_a):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    self_report_record(client=client_a, pain=4, fatigue=4, recorded_on=yesterday)
    self_report_record(client=client_a, pain=1, fatigue=2)
    assert list(SelfReport.objects.order_by("recorded_on").values_list("pain", flat=True)) == [4, 1]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("pain", "11"),
        ("pain", "-1"),
        ("pain", "abc"),
        ("pain", ""),
        ("fatigue", "11"),
        ("fatigue", "-1"),
        ("fatigue", "2.5"),
    ],
)
def test_invalid_score_gets_a_clear_message_and_changes_nothing(signed_in, client_a, field, value):
    SelfReport.objects.create(client=client_a, pain=2, fatigue=2, note="Earlier today.")
    data = {"pain": "6", "fatigue": "6", "note": "Should not be saved."} | {field: value}
    response = signed_in.post("/portal/today/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was saved." in html
    assert f"Choose a number for your {field} today, from 0 to 10." in html
    assert 'role="alert"' in html
    report = SelfReport.objects.get()
    assert (report.pain, report.fatigue, report.note) == (2, 2, "Earlier today.")


def test_a_too_long_note_is_refused(signed_in):
    response = signed_in.post("/portal/today/", {"pain": "1", "fatigue": "1", "note": "x" * 2001})
    assert response.status_code == 400
    assert "Ensure this value has at most 2000 characters" in response.content.decode()
    assert not SelfReport.objects.exists()


def test_a_client_can_only_record_for_themselves(signed_in, client_a, client_b):
    signed_in.post("/portal/today/", {"pain": "1", "fatigue": "1", "client": str(client_b.pk)})
    assert SelfReport.objects.get().client == client_a
    assert not SelfReport.objects.filter(client=client_b).exists()


def test_the_form_shows_large_labelled_buttons_for_each_score(signed_in):
    html = signed_in.get("/portal/today/").content.decode()
    # Eleven per score, and No/Yes for a new or worse symptom (docs/relapse.md).
    assert html.count('class="btn-check"') == 11 + 11 + 2
    assert '<legend class="score-field__legend">Pain today</legend>' in html
    assert '<legend class="score-field__legend">Fatigue (tiredness) today</legend>' in html
    assert '<label class="btn score-scale__button" for="id_pain_10">10</label>' in html
    assert '<label class="form-label" for="id_note">' in html


def test_the_form_is_filled_in_with_todays_entry(signed_in, client_a):
    SelfReport.objects.create(client=client_a, pain=4, fatigue=8)
    html = signed_in.get("/portal/today/").content.decode()
    assert 'value="4" class="btn-check" id="id_pain_4" required checked>' in html
    assert 'value="8" class="btn-check" id="id_fatigue_8" required checked>' in html
    assert html.count(" checked>") == 2
    assert "Update today's entry" in html


def test_self_report_appears_in_the_export_csv(signed_in, client_a):
    signed_in.post("/portal/today/", {"pain": "3", "fatigue": "7", "note": "Hot day."})
    response = signed_in.get("/portal/export/self_reports.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [{"date": timezone.localdate().isoformat(), "pain": "3", "fatigue": "7", "note": "Hot day."}]


def _chart_data(response) -> dict:
    match = re.search(
        r'<script id="trend-data" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert match, "the page should carry the chart data"
    return json.loads(match.group(1))


def test_self_report_appears_in_the_chart_data_of_both_trend_pages(signed_in, client, client_a, therapist):
    signed_in.post("/portal/today/", {"pain": "3", "fatigue": "7"})
    portal = _chart_data(signed_in.get("/portal/trends/"))
    assert [(r["pain"], r["fatigue"]) for r in portal["self_reports"]] == [(3, 7)]
    client.force_login(therapist)
    therapists_page = _chart_data(client.get(f"/clients/{client_a.pk}/trends/"))
    assert [(r["pain"], r["fatigue"]) for r in therapists_page["self_reports"]] == [(3, 7)]


def test_therapists_and_strangers_cannot_record_for_a_client(client, therapist):
    client.force_login(therapist)
    assert client.post("/portal/today/", {"pain": "1", "fatigue": "1"}).status_code == 404
    client.logout()
    response = client.post("/portal/today/", {"pain": "1", "fatigue": "1"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not SelfReport.objects.exists()
