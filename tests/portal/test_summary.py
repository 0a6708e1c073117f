"""The one-page summary for the neurologist, as the client gets it in the portal; and how its PDF is made."""

import datetime as dt
import shutil
import socket
import subprocess

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from clients.models import Client, MSType, Phase
from portal import summary as summary_module
from practice.history import history_recorded_by_app
from practice.models import AuditEvent
from sessions.models import SessionStatus, Technique, TechniqueUse, TreatmentSession
from tests import factories
from tests.measures.helpers import make_instrument, mfis5, submitted

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"),
]

PAGE, PDF = "/portal/summary/", "/portal/summary.pdf"


def pdf_pages(content: bytes, tmp_path) -> int:
    path = tmp_path / "summary.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info, info
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def pdf_text(content: bytes, tmp_path, *, layout: bool = True) -> str:
    path = tmp_path / "summary.pdf"
    path.write_bytes(content)
    options = ["-layout"] if layout else []  # without it, a table cell's words stay together
    return subprocess.run(["pdftotext", *options, str(path), "-"], capture_output=True, text=True, check=True).stdout


def many_sessions(client: Client, therapist: User, count: int) -> None:
    """``count`` weekly signed sessions ending yesterday, each with two techniques: bulk inserts, as the demo's."""
    now = timezone.now()
    techniques = list(Technique.objects.filter(slug__in=["swedish", "reflexology", "reiki", "shiatsu"]).order_by("pk"))
    drafts = TreatmentSession.objects.bulk_create(
        TreatmentSession(
            client=client,
            therapist=therapist,
            started_at=now - dt.timedelta(days=1 + 7 * n),
            pain_before=4 + n % 5,
            pain_after=2 + n % 4,
            fatigue_before=5 + n % 4,
            fatigue_after=3 + n % 3,
            subjective="SOAP-IN-BULK",
        )
        for n in range(count)
    )
    TechniqueUse.objects.bulk_create(
        TechniqueUse(session=s, technique=techniques[(n + k) % len(techniques)], body_region=region, pressure="light")
        for n, s in enumerate(drafts)
        for k, region in enumerate(("upper_back", "foot_left"))
    )
    # Signed once their rows are in: a signed session takes no new technique rows.
    with history_recorded_by_app(TreatmentSession):
        TreatmentSession.objects.filter(pk__in=[s.pk for s in drafts]).update(
            status=SessionStatus.SIGNED, signed_at=now, signed_by=therapist
        )


@pytest.fixture
def profiled(client_a, therapist):
    client_a.ms_type = MSType.RRMS
    client_a.diagnosis_year = 2014
    client_a.date_of_birth = dt.date(1981, 4, 2)
    client_a.reduced_sensation_regions = ["foot_left"]
    client_a.pressure_sore_regions = ["hip_right"]
    client_a.heat_sensitive = True
    client_a.conditions_needing_clearance = ["osteoporosis"]
    client_a.physician_clearance_on = dt.date(2025, 3, 14)
    client_a.save()
    therapist.first_name, therapist.last_name = "Maria", "Lopez"
    therapist.save()
    return client_a


def test_the_page_shows_who_the_phase_safety_and_the_therapist(client, profiled, therapist):
    factories.make_session(profiled, therapist, signed=True, uses=[("swedish", "upper_back", "light")])
    client.force_login(profiled.user)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    for expected in (
        "Alice Ashby",
        "Relapsing-remitting (RRMS), diagnosed 2014",
        "Remission since",
        "Reduced sensation on record (left foot)",
        "Pressure sores on record (right hip)",
        "Cleared by a physician on 14 Mar 2025",
        "Maria Lopez · maria@example.org",
        "Swedish massage",
        '<svg class="summary-svg"',
        'href="/portal/summary.pdf"',
    ):
        assert expected in page, expected
    assert AuditEvent.objects.filter(action="read", object_type="summary", client_id=profiled.pk).exists()


def test_the_pdf_is_one_a4_page_with_the_key_figures(client, profiled, therapist, tmp_path):
    factories.make_session(
        profiled, therapist, signed=True, pain_before=7, pain_after=4, uses=[("reflexology", "foot_left", "light")]
    )
    client.force_login(profiled.user)
    response = client.get(PDF)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="my-summary-')
    assert pdf_pages(response.content, tmp_path) == 1
    text = pdf_text(response.content, tmp_path)
    for expected in (
        "Alice Ashby",
        "Relapsing-remitting",
        "Remission",
        "Reflexology",
        "-3.0",
        "Heat-sensitive",
        "Maria Lopez",
    ):
        assert expected in text, expected
    assert AuditEvent.objects.filter(action="export", object_type="summary_pdf", client_id=profiled.pk).exists()


