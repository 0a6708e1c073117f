"""Questionnaire scores in "My data": questionnaires.csv and record.json in the archive, rows in trends.csv."""

import csv
import datetime as dt
import io
import json
import re
import zipfile

from django.utils import timezone

from tests.measures.helpers import corrected, mfis5, submitted


def _archive(browser) -> dict[str, bytes]:
    response = browser.get("/portal/export/my-record.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        return {re.sub(r"-\d{4}-\d{2}-\d{2}", "", name): archive.read(name) for name in archive.namelist()}


def _rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_archive_holds_the_clients_scores_as_corrected(client, client_a, client_b, therapist):
    submitted(client_a, mfis5(), [3, 3, 2, 2, 2], by=client_a.user, days_ago=30)  # 12
    corrected(client_a, therapist)  # 15, corrected to 13
    submitted(client_a, mfis5(), [1, 1, 1, 1, 1], by=client_a.user, entered_in="portal")  # today: 5
    submitted(client_b, mfis5(), [4, 4, 4, 4, 4], by=client_b.user)  # another client's: never in the file
    client.force_login(client_a.user)

    files = _archive(client)

    today = timezone.localdate()
    expected = [
        {"date": (today - dt.timedelta(days=30)).isoformat(), "instrument": "mfis5", "score": "12", "corrected": "no"},
        {"date": today.isoformat(), "instrument": "mfis5", "score": "13", "corrected": "yes"},
        {"date": today.isoformat(), "instrument": "mfis5", "score": "5", "corrected": "no"},
    ]
    assert _rows(files["questionnaires.csv"]) == expected
    record = json.loads(files["record.json"])
    assert record["questionnaires"] == [
        {**row, "score": int(row["score"]), "corrected": row["corrected"] == "yes"} for row in expected
    ]
    trend_scores = [r for r in _rows(files["trends.csv"]) if r["kind"] == "mfis5"]
    assert [(r["score"], r["amended"]) for r in trend_scores] == [("12", "no"), ("13", "yes"), ("5", "no")]


def test_no_questionnaires_is_a_header_alone(client, client_a):
    client.force_login(client_a.user)

    files = _archive(client)

    assert files["questionnaires.csv"].decode("utf-8-sig") == "date,instrument,score,corrected\r\n"
    assert json.loads(files["record.json"])["questionnaires"] == []