def test_the_validated_measures_show_first_latest_and_the_change_against_the_mcid(client, profiled, tmp_path):
    by = profiled.user
    submitted(profiled, mfis5(), [3, 3, 3, 3, 3], by=by, days_ago=60)
    submitted(profiled, mfis5(), [2, 2, 2, 2, 2], by=by)
    tri3 = make_instrument()  # MCID 2
    submitted(profiled, tri3, [2, 2, 2], by=by, days_ago=60)
    submitted(profiled, tri3, [0, 1, 0], by=by)
    big = make_instrument("big3", short_name="BIG-3", mcid=10)  # a whole ten: Decimal("10.00").normalize() is 1E+1
    submitted(profiled, big, [1, 1, 1], by=by, days_ago=30)
    submitted(profiled, big, [1, 1, 2], by=by)
    first_day = f"{timezone.localdate(timezone.now() - dt.timedelta(days=60)):%-d %b %Y}"
    client.force_login(profiled.user)
    expected = (
        "MFIS-5",
        f"15 ({first_day})",
        "-5 no published MCID",
        "TRI-3",
        "-5 better by at least the MCID (2)",
        "BIG-3",
        "+1 within the MCID (10)",
    )
    page = " ".join(client.get(PAGE).content.decode().split())
    for text in expected:
        assert text in page, text
    content = client.get(PDF).content
    assert pdf_pages(content, tmp_path) == 1
    words = " ".join(pdf_text(content, tmp_path, layout=False).split())
    # A narrow cell wraps its date onto a line of its own: the PDF is read for the figures and the verdicts.
    for text in ("MFIS-5 15 (", "-5 no published MCID", "TRI-3 6 (", "-5 better by at least the MCID (2)", "BIG-3 3 ("):
        assert text in words, text
    assert "+1 within the MCID (10)" in words
    assert "E+" not in page and "E+" not in words
    assert "No validated questionnaire completed yet." not in words


def test_one_score_so_far_and_none_yet(client, client_a, tmp_path):
    client.force_login(client_a.user)
    assert "No validated questionnaire completed yet." in pdf_text(client.get(PDF).content, tmp_path)
    submitted(client_a, mfis5(), [1, 1, 1, 1, 1], by=client_a.user)
    page = " ".join(client.get(PAGE).content.decode().split())
    assert "MFIS-5" in page and "one score so far" in page


def test_the_pdf_of_a_client_with_no_sessions_is_one_page(client, client_a, tmp_path):
    client.force_login(client_a.user)
    content = client.get(PDF).content
    assert pdf_pages(content, tmp_path) == 1
    assert "No signed sessions yet." in pdf_text(content, tmp_path)


def test_the_pdf_of_a_client_with_520_sessions_is_one_page(client, profiled, therapist, tmp_path):
    many_sessions(profiled, therapist, 520)
    factories.make_phase(profiled, Phase.ACUTE_FLARE, dt.date(2015, 1, 1), dt.date(2015, 2, 1))
    client.force_login(profiled.user)
    content = client.get(PDF).content
    assert pdf_pages(content, tmp_path) == 1
    text = pdf_text(content, tmp_path)
    assert "520 signed" in text and "in the last 3 months" in text
    assert "SOAP-IN-BULK" not in text


def test_query_count_does_not_grow_with_sessions(client, profiled, therapist, django_assert_num_queries):
    client.force_login(profiled.user)
    many_sessions(profiled, therapist, 3)
    with django_assert_num_queries(QUERIES):
        client.get(PAGE)
    many_sessions(profiled, therapist, 60)
    with django_assert_num_queries(QUERIES):
        client.get(PAGE)


# The signed-in user, their session, client record and roles; two trend reports of five queries each; the current
# phase, the therapists, the questionnaire scores; the audit event (three).
QUERIES = 20


def test_script_like_text_is_escaped(client, client_a, therapist):
    client_a.first_name = "<script>alert(1)</script>"
    client_a.save()
    therapist.first_name = "<img src=x onerror=alert(2)>"
    therapist.save()
    client.force_login(client_a.user)
    page = client.get(PAGE).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page


def test_only_our_static_files_are_fetched_for_a_pdf():
    fetcher = summary_module.static_only_fetcher()
    stylesheet = fetcher.fetch(summary_module.PDF_BASE_URL + "static/css/summary.css")
    assert b"@page" in stylesheet.read()
    for url in (
        "https://example.org/static/css/summary.css",
        "http://127.0.0.1:8000/static/css/summary.css",
        "file:///etc/passwd",
        "data:text/css,body{}",
        summary_module.PDF_BASE_URL + "static/../../practice/settings.py",
        summary_module.PDF_BASE_URL + "media/anything",
    ):
        with pytest.raises(summary_module.RefusedFetch):
            fetcher.fetch(url)


def test_rendering_a_pdf_opens_no_connection(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a PDF tried to reach another host")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    html = (
        '<link rel="stylesheet" href="https://cdn.example.org/x.css">'
        '<img src="http://127.0.0.1:9/tracker.png" alt=""><p style="background:url(//example.org/bg.png)">Hello</p>'
    )
    assert summary_module.render_pdf(html).startswith(b"%PDF")


def test_anyone_but_a_client_is_refused_the_portal_summary(client, therapist, owner):
    for user in (therapist, owner):
        client.force_login(user)
        assert client.get(PAGE).status_code == 404
        assert client.get(PDF).status_code == 404
    client.logout()
    assert client.get(PDF).status_code == 302
